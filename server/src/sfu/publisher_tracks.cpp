#include "sfu/publisher_tracks.hpp"

#include <optional>

namespace parley::sfu {
namespace {
constexpr int64_t kRateWindowUs = 1'000'000;  // rate_bps() is bytes per window x 8
constexpr int kNamedButNotTaken = -2;         // MatchMid: the packet names a section that does not take it
}  // namespace

void PublisherTracks::Set(const std::vector<InboundTrack>& tracks, uint8_t ext_rid, uint8_t ext_repaired_rid,
                          uint8_t ext_mid) {
  ext_rid_ = ext_rid;
  ext_repaired_rid_ = ext_repaired_rid;
  ext_mid_ = ext_mid;
  tracks_.clear();
  tracks_.resize(tracks.size());
  for (size_t i = 0; i < tracks.size(); ++i) {
    Track& t = tracks_[i];
    t.cfg = tracks[i];
    t.stats = ReceiveStats(t.cfg.video ? 90000 : 48000);
    if (t.cfg.Repaired())  // allocated once, here
      t.ring = std::make_unique<RetransmissionBuffer>(t.cfg.video ? RetransmissionBuffer::kVideoSlots
                                                                  : RetransmissionBuffer::kAudioSlots);
  }
}

int PublisherTracks::MatchRid(const RtpView& v, bool* rtx) {
  std::optional<std::span<const uint8_t>> rid;
  if (ext_repaired_rid_) rid = v.Extension(ext_repaired_rid_);
  *rtx = rid.has_value();
  if (!rid && ext_rid_) rid = v.Extension(ext_rid_);
  if (!rid || rid->empty()) return -1;
  std::string_view name(reinterpret_cast<const char*>(rid->data()), rid->size());
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    if (t.cfg.rid.empty() || t.cfg.rid != name) continue;
    // The SSRC this layer is sent on from now on (a sender that restarts names it again).
    (*rtx ? t.rid_rtx_ssrc : t.rid_ssrc) = v.ssrc;
    return static_cast<int>(i);
  }
  return -1;
}

int PublisherTracks::MatchMid(const RtpView& v, bool* rtx) {
  *rtx = false;
  if (!ext_mid_) return -1;
  auto mid = v.Extension(ext_mid_);
  if (!mid || mid->empty()) return -1;
  std::string_view name(reinterpret_cast<const char*>(mid->data()), mid->size());
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    const InboundTrack& c = t.cfg;
    if (c.ssrc != 0 || !c.rid.empty() || c.mid != name) continue;
    if ((c.rtx_payload_type != 0 && v.payload_type == c.rtx_payload_type) ||
        (c.red_rtx_payload_type != 0 && v.payload_type == c.red_rtx_payload_type)) {
      if (t.rid_rtx_ssrc != 0 && t.rid_rtx_ssrc != v.ssrc) return kNamedButNotTaken;  // another stream claims it
      t.rid_rtx_ssrc = v.ssrc;  // its retransmissions are matched by SSRC from now on
      *rtx = true;
      return static_cast<int>(i);
    }
    bool media = v.payload_type == c.payload_type || (c.red_payload_type && v.payload_type == c.red_payload_type);
    // The first stream naming the section is its media; the SSRC is learnt as it is received.
    return media && t.stats.ssrc() == 0 ? static_cast<int>(i) : kNamedButNotTaken;
  }
  return -1;
}

int PublisherTracks::Match(const RtpView& v, bool* rtx) {
  *rtx = false;
  if (v.ssrc == 0) return -1;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const InboundTrack& c = tracks_[i].cfg;
    if ((c.rtx_ssrc != 0 && v.ssrc == c.rtx_ssrc) || v.ssrc == tracks_[i].rid_rtx_ssrc) {
      *rtx = true;
      return static_cast<int>(i);
    }
    if (!c.rid.empty()) {
      if (v.ssrc != tracks_[i].rid_ssrc) continue;
      *rtx = c.rtx_payload_type != 0 && v.payload_type == c.rtx_payload_type;
      return static_cast<int>(i);
    }
    if ((c.ssrc != 0 && v.ssrc == c.ssrc) || (c.ssrc == 0 && tracks_[i].stats.ssrc() == v.ssrc)) {
      *rtx = (c.rtx_payload_type != 0 && v.payload_type == c.rtx_payload_type) ||
             (c.red_rtx_payload_type != 0 && v.payload_type == c.red_rtx_payload_type);
      return static_cast<int>(i);
    }
  }
  // Layers named by RID: the extension says which (the SSRC is learnt from it).
  if (int i = MatchRid(v, rtx); i >= 0) return i;
  if (int i = MatchMid(v, rtx); i >= 0) {
    return i;
  } else if (i == kNamedButNotTaken) {  // not given to another section by its payload type
    *rtx = false;
    return -1;
  }
  *rtx = false;
  // Tracks the SDP gave no SSRC for are matched by payload type (first come).
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const InboundTrack& c = tracks_[i].cfg;
    if (c.ssrc != 0 || !c.rid.empty()) continue;
    if (v.payload_type == c.payload_type && tracks_[i].stats.ssrc() == 0) return static_cast<int>(i);
    if (v.payload_type == c.red_payload_type && c.red_payload_type && tracks_[i].stats.ssrc() == 0)
      return static_cast<int>(i);
    if ((c.rtx_payload_type != 0 && v.payload_type == c.rtx_payload_type) ||
        (c.red_rtx_payload_type != 0 && v.payload_type == c.red_rtx_payload_type)) {
      *rtx = true;
      return static_cast<int>(i);
    }
  }
  return -1;
}

