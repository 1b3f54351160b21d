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
#include <string>
#include <vector>

#include "sfu/nack_generator.hpp"
#include "sfu/payload_check.hpp"
#include "sfu/receive_stats.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "sfu/rtp.hpp"
#include "sfu/seq_compactor.hpp"

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
  /// Simulcast: this is layer `layer` (0 = the smallest) of `layers` of one video
  /// source, whose tracks are consecutive (the source's first track is index - layer).
  /// `rid` names it on the wire when its SSRCs are learnt from the RID header extension.
  uint8_t layer = 0, layers = 1;
  std::string rid{};
  /// The m-section's mid: a track the offer gave no SSRC for is recognised by the
  /// packets that name it in the MID header extension (RFC 8843 §15).
  std::string mid{};
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
    /// The numbers its packets are forwarded (and kept in `ring`) with: without the
    /// publisher's padding-only packets. Statistics and NACKs use the publisher's own.
    SeqCompactor forwarded;
    /// A RID layer's SSRCs as its packets named them (RFC 8852): media, and RTX (from
    /// the repaired-RID extension); and the RTX SSRC of a track learnt from its MID.
    /// 0 until learnt.
    uint32_t rid_ssrc = 0, rid_rtx_ssrc = 0;
    /// Media bytes received in the current and the last whole rate window, and when
    /// the last packet came: what a layer costs and whether it is being sent.
    uint64_t window_bytes = 0, last_window_bytes = 0;
    int64_t window_start_us = 0, last_packet_us = -1;
    /// The layer's rate over the last whole window (bit/s), 0 before one.
    [[nodiscard]] uint64_t rate_bps() const { return last_window_bytes * 8; }
    /// Publisher economy (layer_economy.hpp): the publisher was asked to stop sending
    /// this layer, which nobody watched; since when nobody has wanted it (-1: someone
    /// does) and when it was last asked back (-1: never); its rate when it was paused.
    bool paused = false;
    int64_t unwanted_since_us = -1, resumed_us = -1;
    uint64_t paused_rate_bps = 0;
    /// Video: the newest keyframe's first packet kept in `ring` (its forwarded number,
    /// SSRC and arrival; -1: none) and the newest packet kept in order since, so that
    /// a subscriber whose connection comes up just after a keyframe went by is started
    /// from it (Forwarder::StartFromKeptKeyframe) rather than waiting for another.
    int64_t keyframe_us = -1;
    uint32_t keyframe_ssrc = 0, keyframe_ts = 0;
    uint16_t keyframe_seq = 0, newest_seq = 0;
  };

  /// Replaces the tracks; repaired tracks get their retransmission buffer here, once.
  /// `ext_rid` / `ext_repaired_rid` / `ext_mid`: the header extension ids of the RIDs
  /// and of the MID (0: none).
  void Set(const std::vector<InboundTrack>& tracks, uint8_t ext_rid = 0, uint8_t ext_repaired_rid = 0,
           uint8_t ext_mid = 0);
  [[nodiscard]] size_t size() const { return tracks_.size(); }
  [[nodiscard]] bool empty() const { return tracks_.empty(); }
  Track& operator[](size_t i) { return tracks_[i]; }
  const Track& operator[](size_t i) const { return tracks_[i]; }
  std::vector<Track>::iterator begin() { return tracks_.begin(); }
  std::vector<Track>::iterator end() { return tracks_.end(); }
  [[nodiscard]] std::vector<Track>::const_iterator begin() const { return tracks_.begin(); }
  [[nodiscard]] std::vector<Track>::const_iterator end() const { return tracks_.end(); }

  /// The index of the track `v` belongs to, and whether it is its RTX stream (RFC
  /// 4588, of the codec's packets or of RED ones); -1 if none. By SSRC when the offer gave
  /// them (or one was learnt), else by the RID the packet names (learning the layer's
  /// SSRC), else by the MID it names (learning the track's SSRCs: two video sections
  /// with one payload type and no SSRCs are told apart), else by payload type, first
  /// come.
  [[nodiscard]] int Match(const RtpView& v, bool* rtx);
  /// The media SSRC transport-cc feedback names (one the client sends).
  [[nodiscard]] uint32_t FeedbackSsrc() const;
  /// Receive statistics, loss tracking (for NACK) and buffering of one media packet of
  /// `t`, renumbered as it is forwarded (SeqCompactor). False for a duplicate, or a
  /// packet too late to renumber; neither is forwarded.
  static bool Received(Track& t, RtpView& v, int64_t now_us);
  static bool Received(Track& t, RtpView&& v, int64_t now_us) { return Received(t, v, now_us); }
  /// A padding-only packet of `t` (RFC 3550 §5.1: no payload, a sender's bandwidth
  /// probe): received, so neither a loss to report or NACK nor a gap in what is
  /// forwarded; not forwarded itself.
  static void Padding(Track& t, const RtpView& v, int64_t now_us);
  /// Whether layer track `t` is being sent: a packet within the last `within_us`.
  [[nodiscard]] static bool Active(const Track& t, int64_t now_us, int64_t within_us = 1'000'000) {
    return t.last_packet_us >= 0 && now_us - t.last_packet_us <= within_us;
  }

 private:
  /// Receive statistics of one packet of `t`, media or padding, and what they imply
  /// for the NACK list and the forwarded numbers: a new SSRC starts both over, a gap
  /// is to be asked for. What a late or duplicate packet means is the caller's.
  static ReceiveStats::Arrival Arrive(Track& t, const RtpView& v, int64_t now_us);
  /// The track whose RID `v` names (its repaired RID when `*rtx`), or -1.
  int MatchRid(const RtpView& v, bool* rtx);
  /// The track without SSRCs in the offer whose MID `v` names, its SSRC learnt; -1 if
  /// `v` names none, -2 if it names one whose SSRCs are other streams'.
  int MatchMid(const RtpView& v, bool* rtx);

  std::vector<Track> tracks_;
  uint8_t ext_rid_ = 0, ext_repaired_rid_ = 0, ext_mid_ = 0;
};

}  // namespace parley::sfu
