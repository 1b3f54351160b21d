#include "sfu/webrtc_transport.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "sfu/stun.hpp"
#include "sfu/tcp_links.hpp"

namespace parley::sfu {
namespace {

constexpr int64_t kTwccIntervalUs = 50'000;
// Twice a second: the SDKs call an uplink "down" (quality 6) when a whole 2 s stats
// interval brings no receiver report, and at 10 % loss one lost report of two would
// do that about once a minute; four in a row, about once a day.
constexpr int64_t kReportIntervalUs = 500'000;

}  // namespace

std::string_view Name(Failure f) {
  switch (f) {
    case Failure::kNone: return "none";
    case Failure::kIceTimeout: return "ice-timeout";
    case Failure::kDtlsTimeout: return "dtls-timeout";
    case Failure::kDtlsFailed: return "dtls-failed";
    case Failure::kConsentLost: return "consent-lost";
    case Failure::kClosedByPeer: return "closed-by-peer";
    case Failure::kInternalError: return "internal-error";
  }
  return "unknown";
}

std::string_view Name(WebRtcTransport::State s) {
  switch (s) {
    case WebRtcTransport::State::kNew: return "new";
    case WebRtcTransport::State::kIceConnected: return "ice-connected";
    case WebRtcTransport::State::kConnected: return "connected";
    case WebRtcTransport::State::kFailed: return "failed";
    case WebRtcTransport::State::kClosed: return "closed";
  }
  return "new";  // as the admin API always said for a value it did not know
}

WebRtcTransport::WebRtcTransport(uint64_t id, TransportParams params, std::shared_ptr<DtlsCertificate> cert,
                                 int64_t now_us, TransportTimeouts timeouts, Listener* listener, PacketSink* sink)
    : id_(id),
      params_(std::move(params)),
      cert_(std::move(cert)),
      timeouts_(timeouts),
      listener_(listener),
      sink_(sink),
      created_us_(now_us),
      counters_(std::make_shared<TransportCounters>()) {
  if (params_.ext_transport_cc) twcc_ = std::make_unique<TwccRecorder>();
}

void WebRtcTransport::set_transport_cc_id(uint8_t id) {
  transport_cc_id_ = id;
  if (!id)
    send_bwe_.reset();
  else if (!send_bwe_)
    send_bwe_ = std::make_unique<SendSideBwe>();
}

void WebRtcTransport::SetCounters(std::shared_ptr<TransportCounters> c) {
  counters_ = std::move(c);
  counters_->state.store(static_cast<int>(state_));
}

void WebRtcTransport::SetState(State s) {
  if (state_ == s) return;
  state_ = s;
  counters_->state.store(static_cast<int>(s));
  if (on_state_) on_state_(s);
}

void WebRtcTransport::Fail(Failure f) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  failure_ = f;
  counters_->failure.store(static_cast<int>(f));
  SetState(State::kFailed);
}

void WebRtcTransport::Receive(std::span<uint8_t> packet, PacketClass cls, const sockaddr_storage& from, int64_t now_us,
                              int64_t arrival_us) {
  switch (cls) {
    case PacketClass::kStun: HandleStun(packet, from, now_us); break;
    case PacketClass::kDtls:
      last_dtls_in_us_ = now_us;
      HandleDtls(packet);
      break;
    case PacketClass::kRtp:
    case PacketClass::kRtcp: HandleSrtp(packet, cls, now_us, arrival_us); break;
    case PacketClass::kUnknown: Drop(DropReason::kMalformed); break;
  }
}