uint32_t PublisherTracks::FeedbackSsrc() const {
  // libwebrtc hands transport-cc feedback to its estimator only when the media source
  // SSRC is one it sends: name a video stream if there is one.
  uint32_t any = 0;
  for (const auto& t : tracks_) {
    uint32_t ssrc = t.stats.ssrc() ? t.stats.ssrc() : t.cfg.ssrc;
    if (t.cfg.video && ssrc) return ssrc;
    if (!any) any = ssrc;
  }
  return any;
}

ReceiveStats::Arrival PublisherTracks::Arrive(Track& t, const RtpView& v, int64_t now_us) {
  ReceiveStats::Arrival a = t.stats.OnPacket(v.ssrc, v.sequence, v.timestamp, now_us);
  switch (a.kind) {
    case ReceiveStats::Kind::kFirst:
    case ReceiveStats::Kind::kRestart:  // the old losses and padding belong to the old numbers
      t.nack.Reset();
      t.forwarded.Reset();
      break;
    case ReceiveStats::Kind::kNewer:  // a gap: remember what to NACK
      if (t.cfg.Repaired() && a.missing_before)
        t.nack.OnGap(static_cast<uint16_t>(v.sequence - a.missing_before), v.sequence);
      break;
    case ReceiveStats::Kind::kDuplicate:
    case ReceiveStats::Kind::kLate: break;  // the caller's to judge
  }
  return a;
}

bool PublisherTracks::Received(Track& t, RtpView& v, int64_t now_us) {
  const ReceiveStats::Arrival a = Arrive(t, v, now_us);
  if (a.kind == ReceiveStats::Kind::kDuplicate) return false;
  const uint16_t seq = v.sequence;                        // the publisher's number
  const bool late = a.kind == ReceiveStats::Kind::kLate;  // late, or a retransmission we asked for
  const bool was_missing = late && t.nack.OnLate(seq, now_us);
  std::optional<uint16_t> out = t.forwarded.Map(seq);
  if (!out) return false;  // thousands of packets late: not forwarded (nor asked for again)
  if (late) {
    if (t.ring && !was_missing && t.ring->Has(*out, v.ssrc)) return false;  // a duplicate
    t.stats.CountLate(v.timestamp, now_us);
  }
  if (*out != seq) v.SetSequence(*out);
  if (t.ring) {
    const bool kept = t.ring->Store(v.data, v.sequence, v.ssrc);  // an oversized packet is not kept
    if (t.cfg.video && !late) {
      t.newest_seq = v.sequence;
      // The keyframe's first packet (H.264's parameter sets and IDR slice are one
      // access unit: one timestamp).
      const bool same = t.keyframe_us >= 0 && t.keyframe_ssrc == v.ssrc && t.keyframe_ts == v.timestamp;
      if (kept && !same && StartsKeyframe(t.cfg.format, v.payload())) {
        t.keyframe_us = now_us;
        t.keyframe_ssrc = v.ssrc;
        t.keyframe_ts = v.timestamp;
        t.keyframe_seq = v.sequence;
      }
    }
  }
  if (now_us - t.window_start_us >= kRateWindowUs || t.last_packet_us < 0) {
    // A window that ended long ago says nothing about the last second: the rate is 0.
    t.last_window_bytes = now_us - t.window_start_us < 2 * kRateWindowUs ? t.window_bytes : 0;
    t.window_bytes = 0;
    t.window_start_us = now_us;
  }
  t.window_bytes += v.data.size();
  t.last_packet_us = now_us;
  return true;
}

void PublisherTracks::Padding(Track& t, const RtpView& v, int64_t now_us) {
  const ReceiveStats::Arrival a = Arrive(t, v, now_us);
  if (a.kind == ReceiveStats::Kind::kDuplicate) return;
  if (a.kind == ReceiveStats::Kind::kLate) {  // reordered (SRTP's replay check stops a copy)
    (void)t.nack.OnLate(v.sequence, now_us);
    t.stats.CountLate(v.timestamp, now_us);
  }
  t.forwarded.Remove(v.sequence);
}

}  // namespace parley::sfu
