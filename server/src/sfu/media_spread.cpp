// A channel spread over workers, as the control plane arranges it (media_plane.hpp): where
// a new subscribe transport goes, and the mirrors and relays its routes need
// (relay.cpp on the workers).
#include <algorithm>
#include <vector>

#include "sfu/media_plane.hpp"

namespace parley::sfu {

std::shared_ptr<RelayRing> MediaPlane::Ring(size_t from, size_t to) {
  if (from >= workers_.size() || to >= workers_.size() || from == to) return nullptr;
  auto it = rings_.find({from, to});
  if (it != rings_.end()) return it->second;
  std::shared_ptr<RelayRing> ring = RelayRing::Create(workers_[to]->wake_fd());
  if (!ring) return nullptr;
  MediaWorker* w = workers_[to];
  w->Post([w, ring] { w->AddInboundRing(ring); });
  rings_.emplace(std::make_pair(from, to), ring);
  return ring;
}

size_t ChannelMedia::PlaceSubscriber() {
  const size_t spread_at = plane_.spread_at(), n = plane_.worker_count();
  if (spread_at == 0 || n <= 1 || home_ >= n) return home_;
  std::vector<size_t> count(n, 0);
  for (const auto& [id, media] : sessions_)
    if (media.subscribe && media.subscribe->worker < n) ++count[media.subscribe->worker];
  if (count[home_] < spread_at) return home_;
  size_t best = home_;
  for (size_t w = 0; w < n; ++w)
    if (count[w] < count[best]) best = w;
  // Both ways must be open: packets out, the mirror's requests back.
  if (best != home_ && (!plane_.Ring(home_, best) || !plane_.Ring(best, home_))) return home_;
  return best;
}

uint64_t ChannelMedia::FindPublisherOn(const PublishSide& pub, size_t w) const {
  if (w == home_) return pub.transport_id;
  auto it = pub.mirrors.find(w);
  return it == pub.mirrors.end() ? 0 : it->second;
}

uint64_t ChannelMedia::PublisherOn(PublishSide& pub, size_t w) {
  if (uint64_t id = FindPublisherOn(pub, w)) return id;
  std::shared_ptr<RelayRing> out = plane_.Ring(home_, w), back = plane_.Ring(w, home_);
  if (!out || !back) return 0;  // a route from 0 joins nothing
  const uint64_t id = plane_.NewTransportId();
  MediaWorker* other = WorkerAt(w);
  // The mirror first (its worker's queue), then the relay at home: a packet relayed
  // before the mirror exists would find no one and be dropped.
  other->Post([other, id, tracks = pub.inbound, ch = channel_, back, publisher = pub.transport_id] {
    other->AddMirror(id, tracks, ch, back, publisher);
  });
  worker_->Post([home = worker_, publisher = pub.transport_id, out, id] { home->AddRelay(publisher, out, id); });
  pub.mirrors[w] = id;
  return id;
}

void ChannelMedia::ClosePublish(PublishSide& pub) {
  for (const auto& [w, mirror] : pub.mirrors) RemoveTransport(w, mirror);
  pub.mirrors.clear();  // the relays at home go with the publisher's transport
  RemoveTransport(pub.transport_id);
}

void ChannelMedia::PruneMirrors(size_t w) {
  if (w == home_ || !worker_) return;
  for (const auto& [id, media] : sessions_)
    if (media.subscribe && media.subscribe->worker == w) return;  // still needed there
  for (auto& [id, media] : sessions_) {
    if (!media.publish) continue;
    auto it = media.publish->mirrors.find(w);
    if (it == media.publish->mirrors.end()) continue;
    RemoveTransport(w, it->second);
    worker_->Post([home = worker_, mirror = it->second] { home->RemoveRelay(mirror); });
    media.publish->mirrors.erase(it);
  }
}

}  // namespace parley::sfu
