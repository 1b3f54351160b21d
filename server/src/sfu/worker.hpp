// A media worker: one thread, one UDP socket, the WebRTC transports on it.
//
// All transports of a worker share its port. Datagrams are demultiplexed by the STUN
// USERNAME's local ufrag (RFC 8445 §7.2.2) until ICE has validated an address, then by
// remote address (RFC 7983 classifies STUN / DTLS / SRTP by first byte). The server is
// ICE-lite (RFC 8445 §2.5): it answers Binding requests and takes the address of the
// first one carrying USE-CANDIDATE (or the latest valid one) as the path, and keeps
// answering them as consent freshness (RFC 7675). DTLS is passive.
//
// Per published track the worker keeps receive statistics (RFC 3550 receiver reports
// go back to the publisher every second), a retransmission buffer answering
// subscribers' NACKs (as RTX when negotiated), a list of upstream losses it NACKs, and
// transport-wide-cc arrival times it reports every 50 ms so the publisher's bandwidth
// estimator works. Publishers' SRs reach subscribers rewritten for their streams.
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
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/proto/result.hpp"
#include "sfu/dtls.hpp"
#include "sfu/keyframe_requester.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/receive_stats.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "sfu/rtp.hpp"
#include "sfu/seq_rewriter.hpp"
#include "sfu/twcc.hpp"

namespace parley::sfu {

/// Why a transport failed (kept in TransportCounters::failure).
enum class Failure : uint8_t {
  kNone,
  kIceTimeout,     ///< no valid connectivity check before the connect timeout
  kDtlsTimeout,    ///< ICE worked but the DTLS handshake did not finish in time
  kDtlsFailed,     ///< the handshake failed, or the peer's fingerprint did not match the SDP
  kConsentLost,    ///< connected, then no connectivity check for the consent timeout (RFC 7675)
  kClosedByPeer,   ///< the client closed DTLS (close_notify)
  kInternalError,  ///< handling its packets or timers threw (a bug); the worker closed it and went on
};
std::string_view Name(Failure f);

struct TransportParams {
  std::string local_ufrag, local_pwd;  ///< ours, put into our SDP
  std::string remote_ufrag;            ///< the client's, from its SDP
  std::string remote_fingerprint;      ///< sha-256 from the client's SDP
  uint8_t ext_transport_cc = 0;        ///< publish side: the client's transport-wide-cc extension id (0 = none)
  uint8_t ext_audio_level = 0;         ///< publish side: the client's audio-level extension id (0 = none)
};

/// A track the client sends on a publish transport (from the negotiated offer).
struct InboundTrack {
  bool video = false;
  uint32_t ssrc = 0;  ///< 0 if the offer did not say; then matched by payload type
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;
  uint32_t rtx_ssrc = 0;
};

/// Counters of one transport: written on the worker thread, read by the control plane
/// (admin API, metrics, abort detection) without locks.
struct TransportCounters {
  std::atomic<uint64_t> rtp_packets{0};                  ///< received RTP (publish side)
  std::atomic<uint64_t> rtp_bytes{0};                    ///< received RTP payload bytes
  std::atomic<uint64_t> sent_packets{0}, sent_bytes{0};  ///< forwarded RTP (subscribe side)
  std::atomic<uint64_t> nacks_in{0};                     ///< sequence numbers the client asked again for
  std::atomic<uint64_t> retransmitted{0};                ///< ... and that we resent from the buffer
  std::atomic<uint64_t> nacks_sent{0};                   ///< sequence numbers we asked the publisher again for
  std::atomic<uint64_t> twcc_feedbacks{0};               ///< transport-cc feedback packets sent
  std::atomic<uint64_t> sender_reports{0};               ///< SRs forwarded (subscribe) or received (publish)
  std::atomic<uint32_t> audio_peak{0};     ///< loudest 127-dBov level since the control plane last took it
  std::atomic<uint32_t> fraction_lost{0};  ///< the client's last receiver report, 0..255
  std::atomic<int> state{0};               ///< Transport::State
  std::atomic<int> failure{0};             ///< Failure
};

/// One subscriber's copy of a published track.
struct RouteSpec {
  size_t track = 0;  ///< index into the publisher's inbound tracks
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  uint32_t rtx_ssrc = 0;  ///< 0 = retransmit on the media SSRC
  uint8_t rtx_payload_type = 0;
};

struct WorkerOptions {
  int connect_timeout_ms = 10000;  ///< ICE + DTLS must be done this long after the transport opens
  int consent_timeout_ms = 30000;  ///< RFC 7675: connected and no check for this long = failed
  /// Test aid: drop this many per thousand of the RTP sent to subscribers (simulated loss).
  int send_loss_permille = 0;
};

/// One client's ICE-lite + DTLS + SRTP transport. Worker-thread only.
class Transport {
 public:
  enum class State : uint8_t { kNew, kIceConnected, kConnected, kFailed, kClosed };
  /// Decrypted RTP from the client; the view points into the worker's receive buffer.
  using RtpHandler = std::function<void(RtpView&)>;
  using RtcpHandler = std::function<void(std::span<const uint8_t>)>;
  using StateHandler = std::function<void(State)>;

