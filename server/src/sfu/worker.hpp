// A media worker: one thread, one UDP socket, the WebRTC transports on it.
//
// All transports of a worker share its port. Datagrams are demultiplexed by the STUN
// USERNAME's local ufrag (RFC 8445 §7.2.2) until ICE has validated an address, then by
// remote address (RFC 7983 classifies STUN / DTLS / SRTP by first byte). Each
// transport (webrtc_transport.hpp) does ICE-lite, DTLS-SRTP and its publisher's
// feedback; the forwarder (forwarder.hpp) moves media between them. The worker itself
// is the loop: the socket, the receive and send batches (send_batch.hpp), posted work,
// the tick, the transport registry, the one catch, and the count of every datagram it
// dropped and why (drop_counters.hpp).
//
// Threading: everything about a transport happens on the worker thread. The control
// plane talks to the worker through Post(), which queues a closure behind a mutex and
// wakes the loop through an eventfd; the packet path takes no locks and, after
// start-up, allocates nothing per packet (fixed receive and send batches).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parley/proto/result.hpp"
#include "sfu/data_relay.hpp"
#include "sfu/drop_counters.hpp"
#include "sfu/dtls.hpp"
#include "sfu/forwarder.hpp"
#include "sfu/probe_sessions.hpp"
#include "sfu/relay_ring.hpp"
#include "sfu/router.hpp"
#include "sfu/rtp.hpp"
#include "sfu/send_batch.hpp"
#include "sfu/tcp_links.hpp"
#include "sfu/webrtc_transport.hpp"

