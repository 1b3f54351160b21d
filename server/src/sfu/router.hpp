// The routes of one channel: which subscriber transports get which track of which
// publisher transport, each with its own sequence/timestamp rewriting. Forwarding walks
// a publisher's routes; feedback from a subscriber (NACK, PLI, RFC 4585) names the SSRC
// of its stream, and finds the route through an index by (subscriber, SSRC) in O(1)
// instead of scanning every route of the worker. Routes live in stable storage: a
// Route* stays valid until that route is removed. Changes happen on control operations
// only; the packet path looks up and iterates, allocating nothing. Worker-thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sfu/layer_switch.hpp"
#include "sfu/seq_rewriter.hpp"

namespace parley::sfu {

/// One subscriber's copy of a published track.
struct RouteSpec {
  size_t track = 0;  ///< index into the publisher's inbound tracks (a simulcast source's first layer)
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  uint32_t rtx_ssrc = 0;  ///< 0 = retransmit on the media SSRC
  uint8_t rtx_payload_type = 0;
  /// The subscriber's RED payload type (red.hpp): a RED packet goes to it as RED; 0 =
  /// only the primary block goes, as the codec's own packet.
  uint8_t red_payload_type = 0;
  /// Which layer of a simulcast source the subscriber wants (layer_switch.hpp).
  VideoStreamType stream_type = VideoStreamType::kBig;
};

struct Route {
  uint64_t publisher = 0;
  uint64_t subscriber = 0;
  RouteSpec spec;
  SeqRewriter numbers;               ///< the subscriber's sequence numbers and timestamps
  uint32_t packets = 0, octets = 0;  ///< for the SRs we send on this stream
  /// A simulcast source: the layer forwarded, and VP8's picture numbering across the
  /// layers (used when `rewrite_vp8`).
  LayerSwitch layers{};
  Vp8Ids vp8{};
  bool rewrite_vp8 = false;
};

class Router {
 public:
  /// Adds a route; null when `subscriber` already gets `spec.ssrc` from `publisher`
  /// (subscribing again to a track that is routed changes nothing).
  Route* Add(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec, SeqRewriter numbers);
  /// The publisher renegotiated onto a new transport: its routes move there with their
  /// numbering, `track_map[i]` being the new index of old track i (-1 or past the end:
  /// the track is gone and its routes are dropped).
  void Move(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map);
  /// Removes the routes from `publisher` to `subscriber` (one track, or all when track < 0).
  void Remove(uint64_t publisher, uint64_t subscriber, int track = -1);
  /// The transport is gone: every route from it and to it goes.
  void RemoveTransport(uint64_t id);

  /// The routes leaving `publisher`, in the order they were added; empty if none.
  [[nodiscard]] const std::vector<std::unique_ptr<Route>>& From(uint64_t publisher) const;
  /// Whether routes were ever added to or moved onto `publisher` since it last moved or
  /// was removed (even if they were removed since): such a publisher is asked for a
  /// keyframe when it connects.
  [[nodiscard]] bool Knows(uint64_t publisher) const { return by_publisher_.count(publisher) != 0; }
  /// The route carrying `ssrc` to `subscriber`, or null. O(1).
  [[nodiscard]] Route* Find(uint64_t subscriber, uint32_t ssrc) const;
  /// Calls `fn(route)` for every route to `subscriber`, in the order they were added
  /// (an index by subscriber: the worker's ticks ask for each subscriber, and a scan of a
  /// big channel's routes for each of its subscribers grew with the square of its size).
  /// `fn` must not add or remove routes.
  template <typename Fn>
  void ForEachRouteTo(uint64_t subscriber, Fn&& fn) const {
    auto it = to_.find(subscriber);
    if (it == to_.end()) return;
    for (Route* r : it->second) fn(*r);
  }
  /// How many routes there are (control and tests; counts them).
  [[nodiscard]] size_t size() const;
  [[nodiscard]] bool empty() const { return by_publisher_.empty(); }

 private:
  struct Key {
    uint64_t subscriber;
    uint32_t ssrc;
    bool operator==(const Key& o) const { return subscriber == o.subscriber && ssrc == o.ssrc; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.subscriber * 0x9E3779B97F4A7C15ull ^ k.ssrc);
    }
  };
  /// Drops `r` from the index (when it is the route indexed under its key); another
  /// route with the same key, if any, takes its place.
  void Unindex(const Route& r);
  /// Drops `r` (being removed) from to_.
  void Forget(const Route& r);

  std::unordered_map<uint64_t, std::vector<std::unique_ptr<Route>>> by_publisher_;
  std::unordered_map<Key, Route*, KeyHash> index_;
  std::unordered_map<uint64_t, std::vector<Route*>> to_;  ///< by subscriber, in the order added
};

}  // namespace parley::sfu
