// What a media worker does with media between its transports: routes each published
// track to its subscribers with continuous numbering, answers subscribers' NACKs from
// the publishers' retransmission buffers, relays keyframe requests (throttled), and
// gives each subscriber the publisher's sender reports rewritten for its own stream.
//
// The forwarder owns one route table (Router) per channel and the keyframe throttle.
// It owns no socket and no transport: it finds transports through the worker, writes
// rewritten packets into the worker's send slots (PacketSink) and counts what it does
// not send. Worker-thread only; the packet path takes no lock and allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sfu/drop_counters.hpp"
#include "sfu/keyframe_requester.hpp"
#include "sfu/own_extensions.hpp"
#include "sfu/pacer.hpp"
#include "sfu/probe_cluster.hpp"
#include "sfu/router.hpp"
#include "sfu/webrtc_transport.hpp"

namespace parley::sfu {

/// Writes `v` into `slot` (kSlotBytes) as route `r` sends it: the subscriber's SSRC,
/// payload type, sequence number and timestamp, or for a `retransmission` on a route
/// with RTX, an RTX packet (RFC 4588: original sequence number first). Advances the
/// route's numbering and its SR counts. Returns the length, 0 when it would not fit in a
/// datagram. `red_pt` is the publisher's RED payload type for the track (0: none): a
/// RED packet goes as RED where the route takes it, else as its primary block alone, and
/// always so when retransmitted (the subscriber's RTX stream carries the codec). The
/// forward path's per-copy work before SRTP (forwarder and benchmark).
/// With any of `ext`, the publisher's header extensions (numbered as negotiated with the
/// publisher, meaningless to the subscriber) give way to the server's own.
size_t WriteRewritten(uint8_t* slot, Route& r, const RtpView& v, bool retransmission, uint8_t red_pt = 0,
                      const OwnExtensions& ext = {});

class Forwarder {
 public:
  /// How the forwarder reaches the worker's transports.
  class Transports {
   public:
    virtual ~Transports() = default;
    [[nodiscard]] virtual Transport* Find(uint64_t id) = 0;
    /// A mirror of another worker's publisher (relay.cpp) passes a keyframe request on
    /// to that worker: true when `id` is a mirror and the request went.
    virtual bool RelayKeyframe(uint64_t /*id*/) { return false; }
    /// The layers of `publisher`'s source `first` (bit i: layer i) that routes on other
    /// workers want (relay.cpp).
    [[nodiscard]] virtual uint32_t RemoteWanted(uint64_t /*publisher*/, size_t /*first*/) { return 0; }
  };

  /// `transports`, `sink` and `drops` outlive the forwarder. `loss_permille` drops that
  /// share of forwarded RTP on purpose (a test aid; counted as simulated loss).
  /// `pace_video`: each subscriber's video goes through its pacer (pacer.hpp).
  Forwarder(Transports& transports, WebRtcTransport::PacketSink& sink, DropCounters& drops, int loss_permille = 0,
            bool pace_video = true);

  /// A transport of `channel` arrived; its routes live in that channel's table.
  void Attach(uint64_t transport, uint64_t channel);
  /// The transport is going: its routes both ways and its throttle state go with it
  /// (and the channel's table with the channel's last transport).
  void Detach(uint64_t transport);

  /// See MediaWorker::AddRoute, MoveRoutes, RemoveRoutes, RoutesFrom.
  void AddRoute(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec, int64_t now_us);
  void MoveRoutes(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map, int64_t now_us);
  void RemoveRoutes(uint64_t publisher, uint64_t subscriber, int track);
  /// Which layer of `publisher`'s simulcast video `subscriber` wants (every route
  /// between them; a source without layers keeps it for when it has some). Chosen at
  /// once. False when no route joins them.
  bool SetStreamType(uint64_t publisher, uint64_t subscriber, VideoStreamType type, int64_t now_us);
  /// The subscriber answered whether it takes RED on the stream `ssrc` (0: it does not).
  void SetRouteRed(uint64_t subscriber, uint32_t ssrc, uint8_t red_payload_type);
  [[nodiscard]] std::vector<std::pair<uint64_t, RouteSpec>> RoutesFrom(uint64_t publisher) const;