namespace parley::sfu {

struct WorkerOptions {
  int connect_timeout_ms = 10000;  ///< ICE + DTLS must be done this long after the transport opens
  int consent_timeout_ms = 30000;  ///< RFC 7675: connected and no check for this long = failed
  /// Test aid: drop this many per thousand of the RTP sent to subscribers (simulated loss).
  int send_loss_permille = 0;
  /// The clock transports are timed by (steady, microseconds); empty = the monotonic
  /// clock. Tests inject one to reach timeouts without waiting for them.
  std::function<int64_t()> clock = {};
  /// Whether video to each subscriber is paced (pacer.hpp). Off only for tests that
  /// read the order in which audio and video arrive.
  bool pace_video = true;
  /// ICE over TCP on the same port number (tcp_links.hpp): a passive TCP candidate
  /// beside the UDP one, for clients that cannot send UDP.
  bool ice_tcp = true;
  /// ICE-TCP's bounds (tests shorten its timeouts).
  TcpLinks::Limits tcp_limits = {};
  /// Bind the port on every address, IPv4 and IPv6 (one dual-stack socket, IPv4 peers
  /// seen as ::ffff:a.b.c.d), instead of on the worker's address alone: for a server
  /// that also has IPv6 host candidates (--media-address6).
  bool dual_stack = false;
  /// One port for every worker (--one-port, port_share.hpp): the UDP port is bound with
  /// SO_REUSEPORT beside the other workers' sockets, a check the kernel hands to the
  /// wrong worker is passed to the one its ufrag names, and each validated client gets
  /// a socket connected to it, on which the kernel delivers its datagrams to the worker
  /// that holds its transport. ICE-TCP comes from the signalling port (AdoptTcp), not
  /// from a listener of the worker's own.
  bool share_port = false;
  /// How many workers bind the shared port (SO_REUSEPORT only when more than one: any
  /// process of the same user could join the group, so the caller checks the port is
  /// free first).
  size_t shared_by = 1;
  /// Sockets connected to clients (one port shared): at most this many per worker; past
  /// it, a client's datagrams may reach another worker and be dropped (counted, logged).
  size_t max_peer_sockets = 4096;
};

class MediaWorker final : private WebRtcTransport::Listener,
                          private WebRtcTransport::PacketSink,
                          private Forwarder::Transports,
                          private TcpLinks::Handler {
 public:
  /// Binds a UDP socket on `address`:`port` (0 = any free port).
  static Result<std::unique_ptr<MediaWorker>> Create(const std::string& address, uint16_t port,
                                                     std::shared_ptr<DtlsCertificate> cert, WorkerOptions options = {});
  ~MediaWorker() override;
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  /// The port ICE-TCP listens on (the UDP port's number), 0 when it does not.
  [[nodiscard]] uint16_t tcp_port() const { return tcp_.listening() ? port_ : 0; }
  /// The ICE-TCP connections' counters (worker thread only).
  [[nodiscard]] const TcpLinks& tcp_links() const { return tcp_; }
  [[nodiscard]] const std::shared_ptr<DtlsCertificate>& certificate() const { return cert_; }

  /// One-port mode: the workers sharing the port, this one among them at its index
  /// (the index its transports' ufrags begin with). Before Start.
  void SharePortWith(std::vector<MediaWorker*> all, size_t index);
  /// Worker thread: takes ICE-TCP connection `fd` from `peer`, accepted on the signalling
  /// port (one-port mode), its first frame still unread.
  bool AdoptTcp(int fd, const sockaddr_storage& peer) { return tcp_.Adopt(fd, peer, Now()); }
  /// One-port mode: checks passed to this worker by the others (any thread).
  [[nodiscard]] uint64_t checks_handed_in() const { return handed_in_.load(std::memory_order_relaxed); }
  /// One-port mode: sockets connected to a validated client (any thread).
  [[nodiscard]] uint64_t peer_sockets() const { return peer_sockets_count_.load(std::memory_order_relaxed); }
  /// One-port mode: connected sockets opened so far (any thread).
  [[nodiscard]] uint64_t peer_sockets_opened() const { return peer_sockets_opened_.load(std::memory_order_relaxed); }
  /// One-port mode: clients that got no connected socket (the bound, or no descriptors).
  [[nodiscard]] uint64_t peer_socket_failures() const { return peer_socket_failures_.load(std::memory_order_relaxed); }

  /// Starts the worker thread.
  void Start();
  /// Stops and joins the thread. Transports are destroyed on it.
  void Stop();
  /// Runs `fn` on the worker thread (thread-safe; from any thread).
  void Post(std::function<void()> fn);

  // Worker-thread only (call from inside Post):
  /// `channel` names the route table the transport's routes live in (one per channel;
  /// routes only ever join transports of one channel).
  Transport* AddTransport(uint64_t id, TransportParams params, uint64_t channel = 0);
  void RemoveTransport(uint64_t id);
  Transport* FindTransport(uint64_t id);
  /// Protects and queues RTP/RTCP to a transport's client (false if not connected).
  bool SendRtp(Transport& t, std::span<const uint8_t> rtp) { return t.SendRtp(rtp); }
  bool SendRtcp(Transport& t, std::span<const uint8_t> rtcp) { return t.SendRtcp(rtcp); }

  /// Forwards one track of the publisher transport to a subscriber transport as
  /// `spec.ssrc` / `spec.payload_type`. Sequence numbers and timestamps are rewritten so
  /// the subscriber's stream stays continuous when the publisher restarts (new SSRC).
  /// A video route asks the publisher for a keyframe at once, or, for a subscriber
  /// that has not answered yet, when it does (Answered).
  void AddRoute(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec) {
    forwarder_.AddRoute(publisher, subscriber, spec, Now());
  }
  /// The subscriber transport `subscriber` has its client's answer (SetRemote): the
  /// keyframes its routes wait for are asked for (Forwarder::OnAnswered).
  void Answered(uint64_t subscriber) {
    if (Transport* t = FindTransport(subscriber)) forwarder_.OnAnswered(*t, Now());
  }
  /// The publisher renegotiated onto a new transport: its routes move there with their
  /// numbering state, so subscribers see one continuous stream. `track_map[i]` is the
  /// new index of old track i (-1: the track is gone and its routes are dropped).
  void MoveRoutes(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map) {
    forwarder_.MoveRoutes(from_publisher, to_publisher, track_map, Now());
  }
  /// Removes the routes from `publisher` to `subscriber` (one track, or all when track < 0).
  /// Whether the subscriber takes RED on its stream `ssrc` (router.hpp RouteSpec).
  /// Which layer of the publisher's simulcast video the subscriber wants (forwarder.hpp).
  void SetStreamType(uint64_t publisher, uint64_t subscriber, VideoStreamType type) {
    (void)forwarder_.SetStreamType(publisher, subscriber, type, Now());
  }
  void SetRouteRed(uint64_t subscriber, uint32_t ssrc, uint8_t red_payload_type) {
    forwarder_.SetRouteRed(subscriber, ssrc, red_payload_type);
  }
  void RemoveRoutes(uint64_t publisher, uint64_t subscriber, int track = -1) {
    forwarder_.RemoveRoutes(publisher, subscriber, track);
  }
  /// The routes leaving `publisher` as (subscriber, spec), in the order they were added:
  /// what the control plane asked for, so its effects can be checked on the worker.
  [[nodiscard]] std::vector<std::pair<uint64_t, RouteSpec>> RoutesFrom(uint64_t publisher) const {
    return forwarder_.RoutesFrom(publisher);
  }

  /// Makes data connection `transport` (added with TransportParams::sctp_port) `user`'s
  /// in the route table `channel`: its messages are relayed to the channel's other
  /// data connections (data_relay.hpp).
  void AddDataMember(uint64_t transport, uint64_t channel, std::string user) {
    data_.Add(transport, channel, std::move(user));
  }
  [[nodiscard]] const DataRelayCounters& data_counters() const { return data_.counters(); }
  /// Opens a last-mile probe signalling granted (probe_sessions.hpp); false when this
  /// worker holds as many as it serves.
  bool OpenProbe(const ProbeGrant& grant) { return probes_.Open(grant, Now()); }
  [[nodiscard]] size_t probe_count() const { return probes_.size(); }

  // A channel spread over workers (relay.cpp). Its publishers live on its home worker;
  // a subscriber on another worker is routed from a mirror there: a transport without a
  // client whose packets are the home worker's copies of the publisher's (relay_ring.hpp).
  /// The eventfd that wakes this worker's loop (any thread; a ring to it duplicates it).
  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  /// Worker thread: `ring` brings entries from another worker, drained at every wake.
  void AddInboundRing(std::shared_ptr<RelayRing> ring);
  /// Home side: what `publisher` sends (its forwarded packets, sender reports and layer
  /// pauses) is copied through `ring` to the worker of `mirror`.
  void AddRelay(uint64_t publisher, std::shared_ptr<RelayRing> ring, uint64_t mirror);
  /// Mirror side: transport `id` stands in for `publisher` of the home worker reached
  /// through `to_home`, with its inbound tracks; its routes live in `channel`'s table.
  void AddMirror(uint64_t id, const std::vector<InboundTrack>& tracks, uint64_t channel,
                 std::shared_ptr<RelayRing> to_home, uint64_t publisher);
  /// Home side: the relay to `mirror` goes (its worker no longer holds the mirror).
  void RemoveRelay(uint64_t mirror) { ForgetRelays(mirror); }
  /// The mirrors on this worker standing in for `publisher` of another (control and tests).
  [[nodiscard]] std::vector<uint64_t> MirrorsOf(uint64_t publisher) const;
  /// The mirrors `publisher` is relayed to from here (control and tests).
  [[nodiscard]] std::vector<uint64_t> RelaysOf(uint64_t publisher) const;
  /// Entries taken from other workers' rings (any thread: tests and /metrics).
  [[nodiscard]] uint64_t relayed_in() const { return relayed_in_.load(std::memory_order_relaxed); }

  // Loop counters (any thread; /metrics shows them).
  /// Times the loop returned from waiting (I/O, posted work or its tick timer).
  [[nodiscard]] uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  /// The send batch (worker thread only: its counters are not atomic).
  [[nodiscard]] const SendBatch& send_batch() const { return batch_; }
  /// The forwarder (worker thread only; tests set its hooks).
  [[nodiscard]] Forwarder& forwarder() { return forwarder_; }
  /// Exceptions the loop caught (each failed at most one transport).
  [[nodiscard]] uint64_t exceptions() const { return exceptions_.load(std::memory_order_relaxed); }
  /// Datagrams (and forwarded copies) dropped, by reason.
  [[nodiscard]] const DropCounters& drops() const { return drops_; }
  /// Video datagrams that waited in a subscriber's pacer (any thread).
  [[nodiscard]] uint64_t paced() const { return forwarder_.paced(); }

 private:
  static constexpr size_t kBatch = 32;

  explicit MediaWorker(WorkerOptions options);
  [[nodiscard]] int64_t Now() const;
  void Loop();
  /// The loop's fixed receive batch (recvmmsg fills up to kBatch datagrams per call).
  struct ReceiveBuffers;
  /// Reads and handles every datagram waiting on `fd` (the port's socket, or one
  /// connected to a client), a batch at a time.
  void ReceiveAll(int fd, ReceiveBuffers& rx);

  // One-port mode (shared_port.cpp).
  /// A STUN check naming a ufrag of another worker's: passed to it (bounded by
  /// kMaxHandedPending waiting; more are dropped as unknown-ufrag). False when the ufrag
  /// names no other worker.
  bool HandOver(std::span<const uint8_t> check, std::string_view local_ufrag, const sockaddr_storage& from,
                int64_t arrival_us);
  /// A UDP socket on the shared port connected to `peer`, polled by the loop (kept while
  /// a transport's path is that address).
  void OpenPeerSocket(const sockaddr_storage& peer);
  void ClosePeerSocket(const std::array<uint8_t, 19>& key);
  /// Reads the connected sockets that have datagrams.
  void ReceivePeerSockets(ReceiveBuffers& rx);
  /// Closes the sockets ClosePeerSocket set aside (at the end of each turn of the loop,
  /// outside any batch of their events).
  void ClosePeerSocketsNow();
  /// by_address_.erase, and the address's connected socket closed.
  void ForgetAddress(const std::array<uint8_t, 19>& key);
  /// `now_us` is the worker's steady clock; `arrival_us` the kernel's receive time
  /// (realtime clock), which transport-cc feedback reports.
  void HandleDatagram(std::span<uint8_t> packet, const sockaddr_storage& from, int64_t now_us, int64_t arrival_us);
  void RunPosted();
  /// Wakes this worker's loop (its eventfd): posted work, or a ring to drain again.
  void WakeSelf();
  /// Whether the loop has timed work: transports to tick or probes to serve.
  [[nodiscard]] bool Busy() const { return !transports_.empty() || !probes_.empty() || tcp_.needs_ticks(); }
  /// Periodic work: every transport's timers and feedback, deferred keyframe requests.
  void Tick(int64_t now_us);
  /// One transport's share of Tick.
  void TickTransport(Transport& t, int64_t now_us);
  /// The loop's one catch. Runs one unit of work (a datagram, a posted closure, one
  /// transport's timers); when it throws, the transport it was for (current_) fails
  /// with Failure::kInternalError, the exception is counted and logged (at most once a
  /// second) and the loop goes on with the other transports. The packet path does not
  /// throw by design; this is the last line of defence against a bug ending every call.
  template <typename Fn>
  void Guarded(uint64_t transport, Fn&& fn);
  /// Guarded's handler: counts, fails current_'s transport, logs rate-limited.
  void OnException(const char* what);

  // WebRtcTransport::Listener
  void OnPathChanged(WebRtcTransport& t, const sockaddr_storage* old) override;
  void OnRtp(WebRtcTransport& publisher, size_t track, const RtpView& v) override {
    forwarder_.OnRtp(publisher, track, v);
    if (!relays_.empty()) RelayRtp(publisher, track, v);
  }
  void OnRtcp(WebRtcTransport& t, std::span<const uint8_t> rtcp, int64_t now_us) override {
    forwarder_.OnRtcp(t, rtcp, now_us);
    if (!relays_.empty() && !t.tracks().empty()) RelayRtcp(t, rtcp);
  }
  void OnDropped(WebRtcTransport& /*t*/, DropReason reason) override { drops_.Count(reason); }
  void OnDataMessage(WebRtcTransport& t, const SctpMessage& m) override;
  // WebRtcTransport::PacketSink: packets are protected straight into slots and go out
  // together with sendmmsg at the end of each receive batch, posted batch or tick.
  void SendNow(std::span<const uint8_t> datagram, const sockaddr_storage& to) override;
  uint8_t* Slot() override;
  void Queue(size_t length, const sockaddr_storage& to) override;
  void Flush();
  // TcpLinks::Handler: ICE-TCP frames are handled as datagrams from their connection.
  void BeforeFrames() override { forwarder_.HoldRtp(); }
  void OnFrame(std::span<uint8_t> frame, const sockaddr_storage& from) override;
  void AfterFrames() override;
  void OnLinkClosed(const sockaddr_storage& peer) override;
  // Forwarder::Transports
  Transport* Find(uint64_t id) override { return FindTransport(id); }
  bool RelayKeyframe(uint64_t id) override;
  uint32_t RemoteWanted(uint64_t publisher, size_t first) override;

  // Relays (relay.cpp).
  /// Home side: a copy of the packet of `publisher`'s track to each of its mirrors.
  void RelayRtp(const Transport& publisher, size_t track, const RtpView& v);
  /// Home side: the publisher's RTCP to each of its mirrors.
  void RelayRtcp(const Transport& publisher, std::span<const uint8_t> rtcp);
  /// Home side, each tick of a publisher with mirrors: its layers' pause state (every
  /// kRelayLayersUs).
  void RelayLayers(Transport& publisher, int64_t now_us);
  /// Mirror side, each tick: tells the home worker what the mirror's routes want of each
  /// layered source when that changed (at most every kRelayLayersUs).
  void TickMirror(Transport& mirror, int64_t now_us);
  /// Takes what the other workers sent: packets forwarded from mirrors, their requests.
  void DrainRelays(int64_t now_us);
  /// Handles one entry of an inbound ring for `t`, the transport it names (null:
  /// gone). Held RTP stays valid until the entry's Pop.
  void HandleRelayed(RelayEntry& e, Transport* t, int64_t now_us);
  /// Wakes each worker a ring of this one's carries news to.
  void WakeRelays();
  /// A ring this worker produces into, remembered for WakeRelays.
  void NoteOutboundRing(const std::shared_ptr<RelayRing>& ring);
  /// Copies an entry into `ring`, or counts it dropped when the ring is full.
  bool Push(RelayRing& ring, RelayEntry::Kind kind, uint64_t target, uint32_t track, uint32_t value, uint64_t mirror,
            std::span<const uint8_t> data);
  /// The ring `publisher`'s packets go to `mirror` through (home side), or null when
  /// that relay is gone.
  RelayRing* RelayTo(uint64_t publisher, uint64_t mirror);
  /// Forgets a transport's relays or mirror as it goes.
  void ForgetRelays(uint64_t id);

  int fd_ = -1;
  int wake_fd_ = -1;
  // One-port mode.
  std::vector<MediaWorker*> sharers_;  ///< every worker on the port, by index (empty: not shared)
  size_t index_ = 0;                   ///< this one's
  static constexpr int kMaxHandedPending = 256;
  std::atomic<int> handed_pending_{0};  ///< checks posted to this worker, not handled yet
  std::atomic<uint64_t> handed_in_{0}, peer_sockets_count_{0};
  int peers_epoll_ = -1;  ///< the connected sockets (-1: none opened yet)
  std::map<std::array<uint8_t, 19>, int> peer_sockets_;
  std::vector<int> peer_fds_closing_;  ///< out of the epoll set, closed by ClosePeerSocketsNow
  std::atomic<uint64_t> peer_socket_failures_{0}, peer_sockets_opened_{0};
  int64_t peer_failure_logged_us_ = 0;
  uint16_t port_ = 0;
  WorkerOptions options_;
  std::shared_ptr<DtlsCertificate> cert_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  std::unordered_map<uint64_t, std::unique_ptr<Transport>> transports_;
  std::unordered_map<std::string, Transport*> by_ufrag_;
  std::map<std::array<uint8_t, 19>, Transport*> by_address_;
  DropCounters drops_;
  SendBatch batch_{kSlotBytes};
  TcpLinks tcp_;
  Forwarder forwarder_;  ///< after drops_ and batch_, which it is given
  ProbeSessions probes_;
  DataRelay data_;
  struct RelayOut {
    std::shared_ptr<RelayRing> ring;
    uint64_t mirror = 0;
  };
  struct Relays {
    std::vector<RelayOut> out;
    int64_t next_layers_us = 0;
  };
  std::unordered_map<uint64_t, Relays> relays_;  ///< by publisher transport (home side)
  struct RemoteWant {
    uint64_t mirror = 0;
    uint32_t first = 0, mask = 0;
  };
  std::unordered_map<uint64_t, std::vector<RemoteWant>> remote_wanted_;  ///< by publisher (home side)
  struct Mirror {
    std::shared_ptr<RelayRing> home;
    uint64_t publisher = 0;  ///< on the home worker
    int64_t next_wanted_us = 0;
    std::vector<std::pair<uint32_t, uint32_t>> told;  ///< (source, mask) last sent home
  };
  std::unordered_map<uint64_t, Mirror> mirrors_;       ///< by mirror transport (mirror side)
  std::vector<std::shared_ptr<RelayRing>> rings_in_;   ///< drained at every wake
  std::vector<std::shared_ptr<RelayRing>> rings_out_;  ///< woken after each unit of work
  std::atomic<uint64_t> relayed_in_{0};
  static constexpr int64_t kRelayLayersUs = 100'000;
  int64_t last_tick_us_ = 0;
  uint64_t current_ = 0;  ///< the transport the work in progress is for (0 = none), for Guarded
  std::atomic<uint64_t> wakeups_{0}, exceptions_{0};
  int64_t exception_logged_us_ = 0;     ///< when Guarded last logged
  uint64_t exceptions_not_logged_ = 0;  ///< caught since then, not logged
};

template <typename Fn>
void MediaWorker::Guarded(uint64_t transport, Fn&& fn) {
  current_ = transport;
  try {
    fn();
  } catch (const std::exception& e) {
    OnException(e.what());
  } catch (...) {
    OnException("an exception not derived from std::exception");
  }
  current_ = 0;
}

}  // namespace parley::sfu
