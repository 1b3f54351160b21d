// One client's WebRTC transport on a media worker: ICE-lite (RFC 8445 §2.5), DTLS-SRTP
// (RFC 5764, server passive), consent freshness (RFC 7675), and on the publish side the
// receiver's feedback for what the client sends (receiver reports, NACKs, transport-wide
// congestion control).
//
// The transport owns no socket and reads no clock: the worker hands it each datagram
// with the time it arrived (Receive) and calls Tick(now) for its timers, so its
// timeouts are tested by passing times. What it sends goes through its PacketSink
// (the worker's send batch); what the worker must act on (a new path to index, media
// to forward, feedback from a subscriber) goes to its Listener. Worker-thread only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/downstream_estimate.hpp"
#include "sfu/drop_counters.hpp"
#include "sfu/dtls.hpp"
#include "sfu/publisher_tracks.hpp"
#include "sfu/rtp.hpp"
#include "sfu/sctp.hpp"
#include "sfu/send_side_bwe.hpp"
#include "sfu/twcc.hpp"

namespace parley::sfu {

/// Largest datagram the SFU receives or forwards (an Ethernet MTU).
inline constexpr size_t kMaxDatagram = 1500;
/// A send slot: a datagram plus what SRTP adds to it.
inline constexpr size_t kSlotBytes = kMaxDatagram + kSrtpMaxOverhead;
/// The sender SSRC of the RTCP the SFU originates ("PRLY").
inline constexpr uint32_t kServerSsrc = 0x50524C59;

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
  std::string local_ufrag, local_pwd;         ///< ours, put into our SDP
  std::string remote_ufrag;                   ///< the client's, from its SDP
  std::string remote_fingerprint;             ///< sha-256 from the client's SDP
  uint8_t ext_transport_cc = 0;               ///< publish side: the client's transport-wide-cc extension id (0 = none)
  uint8_t ext_audio_level = 0;                ///< publish side: the client's audio-level extension id (0 = none)
  uint8_t ext_rid = 0, ext_repaired_rid = 0;  ///< publish side: the RID extensions' ids (simulcast; 0 = none)
  uint8_t ext_mid = 0;                        ///< publish side: the MID extension's id (0 = none)
  /// We are the DTLS client: the handshake starts as soon as ICE gives a path, and
  /// our 200 ms flight timer (not the peer's, often 1 s) paces its retransmissions.
  bool dtls_client = false;
  /// A data connection: the client's SCTP port (a=sctp-port); 0 = a media transport.
  /// Data connections carry SCTP (data channels) in DTLS and no SRTP.
  uint16_t sctp_port = 0;
  /// A mirror (relay.cpp): the stand-in on another worker for a publisher whose packets
  /// its home worker relays. It has no client: no ICE, DTLS, SRTP or timers of its own.
  bool mirror = false;
};

