#include "sfu/worker.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sfu/stun.hpp"

namespace parley::sfu {
namespace {

constexpr size_t kBatch = 32;
constexpr size_t kMaxDatagram = 1500;

}  // namespace

std::array<uint8_t, 19> AddressKey(const sockaddr_storage& a) {
  std::array<uint8_t, 19> k{};
  k[0] = static_cast<uint8_t>(a.ss_family);
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    std::memcpy(&k[1], &v4->sin_port, 2);
    std::memcpy(&k[3], &v4->sin_addr, 4);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    std::memcpy(&k[1], &v6->sin6_port, 2);
    std::memcpy(&k[3], &v6->sin6_addr, 16);
  }
  return k;
}

Transport::Transport(uint64_t id, TransportParams params, std::shared_ptr<DtlsCertificate> cert)
    : id_(id), params_(std::move(params)), cert_(std::move(cert)) {}

void Transport::SetState(State s) {
  if (state_ == s) return;
  state_ = s;
  if (on_state_) on_state_(s);
}

void Transport::HandleStun(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send) {
  auto m = ParseStun(packet);
  // RFC 8445 §7.3: a request must carry a valid MESSAGE-INTEGRITY for our password
  // and USERNAME "ours:theirs"; otherwise it is dropped silently (no error response
  // leaks whether the ufrag exists).
  if (!m || m->type != kStunBindingRequest || !VerifyStunIntegrity(*m, packet, params_.local_pwd) ||
      (m->fingerprint_offset && !VerifyStunFingerprint(*m, packet))) {
    ++stats_.stun_rejected;
    return;
  }
  std::string_view user = m->username;
  auto colon = user.find(':');
  if (colon == std::string_view::npos || user.substr(0, colon) != params_.local_ufrag ||
      (!params_.remote_ufrag.empty() && user.substr(colon + 1) != params_.remote_ufrag)) {
    ++stats_.stun_rejected;
    return;
  }
  ++stats_.stun_requests;
  uint8_t out[128];
  size_t n = WriteStunBindingSuccess(out, m->transaction_id, from, params_.local_pwd);
  if (n) send(std::span<const uint8_t>(out, n), from);
  // ICE-lite: the controlling side nominates; we follow (RFC 8445 §7.3.1.5). Before any
  // nomination the first valid address serves, so DTLS can start right away.
  if (m->use_candidate || !has_path_) {
    path_ = from;
    has_path_ = true;
  }
  if (state_ == State::kNew) SetState(State::kIceConnected);
}

void Transport::HandleDtls(std::span<const uint8_t> packet, const sockaddr_storage& from, const SendFn& send) {
  (void)from;
  if (!has_path_) return;  // DTLS only after ICE validated the path
  if (!dtls_) {
    // The fingerprint is checked in FinishDtls (it may arrive after the handshake).
    dtls_ = std::make_unique<DtlsTransport>(cert_, DtlsTransport::Role::kServer, "",
                                            [this, send](std::span<const uint8_t> d) { send(d, path_); });
    dtls_->Start();
  }
  dtls_->Feed(packet);
  if (dtls_->state() == DtlsTransport::State::kConnected && !srtp_in_) {
    FinishDtls();
  } else if (dtls_->state() == DtlsTransport::State::kFailed) {
    SetState(State::kFailed);
  } else if (dtls_->state() == DtlsTransport::State::kClosed) {
    SetState(State::kClosed);
  }
}

void Transport::SetRemote(std::string remote_ufrag, std::string remote_fingerprint) {
  params_.remote_ufrag = std::move(remote_ufrag);
  params_.remote_fingerprint = std::move(remote_fingerprint);
  // DTLS may have finished before the answer arrived: the check happens now.
  if (dtls_ && dtls_->state() == DtlsTransport::State::kConnected && !srtp_in_) FinishDtls();
}

void Transport::FinishDtls() {
  if (params_.remote_fingerprint.empty()) return;  // wait for SetRemote
  if (!SameFingerprint(dtls_->peer_fingerprint(), params_.remote_fingerprint)) {
    SetState(State::kFailed);
    return;
  }
  const auto& k = dtls_->keys();
  auto in = SrtpSession::Create(k.profile, k.remote_master, SrtpSession::Direction::kInbound);
  auto out = SrtpSession::Create(k.profile, k.local_master, SrtpSession::Direction::kOutbound);
  if (!in || !out) {
    SetState(State::kFailed);
    return;
  }
  srtp_in_ = std::move(*in);
  srtp_out_ = std::move(*out);
  SetState(State::kConnected);
}

