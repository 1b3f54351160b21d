#include "sfu/seq_compactor.hpp"

#include <cstddef>

#include "sfu/rtp.hpp"

namespace parley::sfu {

void SeqCompactor::See(uint16_t seq) {
  if (!seen_ || SeqNewer(seq, newest_)) newest_ = seq;
  seen_ = true;
  while (count_ && static_cast<uint16_t>(newest_ - At(0)) > kHorizon) FoldOldest();
  // Once anything folded, a packet more than kHorizon behind cannot be placed; the
  // horizon moves with the newest number (a fixed one would, half the number space
  // later, refuse every new packet as old).
  if (folded_any_) {
    const uint16_t trailing = static_cast<uint16_t>(newest_ - kHorizon);
    if (SeqNewer(trailing, horizon_)) horizon_ = trailing;
  }
}

void SeqCompactor::FoldOldest() {
  const uint16_t oldest = At(0);
  if (!folded_any_ || SeqNewer(oldest, horizon_)) horizon_ = oldest;
  folded_any_ = true;
  ++folded_;
  head_ = (head_ + 1) % kKept;
  --count_;
}

size_t SeqCompactor::Before(uint16_t seq) const {
  size_t lo = 0, hi = count_;  // At(i) is before seq for every i < lo, not for i >= hi
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (SeqNewer(seq, At(mid)))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void SeqCompactor::Remove(uint16_t seq) {
  if (media_seen_ && !SeqNewer(seq, newest_media_)) {
    // Behind media already forwarded: the packets after it went out under numbers
    // without it, so taking it out now would give two packets one number. It stays a
    // gap (to a subscriber, one packet lost).
    return;
  }
  See(seq);
  if (folded_any_ && !SeqNewer(seq, horizon_)) return;  // too old to place
  active_ = true;
  const size_t at = Before(seq);
  if (at < count_ && At(at) == seq) return;  // the same number again
  if (count_ == kKept) {                     // a burst longer than kept: the oldest folds early, and
    FoldOldest();                            // the horizon moves up to it
    return Remove(seq);
  }
  // Mostly the newest (padding comes in order); else shift the newer ones up by one.
  for (size_t i = count_; i > at; --i) removed_[(head_ + i) % kKept] = At(i - 1);
  removed_[(head_ + at) % kKept] = seq;
  ++count_;
}

std::optional<uint16_t> SeqCompactor::Map(uint16_t seq) {
  See(seq);
  if (!media_seen_ || SeqNewer(seq, newest_media_)) newest_media_ = seq;
  media_seen_ = true;
  if (!active_) return seq;
  if (folded_any_ && !SeqNewer(seq, horizon_)) return std::nullopt;
  return static_cast<uint16_t>(seq - folded_ - Before(seq));
}

}  // namespace parley::sfu