/// Counters of one transport: written on the worker thread, read by the control plane
/// (admin API, metrics, abort detection) without locks.
struct TransportCounters {
  std::atomic<uint64_t> rtp_packets{0};                  ///< received RTP (publish side)
  std::atomic<uint64_t> rtp_bytes{0};                    ///< received RTP payload bytes
  std::atomic<uint64_t> red_packets{0};                  ///< ... of which audio in RED (red.hpp)
  std::atomic<uint64_t> sent_packets{0}, sent_bytes{0};  ///< forwarded RTP (subscribe side)
  std::atomic<uint64_t> nacks_in{0};                     ///< sequence numbers the client asked again for
  std::atomic<uint64_t> retransmitted{0};                ///< ... and that we resent from the buffer
  std::atomic<uint64_t> nacks_sent{0};                   ///< sequence numbers we asked the publisher again for
  std::atomic<uint64_t> twcc_feedbacks{0};               ///< transport-cc feedback sent (publish), taken (subscribe)
  std::atomic<uint64_t> sender_reports{0};               ///< SRs forwarded (subscribe) or received (publish)
  std::atomic<bool> over_tcp{false};                     ///< the nominated path is ICE-TCP (else UDP)
  std::atomic<uint32_t> audio_peak{0};      ///< loudest 127-dBov level since the control plane last took it
  std::atomic<uint32_t> fraction_lost{0};   ///< the client's last receiver report, 0..255
  std::atomic<uint64_t> downstream_bps{0};  ///< subscribe side: its estimate (0 = none lately)
  std::atomic<uint64_t> sent_bps{0};        ///< subscribe side: what was sent over the last second
  std::atomic<bool> video_paused{false};    ///< subscribe side: it cannot take its video now
  std::atomic<uint64_t> video_pauses{0};    ///< ... and how often that began
  std::atomic<uint64_t> video_trials{0};    ///< ... and how often it was resumed on trial
  std::atomic<uint64_t> layer_switches{0};  ///< subscribe side: simulcast layer switches (all routes)
  std::atomic<uint64_t> layer_trials{0};    ///< ... and auto's trials of a layer up (layer_switch.hpp)
  std::atomic<uint64_t> layer_probes{0};    ///< ... and the probes auto asked for instead (probe_cluster.hpp)
  std::atomic<uint64_t> probe_bps{0};       ///< subscribe side: the last probe's answer (0: none)
  /// Publish side: bit i = inbound track i is a simulcast layer paused because nobody
  /// watches it (layer_economy.hpp); the control plane tells the publisher.
  std::atomic<uint64_t> paused_layers{0};
  /// Publish side: each inbound track's rate over the last second, in kbit/s (the first
  /// kRatedTracks; written with paused_layers, every 250 ms): whether a paused layer
  /// really stopped.
  static constexpr size_t kRatedTracks = 8;
  std::array<std::atomic<uint32_t>, kRatedTracks> track_kbps{};
  std::atomic<int> state{0};    ///< Transport::State
  std::atomic<int> failure{0};  ///< Failure
};

/// How long a transport may take to connect, and to go without consent once connected.
struct TransportTimeouts {
  /// ICE + DTLS must be done this long after the transport opens, or after the peer's
  /// answer arrives where the server offered (a subscriber). Up to 3x as long while the
  /// peer's DTLS datagrams keep arriving, each within this long of the last: a
  /// handshake still under way.
  int64_t connect_us = 10'000'000;
  int64_t consent_us = 30'000'000;  ///< RFC 7675: connected and no check for this long = failed
};

class WebRtcTransport {
 public:
  enum class State : uint8_t { kNew, kIceConnected, kConnected, kFailed, kClosed };

  /// What the transport's datagrams need from the worker. Called on the worker thread,
  /// from inside Receive, Tick and the Send calls.
  class Listener {
   public:
    virtual ~Listener() = default;
    /// ICE chose a new path (the first, or a nominated other one): the worker indexes
    /// the transport by it. `old` is the previous path, null for the first.
    virtual void OnPathChanged(WebRtcTransport& t, const sockaddr_storage* old) = 0;
    /// A new media packet of publish track `track` (RTX already unwrapped into the
    /// original packet; duplicates are not reported). `v` points into the receive buffer.
    virtual void OnRtp(WebRtcTransport& t, size_t track, const RtpView& v) = 0;
    /// A valid decrypted compound RTCP packet from the client.
    virtual void OnRtcp(WebRtcTransport& t, std::span<const uint8_t> rtcp, int64_t now_us) = 0;
    /// A data channel message from the client (data connections).
    virtual void OnDataMessage(WebRtcTransport& /*t*/, const SctpMessage& /*m*/) {}
    /// A datagram of this transport was dropped, for `reason` (the worker counts it).
    virtual void OnDropped(WebRtcTransport& /*t*/, DropReason /*reason*/) {}
  };

  /// Where the transport's datagrams go: the worker's socket.
  class PacketSink {
   public:
    virtual ~PacketSink() = default;
    /// Sends one datagram at once: STUN answers and DTLS flights are rare, and a
    /// flight's datagram can exceed a slot.
    virtual void SendNow(std::span<const uint8_t> datagram, const sockaddr_storage& to) = 0;
    /// A send slot of kSlotBytes for the next batched datagram.
    virtual uint8_t* Slot() = 0;
    /// Queues the slot Slot() returned, filled with `length` bytes, to `to`.
    virtual void Queue(size_t length, const sockaddr_storage& to) = 0;
  };