  /// A new packet of the publisher's track: one rewritten copy to each subscriber, at
  /// once, or at ReleaseHeld while the worker holds packets (fanout.cpp).
  void OnRtp(Transport& publisher, size_t track, const RtpView& v);
  /// Until ReleaseHeld, packets wait instead of going out one by one. Their views must
  /// stay valid until then: the worker holds a receive batch, whose buffers live until
  /// its next recvmmsg.
  void HoldRtp() { holding_ = true; }
  /// Forwards what waited route by route: a subscriber's copies of the batch's packets of
  /// one source are queued side by side, so a video frame's packets to it leave as one
  /// segmented send (send_batch.hpp). Per route the packets keep their order; what
  /// changes is only which subscriber gets its copies first. Holding ends here, even
  /// when forwarding throws.
  void ReleaseHeld();
  /// At most this many packets wait; one more forwards those first.
  static constexpr size_t kMaxHeld = 64;
  /// The publisher whose held packets were being forwarded when forwarding threw, once
  /// (0: none): the worker's catch closes that transport, not the one whose datagram
  /// it was handling (or none).
  uint64_t TakeThrowingPublisher() {
    const uint64_t id = fanning_out_;
    fanning_out_ = 0;
    return id;
  }
  /// Test hook: called with the publisher at the start of each fan-out (may throw).
  void SetFanoutHookForTesting(std::function<void(uint64_t publisher)> hook) { fanout_hook_ = std::move(hook); }
  /// RTCP from a client: a subscriber's feedback (keyframe requests, NACKs, reports) or
  /// a publisher's sender reports.
  void OnRtcp(Transport& t, std::span<const uint8_t> rtcp, int64_t now_us);
  /// `t` has just connected: a decoder can only start on a keyframe, so ask for one when
  /// either end of a route becomes ready.
  void OnConnected(Transport& t, int64_t now_us);
  /// Asks each publisher of video routed to `sub` for a keyframe, once per publisher.
  void AskVideoPublishersOf(Transport& sub, int64_t now_us);
  /// Worker tick, for a connected transport: its downstream estimate decides whether
  /// video to it pauses or resumes (downstream_estimate.hpp); the counters show it.
  /// When video resumes, each publisher of video to it is asked for a keyframe: its
  /// decoder can only start again on one.
  void OnTick(Transport& t, int64_t now_us);
  /// The worker's clock for the packets it hands over next (the pacers' time).
  void SetNow(int64_t now_us) { now_us_ = now_us; }
  /// Sends the paced video and the probe packets that may leave now (each wake of the
  /// worker).
  void ReleasePaced(int64_t now_us);
  /// When paced video or a probe packet is next due (-1: none), for the worker's sleep.
  [[nodiscard]] int64_t NextPacedUs(int64_t now_us) const;
  /// Video datagrams that waited in a pacer (any thread: /metrics).
  [[nodiscard]] uint64_t paced() const { return paced_.load(std::memory_order_relaxed); }
  /// The layers of `publisher`'s simulcast source `first` its routes here want (bit i:
  /// layer i; layer_economy.hpp): a mirror tells its publisher's worker.
  [[nodiscard]] uint32_t WantedLayers(uint64_t publisher, size_t first) const;
  /// The subscriber `sub` answered an offer (its remote credentials are set): unless it
  /// is connected already, the keyframes its routes need are asked for now (AddRoute).
  void OnAnswered(Transport& sub, int64_t now_us);
  /// Asks the publisher for a keyframe on each video track (throttled: a request inside
  /// the window is deferred, and comes back from TakeDueKeyframes).
  void RequestKeyframe(Transport& publisher, int64_t now_us);
  /// How old a keyframe a new subscriber is started from may be: its frames reach the
  /// subscriber at once, a player that times frames by their RTP clock shows them that
  /// much late at first (a browser does), and the same delay then stays until its clock
  /// catches up. A request at subscribe time makes the keyframe tens of ms old.
  static constexpr int64_t kKeptKeyframeUs = 150'000;
  /// Calls `fn(publisher id)` for each deferred keyframe request now due.
  template <typename Fn>
  void TakeDueKeyframes(int64_t now_us, Fn&& fn) {
    keyframes_.TakeDue(now_us, std::forward<Fn>(fn));
  }

