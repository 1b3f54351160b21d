#include "sfu/forwarder.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#include "sfu/layer_economy.hpp"
#include "sfu/red.hpp"

namespace parley::sfu {

Forwarder::Forwarder(Transports& transports, WebRtcTransport::PacketSink& sink, DropCounters& drops, int loss_permille,
                     bool pace_video)
    : transports_(transports), sink_(sink), drops_(drops), loss_permille_(loss_permille), pace_video_(pace_video) {
  held_.reserve(kMaxHeld);
}

void Forwarder::Attach(uint64_t transport, uint64_t channel) {
  auto& ch = channels_[channel];
  if (!ch) {
    ch = std::make_unique<Channel>();
    ch->id = channel;
  }
  ++ch->transports;
  channel_of_[transport] = ch.get();
}

void Forwarder::Detach(uint64_t transport) {
  keyframes_.Forget(transport);
  layered_routes_.erase(transport);
  spare_due_.erase(transport);
  pacers_.erase(transport);
  clusters_.erase(transport);
  auto it = channel_of_.find(transport);
  if (it == channel_of_.end()) return;
  Channel* channel = it->second;
  channel->router.RemoveTransport(transport);
  channel_of_.erase(it);
  if (--channel->transports == 0) channels_.erase(channel->id);
}

Router* Forwarder::RouterOf(uint64_t transport) const {
  auto it = channel_of_.find(transport);
  return it == channel_of_.end() ? nullptr : &it->second->router;
}

void Forwarder::AddRoute(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec, int64_t now_us) {
  Router* router = RouterOf(publisher);
  if (!router) router = RouterOf(subscriber);
  if (!router) return;  // neither end is here: nothing could flow
  // Random first sequence numbers (RFC 3550 §5.1), never derived from the SSRC: a
  // stream that comes back on an SSRC its subscriber has seen must not replay its
  // numbers, or the subscriber's SRTP replay check drops it (RFC 3711 §3.3.2).
  std::random_device random;
  auto first_seq = static_cast<uint16_t>(random());
  auto first_rtx_seq = static_cast<uint16_t>(random());  // drawn second, as a separate statement
  if (!router->Add(publisher, subscriber, spec, SeqRewriter(first_seq, first_rtx_seq))) return;  // already routed
  // A subscriber's pacer comes with its first route (its FIFO is allocated here, not
  // on the packet path).
  if (pace_video_ && !pacers_.count(subscriber)) pacers_.emplace(subscriber, std::make_unique<Pacer>(pacer_options_));
  clusters_.try_emplace(subscriber);        // likewise its probe cluster's state
  layered_routes_[subscriber].next_us = 0;  // its layers are chosen at its next tick
  // The subscriber's decoder needs a keyframe. Asked for once the subscriber has
  // answered (now, for a transport that has: a route added to a running call), it comes
  // about when the connection does (ICE and DTLS take a few round trips from the answer,
  // the publisher's encoder about as long), and if it comes first it is kept for the
  // subscriber (StartFromKeptKeyframe) rather than lost. A new transport's routes are
  // added with the offer: their request waits for the answer (OnAnswered), because a
  // browser answers 70-300 ms after the offer, and a keyframe asked for at the offer was
  // then too old to replay by the time its connection was up, while the next request
  // had to wait out the publisher's 300 ms between keyframe requests.
  Transport* p = transports_.Find(publisher);
  Transport* s = transports_.Find(subscriber);
  if (p && s && !s->params().remote_ufrag.empty() && spec.track < p->tracks().size() &&
      p->tracks()[spec.track].cfg.video)
    RequestKeyframe(*p, now_us);
}

void Forwarder::OnAnswered(Transport& sub, int64_t now_us) {
  if (sub.state() != Transport::State::kConnected) AskVideoPublishersOf(sub, now_us);
}

void Forwarder::MoveRoutes(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map,
                           int64_t now_us) {
  Router* router = RouterOf(from_publisher);
  if (!router || !router->Knows(from_publisher)) return;
  router->Move(from_publisher, to_publisher, track_map);
  if (Transport* p = transports_.Find(to_publisher)) RequestKeyframe(*p, now_us);
}

void Forwarder::RemoveRoutes(uint64_t publisher, uint64_t subscriber, int track) {
  if (Router* router = RouterOf(publisher)) router->Remove(publisher, subscriber, track);
}

void Forwarder::SetRouteRed(uint64_t subscriber, uint32_t ssrc, uint8_t red_payload_type) {
  if (Router* router = RouterOf(subscriber))
    if (Route* r = router->Find(subscriber, ssrc)) r->spec.red_payload_type = red_payload_type;
}

std::vector<std::pair<uint64_t, RouteSpec>> Forwarder::RoutesFrom(uint64_t publisher) const {
  std::vector<std::pair<uint64_t, RouteSpec>> out;
  if (const Router* router = RouterOf(publisher))
    for (const auto& r : router->From(publisher)) out.emplace_back(r->subscriber, r->spec);
  return out;
}

size_t WriteRewritten(uint8_t* slot, Route& r, const RtpView& v, bool retransmission, uint8_t red_pt,
                      const OwnExtensions& ext) {
  bool as_rtx = retransmission && r.spec.rtx_ssrc != 0;
  std::span<const uint8_t> body = v.payload();  // the payload this copy carries
  bool whole = !as_rtx;                         // the packet as it came, padding included
  std::optional<RedLayout> red;
  bool keep_red = false;
  if (red_pt && v.payload_type == red_pt) {
    red = ParseRed(body);  // checked when it arrived, so this parses
    if (!red) return 0;
    keep_red = r.spec.red_payload_type != 0 && !retransmission;
    if (!keep_red) {  // the codec's own packet: the primary block alone
      body = body.subspan(red->primary().offset, red->primary().length);
      whole = false;
    }
  }
  // The header: as it came, or its fixed part and CSRCs with our own extensions.
  uint8_t own[kOwnExtensionsMax];
  const size_t own_len = WriteOwnExtensions(own, ext);
  const bool rebuild = ext.any();
  const size_t fixed = 12 + 4 * static_cast<size_t>(v.data[0] & 0x0F);
  const size_t header = rebuild ? fixed + own_len : v.payload_offset;
  std::span<const uint8_t> tail = whole ? v.data.subspan(v.payload_offset) : body;  // whole: padding too
  const size_t at = header + (as_rtx ? 2 : 0);                                      // where the payload goes
  size_t len = at + tail.size();
  if (len > kMaxDatagram) return 0;
  std::memcpy(slot, v.data.data(), rebuild ? fixed : v.payload_offset);
  if (!whole) slot[0] &= static_cast<uint8_t>(~0x20);  // no padding
  if (rebuild) {
    slot[0] |= 0x10;
    std::memcpy(slot + fixed, own, own_len);
  }
  std::memcpy(slot + at, tail.data(), tail.size());
  auto out = ParseRtp(std::span<uint8_t>(slot, len));
  if (!out) return 0;
  SeqRewriter::Out numbers = r.numbers.Apply(v.sequence, v.timestamp);
  out->SetTimestamp(numbers.ts);
  if (as_rtx) {
    Store16(slot + header, numbers.seq);
    out->SetSsrc(r.spec.rtx_ssrc);
    out->SetPayloadType(r.spec.rtx_payload_type);
    out->SetSequence(r.numbers.NextRtxSeq());
  } else {
    out->SetSsrc(r.spec.ssrc);
    out->SetSequence(numbers.seq);
    if (keep_red) {  // the blocks name the subscriber's number for the codec
      out->SetPayloadType(r.spec.red_payload_type);
      SetRedBlockPayloadTypes(out->payload(), *red, r.spec.payload_type);
    } else {
      out->SetPayloadType(r.spec.payload_type);
    }
    r.numbers.OnSent(numbers);
  }
  if (r.rewrite_vp8) r.vp8.Rewrite(std::span<uint8_t>(slot + at, len - at), v.ssrc, retransmission);
  if (!retransmission) {
    ++r.packets;
    r.octets += static_cast<uint32_t>(body.size());
  }
  return len;
}

bool Forwarder::SendRewritten(Transport& sub, Route& r, const RtpView& v, bool retransmission, const InboundTrack& from,
                              Pacer* pacer) {
  bool video = from.video;
  uint8_t* slot = sink_.Slot();
  // The send time: now, or for paced video when the pacer will let it go.
  SendSideBwe* bwe = sub.send_side_bwe();
  const bool numbered = bwe && video;  // only video is numbered (send_side_bwe.hpp)
  OwnExtensions ext{sub.abs_send_time_id(), now_us_, numbered ? sub.transport_cc_id() : uint8_t{0},
                    numbered ? bwe->NextSequence() : uint16_t{0}};
  if (ext.any() && video && pacer)
    ext.send_us = pacer->DepartureUs(v.data.size() + 16, now_us_);  // about its size protected
  size_t len = WriteRewritten(slot, r, v, retransmission, from.red_payload_type, ext);
  if (!len) {  // only a copy that grew past a datagram (RTX adds two bytes) fails here
    drops_.Count(DropReason::kTooLarge);
    return false;
  }
  size_t n = sub.ProtectRtp(slot, len);
  if (!n) {
    drops_.Count(DropReason::kSubscriberNotReady);
    return false;
  }
  sub.shared_counters()->sent_packets.fetch_add(1, std::memory_order_relaxed);
  sub.shared_counters()->sent_bytes.fetch_add(v.payload_length, std::memory_order_relaxed);
  sub.downstream().OnSent(n, from.layers <= 1);
  if (numbered)
    bwe->OnSent(ext.send_us, n);
  else if (bwe)
    bwe->OnUnnumbered(n, now_us_);
  if (Lose()) {  // simulated loss (tests): protected and counted as sent, never sent
    drops_.Count(DropReason::kSimulatedLoss);
    return true;
  }
  if (pacer) {
    if (!video) {
      pacer->Spend(n, now_us_);
    } else if (!pacer->Admit(n, now_us_)) {  // it waits its turn (the slot is reused)
      if (pacer->queued() == Pacer::kSlots) {
        // Full (a rate far above the one paced for, e.g. before the first rate window):
        // the oldest leaves early rather than anything being dropped. It goes out
        // through the very slot this copy is in, so the copy is set aside first.
        uint8_t held[kSlotBytes];  // protected: up to kMaxDatagram + SRTP's overhead
        std::memcpy(held, slot, n);
        pacer->SendOldest([&](std::span<const uint8_t> datagram) {
          uint8_t* out = sink_.Slot();
          std::memcpy(out, datagram.data(), datagram.size());
          sink_.Queue(datagram.size(), sub.path());
        });
        if (!pacer->Push({held, n}, now_us_)) drops_.Count(DropReason::kTooLarge);
      } else if (!pacer->Push({slot, n}, now_us_)) {
        drops_.Count(DropReason::kTooLarge);  // cannot happen: a slot holds a protected datagram
      }
      paced_.store(paced_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      pacing_ = true;
      return true;
    }
  }
  sink_.Queue(n, sub.path());
  return true;
}

void Forwarder::ReleasePaced(int64_t now_us) {
  if (probing_) SendProbes(now_us);
  if (!pacing_) return;
  pacing_ = false;
  for (auto& entry : pacers_) {
    Pacer& pacer = *entry.second;
    if (!pacer.queued()) continue;
    Transport* sub = transports_.Find(entry.first);
    pacer.Release(now_us, [&](std::span<const uint8_t> datagram) {
      if (!sub || sub->state() != Transport::State::kConnected) {
        drops_.Count(DropReason::kSubscriberNotReady);
        return;
      }
      uint8_t* slot = sink_.Slot();
      std::memcpy(slot, datagram.data(), datagram.size());
      sink_.Queue(datagram.size(), sub->path());
    });
    pacing_ = pacing_ || pacer.queued() > 0;
  }
}

int64_t Forwarder::NextPacedUs(int64_t now_us) const {
  int64_t next = -1;
  if (probing_)
    for (const auto& entry : clusters_)
      if (int64_t at = entry.second.next_us(); at >= 0 && (next < 0 || at < next)) next = at;
  if (!pacing_) return next;
  for (const auto& entry : pacers_) {
    int64_t at = entry.second->NextReleaseUs(now_us);
    if (at >= 0 && (next < 0 || at < next)) next = at;
  }
  return next;
}

bool Forwarder::Lose() {
  if (loss_permille_ <= 0) return false;
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return static_cast<int>(rng_ % 1000) < loss_permille_;
}

Route* Forwarder::FindRoute(uint64_t subscriber, uint32_t ssrc, Transport** publisher) {
  Router* router = RouterOf(subscriber);
  Route* r = router ? router->Find(subscriber, ssrc) : nullptr;
  if (!r) return nullptr;
  *publisher = transports_.Find(r->publisher);
  return *publisher ? r : nullptr;
}

void Forwarder::Retransmit(Transport& sub, Route& r, Transport& pub, uint16_t seq) {
  if (!r.numbers.started() || !r.numbers.Current(seq)) return;
  // Without RTX a repair would be a second packet under the same SRTP index (its header
  // differs: our send time, a new transport-wide number), which SRTP must never send.
  if (r.spec.rtx_ssrc == 0) {
    drops_.Count(DropReason::kNoRtx);
    return;
  }
  size_t track = LayerTrack(pub, r);
  if (track >= pub.tracks().size()) return;
  PublisherTracks::Track& t = pub.tracks()[track];
  if (!t.ring) return;
  // A link whose video is paused gets no video repaired either; audio (small, and what
  // keeps the call going) still is.
  if (t.cfg.video && !sub.downstream().video_allowed()) {
    drops_.Count(DropReason::kSubscriberCongested);
    return;
  }
  std::span<uint8_t> stored = t.ring->Get(r.numbers.InputSeq(seq), r.numbers.input_ssrc());
  if (stored.empty()) return;  // gone
  auto v = ParseRtp(stored);
  if (v && SendRewritten(sub, r, *v, true, t.cfg, PacerOf(sub.id())))
    sub.shared_counters()->retransmitted.fetch_add(1, std::memory_order_relaxed);
}

void Forwarder::OnRtcp(Transport& t, std::span<const uint8_t> rtcp, int64_t now_us) {
  if (t.tracks().empty())
    OnSubscriberRtcp(t, rtcp, now_us);
  else
    OnPublisherRtcp(t, rtcp, now_us);
}

void Forwarder::OnSubscriberRtcp(Transport& sub, std::span<const uint8_t> rtcp, int64_t now_us) {
  for (RtcpIterator it(rtcp); !it.done(); it.Next()) {
    bool keyframe = IsKeyframeRequest(*it), nack = it->type == kRtpfb && it->count == 1;
    if (keyframe || nack) {
      // One lookup per feedback packet: the stream it names, and its publisher.
      Transport* pub = nullptr;
      Route* r = FindRoute(sub.id(), it->media_ssrc(), &pub);
      if (keyframe) {
        if (r) RequestKeyframe(*pub, now_us);
      } else {
        ForEachNack(*it, [&](uint16_t seq) {
          sub.shared_counters()->nacks_in.fetch_add(1, std::memory_order_relaxed);
          if (r) Retransmit(sub, *r, *pub, seq);
        });
      }
    } else if (it->type == kRr || it->type == kSr) {
      for (size_t i = 0; i < it->count; ++i)
        if (auto b = GetReportBlock(*it, i)) {
          sub.shared_counters()->fraction_lost.store(b->fraction_lost);
          sub.downstream().OnLoss(b->ssrc, b->fraction_lost, now_us);
        }
    } else if (it->type == kRtpfb && it->count == 15) {
      // transport-cc feedback: the server's own estimate, which a client that sends it
      // gets instead of its REMB (Chromium sends none for numbered packets anyway).
      if (SendSideBwe* bwe = sub.send_side_bwe(); bwe && bwe->OnFeedback(*it, now_us)) {
        sub.shared_counters()->twcc_feedbacks.fetch_add(1, std::memory_order_relaxed);
        sub.downstream().OnEstimate(bwe->estimate_bps(now_us), now_us);
      }
    } else if (auto remb = ParseRemb(*it)) {
      if (const SendSideBwe* bwe = sub.send_side_bwe(); !bwe || bwe->feedbacks() == 0)
        sub.downstream().OnEstimate(remb->bitrate_bps, now_us);
    }
  }
}

void Forwarder::OnPublisherRtcp(Transport& pub, std::span<const uint8_t> rtcp, int64_t now_us) {
  for (RtcpIterator it(rtcp); !it.done(); it.Next()) {
    if (it->type != kSr) continue;
    auto info = ParseSenderInfo(*it);
    if (!info) continue;
    uint32_t ssrc = it->sender_ssrc();
    for (size_t i = 0; i < pub.tracks().size(); ++i) {
      PublisherTracks::Track& t = pub.tracks()[i];
      if (!t.stats.started() || t.stats.ssrc() != ssrc) continue;
      t.stats.OnSenderReport(info->ntp, now_us);
      pub.shared_counters()->sender_reports.fetch_add(1, std::memory_order_relaxed);
      // Each subscriber gets the sender's clock mapping on its own stream (RFC 3550
      // §7.2: an RTP translator rewrites the SSRC and the counts): lip sync works.
      Router* router = RouterOf(pub.id());
      if (!router) break;
      for (const auto& route : router->From(pub.id())) {
        Route& r = *route;
        if (r.spec.track != i - t.cfg.layer || !r.numbers.started() || r.numbers.input_ssrc() != ssrc) continue;
        Transport* sub = transports_.Find(r.subscriber);
        if (!sub || sub->state() != Transport::State::kConnected) continue;
        uint8_t sr[kSenderReportBytes];
        WriteRewrittenSenderReport(sr, r.spec.ssrc, *info, r.numbers.ApplyTimestamp(info->rtp_timestamp), r.packets,
                                   r.octets);
        if (sub->SendRtcp(sr)) sub->shared_counters()->sender_reports.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    }
  }
}

void Forwarder::RequestKeyframe(Transport& publisher, int64_t now_us) {
  // Throttled per publisher; a request inside the window comes back from
  // KeyframeRequester::TakeDue (deferred, not dropped).
  if (keyframes_.Request(publisher.id(), now_us) == KeyframeRequester::Decision::kDeferred) return;
  if (transports_.RelayKeyframe(publisher.id())) {  // a mirror: its publisher is another worker's
    keyframes_.Sent(publisher.id(), now_us);
    return;
  }
  // Each stream's request from a sender SSRC of its own that never sends a report:
  // GStreamer's RTP session (a native publisher's) drops a keyframe request from a
  // sender within two of that sender's round trips (known from its receiver reports)
  // of the last one it took, so of requests for every layer from kServerSsrc only the
  // first was kept, and the big layer (and a screen after the camera) waited for its
  // encoder's periodic keyframe, up to 2 s. For a sender with no reports it knows no
  // round trip and keeps every request: no report may ever come from these SSRCs.
  uint32_t sender = kServerSsrc;
  for (const auto& t : publisher.tracks()) {
    uint32_t ssrc = t.stats.ssrc() ? t.stats.ssrc() : t.cfg.ssrc;
    if (!t.cfg.video || ssrc == 0) continue;
    uint8_t pli[12];
    WritePli(pli, ++sender, ssrc);
    if (publisher.SendRtcp(pli)) keyframes_.Sent(publisher.id(), now_us);  // unsent: the next request may go
  }
}

size_t Forwarder::LayerTrack(const Transport& pub, const Route& r) {
  if (r.spec.track >= pub.tracks().size()) return r.spec.track;
  const InboundTrack& first = pub.tracks()[r.spec.track].cfg;
  uint8_t layer = r.layers.current();
  if (first.layers <= 1 || layer == LayerSwitch::kNone || layer >= first.layers) return r.spec.track;
  return r.spec.track + layer;
}

void Forwarder::ChooseLayer(Transport& pub, Route& r, Transport& sub, int64_t now_us, bool all_active) {
  if (r.spec.track >= pub.tracks().size()) return;
  size_t layers = pub.tracks()[r.spec.track].cfg.layers;
  if (layers <= 1 || r.spec.track + layers > pub.tracks().size()) return;
  std::array<LayerState, kMaxLayers> states{};
  layers = std::min(layers, kMaxLayers);
  for (size_t i = 0; i < layers; ++i) {
    const PublisherTracks::Track& t = pub.tracks()[r.spec.track + i];
    states[i] = {all_active || LayerAvailable(t, now_us), LayerRate(t)};
  }
  // The subscriber's estimate, less what its streams without layers (audio above all)
  // take, shared evenly among the simulcast sources it receives (0: no estimate).
  const DownstreamEstimate& down = sub.downstream();
  const uint64_t estimate = down.estimate_bps(now_us);
  uint64_t share = estimate;
  if (share != 0) share = std::max<uint64_t>(share > down.fixed_bps() ? share - down.fixed_bps() : 0, 1);
  const bool congested = static_cast<double>(estimate) < 0.95 * static_cast<double>(down.sent_bps());
  uint32_t count = 1;
  if (auto it = layered_routes_.find(sub.id()); it != layered_routes_.end() && it->second.count > 1) {
    count = it->second.count;
    share = std::max<uint64_t>(share / count, share != 0 ? 1 : 0);
  }
  const uint8_t before = r.layers.target();
  // Room for a larger layer is looked for with a probe where the server estimates the
  // link itself and the route has an RTX stream to carry it.
  const SendSideBwe* bwe = sub.send_side_bwe();
  const bool can_probe = bwe && bwe->feedbacks() > 0 && sub.transport_cc_id() != 0 && r.spec.rtx_ssrc != 0;
  if (r.layers.Choose(std::span<const LayerState>(states.data(), layers), share, now_us, congested, can_probe)) {
    // Also for the first choice: a route may start on a smaller layer, and only the
    // target's keyframe lets it climb. Not before the subscriber can take it: that
    // keyframe would be dropped on the way, and its request would hold back (throttle)
    // the one OnConnected makes.
    if (sub.state() == Transport::State::kConnected) RequestKeyframe(pub, now_us);
    if (before != LayerSwitch::kNone && r.layers.target() < before) sub.downstream().Settle(now_us + kSettleUs);
  }
  if (uint64_t wanted = r.layers.TakeProbe(); wanted != 0) {
    // The whole link must carry the share for each layered source, and the rest. The
    // answer is at most the rate the cluster left at, which falls short of the planned
    // one when the worker wakes late: half as much again leaves a margin. A cluster to
    // this subscriber already under way (another route's) takes the request back.
    if (!StartProbe(sub, r, (wanted * count + down.fixed_bps()) * 3 / 2, now_us)) r.layers.ProbeRefused();
  }
}

bool Forwarder::SetStreamType(uint64_t publisher, uint64_t subscriber, VideoStreamType type, int64_t now_us) {
  Router* router = RouterOf(subscriber);
  if (!router) return false;
  bool found = false;
  Transport* pub = transports_.Find(publisher);
  Transport* sub = transports_.Find(subscriber);
  for (const auto& route : router->From(publisher)) {
    if (route->subscriber != subscriber) continue;
    found = true;
    route->spec.stream_type = type;
    route->layers.SetType(type);
    if (pub && sub) ChooseLayer(*pub, *route, *sub, now_us);  // at once, not at the next tick
  }
  if (found && pub) SpareLayers(*pub, now_us);  // a paused layer now wanted: resumed at once
  return found;
}

uint32_t Forwarder::WantedLayers(uint64_t publisher, size_t first) const {
  const Router* router = RouterOf(publisher);
  uint32_t wanted = 0;
  if (!router) return wanted;
  for (const auto& r : router->From(publisher)) {
    if (r->spec.track != first) continue;
    for (uint8_t layer : {r->layers.current(), r->layers.target()})
      if (layer < 32) wanted |= 1u << layer;
    // A route with no picture yet starts on the first keyframe of any layer up to its
    // target (layer_switch.hpp): the smallest keeps flowing until it has one.
    if (r->layers.current() == LayerSwitch::kNone && r->layers.target() != LayerSwitch::kNone) wanted |= 1u;
    // Auto falls back to the smallest layer when its subscriber's link thins: kept
    // flowing, it is there at the next keyframe instead of a resume later.
    if (r->layers.type() == VideoStreamType::kAuto) wanted |= 1u;
  }
  return wanted;
}

void Forwarder::SpareLayers(Transport& pub, int64_t now_us) {
  // A mirror's layers are its publisher's worker's to pause (it hears what the mirror's
  // routes want, relay.cpp).
  if (pub.params().mirror) return;
  PublisherTracks& tracks = pub.tracks();
  for (size_t first = 0; first < tracks.size(); ++first) {
    const InboundTrack& cfg = tracks[first].cfg;
    if (cfg.layers <= 1 || cfg.layer != 0 || first + cfg.layers > tracks.size()) continue;
    const uint32_t wanted = WantedLayers(pub.id(), first) | transports_.RemoteWanted(pub.id(), first);
    std::span<PublisherTracks::Track> layers(&tracks[first], cfg.layers);
    (void)sfu::SpareLayers(layers, wanted, now_us);
  }
  // Written every time: tracks a renegotiation replaced start unpaused.
  uint64_t paused = 0;
  for (size_t i = 0; i < tracks.size() && i < 64; ++i)
    if (tracks[i].paused) paused |= uint64_t{1} << i;
  TransportCounters& c = *pub.shared_counters();
  c.paused_layers.store(paused, std::memory_order_relaxed);
  for (size_t i = 0; i < TransportCounters::kRatedTracks; ++i) {
    const uint64_t kbps =
        i < tracks.size() && PublisherTracks::Active(tracks[i], now_us) ? tracks[i].rate_bps() / 1000 : 0;
    c.track_kbps[i].store(static_cast<uint32_t>(std::min<uint64_t>(kbps, UINT32_MAX)), std::memory_order_relaxed);
  }
}

void Forwarder::ChooseLayers(Transport& sub, int64_t now_us) {
  auto& due = layered_routes_[sub.id()];
  if (now_us < due.next_us) return;
  due.next_us = now_us + kLayerChoiceUs;
  Router* router = RouterOf(sub.id());
  if (!router) return;
  uint32_t count = 0;
  uint64_t switches = 0, trials = 0, probes = 0;
  router->ForEachRouteTo(sub.id(), [&](Route& r) {
    Transport* pub = transports_.Find(r.publisher);
    if (!pub || r.spec.track >= pub->tracks().size() || pub->tracks()[r.spec.track].cfg.layers <= 1) return;
    ++count;
    ChooseLayer(*pub, r, sub, now_us);
    switches += r.layers.switches();
    trials += r.layers.trials();
    probes += r.layers.probes();
  });
  due.count = count;
  if (count != 0) {  // of the routes it has now
    sub.shared_counters()->layer_switches.store(switches, std::memory_order_relaxed);
    sub.shared_counters()->layer_trials.store(trials, std::memory_order_relaxed);
    sub.shared_counters()->layer_probes.store(probes, std::memory_order_relaxed);
  }
  // A subscriber without simulcast routes is looked at again only now and then (a scan
  // of the channel's routes is not free), in case a publisher starts sending layers.
  if (count == 0) due.next_us = now_us + kIdleLayerChoiceUs;
}

void Forwarder::OnTick(Transport& t, int64_t now_us) {
  DownstreamEstimate& downstream = t.downstream();
  DownstreamEstimate::Change change = downstream.Update(now_us);
  if (t.tracks().empty()) {
    ChooseLayers(t, now_us);
  } else if (auto& due = spare_due_[t.id()]; now_us >= due) {
    due = now_us + kSpareLayersUs;
    SpareLayers(t, now_us);
  }
  TransportCounters& c = *t.shared_counters();
  c.downstream_bps.store(downstream.estimate_bps(now_us), std::memory_order_relaxed);
  c.sent_bps.store(downstream.sent_bps(), std::memory_order_relaxed);
  c.video_paused.store(!downstream.video_allowed(), std::memory_order_relaxed);
  if (auto it = pacers_.find(t.id()); it != pacers_.end()) it->second->SetVideoRate(downstream.video_bps());
  if (change == DownstreamEstimate::Change::kPaused) c.video_pauses.fetch_add(1, std::memory_order_relaxed);
  c.video_trials.store(downstream.trials(), std::memory_order_relaxed);
  if (const SendSideBwe* bwe = t.send_side_bwe())
    c.probe_bps.store(static_cast<uint64_t>(std::max<int64_t>(bwe->last_probe_bps(), 0)), std::memory_order_relaxed);
  if (change == DownstreamEstimate::Change::kResumed) AskVideoPublishersOf(t, now_us);
}

void Forwarder::AskVideoPublishersOf(Transport& sub, int64_t now_us) {
  Router* router = RouterOf(sub.id());
  if (!router) return;
  // One request per publisher of video to `sub` (the throttle would defer a second one,
  // for an audio route or another track, and send it later for nothing).
  std::vector<uint64_t> asked;
  router->ForEachRouteTo(sub.id(), [&](const Route& r) {
    if (std::find(asked.begin(), asked.end(), r.publisher) != asked.end()) return;
    Transport* p = transports_.Find(r.publisher);
    if (!p || r.spec.track >= p->tracks().size() || !p->tracks()[r.spec.track].cfg.video) return;
    asked.push_back(r.publisher);
    RequestKeyframe(*p, now_us);
  });
}

void Forwarder::OnConnected(Transport& t, int64_t now_us) {
  Router* router = RouterOf(t.id());
  if (!router) return;
  if (router->Knows(t.id())) RequestKeyframe(t, now_us);
  Pacer* pacer = PacerOf(t.id());
  router->ForEachRouteTo(t.id(), [&](Route& r) {  // the keyframes that came before it could take them
    if (Transport* p = transports_.Find(r.publisher)) (void)StartFromKeptKeyframe(*p, r, t, pacer);
  });
  AskVideoPublishersOf(t, now_us);
}

}  // namespace parley::sfu
