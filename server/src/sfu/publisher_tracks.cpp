#include "sfu/publisher_tracks.hpp"

namespace parley::sfu {

void PublisherTracks::Set(const std::vector<InboundTrack>& tracks) {
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

int PublisherTracks::Match(const RtpView& v, bool* rtx) const {
  *rtx = false;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const InboundTrack& c = tracks_[i].cfg;
    if (c.rtx_ssrc != 0 && v.ssrc == c.rtx_ssrc) {
      *rtx = true;
      return static_cast<int>(i);
    }
    if ((c.ssrc != 0 && v.ssrc == c.ssrc) || (c.ssrc == 0 && tracks_[i].stats.ssrc() == v.ssrc && v.ssrc != 0)) {
      *rtx = (c.rtx_payload_type != 0 && v.payload_type == c.rtx_payload_type) ||
             (c.red_rtx_payload_type != 0 && v.payload_type == c.red_rtx_payload_type);
      return static_cast<int>(i);
    }
  }
  // Tracks the SDP gave no SSRC for are matched by payload type (first come).
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const InboundTrack& c = tracks_[i].cfg;
    if (c.ssrc != 0) continue;
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

bool PublisherTracks::Received(Track& t, const RtpView& v, int64_t now_us) {
  ReceiveStats::Arrival a = t.stats.OnPacket(v.ssrc, v.sequence, v.timestamp, now_us);
  switch (a.kind) {
    case ReceiveStats::Kind::kFirst:
    case ReceiveStats::Kind::kRestart: t.nack.Reset(); break;  // the old losses belong to the old numbers
    case ReceiveStats::Kind::kDuplicate: return false;
    case ReceiveStats::Kind::kNewer:
      // A gap: remember what to NACK.
      if (t.cfg.Repaired() && a.missing_before)
        t.nack.OnGap(static_cast<uint16_t>(v.sequence - a.missing_before), v.sequence);
      break;
    case ReceiveStats::Kind::kLate: {  // late, or a retransmission we asked for
      bool was_missing = t.nack.OnLate(v.sequence, now_us);
      if (t.ring && !was_missing && t.ring->Has(v.sequence, v.ssrc)) return false;  // a duplicate
      t.stats.CountLate(v.timestamp, now_us);
      break;
    }
  }
  if (t.ring) (void)t.ring->Store(v.data, v.sequence, v.ssrc);  // an oversized packet is not kept
  return true;
}

}  // namespace parley::sfu
