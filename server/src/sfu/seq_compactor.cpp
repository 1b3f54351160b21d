#include "sfu/seq_compactor.hpp"

#include <algorithm>
#include <cstddef>

#include "sfu/rtp.hpp"

namespace parley::sfu {

void SeqCompactor::See(uint16_t seq) {
  if (!seen_ || SeqNewer(seq, newest_)) newest_ = seq;
  seen_ = true;
  while (count_ && static_cast<uint16_t>(newest_ - removed_[0]) > kHorizon) FoldOldest();
}

void SeqCompactor::FoldOldest() {
  horizon_ = removed_[0];
  folded_any_ = true;
  ++folded_;
  std::copy(removed_.begin() + 1, removed_.begin() + static_cast<std::ptrdiff_t>(count_), removed_.begin());
  --count_;
}

void SeqCompactor::Remove(uint16_t seq) {
  if (seen_ && !SeqNewer(seq, newest_)) {
    // Behind a number already seen: media after it may have gone out under the numbers
    // without it, so taking it out now would give two packets one number. It stays a
    // gap (to a subscriber, one packet lost).
    return;
  }
  active_ = true;
  See(seq);
  if (count_ == kKept) FoldOldest();
  removed_[count_++] = seq;  // the newest: the list stays ascending
}

std::optional<uint16_t> SeqCompactor::Map(uint16_t seq) {
  See(seq);
  if (!active_) return seq;
  if (folded_any_ && !SeqNewer(seq, horizon_)) return std::nullopt;
  uint16_t before = folded_;
  for (size_t i = 0; i < count_ && SeqNewer(seq, removed_[i]); ++i) ++before;
  return static_cast<uint16_t>(seq - before);
}

}  // namespace parley::sfu
