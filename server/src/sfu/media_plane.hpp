// MediaPlane and ChannelMedia: the one API the signalling plane calls for media.
//
// A session (one signalling user in a channel) has at most one publish transport (the
// client offers what it sends, we answer) and one subscribe transport (we offer what
// it receives, it answers). ChannelMedia keeps, per session of one channel, what was
// negotiated on each: the publish answer's tracks and their indexes on the transport,
// the subscribe offer's sections (they are reused, never removed, RFC 8829 §5.2.2) and
// the offer's version. It chooses our ICE credentials and the SSRCs of the streams we
// send, maps the signalling tracks onto SDP sections, and turns each change into work
// posted to the channel's media worker (transports, routes).
//
// Threading contract:
//  1. Control thread only: every call comes from the signalling thread, none from a
//     worker. Nothing here locks.
//  2. Nothing blocks or waits for a worker: SDP work and allocation run on the caller.
//  3. Worker effects are posted to the channel's worker in call order (its queue is one
//     FIFO), so a Publish and then a Subscribe apply in that order.
//  4. The worker never calls back: the status calls read the counters the worker
//     writes (atomics).
//  5. Lifetimes: the workers outlive the MediaPlane, which outlives every ChannelMedia.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/proto/vocabulary.hpp"
#include "sfu/negotiate.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {

/// The signalling session a transport belongs to (the hub's session id).
using SessionId = uint64_t;
/// Where SSRCs come from: each call returns a non-zero value. Defaults to the OpenSSL
/// random generator; tests inject a sequence.
using SsrcSource = std::function<uint32_t()>;

/// What the failure and abort monitors need of one transport.
struct TransportStatus {
  uint64_t transport_id = 0;  ///< changes whenever the transport is replaced
  Transport::State state = Transport::State::kNew;
  Failure failure = Failure::kNone;
  uint64_t rtp_packets = 0;  ///< RTP received (publish side)
};

/// One simulcast video of a publisher and which of its layers the SFU wants sent.
struct LayerPlan {
  TrackKind track = TrackKind::kCamera;
  struct Layer {
    std::string rid;  ///< "" for a layer told apart by SSRC
    bool active = true;
  };
  std::vector<Layer> layers;  ///< smallest first
};

/// The admin API's view of a publish transport.
struct PublishView {
  Transport::State state = Transport::State::kNew;
  uint64_t rtp_packets = 0, rtp_bytes = 0, nacks_sent = 0, twcc_feedbacks = 0, sender_reports = 0;
  uint64_t red_packets = 0;          ///< audio packets that came in RED
  std::vector<uint32_t> track_kbps;  ///< each inbound track's rate over the last second (the first 8)
  uint64_t paused_layers = 0;        ///< bit i: inbound track i is a layer paused for nobody watching it
  bool over_tcp = false;             ///< its path is ICE-TCP
};

/// The admin API's view of a subscribe transport.
struct SubscribeView {
  Transport::State state = Transport::State::kNew;
  uint64_t sent_packets = 0, sent_bytes = 0, nacks_in = 0, retransmitted = 0, sender_reports = 0;
  uint32_t fraction_lost = 0;  ///< the client's last receiver report, 0..255
  uint64_t downstream_bps =
      0;  ///< the estimate of its downstream: from its transport-cc feedback, or its REMB (0 = none lately)
  uint64_t sent_bps = 0;        ///< sent over the last second
  bool video_paused = false;    ///< the client cannot take its video now (the SFU sends it none)
  uint64_t video_pauses = 0;    ///< how often that began
  uint64_t video_trials = 0;    ///< how often paused video was resumed on trial
  uint64_t layer_switches = 0;  ///< simulcast layer switches of its routes
  uint64_t layer_trials = 0;    ///< auto's trials of a layer up
  uint64_t layer_probes = 0;    ///< the probes auto asked for instead of a trial
  uint64_t probe_bps = 0;       ///< what the last probe measured (0: none)
  uint64_t twcc_feedbacks = 0;  ///< transport-cc feedback packets taken from the client
  bool over_tcp = false;        ///< its path is ICE-TCP (set apart from the counters above)
};

/// A session's transports as the admin API shows them; each is absent when not open.
struct MediaSnapshot {
  std::optional<PublishView> publish;
  std::optional<SubscribeView> subscribe;
};

class ChannelMedia;

