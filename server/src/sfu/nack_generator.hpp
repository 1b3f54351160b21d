// The upstream half of loss repair: which packets of a repaired published track never
// arrived, and when to ask the publisher for them again (generic NACK, RFC 4585
// §6.2.1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::sfu {

/// A bounded list of missing sequence numbers, each asked for at most kMaxTries times
/// and at most once per kRetryUs. Worker-thread only; fixed size, never allocates.
/// Time is passed in (`now_us`), so the behaviour is testable without sleeping.
class NackGenerator {
 public:
  /// Beyond 64 missing packets the loss is a burst that retransmission will not
  /// repair in time; the decoder needs a keyframe instead, so only the newest are kept.
  static constexpr size_t kMaxMissing = 64;
  /// Three requests cover a lost request or a lost retransmission, and stop before the
  /// packet is too old to be played.
  static constexpr uint8_t kMaxTries = 3;
  /// About one round trip: asking sooner would only duplicate a retransmission that is
  /// already on its way.
  static constexpr int64_t kRetryUs = 100'000;

  /// Forgets everything (the publisher restarted with a new SSRC).
  void Reset() { count_ = 0; }
  /// Packets `from` up to, not including, `to` did not arrive (sequence numbers wrap
  /// at 65535). Only the newest kMaxMissing of the gap are kept, and when the list is
  /// full the entry at its front makes room.
  void OnGap(uint16_t from, uint16_t to);
  /// A packet older than the highest arrived; true when it was one we were missing
  /// (it is no longer), false when we never asked for it, e.g. a duplicate.
  bool OnLate(uint16_t seq);
  /// Writes the sequence numbers to ask for now into `out`, oldest first, and counts
  /// the request against each. Entries that used up their tries are dropped. `out`
  /// must hold kMaxMissing; returns how many were written.
  size_t TakeDue(int64_t now_us, std::span<uint16_t> out);
  /// Missing packets still tracked.
  [[nodiscard]] size_t size() const { return count_; }

 private:
  struct Missing {
    uint16_t seq;
    uint8_t tries;
    int64_t sent_at_us;
  };
  std::array<Missing, kMaxMissing> missing_{};
  size_t count_ = 0;
};

}  // namespace parley::sfu