  /// Test hooks: called with each decrypted packet before the transport handles it.
  using RtpHandler = std::function<void(RtpView&)>;
  using RtcpHandler = std::function<void(std::span<const uint8_t>)>;
  using StateHandler = std::function<void(State)>;

  /// `listener` and `sink` outlive the transport; either may be null (then nothing is
  /// reported, or nothing sent).
  WebRtcTransport(uint64_t id, TransportParams params, std::shared_ptr<DtlsCertificate> cert, int64_t now_us,
                  TransportTimeouts timeouts = {}, Listener* listener = nullptr, PacketSink* sink = nullptr);
  WebRtcTransport(const WebRtcTransport&) = delete;
  WebRtcTransport& operator=(const WebRtcTransport&) = delete;

  [[nodiscard]] uint64_t id() const { return id_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] Failure failure() const { return failure_; }
  [[nodiscard]] const TransportParams& params() const { return params_; }
  [[nodiscard]] const TransportCounters& counters() const { return *counters_; }
  /// The counters, for the worker to count what it forwards on this transport.
  [[nodiscard]] const std::shared_ptr<TransportCounters>& shared_counters() const { return counters_; }
  [[nodiscard]] bool has_path() const { return has_path_; }
  [[nodiscard]] const sockaddr_storage& path() const { return path_; }
  [[nodiscard]] uint64_t stun_requests() const { return stun_requests_; }

  void OnRtp(RtpHandler h) { on_rtp_ = std::move(h); }
  void OnRtcp(RtcpHandler h) { on_rtcp_ = std::move(h); }
  void OnState(StateHandler h) { on_state_ = std::move(h); }
  /// The publish side's tracks; video tracks get a retransmission buffer.
  void SetInboundTracks(const std::vector<InboundTrack>& tracks) {
    tracks_.Set(tracks, params_.ext_rid, params_.ext_repaired_rid, params_.ext_mid);
  }
  [[nodiscard]] size_t inbound_track_count() const { return tracks_.size(); }
  /// The inbound track `i` as configured (SetInboundTracks); `i` < inbound_track_count().
  [[nodiscard]] const InboundTrack& inbound_track(size_t i) const { return tracks_[i].cfg; }
  [[nodiscard]] PublisherTracks& tracks() { return tracks_; }
  [[nodiscard]] const PublisherTracks& tracks() const { return tracks_; }
  /// Subscribe side: what the client can take, and whether video to it is paused.
  [[nodiscard]] DownstreamEstimate& downstream() { return downstream_; }
  /// Subscribe side: the id of abs-send-time in what is sent to the client (0: none),
  /// from its answer (negotiate.hpp kSubscribeAbsSendTimeId).
  [[nodiscard]] uint8_t abs_send_time_id() const { return abs_send_time_id_; }
  void set_abs_send_time_id(uint8_t id) { abs_send_time_id_ = id; }
  /// Subscribe side: the id of the transport-wide sequence number in what is sent to the
  /// client (0: none), from its answer; with it the server estimates the client's
  /// downstream from its transport-cc feedback (send_side_bwe.hpp). Control path: the
  /// estimate is made here, once.
  [[nodiscard]] uint8_t transport_cc_id() const { return transport_cc_id_; }
  void set_transport_cc_id(uint8_t id);
  /// The estimate when the client took transport-cc, else nullptr.
  [[nodiscard]] SendSideBwe* send_side_bwe() { return send_bwe_.get(); }
  /// For transports where the server offered: the client's credentials arrive with its
  /// answer, and its DTLS role (`dtls_client`: it answered passive, so we are the
  /// client). The role is fixed once the handshake started; a later answer (after a
  /// re-offer) cannot change it.
  void SetRemote(std::string remote_ufrag, std::string remote_fingerprint, bool dtls_client = false);
  /// Shares counters with the control plane (replaces the transport's own).
  void SetCounters(std::shared_ptr<TransportCounters> c);