/// The server's media workers as the signalling plane sees them: where channels live,
/// and the allocators every channel shares (transport ids, SSRCs).
/// Where a granted last-mile probe goes, as the `lastMileProbe` reply says it.
struct ProbeTarget {
  std::string cookie_hex;  ///< the probe's cookie, 32 hex digits
  std::string address;
  uint16_t port = 0;
  int64_t lifetime_ms = 0;
};

class MediaPlane {
 public:
  /// Last-mile probes open at once on the whole server (each may send up to 10 Mbit/s
  /// for 5 s): more are refused with kServerBusy.
  static constexpr size_t kMaxOpenProbes = 16;
  /// `workers` may be empty: the server then runs signalling only, and every channel
  /// refuses media (Publish answers kMediaConnectionCreateFailed).
  MediaPlane(std::vector<MediaWorker*> workers, std::string media_address, SsrcSource ssrcs = {});
  MediaPlane(const MediaPlane&) = delete;
  /// Host candidates on this IPv6 address too (the workers must be dual-stack).
  void set_address6(std::string address) { media_address6_ = std::move(address); }
  /// One-port mode: ICE-TCP's passive candidates name this port (the signalling port's,
  /// where port_share.hpp hands the connections to the workers) instead of the workers'.
  void set_tcp_port(uint16_t port) { tcp_port_ = port; }
  MediaPlane& operator=(const MediaPlane&) = delete;

  [[nodiscard]] size_t worker_count() const { return workers_.size(); }
  [[nodiscard]] MediaWorker* worker(size_t i) const { return workers_[i]; }
  /// A channel whose home worker holds this many of its subscribe transports puts its
  /// next ones on the workers with the fewest of them (relay.cpp); 0 = never.
  void set_spread_at(size_t n) { spread_at_ = n; }
  [[nodiscard]] size_t spread_at() const { return spread_at_; }
  /// The ring from worker `from` to worker `to` (relay_ring.hpp), made on first use and
  /// handed to `to` to drain. Null when it cannot be made.
  std::shared_ptr<RelayRing> Ring(size_t from, size_t to);
  /// The media of a new channel, pinned to worker `worker` (clamped to the last one) for
  /// its lifetime. Which worker is the caller's choice (the least loaded). Its
  /// transports share one route table on the worker, their channel's.
  std::unique_ptr<ChannelMedia> OpenChannel(size_t worker);

  /// A transport id, unique among the transports of every worker of this plane.
  uint64_t NewTransportId() { return next_transport_id_++; }
  /// A non-zero SSRC for a stream we send.
  uint32_t NewSsrc();
  /// Our side of a new transport on `worker`: fresh ICE credentials (RFC 8445 §5.3:
  /// at least 24 bits of ufrag and 128 of password), the certificate's fingerprint and
  /// the worker's address.
  LocalTransport NewLocal(const MediaWorker& worker) const;
  /// Grants a last-mile probe (rates in kbit/s, 0 = that direction is not probed) on
  /// the next worker in turn, with a fresh cookie and nonce. Errors:
  /// kMediaConnectionCreateFailed without media workers, kServerBusy with
  /// kMaxOpenProbes still open. `now` times the probes' lifetimes.
  Result<ProbeTarget> OpenProbe(uint32_t up_kbps, uint32_t down_kbps, std::chrono::steady_clock::time_point now);

 private:
  std::vector<MediaWorker*> workers_;
  size_t spread_at_ = 0;
  std::map<std::pair<size_t, size_t>, std::shared_ptr<RelayRing>> rings_;
  std::string media_address_;
  std::string media_address6_;  ///< IPv6 host candidates too ("": none)
  uint16_t tcp_port_ = 0;       ///< ICE-TCP's candidate port when not the workers' (0)
  SsrcSource ssrcs_;
  uint64_t next_transport_id_ = 1;
  uint64_t next_channel_id_ = 1;  ///< 0 is the worker's table for transports of no channel
  size_t next_probe_worker_ = 0;
  std::vector<std::chrono::steady_clock::time_point> probe_expiries_;  ///< of the probes granted and not yet over
};

/// The media of one channel. Every call names sessions by their signalling id; one that
/// has no media here is a no-op (or an empty answer), never an error, unless the call
/// says otherwise.
class ChannelMedia {
 public:
  /// `worker` null: the channel has no media (a server without media workers).
  /// `channel` names its route table on the worker. `home` is the worker's index: the
  /// channel's publish and data transports live there, and its subscribe transports
  /// until the plane's spread_at() (then on other workers, from mirrors).
  ChannelMedia(MediaPlane& plane, MediaWorker* worker, uint64_t channel, size_t home = 0);
  /// Posts the removal of every transport still open (their routes go with them).
  ~ChannelMedia();
  ChannelMedia(const ChannelMedia&) = delete;
  ChannelMedia& operator=(const ChannelMedia&) = delete;

