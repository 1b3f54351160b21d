// The fan-out: a publisher's packet, one rewritten copy to each subscriber routed to it.
//
// Inside a receive batch the worker holds the packets (HoldRtp) and releases them at its
// end: the copies then go out route by route, so a subscriber's copies of a video
// frame's packets are adjacent in the send batch and leave as one segmented send.
#include <algorithm>
#include <array>
#include <optional>

#include "sfu/forwarder.hpp"
#include "sfu/payload_check.hpp"

namespace parley::sfu {

void Forwarder::OnRtp(Transport& pub, size_t track, const RtpView& v) {
  if (holding_) {
    if (held_.size() == kMaxHeld) ForwardHeld();
    held_.push_back({pub.id(), track, v});
    return;
  }
  const Packet one{track, &v};
  Fanout(pub, track - pub.tracks()[track].cfg.layer, {&one, 1});
}

void Forwarder::ReleaseHeld() {
  struct Stop {
    Forwarder& f;
    ~Stop() {
      f.held_.clear();
      f.holding_ = false;
    }
  } stop{*this};
  ForwardHeld();
}

void Forwarder::ForwardHeld() {
  struct Clear {
    std::vector<Held>& held;
    ~Clear() { held.clear(); }
  } clear{held_};
  std::array<Packet, kMaxHeld> group{};
  for (size_t i = 0; i < held_.size(); ++i) {
    if (held_[i].done) continue;
    const uint64_t id = held_[i].publisher;
    Transport* pub = transports_.Find(id);  // it may have gone since the packet came
    const size_t tracks = pub ? pub->tracks().size() : 0;
    if (held_[i].track >= tracks) {  // gone (all its packets with it), or the track has
      for (size_t j = i; j < held_.size(); ++j)
        if (held_[j].publisher == id && (!pub || j == i)) held_[j].done = true;
      continue;
    }
    auto source_of = [&](size_t track) { return track - pub->tracks()[track].cfg.layer; };
    const size_t source = source_of(held_[i].track);
    size_t n = 0;
    for (size_t j = i; j < held_.size(); ++j) {
      Held& h = held_[j];
      if (h.done || h.publisher != id || h.track >= tracks || source_of(h.track) != source) continue;
      h.done = true;
      group[n++] = {h.track, &h.view};
    }
    fanning_out_ = id;
    Fanout(*pub, source, {group.data(), n});
    fanning_out_ = 0;
  }
}

void Forwarder::Fanout(Transport& pub, size_t source, std::span<const Packet> packets) {
  if (fanout_hook_) fanout_hook_(pub.id());
  Router* router = RouterOf(pub.id());
  if (!router || packets.empty()) return;
  // A simulcast layer goes on the routes of its source (its first layer's index), each
  // of which forwards one layer: this one, or this one from its next keyframe on.
  const InboundTrack& first = pub.tracks()[packets[0].track].cfg;
  const bool video = first.video, layered = first.layers > 1;
  std::array<bool, kMaxHeld> keyframe{};
  if (layered)
    for (size_t k = 0; k < packets.size(); ++k)
      keyframe[k] = StartsKeyframe(pub.tracks()[packets[k].track].cfg.format, packets[k].view->payload());
  for (const auto& route : router->From(pub.id())) {
    Route& r = *route;
    if (r.spec.track != source) continue;
    Transport* sub = transports_.Find(r.subscriber);
    if (!sub || sub->state() != Transport::State::kConnected) {
      drops_.Count(DropReason::kSubscriberNotReady, packets.size());
      continue;
    }
    Pacer* pacer = PacerOf(sub->id());
    // A video route's first packets: from the kept keyframe when there is one. Every
    // packet of its layer in this call was kept before it ran: sent with it, or (an
    // older stream's, before the keyframe) not to be sent after it.
    const std::optional<size_t> started =
        video && !r.numbers.started() ? StartFromKeptKeyframe(pub, r, *sub, pacer) : std::nullopt;
    for (size_t k = 0; k < packets.size(); ++k)
      if (packets[k].track != started) ForwardTo(pub, r, *sub, pacer, packets[k].track, *packets[k].view, keyframe[k]);
  }
}

void Forwarder::ForwardTo(Transport& pub, Route& r, Transport& sub, Pacer* pacer, size_t track, const RtpView& v,
                          bool keyframe) {
  const InboundTrack& cfg = pub.tracks()[track].cfg;
  if (cfg.layers > 1) {
    // The first choice cannot wait for every layer's first packet: it takes them all
    // as sent, and the subscriber's next choice (kLayerChoiceUs) corrects it if not.
    if (r.layers.target() == LayerSwitch::kNone) ChooseLayer(pub, r, sub, now_us_, true);
    if (!r.layers.Accept(cfg.layer, keyframe)) return;  // another layer's: not this subscriber's
    r.rewrite_vp8 = cfg.format == PayloadFormat::kVp8;
  }
  if (cfg.video) {
    // A subscriber that cannot take its video gets none (audio always flows: it is
    // small and it is what keeps a call going); the copy is still offered, so the
    // estimate knows what resuming needs.
    DownstreamEstimate& downstream = sub.downstream();
    downstream.OnVideoOffered(v.data.size(), cfg.layers > 1 && r.layers.above_lowest());
    if (!downstream.video_allowed()) {
      r.numbers.Skipped();
      drops_.Count(DropReason::kSubscriberCongested);
      return;
    }
  }
  // First packet, or the publisher restarted with a new SSRC: continue right after
  // what the subscriber saw last, so its decoder sees one continuous stream.
  r.numbers.OnInput(v.ssrc, v.sequence, v.timestamp, cfg.video ? 3000u : 960u);
  SendRewritten(sub, r, v, false, cfg, pacer);
}

std::optional<size_t> Forwarder::StartFromKeptKeyframe(Transport& pub, Route& r, Transport& sub, Pacer* pacer) {
  // Not while its video is paused: nothing would be sent, and each packet would try again.
  if (r.numbers.started() || r.spec.track >= pub.tracks().size() || !sub.downstream().video_allowed())
    return std::nullopt;
  const InboundTrack& first = pub.tracks()[r.spec.track].cfg;
  if (!first.video || r.spec.track + first.layers > pub.tracks().size()) return std::nullopt;
  if (first.layers > 1 && r.layers.target() == LayerSwitch::kNone) ChooseLayer(pub, r, sub, now_us_, true);
  const size_t top = first.layers > 1 ? std::min<size_t>(r.layers.target(), first.layers - 1u) : 0;
  for (size_t layer = top + 1; layer-- > 0;) {
    PublisherTracks::Track& t = pub.tracks()[r.spec.track + layer];
    if (!t.ring || t.keyframe_us < 0 || now_us_ - t.keyframe_us > kKeptKeyframeUs) continue;
    const auto count = static_cast<uint16_t>(t.newest_seq - t.keyframe_seq + 1);
    if (count == 0 || count > t.ring->slots() / 2) continue;
    bool whole = true;
    for (uint16_t i = 0; i < count && whole; ++i)
      whole = t.ring->Has(static_cast<uint16_t>(t.keyframe_seq + i), t.keyframe_ssrc);
    if (!whole) continue;
    for (uint16_t i = 0; i < count; ++i) {
      auto v = ParseRtp(t.ring->Get(static_cast<uint16_t>(t.keyframe_seq + i), t.keyframe_ssrc));
      if (v) ForwardTo(pub, r, sub, pacer, r.spec.track + layer, *v, i == 0);
    }
    return r.spec.track + layer;
  }
  return std::nullopt;
}

}  // namespace parley::sfu
