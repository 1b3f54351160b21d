#include "sfu/nack_generator.hpp"

#include <algorithm>

#include "sfu/rtp.hpp"

namespace parley::sfu {

void NackGenerator::OnGap(uint16_t from, uint16_t to) {
  auto gap = static_cast<uint16_t>(to - from);
  if (gap > kMaxMissing) from = static_cast<uint16_t>(to - kMaxMissing);
  for (uint16_t s = from; s != to; ++s) {
    if (count_ == kMaxMissing) {  // full: the front entry goes
      std::move(missing_.begin() + 1, missing_.end(), missing_.begin());
      --count_;
    }
    missing_[count_++] = {s, 0, 0};
  }
}

bool NackGenerator::OnLate(uint16_t seq) {
  for (size_t i = 0; i < count_; ++i)
    if (missing_[i].seq == seq) {
      missing_[i] = missing_[--count_];  // order does not matter until TakeDue sorts
      return true;
    }
  return false;
}

size_t NackGenerator::TakeDue(int64_t now_us, std::span<uint16_t> out) {
  size_t n = 0;
  for (size_t i = 0; i < count_;) {
    Missing& m = missing_[i];
    if (m.tries >= kMaxTries) {
      m = missing_[--count_];
      continue;
    }
    if (n < out.size() && (m.tries == 0 || now_us - m.sent_at_us >= kRetryUs)) {
      out[n++] = m.seq;
      ++m.tries;
      m.sent_at_us = now_us;
    }
    ++i;
  }
  // Oldest first, across the wrap: the publisher's NACK packets list ascending pairs.
  std::sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
            [](uint16_t a, uint16_t b) { return SeqNewer(b, a); });
  return n;
}

}  // namespace parley::sfu
