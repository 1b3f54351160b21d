// A media worker: one thread, one UDP socket, the WebRTC transports on it.
//
// All transports of a worker share its port. Datagrams are demultiplexed by the STUN
// USERNAME's local ufrag (RFC 8445 §7.2.2) until ICE has validated an address, then by
// remote address (RFC 7983 classifies STUN / DTLS / SRTP by first byte). The server is
// ICE-lite (RFC 8445 §2.5): it answers Binding requests and takes the address of the
// first one carrying USE-CANDIDATE (or the latest valid one) as the path, and keeps
// answering them as consent freshness (RFC 7675). DTLS is passive.
//
// Threading: everything about a transport happens on the worker thread. The control
// plane talks to the worker through Post(), which queues a closure behind a mutex and
// wakes the loop through an eventfd; the packet path takes no locks and, after
// start-up, allocates nothing per packet (fixed receive and send batches).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

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
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/proto/result.hpp"
#include "sfu/dtls.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {

struct TransportParams {
  std::string local_ufrag, local_pwd;  ///< ours, put into our SDP
  std::string remote_ufrag;            ///< the client's, from its SDP
  std::string remote_fingerprint;      ///< sha-256 from the client's SDP
};

/// A track the client sends on a publish transport (from the negotiated offer).
struct InboundTrack {
  bool video = false;
  uint32_t ssrc = 0;  ///< 0 if the offer did not say; then matched by payload type
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;
};

struct TransportStats {
  uint64_t stun_requests = 0, stun_rejected = 0;
  uint64_t rtp_in = 0, rtcp_in = 0, srtp_failed = 0;
  uint64_t bytes_in = 0;
};

/// One client's ICE-lite + DTLS + SRTP transport. Worker-thread only.
class Transport {
 public:
  enum class State : uint8_t { kNew, kIceConnected, kConnected, kFailed, kClosed };
  /// Decrypted RTP from the client; the view points into the worker's receive buffer.
  using RtpHandler = std::function<void(RtpView&)>;
  using RtcpHandler = std::function<void(std::span<const uint8_t>)>;
  using StateHandler = std::function<void(State)>;

  Transport(uint64_t id, TransportParams params, std::shared_ptr<DtlsCertificate> cert);
  [[nodiscard]] uint64_t id() const { return id_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] const TransportParams& params() const { return params_; }
  [[nodiscard]] const TransportStats& stats() const { return stats_; }
  [[nodiscard]] bool has_path() const { return has_path_; }
  [[nodiscard]] const sockaddr_storage& path() const { return path_; }

  void OnRtp(RtpHandler h) { on_rtp_ = std::move(h); }
  void SetInboundTracks(std::vector<InboundTrack> tracks) { inbound_ = std::move(tracks); }
  /// For transports where the server offered: the client's credentials arrive with its answer.
  void SetRemote(std::string remote_ufrag, std::string remote_fingerprint);
  void OnRtcp(RtcpHandler h) { on_rtcp_ = std::move(h); }
  void OnState(StateHandler h) { on_state_ = std::move(h); }

 private:
  friend class MediaWorker;
  using SendFn = std::function<void(std::span<const uint8_t>, const sockaddr_storage&)>;
  void HandleStun(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send);
  void HandleDtls(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send);
  /// Decrypts; returns the RTP view for forwarding, or the RTCP span via `rtcp_out`.
  std::optional<RtpView> HandleSrtp(std::span<uint8_t> packet, PacketClass cls, std::span<const uint8_t>* rtcp_out);
  void SetState(State s);
  /// After the DTLS handshake: checks the peer's fingerprint against the SDP's (when
  /// known) and opens the SRTP sessions.
  void FinishDtls();
  /// The inbound track a packet belongs to, or null (unknown SSRC/PT, or RTX).
  [[nodiscard]] const InboundTrack* TrackOf(const RtpView& v) const;

  uint64_t id_;
  TransportParams params_;
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  State state_ = State::kNew;
  bool has_path_ = false;
  sockaddr_storage path_{};
  TransportStats stats_;
  std::vector<InboundTrack> inbound_;
  RtpHandler on_rtp_;
  RtcpHandler on_rtcp_;
  StateHandler on_state_;
};

class MediaWorker {
 public:
  /// Binds a UDP socket on `address`:`port` (0 = any free port).
  static Result<std::unique_ptr<MediaWorker>> Create(const std::string& address, uint16_t port,
                                                     std::shared_ptr<DtlsCertificate> cert);
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
  /// Protects and sends RTP/RTCP to a transport's client (false if not connected).
  bool SendRtp(Transport& t, std::span<const uint8_t> rtp);
  bool SendRtcp(Transport& t, std::span<const uint8_t> rtcp);

  /// Forward the publisher transport's audio or video to a subscriber transport as
  /// `out_ssrc` / `out_pt`. Sequence numbers and timestamps are rewritten so the
  /// subscriber's stream stays continuous when the publisher restarts (new SSRC).
  /// A video route asks the publisher for a keyframe at once.
  void AddRoute(uint64_t publisher, bool video, uint64_t subscriber, uint32_t out_ssrc, uint8_t out_pt);
  /// The publisher renegotiated onto a new transport: its routes move there with
  /// their numbering state, so subscribers see one continuous stream.
  void MoveRoutes(uint64_t from_publisher, uint64_t to_publisher);
  /// Removes the routes from `publisher` to `subscriber`.
  void RemoveRoutes(uint64_t publisher, uint64_t subscriber);

 private:
  MediaWorker() = default;
  void Loop();
  void HandleDatagram(std::span<uint8_t> packet, const sockaddr_storage& from);
  void SendTo(std::span<const uint8_t> packet, const sockaddr_storage& to);
  void RunPosted();
  void Forward(Transport& publisher, RtpView& v);
  void RelayKeyframeRequests(Transport& subscriber, std::span<const uint8_t> rtcp);
  void RequestKeyframe(Transport& publisher);

  struct Route {
    uint64_t subscriber = 0;
    bool video = false;
    uint32_t out_ssrc = 0;
    uint8_t out_pt = 0;
    bool started = false;
    uint32_t last_in_ssrc = 0;
    uint16_t seq_offset = 0;
    uint32_t ts_offset = 0;
    bool sent_any = false;
    uint16_t last_out_seq = 0;
    uint32_t last_out_ts = 0;
  };

  int fd_ = -1;
  int wake_fd_ = -1;
  uint16_t port_ = 0;
  std::shared_ptr<DtlsCertificate> cert_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  std::unordered_map<uint64_t, std::unique_ptr<Transport>> transports_;
  std::unordered_map<std::string, Transport*> by_ufrag_;
  std::map<std::array<uint8_t, 19>, Transport*> by_address_;
  std::vector<uint8_t> send_buf_;
  std::unordered_map<uint64_t, std::vector<Route>> routes_;                       ///< by publisher transport id
  std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> last_pli_;  ///< by publisher
};

/// Family, port and address as a fixed-size key: looking a transport up by the
/// sender's address allocates nothing.
std::array<uint8_t, 19> AddressKey(const sockaddr_storage& a);

}  // namespace parley::sfu