const InboundTrack* Transport::TrackOf(const RtpView& v) const {
  for (const auto& t : inbound_)
    if (t.ssrc != 0 && t.ssrc == v.ssrc) return t.rtx_payload_type == v.payload_type ? nullptr : &t;
  for (const auto& t : inbound_)
    if (t.payload_type == v.payload_type) return &t;
  return nullptr;
}

std::optional<RtpView> Transport::HandleSrtp(std::span<uint8_t> packet, PacketClass cls,
                                             std::span<const uint8_t>* rtcp_out) {
  if (!srtp_in_) return std::nullopt;
  stats_.bytes_in += packet.size();
  if (cls == PacketClass::kRtp) {
    size_t n = srtp_in_->UnprotectRtp(packet.data(), packet.size());
    if (!n) {
      ++stats_.srtp_failed;
      return std::nullopt;
    }
    auto v = ParseRtp(packet.first(n));
    if (!v) return std::nullopt;
    ++stats_.rtp_in;
    if (on_rtp_) on_rtp_(*v);
    return v;
  }
  size_t n = srtp_in_->UnprotectRtcp(packet.data(), packet.size());
  if (!n || !IsValidRtcp(packet.first(n))) {
    ++stats_.srtp_failed;
    return std::nullopt;
  }
  ++stats_.rtcp_in;
  if (on_rtcp_) on_rtcp_(packet.first(n));
  *rtcp_out = packet.first(n);
  return std::nullopt;
}