  /// Answers the session's publish offer and opens a new publish transport carrying
  /// `tracks`: audio on the offer's first audio section, camera on its first video
  /// section, screen on the next video section. A session that already publishes is
  /// renegotiating: its subscribers' routes (and their numbering) move to the new
  /// transport and the old one closes. On error nothing changes. Errors: the SDP's
  /// (kInvalidSdp), kMediaConnectionCreateFailed without a media worker.
  /// `camera_layers` > 1: the camera takes that many video sections, each one layer of
  /// its source, smallest first (the native SDK's dual stream), and the screen the next;
  /// they must be single streams of one codec (kInvalidSdp otherwise).
  Result<std::string> Publish(SessionId session, std::string_view offer_sdp, const TrackSet& tracks,
                              Platform publisher = Platform::kH5, int camera_layers = 1);
  /// `tracks` are no longer published: their routes to every subscriber of the channel
  /// are removed and the publish transport forgets them. `drop_transport`: nothing is
  /// left published, the transport closes too (subscribers come back on trackPublished).
  void Unpublish(SessionId session, const TrackSet& tracks, bool drop_transport);
  /// Whether the session has a publish transport (publish with an offer succeeded).
  [[nodiscard]] bool IsPublishing(SessionId session) const;

  /// Adds `tracks` of publisher `pub` (whose user id is `pub_user`) to the subscriber's
  /// connection, opening its subscribe transport on first use, and returns our new offer
  /// (its version bumped). A track takes back its own inactive section, else an inactive
  /// one of its kind, else a new one; a reused section gets new SSRCs. Errors:
  /// kSubscribeRemoteStreamGone when the connection would carry no section at all
  /// (the transport stays open), kMediaConnectionCreateFailed without a media worker.
  /// Payload types are the connection's own (SubscribePayloadTypesFor). Audio is
  /// repaired (NACK and RTX in the offer, the SFU answering from its buffer) only for a
  /// native subscriber (`subscriber` kNative) of a publisher that negotiated audio RTX,
  /// which only native publishers offer; a browser (the default) gets audio without
  /// feedback, as before.
  Result<std::string> Subscribe(SessionId sub, SessionId pub, std::string_view pub_user, const TrackSet& tracks,
                                Platform subscriber = Platform::kH5,
                                VideoStreamType stream_type = VideoStreamType::kBig);
  /// Which layer of `pub`'s simulcast video `sub` receives from now on (layer_switch.hpp).
  void SetStreamType(SessionId sub, SessionId pub, VideoStreamType type);
  /// The subscriber's answer to our latest offer (or an earlier one). Errors:
  /// kSubscribeStreamNotExist when no subscribe transport is open, then the SDP's.
  Status Answer(SessionId sub, std::string_view answer_sdp);
  /// Stops forwarding `tracks` of `pub` to `sub` (routes only; the sections stay active
  /// until RetireTrack).
  void Unsubscribe(SessionId sub, SessionId pub, const TrackSet& tracks);
  /// The remote track `track_id` ("<user>-<kind>") went away for this subscriber: its
  /// active section turns inactive. True when a section changed; then the subscriber
  /// needs NextSubscribeOffer (when it can be sent).
  bool RetireTrack(SessionId sub, std::string_view track_id);
  /// Our current subscribe offer with its version bumped. Take it only when it is sent:
  /// the client sees versions increase one by one. Empty for a session without one.
  std::string NextSubscribeOffer(SessionId sub);

  /// Closes the subscribe transport (and its routes); the offer's version goes on
  /// counting for the session's next one.
  void CloseSubscribe(SessionId session);
  /// Answers the session's data connection offer (negotiate.hpp AnswerDataOffer) and
  /// opens its data transport: its SCTP association relays Parley's data messages to
  /// and from the channel's other data connections as `user` (data_relay.hpp). A
  /// session's earlier data connection closes. Errors: the SDP's (kInvalidSdp),
  /// kMediaConnectionCreateFailed without a media worker.
  Result<std::string> OpenData(SessionId session, std::string_view user, std::string_view offer_sdp,
                               Platform platform = Platform::kH5);
  [[nodiscard]] std::optional<TransportStatus> DataStatus(SessionId session) const;
  /// The session leaves the channel: its transports close and it is forgotten.
  void CloseSession(SessionId session);

