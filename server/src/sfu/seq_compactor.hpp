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

/// Worker-thread only; a plain value inside a publisher's track. Until padding comes a
/// packet costs one comparison; then a binary search among the padding numbers kept
/// (those within kHorizon of the newest number; older ones fold into one offset).
class SeqCompactor {
 public:
  /// Padding numbers kept one by one, at most; how far behind the newest number one
  /// folds, and how late a packet may come at all once anything has folded.
  static constexpr size_t kKept = 1024;
  static constexpr uint16_t kHorizon = 2048;

  /// Padding-only packet `seq` (received once) will not be forwarded. One that comes
  /// after a newer media packet stays a gap (see the .cpp).
  void Remove(uint16_t seq);
  /// Media packet `seq` as forwarded; nullopt when it is more than kHorizon behind the
  /// newest number after some padding folded (its place among them is not known).
  [[nodiscard]] std::optional<uint16_t> Map(uint16_t seq);
  /// The stream restarted (a new SSRC): its numbers start over.
  void Reset() { *this = SeqCompactor(); }
  /// Whether any number was ever removed (no work at all until one is).
  [[nodiscard]] bool active() const { return active_; }

 private:
  void See(uint16_t seq);
  void FoldOldest();
  [[nodiscard]] uint16_t At(size_t i) const { return removed_[(head_ + i) % kKept]; }
  /// How many kept numbers come before `seq` (they are ascending: a binary search).
  [[nodiscard]] size_t Before(uint16_t seq) const;

  std::array<uint16_t, kKept> removed_{};  ///< a ring from head_, count_ of them, ascending (RFC 1982)
  size_t head_ = 0, count_ = 0;
  uint16_t folded_ = 0;  ///< removed numbers no longer kept, all at or before horizon_
  /// Packets at or before it are refused (when folded_any_); it follows the newest
  /// number kHorizon behind, so that it never falls half the number space behind.
  uint16_t horizon_ = 0;
  bool folded_any_ = false;
  uint16_t newest_ = 0;  ///< the newest number seen, padding or media (when seen_)
  bool seen_ = false;
  uint16_t newest_media_ = 0;  ///< the newest media number mapped (when media_seen_)
  bool media_seen_ = false;
  bool active_ = false;
};

}  // namespace parley::sfu
