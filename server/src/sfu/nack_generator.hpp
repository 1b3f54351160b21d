// The upstream half of loss repair: which packets of a repaired published track never
// arrived, and when to ask the publisher for them again (generic NACK, RFC 4585
// §6.2.1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::sfu {

/// A bounded list of missing sequence numbers. Each is asked for at once, then again
/// every retry interval while it can still be played (kGiveUpUs after the first
/// request, kMaxTries at most). The interval follows the path: twice the smoothed time
/// from a request to the repair it brought, plus a margin, within [kMinRetryUs,
/// kMaxRetryUs] (kMaxRetryUs until a repair has been timed). On a short path a lost
/// request or retransmission is asked again within tens of milliseconds, so several
/// tries fit before the subscriber's jitter buffer gives up. Worker-thread only; fixed
/// size, never allocates. Time is passed in (`now_us`), so the behaviour is testable
/// without sleeping.
class NackGenerator {
 public:
  /// Beyond 64 missing packets the loss is a burst that retransmission will not
  /// repair in time; the decoder needs a keyframe instead, so only the newest are kept.
  static constexpr size_t kMaxMissing = 64;
  static constexpr uint8_t kMaxTries = 8;
  /// A packet asked for this long ago would come too late to be played (the jitter
  /// buffers in front of the decoders hold about 200 ms).
  static constexpr int64_t kGiveUpUs = 250'000;
  /// Asking sooner than the path can answer only duplicates a retransmission that is
  /// already on its way.
  static constexpr int64_t kMinRetryUs = 20'000;
  static constexpr int64_t kMaxRetryUs = 100'000;

  /// Forgets everything (the publisher restarted with a new SSRC).
  void Reset() { count_ = 0; }
  /// Packets `from` up to, not including, `to` did not arrive (sequence numbers wrap
  /// at 65535). Only the newest kMaxMissing of the gap are kept, and when the list is
  /// full the entry at its front makes room.
  void OnGap(uint16_t from, uint16_t to);
  /// A packet older than the highest arrived at `now_us`; true when it was one we were
  /// missing (it is no longer), false when we never asked for it, e.g. a duplicate. A
  /// repair of one we asked for times the path.
  bool OnLate(uint16_t seq, int64_t now_us);
  /// The current retry interval.
  [[nodiscard]] int64_t retry_us() const;
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
    int64_t sent_at_us;   ///< the last request
    int64_t first_at_us;  ///< the first request
  };
  std::array<Missing, kMaxMissing> missing_{};
  size_t count_ = 0;
  int64_t repair_us_ = -1;  ///< smoothed request-to-repair time (-1: none timed yet)
};

}  // namespace parley::sfu