  Transport(uint64_t id, TransportParams params, std::shared_ptr<DtlsCertificate> cert, int64_t now_us);
  [[nodiscard]] uint64_t id() const { return id_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] Failure failure() const { return failure_; }
  [[nodiscard]] const TransportParams& params() const { return params_; }
  [[nodiscard]] const TransportCounters& counters() const { return *counters_; }
  [[nodiscard]] const std::shared_ptr<TransportCounters>& shared_counters() const { return counters_; }
  [[nodiscard]] bool has_path() const { return has_path_; }
  [[nodiscard]] const sockaddr_storage& path() const { return path_; }
  [[nodiscard]] uint64_t stun_requests() const { return stun_requests_; }

  void OnRtp(RtpHandler h) { on_rtp_ = std::move(h); }
  /// The publish side's tracks; video tracks get a retransmission buffer.
  void SetInboundTracks(std::vector<InboundTrack> tracks);
  [[nodiscard]] size_t inbound_track_count() const { return tracks_.size(); }
  /// The inbound track `i` as configured (SetInboundTracks); `i` < inbound_track_count().
  [[nodiscard]] const InboundTrack& inbound_track(size_t i) const { return tracks_[i].cfg; }
  /// For transports where the server offered: the client's credentials arrive with its answer.
  void SetRemote(std::string remote_ufrag, std::string remote_fingerprint);
  void OnRtcp(RtcpHandler h) { on_rtcp_ = std::move(h); }
  void OnState(StateHandler h) { on_state_ = std::move(h); }
  /// Shares counters with the control plane (replaces the transport's own).
  void SetCounters(std::shared_ptr<TransportCounters> c);

 private:
  friend class MediaWorker;
  using SendFn = std::function<void(std::span<const uint8_t>, const sockaddr_storage&)>;

  /// One inbound track: its receive statistics, and for video its buffer and losses.
  struct TrackState {
    InboundTrack cfg;
    ReceiveStats stats;                          ///< also the media SSRC in use (learnt when the SDP gave none)
    std::unique_ptr<RetransmissionBuffer> ring;  ///< video only (audio is not retransmitted)
    NackGenerator nack;                          ///< upstream losses to ask again for (video only)
  };

  void HandleStun(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send, int64_t now_us);
  void HandleDtls(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send);
  /// Decrypts; returns the RTP view for forwarding, or the RTCP span via `rtcp_out`.
  std::optional<RtpView> HandleSrtp(std::span<uint8_t> packet, PacketClass cls, std::span<const uint8_t>* rtcp_out,
                                    int64_t now_us);
  void SetState(State s);
  void Fail(Failure f);
  /// After the DTLS handshake: checks the peer's fingerprint against the SDP's (when
  /// known) and opens the SRTP sessions.
  void FinishDtls();
  /// The inbound track index a packet belongs to and whether it is RTX; -1 if unknown.
  [[nodiscard]] int TrackOf(const RtpView& v, bool* rtx) const;
  /// The media SSRC transport-cc feedback names (one the client sends).
  [[nodiscard]] uint32_t FeedbackSsrc() const;
  /// Receive statistics, loss tracking (for NACK) and buffering of one media packet.
  bool Received(TrackState& t, const RtpView& v, int64_t now_us);

  uint64_t id_;
  TransportParams params_;
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  State state_ = State::kNew;
  Failure failure_ = Failure::kNone;
  bool has_path_ = false;
  sockaddr_storage path_{};
  int64_t created_us_ = 0, last_check_us_ = 0, last_rr_us_ = 0, last_twcc_us_ = 0;
  uint64_t stun_requests_ = 0;
  bool just_connected_ = false;  ///< the worker's next tick asks publishers for keyframes
  std::shared_ptr<TransportCounters> counters_;
  std::vector<TrackState> tracks_;
  std::unique_ptr<TwccRecorder> twcc_;
  RtpHandler on_rtp_;
  RtcpHandler on_rtcp_;
  StateHandler on_state_;
};

/// The name the admin API shows: "new", "ice-connected", "connected", "failed", "closed".
std::string_view Name(Transport::State s);

class MediaWorker {
 public:
  /// Binds a UDP socket on `address`:`port` (0 = any free port).
  static Result<std::unique_ptr<MediaWorker>> Create(const std::string& address, uint16_t port,
                                                     std::shared_ptr<DtlsCertificate> cert, WorkerOptions options = {});
  ~MediaWorker();
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] const std::shared_ptr<DtlsCertificate>& certificate() const { return cert_; }

  /// Starts the worker thread.
  void Start();
  /// Stops and joins the thread. Transports are destroyed on it.
  void Stop();
  /// Runs `fn` on the worker thread (thread-safe; from any thread).
  void Post(std::function<void()> fn);

  // Worker-thread only (call from inside Post):
  Transport* AddTransport(uint64_t id, TransportParams params);
  void RemoveTransport(uint64_t id);
  Transport* FindTransport(uint64_t id);
  /// Protects and queues RTP/RTCP to a transport's client (false if not connected).
  bool SendRtp(Transport& t, std::span<const uint8_t> rtp);
  bool SendRtcp(Transport& t, std::span<const uint8_t> rtcp);

