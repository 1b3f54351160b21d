// A channel spread over workers: the home worker's relays to mirrors on other workers,
// and the mirrors' side (worker.hpp, relay_ring.hpp).
//
// The home worker receives a publisher's packets as always and, after forwarding them
// to its own subscribers, copies each one (already renumbered, RTX unwrapped, checked)
// into the ring to every worker holding a mirror of that publisher, with the
// publisher's sender reports and, every kRelayLayersUs, which of its layers are paused.
// A mirror keeps the packets as a publisher transport would (its retransmission buffer
// answers its subscribers' NACKs, its receive statistics give the layers' rates), and
// the forwarder routes from it like from any publisher. Back home go the mirror's
// keyframe requests and the layers its routes want, so the publisher's keyframes and
// its layer economy serve every worker's subscribers.
#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

#include "sfu/worker.hpp"

namespace parley::sfu {

void MediaWorker::AddInboundRing(std::shared_ptr<RelayRing> ring) {
  if (ring && std::find(rings_in_.begin(), rings_in_.end(), ring) == rings_in_.end())
    rings_in_.push_back(std::move(ring));
}

void MediaWorker::NoteOutboundRing(const std::shared_ptr<RelayRing>& ring) {
  if (ring && std::find(rings_out_.begin(), rings_out_.end(), ring) == rings_out_.end()) rings_out_.push_back(ring);
}

void MediaWorker::AddRelay(uint64_t publisher, std::shared_ptr<RelayRing> ring, uint64_t mirror) {
  if (!ring || !FindTransport(publisher)) return;  // the publisher went before its relay came
  NoteOutboundRing(ring);
  relays_[publisher].out.push_back({std::move(ring), mirror});
}

void MediaWorker::AddMirror(uint64_t id, const std::vector<InboundTrack>& tracks, uint64_t channel,
                            std::shared_ptr<RelayRing> to_home, uint64_t publisher) {
  if (!to_home) return;
  TransportParams params;
  params.mirror = true;
  Transport* t = AddTransport(id, std::move(params), channel);
  t->SetInboundTracks(tracks);
  NoteOutboundRing(to_home);
  mirrors_[id] = Mirror{std::move(to_home), publisher, 0, {}};
}

std::vector<uint64_t> MediaWorker::MirrorsOf(uint64_t publisher) const {
  std::vector<uint64_t> out;
  for (const auto& [id, m] : mirrors_)
    if (m.publisher == publisher) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint64_t> MediaWorker::RelaysOf(uint64_t publisher) const {
  std::vector<uint64_t> out;
  if (auto it = relays_.find(publisher); it != relays_.end())
    for (const RelayOut& o : it->second.out) out.push_back(o.mirror);
  return out;
}

void MediaWorker::ForgetRelays(uint64_t id) {
  relays_.erase(id);
  remote_wanted_.erase(id);
  mirrors_.erase(id);
  // A mirror's relay and wants go, and with the last of them the publisher's entries
  // (each relayed packet looks its publisher up).
  for (auto it = remote_wanted_.begin(); it != remote_wanted_.end();) {
    std::erase_if(it->second, [id](const RemoteWant& w) { return w.mirror == id; });
    it = it->second.empty() ? remote_wanted_.erase(it) : std::next(it);
  }
  for (auto it = relays_.begin(); it != relays_.end();) {
    std::erase_if(it->second.out, [id](const RelayOut& o) { return o.mirror == id; });
    it = it->second.out.empty() ? relays_.erase(it) : std::next(it);
  }
}

bool MediaWorker::Push(RelayRing& ring, RelayEntry::Kind kind, uint64_t target, uint32_t track, uint32_t value,
                       uint64_t mirror, std::span<const uint8_t> data) {
  RelayEntry* e = data.size() <= sizeof(RelayEntry::data) ? ring.Reserve() : nullptr;
  if (!e) {
    drops_.Count(DropReason::kRelayFull);
    return false;
  }
  e->kind = kind;
  e->target = target;
  e->track = track;
  e->value = value;
  e->mirror = mirror;
  e->length = static_cast<uint16_t>(data.size());
  if (!data.empty()) std::memcpy(e->data, data.data(), data.size());
  ring.Commit();
  return true;
}

void MediaWorker::RelayRtp(const Transport& publisher, size_t track, const RtpView& v) {
  auto it = relays_.find(publisher.id());
  if (it == relays_.end()) return;
  for (const RelayOut& o : it->second.out)
    Push(*o.ring, RelayEntry::Kind::kRtp, o.mirror, static_cast<uint32_t>(track), 0, 0, v.data);
}

void MediaWorker::RelayRtcp(const Transport& publisher, std::span<const uint8_t> rtcp) {
  auto it = relays_.find(publisher.id());
  if (it == relays_.end()) return;
  for (const RelayOut& o : it->second.out) Push(*o.ring, RelayEntry::Kind::kRtcp, o.mirror, 0, 0, 0, rtcp);
}

void MediaWorker::RelayLayers(Transport& publisher, int64_t now_us) {
  auto it = relays_.find(publisher.id());
  if (it == relays_.end() || now_us < it->second.next_layers_us) return;
  it->second.next_layers_us = now_us + kRelayLayersUs;
  const PublisherTracks& tracks = publisher.tracks();
  bool layered = false;
  for (const auto& t : tracks) layered = layered || t.cfg.layers > 1;
  if (!layered) return;
  constexpr size_t kMax = sizeof(RelayEntry::data) / sizeof(RelayLayerState);
  std::array<RelayLayerState, kMax> states{};
  const size_t n = std::min(tracks.size(), kMax);
  for (size_t i = 0; i < n; ++i)
    states[i] = {static_cast<uint8_t>(tracks[i].paused), tracks[i].paused_rate_bps,
                 tracks[i].resumed_us < 0 ? -1 : now_us - tracks[i].resumed_us};
  const auto* bytes = reinterpret_cast<const uint8_t*>(states.data());
  for (const RelayOut& o : it->second.out)
    Push(*o.ring, RelayEntry::Kind::kLayers, o.mirror, 0, static_cast<uint32_t>(n), 0,
         {bytes, n * sizeof(RelayLayerState)});
}

void MediaWorker::TickMirror(Transport& mirror, int64_t now_us) {
  auto it = mirrors_.find(mirror.id());
  if (it == mirrors_.end()) return;
  Mirror& m = it->second;
  // What a full ring lost is asked again from home, as a publish transport asks its
  // client (NackGenerator's tries and timing); home answers from its buffer.
  for (size_t i = 0; i < mirror.tracks().size(); ++i) {
    PublisherTracks::Track& t = mirror.tracks()[i];
    if (!t.nack.size()) continue;
    std::array<uint16_t, NackGenerator::kMaxMissing> due{};
    const size_t n = t.nack.TakeDue(now_us, due);
    if (n != 0)
      Push(*m.home, RelayEntry::Kind::kNack, m.publisher, static_cast<uint32_t>(i), t.stats.ssrc(), mirror.id(),
           {reinterpret_cast<const uint8_t*>(due.data()), n * sizeof(uint16_t)});
  }
  if (now_us < m.next_wanted_us) return;
  m.next_wanted_us = now_us + kRelayLayersUs;
  const PublisherTracks& tracks = mirror.tracks();
  for (size_t first = 0; first < tracks.size(); ++first) {
    const InboundTrack& cfg = tracks[first].cfg;
    if (cfg.layers <= 1 || cfg.layer != 0) continue;
    const uint32_t mask = forwarder_.WantedLayers(mirror.id(), first);
    auto told = std::find_if(m.told.begin(), m.told.end(), [&](const auto& p) { return p.first == first; });
    if (told != m.told.end() && told->second == mask) continue;
    if (!Push(*m.home, RelayEntry::Kind::kWanted, m.publisher, static_cast<uint32_t>(first), mask, mirror.id(), {}))
      continue;  // told at the next look
    if (told == m.told.end())
      m.told.emplace_back(static_cast<uint32_t>(first), mask);
    else
      told->second = mask;
  }
}

bool MediaWorker::RelayKeyframe(uint64_t id) {
  auto it = mirrors_.find(id);
  if (it == mirrors_.end()) return false;
  Push(*it->second.home, RelayEntry::Kind::kKeyframe, it->second.publisher, 0, 0, id, {});
  return true;
}

uint32_t MediaWorker::RemoteWanted(uint64_t publisher, size_t first) {
  auto it = remote_wanted_.find(publisher);
  if (it == remote_wanted_.end()) return 0;
  uint32_t mask = 0;
  for (const RemoteWant& w : it->second)
    if (w.first == first) mask |= w.mask;
  return mask;
}

void MediaWorker::HandleRelayed(RelayEntry& e, Transport* t, int64_t now_us) {
  relayed_in_.fetch_add(1, std::memory_order_relaxed);
  // Gone since the entry was written (its removal reached the other side later), or
  // failed (a throw): nothing more of it is handled.
  if (!t || t->state() == Transport::State::kFailed) {
    drops_.Count(DropReason::kClosedTransport);
    return;
  }
  const std::span<uint8_t> data(e.data, e.length);
  switch (e.kind) {
    case RelayEntry::Kind::kRtp: {
      if (!t->params().mirror || e.track >= t->tracks().size()) return;
      auto v = ParseRtp(data);
      if (!v) return;
      // As a publisher transport keeps its packets: a duplicate is not forwarded twice.
      if (PublisherTracks::Received(t->tracks()[e.track], *v, now_us)) forwarder_.OnRtp(*t, e.track, *v);
      return;
    }
    case RelayEntry::Kind::kRtcp:
      if (t->params().mirror) forwarder_.OnRtcp(*t, data, now_us);
      return;
    case RelayEntry::Kind::kLayers: {
      if (!t->params().mirror) return;
      PublisherTracks& tracks = t->tracks();
      const size_t n = std::min<size_t>({e.value, tracks.size(), e.length / sizeof(RelayLayerState)});
      for (size_t i = 0; i < n; ++i) {
        RelayLayerState s;
        std::memcpy(&s, e.data + i * sizeof s, sizeof s);
        tracks[i].paused = s.paused != 0;
        tracks[i].paused_rate_bps = s.paused_rate_bps;
        tracks[i].resumed_us = s.resumed_ago_us < 0 ? -1 : now_us - s.resumed_ago_us;
      }
      return;
    }
    case RelayEntry::Kind::kKeyframe:
      if (!t->params().mirror) forwarder_.RequestKeyframe(*t, now_us);
      return;
    case RelayEntry::Kind::kWanted: {
      // Only from a mirror still relayed to: one removed meanwhile would otherwise keep
      // its layers wanted for as long as the publisher publishes.
      if (t->params().mirror || !RelayTo(e.target, e.mirror)) return;
      auto& wants = remote_wanted_[e.target];
      auto w = std::find_if(wants.begin(), wants.end(),
                            [&](const RemoteWant& x) { return x.mirror == e.mirror && x.first == e.track; });
      if (w == wants.end())
        wants.push_back({e.mirror, e.track, e.value});
      else
        w->mask = e.value;
      return;
    }
    case RelayEntry::Kind::kNack: {
      RelayRing* ring = t->params().mirror ? nullptr : RelayTo(e.target, e.mirror);
      if (!ring || e.track >= t->tracks().size() || !t->tracks()[e.track].ring) return;
      RetransmissionBuffer& buffer = *t->tracks()[e.track].ring;
      for (size_t i = 0; i + 1 < e.length; i += 2) {
        uint16_t seq = 0;
        std::memcpy(&seq, e.data + i, sizeof seq);
        // Gone from the buffer (or never here: the home worker asks its publisher for
        // it, and relays it when it comes): the mirror asks again or gives up.
        if (std::span<uint8_t> stored = buffer.Get(seq, e.value); !stored.empty())
          Push(*ring, RelayEntry::Kind::kRtp, e.mirror, e.track, 0, 0, stored);
      }
      return;
    }
  }
}

RelayRing* MediaWorker::RelayTo(uint64_t publisher, uint64_t mirror) {
  auto it = relays_.find(publisher);
  if (it == relays_.end()) return nullptr;
  for (const RelayOut& o : it->second.out)
    if (o.mirror == mirror) return o.ring.get();
  return nullptr;
}

void MediaWorker::DrainRelays(int64_t now_us) {
  forwarder_.SetNow(now_us);
  for (const auto& ring : rings_in_) {
    // A mirror made just before its first packets were relayed may still be in the
    // posted queue (the eventfd was read before it was posted): once per drain, an
    // entry naming no transport stops the batch, and the posted work runs (outside the
    // hold) before it is looked at again.
    bool ran_posted = false;
    // A bounded share per wake, so one busy ring cannot starve the socket; what is left
    // goes at the next turn of the loop, which wakes itself for it.
    for (size_t budget = ring->capacity(); budget > 0;) {
      // Packets are held like a receive batch (their copies leave side by side), and
      // their views point into the ring: its entries are freed after the release.
      size_t n = 0;
      bool unknown = false;
      forwarder_.HoldRtp();
      while (n < Forwarder::kMaxHeld && n < budget) {
        RelayEntry* e = ring->Peek(n);
        if (!e) break;
        Transport* t = FindTransport(e->target);
        if (!t && !ran_posted) {
          unknown = true;
          break;
        }
        ++n;
        // A throw fails the mirror it was for; a mirror's request that throws at home
        // fails no publisher (as a posted closure fails none).
        Guarded(ToMirror(e->kind) ? e->target : 0, [&] { HandleRelayed(*e, t, now_us); });
      }
      Guarded(0, [&] { forwarder_.ReleaseHeld(); });
      ring->Pop(n);
      Flush();
      budget -= std::min(budget, n);
      if (unknown) {
        ran_posted = true;
        RunPosted();  // it read the eventfd: the next turn drains every ring again
        WakeSelf();
        continue;
      }
      if (n < Forwarder::kMaxHeld) break;
    }
    if (ring->Peek(0)) WakeSelf();
  }
}

void MediaWorker::WakeRelays() {
  for (const auto& ring : rings_out_) ring->WakeIfPending();
}

}  // namespace parley::sfu