Result<std::unique_ptr<MediaWorker>> MediaWorker::Create(const std::string& address, uint16_t port,
                                                         std::shared_ptr<DtlsCertificate> cert) {
  std::unique_ptr<MediaWorker> w(new MediaWorker());
  w->cert_ = std::move(cert);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (inet_pton(AF_INET, address.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return MakeError(Errc::kInvalidField, "bad media address " + address);
  }
  w->fd_ = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w->fd_ < 0) return MakeError(Errc::kInternalError, std::string("socket: ") + strerror(errno));
  int buf = 4 << 20;  // absorb bursts (a keyframe to many subscribers)
  setsockopt(w->fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(w->fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (bind(w->fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return MakeError(Errc::kInternalError, "bind " + address + ":" + std::to_string(port) + ": " + strerror(errno));
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(w->fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  w->port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  w->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->wake_fd_ < 0) return MakeError(Errc::kInternalError, "eventfd failed");
  w->send_buf_.resize(kMaxDatagram + kSrtpMaxOverhead);
  return w;
}

MediaWorker::~MediaWorker() {
  Stop();
  if (fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void MediaWorker::Start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { Loop(); });
}

void MediaWorker::Stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
  transports_.clear();
  by_ufrag_.clear();
  by_address_.clear();
}

void MediaWorker::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void MediaWorker::RunPosted() {
  uint64_t n;
  (void)!read(wake_fd_, &n, sizeof n);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

Transport* MediaWorker::AddTransport(uint64_t id, TransportParams params) {
  auto t = std::make_unique<Transport>(id, std::move(params), cert_);
  Transport* raw = t.get();
  by_ufrag_[raw->params().local_ufrag] = raw;
  transports_[id] = std::move(t);
  return raw;
}

void MediaWorker::RemoveTransport(uint64_t id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  routes_.erase(id);
  last_pli_.erase(id);
  for (auto& [pub, list] : routes_) RemoveRoutes(pub, id);
  by_ufrag_.erase(it->second->params().local_ufrag);
  for (auto a = by_address_.begin(); a != by_address_.end();) {
    if (a->second == it->second.get())
      a = by_address_.erase(a);
    else
      ++a;
  }
  transports_.erase(it);
}

Transport* MediaWorker::FindTransport(uint64_t id) {
  auto it = transports_.find(id);
  return it == transports_.end() ? nullptr : it->second.get();
}

void MediaWorker::SendTo(std::span<const uint8_t> packet, const sockaddr_storage& to) {
  socklen_t len = to.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  // Dropped when the socket buffer is full: media is loss-tolerant, and retries
  // (NACK, DTLS retransmission) live above this layer.
  (void)sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), len);
}

bool MediaWorker::SendRtp(Transport& t, std::span<const uint8_t> rtp) {
  if (t.state() != Transport::State::kConnected || rtp.size() > kMaxDatagram) return false;
  std::memcpy(send_buf_.data(), rtp.data(), rtp.size());
  size_t n = t.srtp_out_->ProtectRtp(send_buf_.data(), rtp.size(), send_buf_.size());
  if (!n) return false;
  SendTo(std::span<const uint8_t>(send_buf_.data(), n), t.path());
  return true;
}

bool MediaWorker::SendRtcp(Transport& t, std::span<const uint8_t> rtcp) {
  if (t.state() != Transport::State::kConnected || rtcp.size() > kMaxDatagram) return false;
  std::memcpy(send_buf_.data(), rtcp.data(), rtcp.size());
  size_t n = t.srtp_out_->ProtectRtcp(send_buf_.data(), rtcp.size(), send_buf_.size());
  if (!n) return false;
  SendTo(std::span<const uint8_t>(send_buf_.data(), n), t.path());
  return true;
}

void MediaWorker::HandleDatagram(std::span<uint8_t> packet, const sockaddr_storage& from) {
  PacketClass cls = Classify(packet);
  auto send = [this](std::span<const uint8_t> d, const sockaddr_storage& to) { SendTo(d, to); };
  if (cls == PacketClass::kStun) {
    auto m = ParseStun(packet);
    if (!m) return;
    auto it = by_ufrag_.find(std::string(LocalUfrag(m->username)));
    if (it == by_ufrag_.end()) return;
    Transport& t = *it->second;
    bool had_path = t.has_path();
    auto old_key = AddressKey(t.path());
    t.HandleStun(packet, from, send);
    if (t.has_path() && (!had_path || AddressKey(t.path()) != old_key)) {
      if (had_path) by_address_.erase(old_key);
      by_address_[AddressKey(t.path())] = &t;
    }
    return;
  }
  auto it = by_address_.find(AddressKey(from));
  if (it == by_address_.end()) return;  // not from a validated path: dropped
  Transport& t = *it->second;
  if (cls == PacketClass::kDtls)
    t.HandleDtls(packet, from, send);
  else if (cls == PacketClass::kRtp || cls == PacketClass::kRtcp) {
    std::span<const uint8_t> rtcp;
    if (auto v = t.HandleSrtp(packet, cls, &rtcp))
      Forward(t, *v);
    else if (!rtcp.empty())
      RelayKeyframeRequests(t, rtcp);
  }
}

void MediaWorker::AddRoute(uint64_t publisher, bool video, uint64_t subscriber, uint32_t out_ssrc, uint8_t out_pt) {
  auto& list = routes_[publisher];
  for (const Route& existing : list)
    if (existing.subscriber == subscriber && existing.out_ssrc == out_ssrc) return;  // already routed
  Route r;
  r.subscriber = subscriber;
  r.video = video;
  r.out_ssrc = out_ssrc;
  r.out_pt = out_pt;
  r.seq_offset = static_cast<uint16_t>(out_ssrc * 2654435761u);  // arbitrary start (RFC 3550 §5.1)
  list.push_back(r);
  if (video)
    if (Transport* p = FindTransport(publisher)) RequestKeyframe(*p);
}

void MediaWorker::MoveRoutes(uint64_t from_publisher, uint64_t to_publisher) {
  auto it = routes_.find(from_publisher);
  if (it == routes_.end()) return;
  auto moved = std::move(it->second);
  routes_.erase(it);
  bool video = false;
  auto& dst = routes_[to_publisher];
  for (auto& r : moved) {
    video = video || r.video;
    dst.push_back(r);
  }
  if (video)
    if (Transport* p = FindTransport(to_publisher)) RequestKeyframe(*p);
}

void MediaWorker::RemoveRoutes(uint64_t publisher, uint64_t subscriber) {
  auto it = routes_.find(publisher);
  if (it == routes_.end()) return;
  auto& v = it->second;
  v.erase(std::remove_if(v.begin(), v.end(), [&](const Route& r) { return r.subscriber == subscriber; }), v.end());
}

void MediaWorker::Forward(Transport& publisher, RtpView& v) {
  auto it = routes_.find(publisher.id());
  if (it == routes_.end() || it->second.empty()) return;
  const InboundTrack* track = publisher.TrackOf(v);
  if (!track) return;  // RTX and unknown streams are not forwarded
  for (Route& r : it->second) {
    if (r.video != track->video) continue;
    Transport* sub = FindTransport(r.subscriber);
    if (!sub || sub->state() != Transport::State::kConnected) continue;
    if (!r.started || v.ssrc != r.last_in_ssrc) {
      // First packet, or the publisher restarted with a new SSRC: continue right after
      // what the subscriber saw last, so its decoder sees one continuous stream.
      if (r.started) {
        r.seq_offset = static_cast<uint16_t>(r.last_out_seq + 1 - v.sequence);
        r.ts_offset = r.last_out_ts + (track->video ? 3000u : 960u) - v.timestamp;
      } else {
        r.seq_offset = static_cast<uint16_t>(r.seq_offset - v.sequence);
      }
      r.started = true;
      r.last_in_ssrc = v.ssrc;
    }
    size_t len = v.data.size();
    if (len > send_buf_.size() - kSrtpMaxOverhead) continue;
    std::memcpy(send_buf_.data(), v.data.data(), len);
    auto out = ParseRtp(std::span<uint8_t>(send_buf_.data(), len));
    if (!out) continue;
    uint16_t seq = static_cast<uint16_t>(v.sequence + r.seq_offset);
    uint32_t ts = v.timestamp + r.ts_offset;
    out->SetSsrc(r.out_ssrc);
    out->SetSequence(seq);
    out->SetTimestamp(ts);
    out->SetPayloadType(r.out_pt);
    if (!r.sent_any || SeqNewer(seq, r.last_out_seq)) {
      r.sent_any = true;
      r.last_out_seq = seq;
      r.last_out_ts = ts;
    }
    size_t n = sub->srtp_out_->ProtectRtp(send_buf_.data(), len, send_buf_.size());
    if (n) SendTo(std::span<const uint8_t>(send_buf_.data(), n), sub->path());
  }
}

void MediaWorker::RequestKeyframe(Transport& publisher) {
  // Throttled: at most one PLI per publisher per 300 ms (RFC 4585 §3.5 spirit).
  auto now = std::chrono::steady_clock::now();
  auto& last = last_pli_[publisher.id()];
  if (now - last < std::chrono::milliseconds(300)) return;
  for (const auto& t : publisher.inbound_) {
    if (!t.video || t.ssrc == 0) continue;
    uint8_t pli[12];
    WritePli(pli, 1, t.ssrc);
    if (SendRtcp(publisher, pli)) last = now;  // not yet connected: the next request may go
  }
}

void MediaWorker::RelayKeyframeRequests(Transport& subscriber, std::span<const uint8_t> rtcp) {
  for (RtcpIterator it(rtcp); !it.done(); it.Next()) {
    if (!IsKeyframeRequest(*it)) continue;
    uint32_t media = it->media_ssrc();
    for (auto& [pub, list] : routes_)
      for (const Route& r : list)
        if (r.subscriber == subscriber.id() && r.out_ssrc == media)
          if (Transport* p = FindTransport(pub)) RequestKeyframe(*p);
  }
}

void MediaWorker::Loop() {
  // Fixed receive batch: recvmmsg fills up to kBatch datagrams per system call.
  std::vector<std::array<uint8_t, kMaxDatagram>> bufs(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  std::array<sockaddr_storage, kBatch> addrs{};
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (running_.load(std::memory_order_relaxed)) {
    int timeout_ms = 100;  // DTLS retransmission timers are checked at this granularity
    if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) RunPosted();
    if (fds[0].revents & POLLIN) {
      for (;;) {
        for (size_t i = 0; i < kBatch; ++i) {
          iov[i] = {bufs[i].data(), kMaxDatagram};
          msgs[i].msg_hdr = {};
          msgs[i].msg_hdr.msg_name = &addrs[i];
          msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd_, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;
        for (int i = 0; i < n; ++i)
          HandleDatagram(std::span<uint8_t>(bufs[static_cast<size_t>(i)].data(), msgs[static_cast<size_t>(i)].msg_len),
                         addrs[static_cast<size_t>(i)]);
        if (n < static_cast<int>(kBatch)) break;
      }
    }
    for (auto& [id, t] : transports_)
      if (t->dtls_ && t->dtls_->state() == DtlsTransport::State::kConnecting) (void)t->dtls_->HandleTimeout();
  }
}

}  // namespace parley::sfu
