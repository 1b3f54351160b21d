#include "sfu/router.hpp"

#include <algorithm>

namespace parley::sfu {

Route* Router::Add(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec, SeqRewriter numbers) {
  auto& list = by_publisher_[publisher];
  for (const auto& existing : list)
    if (existing->subscriber == subscriber && existing->spec.ssrc == spec.ssrc) return nullptr;  // already routed
  list.push_back(std::make_unique<Route>(Route{publisher, subscriber, spec, numbers}));
  Route* r = list.back().get();
  r->layers.SetType(spec.stream_type);
  index_.try_emplace(Key{subscriber, spec.ssrc}, r);  // a route already there keeps its place
  to_[subscriber].push_back(r);
  return r;
}

void Router::Move(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map) {
  auto it = by_publisher_.find(from_publisher);
  if (it == by_publisher_.end()) return;
  auto moved = std::move(it->second);
  by_publisher_.erase(it);
  auto& dst = by_publisher_[to_publisher];
  for (auto& r : moved) {
    if (r->spec.track >= track_map.size() || track_map[r->spec.track] < 0) {
      Unindex(*r);
      Forget(*r);
      continue;
    }
    r->spec.track = static_cast<size_t>(track_map[r->spec.track]);
    r->publisher = to_publisher;
    dst.push_back(std::move(r));  // the same object: the index stays right
  }
}

void Router::Remove(uint64_t publisher, uint64_t subscriber, int track) {
  auto it = by_publisher_.find(publisher);
  if (it == by_publisher_.end()) return;
  auto& v = it->second;
  auto gone = std::stable_partition(v.begin(), v.end(), [&](const std::unique_ptr<Route>& r) {
    return !(r->subscriber == subscriber && (track < 0 || r->spec.track == static_cast<size_t>(track)));
  });
  std::vector<std::unique_ptr<Route>> removed(std::make_move_iterator(gone), std::make_move_iterator(v.end()));
  v.erase(gone, v.end());
  for (const auto& r : removed) {
    Unindex(*r);
    Forget(*r);
  }
}

void Router::RemoveTransport(uint64_t id) {
  if (auto it = by_publisher_.find(id); it != by_publisher_.end()) {
    auto removed = std::move(it->second);
    by_publisher_.erase(it);
    for (const auto& r : removed) {
      Unindex(*r);
      Forget(*r);
    }
  }
  // The publishers routed to it, each once.
  std::vector<uint64_t> publishers;
  ForEachRouteTo(id, [&](const Route& r) {
    if (std::find(publishers.begin(), publishers.end(), r.publisher) == publishers.end())
      publishers.push_back(r.publisher);
  });
  for (uint64_t pub : publishers) Remove(pub, id);
}

const std::vector<std::unique_ptr<Route>>& Router::From(uint64_t publisher) const {
  static const std::vector<std::unique_ptr<Route>> kNone;
  auto it = by_publisher_.find(publisher);
  return it == by_publisher_.end() ? kNone : it->second;
}

Route* Router::Find(uint64_t subscriber, uint32_t ssrc) const {
  auto it = index_.find(Key{subscriber, ssrc});
  return it == index_.end() ? nullptr : it->second;
}

size_t Router::size() const {
  size_t n = 0;
  for (const auto& entry : by_publisher_) n += entry.second.size();
  return n;
}

void Router::Forget(const Route& r) {
  auto it = to_.find(r.subscriber);
  if (it == to_.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), &r), v.end());
  if (v.empty()) to_.erase(it);
}

void Router::Unindex(const Route& r) {
  Key key{r.subscriber, r.spec.ssrc};
  auto it = index_.find(key);
  if (it == index_.end() || it->second != &r) return;
  index_.erase(it);
  // Another publisher may route the same SSRC to this subscriber: it takes the place.
  for (const auto& entry : by_publisher_)
    for (const auto& other : entry.second)
      if (other.get() != &r && other->subscriber == r.subscriber && other->spec.ssrc == r.spec.ssrc) {
        index_.emplace(key, other.get());
        return;
      }
}

}  // namespace parley::sfu