 private:
  void OnPublisherRtcp(Transport& publisher, std::span<const uint8_t> rtcp, int64_t now_us);
  void OnSubscriberRtcp(Transport& subscriber, std::span<const uint8_t> rtcp, int64_t now_us);
  /// The route table of the transport's channel; null for an unknown transport.
  [[nodiscard]] Router* RouterOf(uint64_t transport) const;
  /// The route carrying `ssrc` to `subscriber` and its (existing) publisher, or null.
  Route* FindRoute(uint64_t subscriber, uint32_t ssrc, Transport** publisher);
  /// Resends `seq` of route `r` from the publisher's ring (as RTX when negotiated).
  void Retransmit(Transport& subscriber, Route& r, Transport& publisher, uint16_t seq);
  /// Copies `v` rewritten for route `r` into a send slot (as RTX for a retransmission
  /// when negotiated), protects it and queues it, or for `video` the subscriber's pacer
  /// may hold it (pacer.hpp). Returns false when it was not sent.
  bool SendRewritten(Transport& subscriber, Route& r, const RtpView& v, bool retransmission, const InboundTrack& from,
                     Pacer* pacer);
  /// The subscriber's pacer, or null when video to it is not paced.
  [[nodiscard]] Pacer* PacerOf(uint64_t subscriber) const {
    auto it = pacers_.find(subscriber);
    return it == pacers_.end() ? nullptr : it->second.get();
  }
  /// One packet of a fan-out: the track it came on (a layer of the source) and its view.
  struct Packet {
    size_t track;
    const RtpView* view;
  };
  /// Packets of one source of `pub` (in arrival order): a copy of each to every
  /// subscriber routed to it, subscriber by subscriber.
  void Fanout(Transport& pub, size_t source, std::span<const Packet> packets);
  /// One packet of `track` (of route `r`'s source) to its connected subscriber: the
  /// layer switch, the subscriber's video allowance, the renumbering, the send.
  /// `keyframe`: the packet starts a keyframe (layered sources only).
  void ForwardTo(Transport& pub, Route& r, Transport& sub, Pacer* pacer, size_t track, const RtpView& v, bool keyframe);
  /// A video route that has forwarded nothing yet, to a subscriber just connected:
  /// starts it from the newest keyframe its target layer (or a smaller one) sent within
  /// kKeptKeyframeUs, if every packet since is still in the ring, forwarding them all
  /// now. The keyframe the route's request at subscribe time brought is then not lost
  /// for arriving before the subscriber could take it. Returns the layer's track when it
  /// did (every packet of it kept so far was sent), none when it did not.
  std::optional<size_t> StartFromKeptKeyframe(Transport& pub, Route& r, Transport& sub, Pacer* pacer);
  /// Forwards the held packets, grouped by publisher and source, and forgets them.
  void ForwardHeld();
  bool Lose();
  /// Simulcast: the inbound track route `r` forwards now (its source's layer, or the
  /// source's first track when it has no layers or none is chosen yet).
  static size_t LayerTrack(const Transport& pub, const Route& r);
  /// Chooses route `r`'s layer (layer_switch.hpp) from the publisher's layers and the
  /// subscriber's estimate; asks for a keyframe when the switch needs one. `all_active`:
  /// every layer counts as sent (the first choice, before each has been seen).
  void ChooseLayer(Transport& pub, Route& r, Transport& sub, int64_t now_us, bool all_active = false);
  /// Every kLayerChoiceUs: chooses the layer of each simulcast route to `sub`.
  void ChooseLayers(Transport& sub, int64_t now_us);
  /// Probes `sub`'s link at `rate_bps` (probe_cluster.hpp) on route `r`'s RTX stream,
  /// unless a cluster to it is under way (false: not started). probing.cpp.
  bool StartProbe(Transport& sub, Route& r, uint64_t rate_bps, int64_t now_us);
  /// Sends the probe packets due now.
  void SendProbes(int64_t now_us);
  /// Publisher economy (layer_economy.hpp): pauses the layers of `pub`'s simulcast
  /// sources that no route wants and resumes those wanted again; the transport's
  /// counters tell the control plane (TransportCounters::paused_layers).
  void SpareLayers(Transport& pub, int64_t now_us);

  Transports& transports_;
  WebRtcTransport::PacketSink& sink_;
  DropCounters& drops_;
  int loss_permille_;
  bool pace_video_;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  struct Channel {
    uint64_t id = 0;
    Router router;
    size_t transports = 0;  ///< the channel's table goes with its last transport
  };
  std::unordered_map<uint64_t, std::unique_ptr<Channel>> channels_;  ///< by channel
  std::unordered_map<uint64_t, Channel*> channel_of_;                ///< by transport id
  KeyframeRequester keyframes_;                                      ///< PLI throttle, by publisher
  PacerOptions pacer_options_;
  std::unordered_map<uint64_t, std::unique_ptr<Pacer>> pacers_;  ///< by subscriber transport
  bool pacing_ = false;                                          ///< some pacer holds video
  std::unordered_map<uint64_t, ProbeCluster> clusters_;          ///< by subscriber transport
  bool probing_ = false;                                         ///< some cluster is under way
  int64_t now_us_ = 0;
  std::atomic<uint64_t> paced_{0};
  struct Held {
    uint64_t publisher;
    size_t track;
    RtpView view;
    bool done = false;
  };
  std::vector<Held> held_;  ///< while holding_, at most kMaxHeld (reserved once)
  bool holding_ = false;
  uint64_t fanning_out_ = 0;  ///< the publisher ForwardHeld forwards now; left set by a throw
  std::function<void(uint64_t)> fanout_hook_;
  static constexpr size_t kMaxLayers = 8;
  static constexpr int64_t kLayerChoiceUs = 100'000, kIdleLayerChoiceUs = 1'000'000;
  /// After a switch down, how long the pause rule leaves the estimate to recover.
  static constexpr int64_t kSettleUs = 6'000'000;
  struct LayerChoice {
    int64_t next_us = 0;  ///< when the subscriber's simulcast routes are chosen for next
    uint32_t count = 0;   ///< how many it has (its estimate is shared among them)
  };
  std::unordered_map<uint64_t, LayerChoice> layered_routes_;  ///< by subscriber transport
  static constexpr int64_t kSpareLayersUs = 250'000;
  std::unordered_map<uint64_t, int64_t> spare_due_;  ///< by publisher transport: the next SpareLayers
};

}  // namespace parley::sfu
