// The tracks a client sends on a publish transport, as its offer negotiated them, and
// what the SFU keeps per track: receive statistics (RFC 3550 receiver reports), and
// for a repaired track a retransmission buffer answering subscribers' NACKs and the
// upstream losses to NACK. Video is repaired; audio when its publisher negotiated RTX
// for it (native clients do, browsers do not). Matching a packet to its track and the
// bookkeeping of one received packet allocate nothing. Worker-thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sfu/nack_generator.hpp"
#include "sfu/payload_check.hpp"
#include "sfu/receive_stats.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {

/// A track the client sends on a publish transport (from the negotiated offer).
struct InboundTrack {
  bool video = false;
  uint32_t ssrc = 0;  ///< 0 if the offer did not say; then matched by payload type
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;
  uint32_t rtx_ssrc = 0;
  /// How its payloads are checked before they are forwarded (payload_check.hpp).
  PayloadFormat format = PayloadFormat::kUnchecked;
  /// Audio in RED (red.hpp): packets of this payload type carry the codec's in blocks;
  /// 0 = none. And the RTX of those packets.
  uint8_t red_payload_type = 0;
  uint8_t red_rtx_payload_type = 0;
  /// Whether lost packets are asked for again and kept for subscribers' NACKs.
  [[nodiscard]] bool Repaired() const { return video || rtx_payload_type != 0; }
};

class PublisherTracks {
 public:
  struct Track {
    InboundTrack cfg;
    ReceiveStats stats;                          ///< also the media SSRC in use (learnt when the SDP gave none)
    std::unique_ptr<RetransmissionBuffer> ring;  ///< repaired tracks only (InboundTrack::Repaired)
    NackGenerator nack;                          ///< upstream losses to ask again for (repaired tracks)
  };

  /// Replaces the tracks; repaired tracks get their retransmission buffer here, once.
  void Set(const std::vector<InboundTrack>& tracks);
  [[nodiscard]] size_t size() const { return tracks_.size(); }
  [[nodiscard]] bool empty() const { return tracks_.empty(); }
  Track& operator[](size_t i) { return tracks_[i]; }
  const Track& operator[](size_t i) const { return tracks_[i]; }
  std::vector<Track>::iterator begin() { return tracks_.begin(); }
  std::vector<Track>::iterator end() { return tracks_.end(); }
  [[nodiscard]] std::vector<Track>::const_iterator begin() const { return tracks_.begin(); }
  [[nodiscard]] std::vector<Track>::const_iterator end() const { return tracks_.end(); }

  /// The index of the track `v` belongs to, and whether it is its RTX stream (RFC
  /// 4588, of the codec's packets or of RED ones); -1 if none. By SSRC when the offer gave them (or one was learnt),
  /// else by payload type, first come.
  [[nodiscard]] int Match(const RtpView& v, bool* rtx) const;
  /// The media SSRC transport-cc feedback names (one the client sends).
  [[nodiscard]] uint32_t FeedbackSsrc() const;
  /// Receive statistics, loss tracking (for NACK) and buffering of one media packet of
  /// `t`. False for a duplicate, which is not forwarded.
  static bool Received(Track& t, const RtpView& v, int64_t now_us);

 private:
  std::vector<Track> tracks_;
};

}  // namespace parley::sfu