void WebRtcTransport::HandleStun(std::span<const uint8_t> packet, const sockaddr_storage& from, int64_t now_us) {
  auto m = ParseStun(packet);
  // RFC 8445 §7.3: a request must carry a valid MESSAGE-INTEGRITY for our password
  // and USERNAME "ours:theirs"; otherwise it is dropped silently (no error response
  // leaks whether the ufrag exists).
  if (!m || m->type != kStunBindingRequest || !VerifyStunIntegrity(*m, packet, params_.local_pwd) ||
      (m->fingerprint_offset && !VerifyStunFingerprint(*m, packet))) {
    Drop(DropReason::kBadStun);
    return;
  }
  std::string_view user = m->username;
  auto colon = user.find(':');
  if (colon == std::string_view::npos || user.substr(0, colon) != params_.local_ufrag ||
      (!params_.remote_ufrag.empty() && user.substr(colon + 1) != params_.remote_ufrag)) {
    Drop(DropReason::kBadStun);
    return;
  }
  if (state_ == State::kFailed || state_ == State::kClosed) {  // no consent for a dead transport
    Drop(DropReason::kClosedTransport);
    return;
  }
  ++stun_requests_;
  last_check_us_ = now_us;
  // ICE-lite: the controlling side nominates; we follow (RFC 8445 §7.3.1.5). Before any
  // nomination the first valid address serves, so DTLS can start right away. The path
  // is taken before the answer leaves: the worker is ready for what the client sends
  // next (with one port shared, its socket connected to the client is open).
  if (m->use_candidate || !has_path_) {
    bool had_path = has_path_;
    sockaddr_storage old = path_;
    path_ = from;
    has_path_ = true;
    counters_->over_tcp.store(IsTcp(from), std::memory_order_relaxed);
    if (listener_) listener_->OnPathChanged(*this, had_path ? &old : nullptr);
  }
  uint8_t out[128];
  size_t n = WriteStunBindingSuccess(out, m->transaction_id, from, params_.local_pwd);
  if (n && sink_) sink_->SendNow(std::span<const uint8_t>(out, n), from);
  if (state_ == State::kNew) SetState(State::kIceConnected);
  if (params_.dtls_client) StartDtlsClient();
}

void WebRtcTransport::MakeDtls(DtlsTransport::Role role) {
  // The fingerprint is checked in FinishDtls (it may arrive after the handshake).
  dtls_ = std::make_unique<DtlsTransport>(cert_, role, "", [this](std::span<const uint8_t> d) {
    if (sink_) sink_->SendNow(d, path_);
  });
  if (params_.sctp_port) {  // a data connection: SCTP in DTLS, SRTP not needed
    dtls_->AllowNoSrtp();
    dtls_->OnApplicationData([this](std::span<const uint8_t> d) {
      if (!sctp_) return;  // before the fingerprint was checked: SCTP retransmits
      sctp_->Input(d);
      DeliverData();
    });
  }
  dtls_->Start();
}

void WebRtcTransport::StartDtlsClient() {
  if (dtls_ || !has_path_ || state_ == State::kFailed || state_ == State::kClosed) return;
  MakeDtls(DtlsTransport::Role::kClient);
  if (dtls_->state() == DtlsTransport::State::kFailed) Fail(Failure::kDtlsFailed);
}

void WebRtcTransport::HandleDtls(std::span<const uint8_t> packet) {
  if (!has_path_ || state_ == State::kFailed) {  // DTLS only after ICE validated the path
    Drop(has_path_ ? DropReason::kClosedTransport : DropReason::kNotReady);
    return;
  }
  // The client role started with the path; a datagram before that (or a peer that
  // also thinks it is the client) finds us passive.
  if (!dtls_) MakeDtls(DtlsTransport::Role::kServer);
  dtls_->Feed(packet);
  if (dtls_->state() == DtlsTransport::State::kConnected && !dtls_done_) {
    FinishDtls();
  } else if (dtls_->state() == DtlsTransport::State::kFailed) {
    Fail(Failure::kDtlsFailed);
  } else if (dtls_->state() == DtlsTransport::State::kClosed) {
    Fail(Failure::kClosedByPeer);
  }
}

void WebRtcTransport::SetRemote(std::string remote_ufrag, std::string remote_fingerprint, bool dtls_client) {
  // A subscriber's answer crossed the signalling connection, which through heavy loss
  // can take seconds: its ICE and DTLS get the whole bound from here (Tick), not what
  // is left of it since the offer.
  if (params_.remote_ufrag.empty() && state_ == State::kNew) restart_connect_clock_ = true;
  params_.remote_ufrag = std::move(remote_ufrag);
  params_.remote_fingerprint = std::move(remote_fingerprint);
  if (!dtls_) params_.dtls_client = dtls_client;
  if (params_.dtls_client) StartDtlsClient();
  // DTLS may have finished before the answer arrived: the check happens now.
  if (dtls_ && dtls_->state() == DtlsTransport::State::kConnected && !dtls_done_) FinishDtls();
}

