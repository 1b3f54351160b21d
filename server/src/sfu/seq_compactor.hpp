// The sequence numbers of a published stream as the SFU forwards it: without the
// padding-only packets its publisher sent on it. A sender probing its uplink (Chromium
// does, on an audio SSRC without RTX) numbers its padding in the media stream; the SFU
// does not forward them (nothing to decode, and the probe was for the publisher's own
// link), so the numbers after each would leave a gap its subscribers take for loss.
// GStreamer's jitter buffer met ten such "lost" packets inside 20 ms of audio, gave
// them no duration, and stopped passing audio on. Forwarded numbers close the gaps:
// a packet's number less the padding numbers before it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace parley::sfu {

/// Worker-thread only; a plain value inside a publisher's track. Mapping is O(removed
/// numbers kept), at most kKept and usually none (one comparison until then): a stream's padding comes in bursts
/// and its numbers fold into one offset once they are kHorizon behind the newest.
class SeqCompactor {
 public:
  /// Padding numbers kept one by one; how far behind the newest number one folds.
  static constexpr size_t kKept = 128;
  static constexpr uint16_t kHorizon = 2048;

  /// Padding-only packet `seq` (received once) will not be forwarded. One that comes
  /// after a newer number stays a gap (see the .cpp).
  void Remove(uint16_t seq);
  /// Media packet `seq` as forwarded; nullopt when it is older than numbers already
  /// folded (its place among them is no longer known: thousands of packets late).
  [[nodiscard]] std::optional<uint16_t> Map(uint16_t seq);
  /// The stream restarted (a new SSRC): its numbers start over.
  void Reset() { *this = SeqCompactor(); }
  /// Whether any number was ever removed (no work at all until one is).
  [[nodiscard]] bool active() const { return active_; }

 private:
  void See(uint16_t seq);
  void FoldOldest();

  std::array<uint16_t, kKept> removed_{};  ///< ascending (RFC 1982), count_ of them
  size_t count_ = 0;
  uint16_t folded_ = 0;   ///< removed numbers no longer kept, all at or before horizon_
  uint16_t horizon_ = 0;  ///< the newest folded number (when folded_any_)
  bool folded_any_ = false;
  uint16_t newest_ = 0;  ///< the newest number seen, padding or media (when seen_)
  bool seen_ = false;
  bool active_ = false;
};

}  // namespace parley::sfu