  /// Forwards one track of the publisher transport to a subscriber transport as
  /// `spec.ssrc` / `spec.payload_type`. Sequence numbers and timestamps are rewritten so
  /// the subscriber's stream stays continuous when the publisher restarts (new SSRC).
  /// A video route asks the publisher for a keyframe at once.
  void AddRoute(uint64_t publisher, uint64_t subscriber, const RouteSpec& spec);
  /// The publisher renegotiated onto a new transport: its routes move there with their
  /// numbering state, so subscribers see one continuous stream. `track_map[i]` is the
  /// new index of old track i (-1: the track is gone and its routes are dropped).
  void MoveRoutes(uint64_t from_publisher, uint64_t to_publisher, const std::vector<int>& track_map);
  /// Removes the routes from `publisher` to `subscriber` (one track, or all when track < 0).
  void RemoveRoutes(uint64_t publisher, uint64_t subscriber, int track = -1);
  /// The routes leaving `publisher` as (subscriber, spec), in the order they were added:
  /// what the control plane asked for, so its effects can be checked on the worker.
  [[nodiscard]] std::vector<std::pair<uint64_t, RouteSpec>> RoutesFrom(uint64_t publisher) const;

  // Loop counters (any thread; /metrics shows them).
  /// Times the loop returned from waiting (I/O, posted work or its tick timer).
  [[nodiscard]] uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  /// Exceptions the loop caught (each failed at most one transport).
  [[nodiscard]] uint64_t exceptions() const { return exceptions_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBatch = 32;
  static constexpr size_t kMaxDatagram = 1500;
  static constexpr size_t kSlotBytes = kMaxDatagram + kSrtpMaxOverhead;

  MediaWorker() = default;
  void Loop();
  /// `now_us` is the worker's steady clock; `arrival_us` the kernel's receive time
  /// (realtime clock), which transport-cc feedback reports.
  void HandleDatagram(std::span<uint8_t> packet, const sockaddr_storage& from, int64_t now_us, int64_t arrival_us);
  void RunPosted();
  /// Periodic work: RTCP receiver reports, TWCC feedback, NACKs upstream, timeouts.
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
  void OnPublisherRtp(Transport& publisher, RtpView& v, int64_t now_us, int64_t arrival_us);
  void OnPublisherRtcp(Transport& publisher, std::span<const uint8_t> rtcp, int64_t now_us);
  void OnSubscriberRtcp(Transport& subscriber, std::span<const uint8_t> rtcp);
  void RequestKeyframe(Transport& publisher, int64_t now_us);
  struct Route;
  /// The route carrying `ssrc` to `subscriber` and its (existing) publisher, or null.
  Route* FindRoute(uint64_t subscriber, uint32_t ssrc, Transport** publisher);
  /// Resends `seq` of route `r` from the publisher's ring (as RTX when negotiated).
  void Retransmit(Transport& subscriber, Route& r, Transport& publisher, uint16_t seq);

  struct Route {
    uint64_t subscriber = 0;
    RouteSpec spec;
    SeqRewriter numbers;               ///< the subscriber's sequence numbers and timestamps
    uint32_t packets = 0, octets = 0;  ///< for the SRs we send on this stream
  };
  /// Copies `v` rewritten for route `r` into a send slot (as RTX when `as_rtx`),
  /// protects it and queues it. Returns false when it was not sent.
  bool SendRewritten(Transport& subscriber, Route& r, const RtpView& v, bool retransmission);

  // The send batch: packets are protected straight into slots and go out together with
  // sendmmsg at the end of each receive batch, posted batch or tick.
  uint8_t* SendSlot();
  void Queue(size_t length, const sockaddr_storage& to);
  void Flush();
  bool Lose();

  int fd_ = -1;
  int wake_fd_ = -1;
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
  std::vector<uint8_t> send_bufs_;  ///< kBatch slots of kSlotBytes
  std::array<mmsghdr, kBatch> send_msgs_{};
  std::array<iovec, kBatch> send_iov_{};
  std::array<sockaddr_storage, kBatch> send_addrs_{};
  size_t send_count_ = 0;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  std::unordered_map<uint64_t, std::vector<Route>> routes_;  ///< by publisher transport id
  KeyframeRequester keyframes_;                              ///< PLI throttle, by publisher
  int64_t last_tick_us_ = 0;
  uint64_t current_ = 0;  ///< the transport the work in progress is for (0 = none), for Guarded
  std::atomic<uint64_t> wakeups_{0}, exceptions_{0};
  int64_t exception_logged_us_ = 0;     ///< when Guarded last logged
  uint64_t exceptions_not_logged_ = 0;  ///< caught since then, not logged
};

/// Family, port and address as a fixed-size key: looking a transport up by the
/// sender's address allocates nothing.
std::array<uint8_t, 19> AddressKey(const sockaddr_storage& a);

}  // namespace parley::sfu