void WebRtcTransport::FinishDtls() {
  if (params_.remote_fingerprint.empty() || state_ == State::kFailed) return;  // wait for SetRemote
  if (!SameFingerprint(dtls_->peer_fingerprint(), params_.remote_fingerprint)) {
    Fail(Failure::kDtlsFailed);
    return;
  }
  if (params_.sctp_port) {
    // Both sides connect (RFC 8841 §9.3 leaves it to SCTP to settle crossing INITs).
    sctp_ = std::make_unique<SctpAssociation>(kSctpPort, params_.sctp_port, [this](std::span<const uint8_t> p) {
      if (dtls_) (void)dtls_->SendApplicationData(p);
    });
    if (!sctp_->Start()) {
      Fail(Failure::kDtlsFailed);
      return;
    }
    dtls_done_ = true;
    just_connected_ = true;
    SetState(State::kConnected);
    return;
  }
  const auto& k = dtls_->keys();
  auto in = SrtpSession::Create(k.profile, k.remote_master, SrtpSession::Direction::kInbound);
  auto out = SrtpSession::Create(k.profile, k.local_master, SrtpSession::Direction::kOutbound);
  if (!in || !out) {
    Fail(Failure::kDtlsFailed);
    return;
  }
  srtp_in_ = std::move(*in);
  srtp_out_ = std::move(*out);
  dtls_done_ = true;
  just_connected_ = true;
  SetState(State::kConnected);
}

void WebRtcTransport::HandleSrtp(std::span<uint8_t> packet, PacketClass cls, int64_t now_us, int64_t arrival_us) {
  if (!srtp_in_) {
    Drop(DropReason::kNotReady);
    return;
  }
  if (cls == PacketClass::kRtp) {
    size_t n = srtp_in_->UnprotectRtp(packet.data(), packet.size());
    if (!n) {
      Drop(DropReason::kSrtpRejected);
      return;
    }
    // Authenticated media from the client proves the path as well as a check does
    // (clients that keep ICE alive with Binding indications, as libnice does by
    // default, never send requests once connected).
    last_check_us_ = now_us;
    auto v = ParseRtp(packet.first(n));
    if (!v) {
      Drop(DropReason::kMalformed);
      return;
    }
    counters_->rtp_packets.fetch_add(1, std::memory_order_relaxed);
    counters_->rtp_bytes.fetch_add(v->payload_length, std::memory_order_relaxed);
    if (on_rtp_) on_rtp_(*v);
    HandleMedia(*v, now_us, arrival_us);
    return;
  }
  size_t n = srtp_in_->UnprotectRtcp(packet.data(), packet.size());
  if (!n || !IsValidRtcp(packet.first(n))) {
    Drop(n ? DropReason::kMalformed : DropReason::kSrtpRejected);
    return;
  }
  last_check_us_ = now_us;
  if (on_rtcp_) on_rtcp_(packet.first(n));
  if (listener_) listener_->OnRtcp(*this, packet.first(n), now_us);
}