  [[nodiscard]] std::optional<TransportStatus> PublishStatus(SessionId session) const;
  /// Publisher economy (layer_economy.hpp): which layers of each of the session's
  /// simulcast videos the SFU wants sent, when that changed since the last call (and
  /// once for each new publish transport); nullopt otherwise. The control plane's layer
  /// check alone calls it, and tells the publisher.
  [[nodiscard]] std::optional<std::vector<LayerPlan>> TakeLayerPlan(SessionId session);
  /// Whether any session publishes a video in layers: the layer check skips the
  /// channels (most of them) where TakeLayerPlan has nothing to take.
  [[nodiscard]] bool AnyLayered() const { return layered_ > 0; }
  [[nodiscard]] std::optional<TransportStatus> SubscribeStatus(SessionId session) const;
  /// The loudest audio level (127 - dBov) received since the last call, and resets it:
  /// for the active-speaker monitor only. 0 without a publish transport.
  uint32_t TakeAudioPeak(SessionId session);
  /// The counters of the session's transports for the admin API; resets nothing.
  [[nodiscard]] MediaSnapshot Snapshot(SessionId session) const;

 private:
  struct PublishSide {
    uint64_t transport_id = 0;
    std::vector<InboundTrack> inbound;   ///< as the transport was given them (for its mirrors)
    std::map<size_t, uint64_t> mirrors;  ///< by worker index: its mirror there (relay.cpp)
    std::shared_ptr<TransportCounters> counters;
    std::map<TrackKind, AcceptedTrack> tracks;  ///< what each published track negotiated
    std::map<TrackKind, size_t> index;          ///< ... and its index on the transport
    std::optional<uint64_t> told_paused;        ///< the paused layers last taken (TakeLayerPlan)
    size_t inbound_tracks = 0;                  ///< on the transport (a simulcast section has one per layer)
  };
  struct SubscribeSide {
    uint64_t transport_id = 0;
    size_t worker = 0;  ///< the worker's index (the home worker's, unless spread)
    std::shared_ptr<TransportCounters> counters;
    LocalTransport local;
    std::vector<OfferedTrack> offered;  ///< in offer order
  };
  struct DataSide {
    uint64_t transport_id = 0;
    std::shared_ptr<TransportCounters> counters;
  };
  struct SessionMedia {
    std::optional<PublishSide> publish;
    std::optional<SubscribeSide> subscribe;
    std::optional<DataSide> data;
    uint64_t subscribe_version = 0;  ///< of the session's subscribe offers, across transports
  };

  void RemoveTransport(uint64_t id) { RemoveTransport(home_, id); }
  void RemoveTransport(size_t worker, uint64_t id);
  [[nodiscard]] MediaWorker* WorkerAt(size_t w) const { return w == home_ ? worker_ : plane_.worker(w); }
  /// The worker a new subscribe transport goes to: home, or once home holds spread_at()
  /// of them the worker with the fewest of this channel's (home first among equals).
  [[nodiscard]] size_t PlaceSubscriber();
  /// `pub`'s id on worker `w`: its transport at home, elsewhere its mirror (made on
  /// first use: the mirror on `w`, the relay to it at home).
  uint64_t PublisherOn(PublishSide& pub, size_t w);
  /// ... without making one (0: none).
  [[nodiscard]] uint64_t FindPublisherOn(const PublishSide& pub, size_t w) const;
  /// Closes the publish transport `pub` and its mirrors on other workers (its relays go
  /// with its transport at home).
  void ClosePublish(PublishSide& pub);
  /// When no subscribe transport of the channel is left on worker `w`, the mirrors there
  /// go (and their relays).
  void PruneMirrors(size_t w);
  [[nodiscard]] const SessionMedia* Find(SessionId session) const;
  [[nodiscard]] SessionMedia* Find(SessionId session);

  MediaPlane& plane_;
  MediaWorker* worker_;
  uint64_t channel_;
  size_t home_;
  std::map<SessionId, SessionMedia> sessions_;
  size_t layered_ = 0;  ///< sessions whose publish side has a track in layers (CountLayered)
  void CountLayered();
};

}  // namespace parley::sfu