  /// One datagram from `from`, classified (RFC 7983). STUN is taken from any address
  /// (its USERNAME named this transport); the rest only from the path ICE validated.
  void Receive(std::span<uint8_t> packet, PacketClass cls, const sockaddr_storage& from, int64_t now_us,
               int64_t arrival_us);
  /// Timers: DTLS retransmissions, then the connect timeout (ICE + DTLS) and consent
  /// freshness (RFC 7675), judged at `now_us`.
  void Tick(int64_t now_us);
  /// True once after the transport connected: the worker then asks for keyframes (a
  /// decoder can only start on one).
  bool TakeJustConnected();
  /// Publish side, connected: the feedback the client's sender needs (transport-cc
  /// every 50 ms, NACKs for what it lost, a receiver report every second).
  void SendFeedback(int64_t now_us);

  /// Protects and queues RTP/RTCP to the client (false if not connected or not sent).
  bool SendRtp(std::span<const uint8_t> rtp);
  bool SendRtcp(std::span<const uint8_t> rtcp);
  /// Protects an RTP packet of `length` bytes in place in `slot` (of kSlotBytes, from
  /// the sink); returns its new length, 0 if it cannot be sent. The caller queues it to
  /// path(). For the forwarding path, which rewrites packets straight into a slot.
  size_t ProtectRtp(uint8_t* slot, size_t length);

  /// Data connections: sends one data channel message (false when not open, too large
  /// or SCTP's buffer is full: not sent).
  bool SendData(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, SctpSendOptions options);

  /// Fails the transport with `f` (no-op when already failed or closed).
  void Fail(Failure f);
  /// The worker removed it: no more timers or packets.
  void Close() { SetState(State::kClosed); }

 private:
  void HandleStun(std::span<const uint8_t> packet, const sockaddr_storage& from, int64_t now_us);
  void HandleDtls(std::span<const uint8_t> packet);
  /// The DTLS client role: sends the ClientHello once ICE gave a path.
  void StartDtlsClient();
  void MakeDtls(DtlsTransport::Role role);
  void HandleSrtp(std::span<uint8_t> packet, PacketClass cls, int64_t now_us, int64_t arrival_us);
  /// Publish side: transport-cc, track matching, RTX, audio level, receive bookkeeping.
  void HandleMedia(RtpView& v, int64_t now_us, int64_t arrival_us);
  void SetState(State s);
  void Drop(DropReason r) {
    if (listener_) listener_->OnDropped(*this, r);
  }
  /// After the DTLS handshake: checks the peer's fingerprint against the SDP's (when
  /// known) and opens the SRTP sessions.
  void FinishDtls();
  /// Hands the messages SCTP received to the listener.
  void DeliverData();

  uint64_t id_;
  TransportParams params_;
  std::shared_ptr<DtlsCertificate> cert_;
  TransportTimeouts timeouts_;
  Listener* listener_;
  PacketSink* sink_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  std::unique_ptr<SctpAssociation> sctp_;  ///< data connections, once DTLS is done
  bool dtls_done_ = false;                 ///< the handshake finished and the fingerprint matched
  State state_ = State::kNew;
  Failure failure_ = Failure::kNone;
  bool has_path_ = false;
  sockaddr_storage path_{};
  int64_t created_us_ = 0, last_check_us_ = 0, last_rr_us_ = 0, last_twcc_us_ = 0;
  int64_t last_dtls_in_us_ = 0;  ///< the peer's last DTLS datagram (0: none yet)
  uint64_t stun_requests_ = 0;
  bool just_connected_ = false;
  bool restart_connect_clock_ = false;  ///< the peer's answer arrived: the next Tick restarts created_us_
  std::shared_ptr<TransportCounters> counters_;
  PublisherTracks tracks_;
  DownstreamEstimate downstream_;
  uint8_t abs_send_time_id_ = 0, transport_cc_id_ = 0;
  std::unique_ptr<SendSideBwe> send_bwe_;
  std::unique_ptr<TwccRecorder> twcc_;
  RtpHandler on_rtp_;
  RtcpHandler on_rtcp_;
  StateHandler on_state_;
};

/// The transport's name where the worker and the control plane knew it.
using Transport = WebRtcTransport;

/// The name the admin API shows: "new", "ice-connected", "connected", "failed", "closed".
std::string_view Name(WebRtcTransport::State s);

}  // namespace parley::sfu