void WebRtcTransport::HandleMedia(RtpView& v, int64_t now_us, int64_t arrival_us) {
  // Transport-wide sequence numbers count every packet, padding probes and RTX included.
  if (twcc_)
    if (auto e = v.Extension(params_.ext_transport_cc); e && e->size() >= 2) {
      uint16_t seq = Load16(e->data());
      if (!twcc_->Record(seq, arrival_us)) {
        uint8_t fb[1200];
        if (size_t n = twcc_->WriteFeedback(fb, sizeof fb, kServerSsrc, tracks_.FeedbackSsrc())) SendRtcp({fb, n});
        (void)twcc_->Record(seq, arrival_us);
      }
    }
  bool rtx = false;
  int index = tracks_.Match(v, &rtx);
  if (index < 0) {
    Drop(DropReason::kUnknownSsrc);
    return;
  }
  PublisherTracks::Track& t = tracks_[static_cast<size_t>(index)];
  if (rtx) {
    // RFC 4588 §4: the original sequence number leads the payload. Rebuild the original
    // packet in place (the header moves up two bytes over it).
    if (v.payload_length < 2 || !t.stats.started()) {  // a padding-only probe, or nothing to repair yet
      Drop(DropReason::kRtxPadding);
      return;
    }
    uint16_t osn = Load16(v.data.data() + v.payload_offset);
    std::memmove(v.data.data() + 2, v.data.data(), v.payload_offset);
    auto inner = ParseRtp(v.data.subspan(2));
    if (!inner) {
      Drop(DropReason::kMalformed);
      return;
    }
    inner->SetSequence(osn);
    inner->SetSsrc(t.stats.ssrc());
    bool of_red = t.cfg.red_rtx_payload_type && v.payload_type == t.cfg.red_rtx_payload_type;
    inner->SetPayloadType(of_red ? t.cfg.red_payload_type : t.cfg.payload_type);
    v = *inner;
  }
  // What subscribers' depacketizers and decoders will read: the negotiated payload type
  // and a payload well-formed for it (payload_check.hpp), or RED whose every block is
  // (red.hpp). A failure is a lost packet.
  bool red = t.cfg.red_payload_type && v.payload_type == t.cfg.red_payload_type;
  if (v.payload_type != t.cfg.payload_type && !red) {
    Drop(DropReason::kBadPayloadType);
    return;
  }
  if (v.payload_length == 0 && v.padding) {  // padding only: a sender's probe, nothing to forward
    PublisherTracks::Padding(t, v, now_us);
    Drop(DropReason::kPadding);
    return;
  }
  if (red ? !RedPayloadWellFormed(t.cfg.format, t.cfg.payload_type, v.payload())
          : !PayloadWellFormed(t.cfg.format, v.payload())) {
    Drop(DropReason::kMalformedPayload);
    return;
  }
  if (!t.cfg.video && params_.ext_audio_level)
    if (auto e = v.Extension(params_.ext_audio_level); e && !e->empty()) {
      uint32_t loudness = 127u - ((*e)[0] & 0x7Fu);  // RFC 6464: -dBov, 127 = silence
      if (loudness > counters_->audio_peak.load(std::memory_order_relaxed))
        counters_->audio_peak.store(loudness, std::memory_order_relaxed);
    }
  if (!PublisherTracks::Received(t, v, now_us)) {
    Drop(DropReason::kDuplicate);
    return;
  }
  if (red) counters_->red_packets.fetch_add(1, std::memory_order_relaxed);
  if (listener_) listener_->OnRtp(*this, static_cast<size_t>(index), v);
}

void WebRtcTransport::Tick(int64_t now_us) {
  if (state_ == State::kFailed || state_ == State::kClosed || params_.mirror)
    return;  // no retransmitted flights, no timers
  if (restart_connect_clock_) {
    restart_connect_clock_ = false;
    created_us_ = std::max(created_us_, now_us);
  }
  // Connected means the handshake is over: the DTLS object (another cache line for each
  // of thousands of transports a tick) is looked at only before.
  if (state_ != State::kConnected && dtls_ && dtls_->state() == DtlsTransport::State::kConnecting)
    (void)dtls_->HandleTimeout();
  if ((state_ == State::kNew || state_ == State::kIceConnected) && now_us - created_us_ > timeouts_.connect_us) {
    // A handshake under way (the peer's DTLS reached us within the bound) gets up to
    // three times the bound: through heavy loss a peer whose own timer backs off (1 s,
    // 2 s, 4 s, 8 s) can need more than 10 s, and failing it then would only start over.
    bool progressing = state_ == State::kIceConnected && last_dtls_in_us_ &&
                       now_us - last_dtls_in_us_ <= timeouts_.connect_us &&
                       now_us - created_us_ <= 3 * timeouts_.connect_us;
    if (!progressing) Fail(has_path_ ? Failure::kDtlsTimeout : Failure::kIceTimeout);
  }
  if (state_ == State::kConnected && now_us - last_check_us_ > timeouts_.consent_us) Fail(Failure::kConsentLost);
  if (sctp_ && state_ == State::kConnected) {
    sctp_->Flush();  // what its timers produced (retransmissions, heartbeats)
    if (sctp_->state() == SctpAssociation::State::kClosed) Fail(Failure::kClosedByPeer);
  }
}

