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
    missing_[count_++] = {s, 0, 0, 0};
  }
}

bool NackGenerator::OnLate(uint16_t seq, int64_t now_us) {
  for (size_t i = 0; i < count_; ++i)
    if (missing_[i].seq == seq) {
      if (missing_[i].tries > 0 && now_us >= missing_[i].sent_at_us) {
        // Timed from the last request: an answer to an earlier one makes the sample
        // short, which the smoothing and the floor absorb.
        int64_t sample = now_us - missing_[i].sent_at_us;
        repair_us_ = repair_us_ < 0 ? sample : (7 * repair_us_ + sample) / 8;
      }
      missing_[i] = missing_[--count_];  // order does not matter until TakeDue sorts
      return true;
    }
  return false;
}

int64_t NackGenerator::retry_us() const {
  if (repair_us_ < 0) return kMaxRetryUs;
  return std::clamp<int64_t>(2 * repair_us_ + 10'000, kMinRetryUs, kMaxRetryUs);
}

size_t NackGenerator::TakeDue(int64_t now_us, std::span<uint16_t> out) {
  size_t n = 0;
  const int64_t retry = retry_us();
  for (size_t i = 0; i < count_;) {
    Missing& m = missing_[i];
    if (m.tries >= kMaxTries || (m.tries > 0 && now_us - m.first_at_us >= kGiveUpUs)) {
      m = missing_[--count_];
      continue;
    }
    if (n < out.size() && (m.tries == 0 || now_us - m.sent_at_us >= retry)) {
      out[n++] = m.seq;
      if (m.tries == 0) m.first_at_us = now_us;
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