void WebRtcTransport::DeliverData() {
  for (auto& m : sctp_->TakeMessages())
    if (listener_) listener_->OnDataMessage(*this, m);
}

bool WebRtcTransport::SendData(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, SctpSendOptions options) {
  return state_ == State::kConnected && sctp_ && sctp_->Send(stream, ppid, data, options);
}

bool WebRtcTransport::TakeJustConnected() {
  bool was = just_connected_;
  just_connected_ = false;
  return was;
}

void WebRtcTransport::SendFeedback(int64_t now_us) {
  if (state_ != State::kConnected) return;
  if (twcc_ && twcc_->pending() && now_us - last_twcc_us_ >= kTwccIntervalUs) {
    last_twcc_us_ = now_us;
    uint8_t fb[1200];
    for (int i = 0; i < 4 && twcc_->pending(); ++i)
      if (size_t n = twcc_->WriteFeedback(fb, sizeof fb, kServerSsrc, tracks_.FeedbackSsrc()); n && SendRtcp({fb, n}))
        counters_->twcc_feedbacks.fetch_add(1, std::memory_order_relaxed);
  }

  for (auto& tr : tracks_) {  // NACK what the publisher lost, each a few times
    if (!tr.nack.size()) continue;
    std::array<uint16_t, NackGenerator::kMaxMissing> due{};
    size_t n = tr.nack.TakeDue(now_us, due);
    if (!n) continue;
    ForEachNackPacket(kServerSsrc, tr.stats.ssrc(), {due.data(), n}, [&](std::span<const uint8_t> nack, size_t count) {
      if (SendRtcp(nack)) counters_->nacks_sent.fetch_add(count, std::memory_order_relaxed);
    });
  }

  if (!tracks_.empty() && now_us - last_rr_us_ >= kReportIntervalUs) {
    last_rr_us_ = now_us;
    std::array<ReportBlock, kMaxReportBlocks> blocks{};
    size_t count = 0;
    for (auto& tr : tracks_) {
      if (!tr.stats.started() || count == blocks.size()) continue;
      blocks[count++] = tr.stats.TakeReportBlock(now_us);
    }
    uint8_t rr[kMaxReceiverReport];
    if (size_t n = WriteReceiverReport(rr, sizeof rr, kServerSsrc, blocks.data(), count)) SendRtcp({rr, n});
  }
}

bool WebRtcTransport::SendRtp(std::span<const uint8_t> rtp) {
  if (state_ != State::kConnected || rtp.size() > kMaxDatagram || !sink_) return false;
  uint8_t* slot = sink_->Slot();
  std::memcpy(slot, rtp.data(), rtp.size());
  size_t n = srtp_out_->ProtectRtp(slot, rtp.size(), kSlotBytes);
  if (!n) return false;
  sink_->Queue(n, path_);
  return true;
}

bool WebRtcTransport::SendRtcp(std::span<const uint8_t> rtcp) {
  if (state_ != State::kConnected || rtcp.size() > kMaxDatagram || !sink_) return false;
  uint8_t* slot = sink_->Slot();
  std::memcpy(slot, rtcp.data(), rtcp.size());
  size_t n = srtp_out_->ProtectRtcp(slot, rtcp.size(), kSlotBytes);
  if (!n) return false;
  sink_->Queue(n, path_);
  return true;
}

size_t WebRtcTransport::ProtectRtp(uint8_t* slot, size_t length) {
  if (state_ != State::kConnected) return 0;
  return srtp_out_->ProtectRtp(slot, length, kSlotBytes);
}

}  // namespace parley::sfu
