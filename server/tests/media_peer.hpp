// A WebRTC client reduced to what a media worker sees, for tests over real UDP on
// 127.0.0.1 (worker_media_test.cpp, worker_simulcast_test.cpp): a socket, an ICE
// check, the DTLS client handshake and SRTP both ways; and RTP packets to send.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sfu/dtls.hpp"
#include "sfu/rtp.hpp"
#include "sfu/stun.hpp"

namespace parley::sfu::test_peer {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

// A WebRTC client reduced to what the worker sees: a UDP socket, an ICE check, the
// DTLS client handshake, and SRTP both ways.
class Peer {
 public:
  explicit Peer(uint16_t server_port) : cert_(*DtlsCertificate::Generate()) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    a.sin_port = htons(server_port);
    connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~Peer() { close(fd_); }
  [[nodiscard]] std::string fingerprint() const { return cert_->fingerprint(); }

  void Check(const std::string& user, const std::string& pwd) {
    std::array<uint8_t, 12> tx{};
    for (auto& b : tx) b = static_cast<uint8_t>(rand());
    Bytes req(256);
    req.resize(WriteStunBindingRequest(req, tx, user, pwd, 100, 42, true));
    Send(req);
  }

  /// A check, and then its answer: once it returns, the worker has handled the check.
  bool CheckAnswered(const std::string& user, const std::string& pwd) {
    Check(user, pwd);
    for (auto r = RecvRaw(2s); !r.empty(); r = RecvRaw(2s))
      if (Classify(r) == PacketClass::kStun) return true;  // RTCP to the publisher may come first
    return false;
  }

  /// ICE check, then the DTLS handshake; returns when SRTP is ready.
  bool Connect(const std::string& user, const std::string& pwd, const std::string& server_fp) {
    Check(user, pwd);
    auto r = RecvRaw(2s);
    if (r.empty() || Classify(r) != PacketClass::kStun) return false;
    dtls_ = std::make_unique<DtlsTransport>(cert_, DtlsTransport::Role::kClient, server_fp,
                                            [this](std::span<const uint8_t> d) { Send(d); });
    dtls_->Start();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (dtls_->state() == DtlsTransport::State::kConnecting && std::chrono::steady_clock::now() < deadline) {
      auto d = RecvRaw(50ms);
      if (!d.empty() && Classify(d) == PacketClass::kDtls)
        dtls_->Feed(d);
      else
        (void)dtls_->HandleTimeout();
    }
    if (dtls_->state() != DtlsTransport::State::kConnected) return false;
    out_ = *SrtpSession::Create(dtls_->keys().profile, dtls_->keys().local_master, SrtpSession::Direction::kOutbound);
    in_ = *SrtpSession::Create(dtls_->keys().profile, dtls_->keys().remote_master, SrtpSession::Direction::kInbound);
    return true;
  }

  void SendRtp(Bytes p) {
    p.resize(p.size() + kSrtpMaxOverhead);
    size_t n = out_->ProtectRtp(p.data(), p.size() - kSrtpMaxOverhead, p.size());
    Send({p.data(), n});
  }
  void SendRtcp(Bytes p) {
    p.resize(p.size() + kSrtpMaxOverhead);
    size_t n = out_->ProtectRtcp(p.data(), p.size() - kSrtpMaxOverhead, p.size());
    Send({p.data(), n});
  }

  /// The next decrypted RTP (or RTCP) packet within `timeout`; empty on timeout.
  Bytes RecvRtp(std::chrono::milliseconds timeout) { return RecvClass(PacketClass::kRtp, timeout); }
  Bytes RecvRtcp(std::chrono::milliseconds timeout) { return RecvClass(PacketClass::kRtcp, timeout); }
  /// The next RTCP packet of `type` (and FMT `fmt`, unless negative) within `timeout`.
  Bytes RecvRtcpOf(uint8_t type, int fmt, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto p =
          RecvRtcp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (p.empty()) break;
      for (RtcpIterator it(p); !it.done(); it.Next())
        if (it->type == type && (fmt < 0 || it->count == fmt)) return Bytes(it->data.begin(), it->data.end());
    }
    return {};
  }

 private:
  void Send(std::span<const uint8_t> d) { (void)send(fd_, d.data(), d.size(), 0); }
  Bytes RecvRaw(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    Bytes buf(2048);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  Bytes RecvClass(PacketClass want, std::chrono::milliseconds timeout) {
    auto& q = want == PacketClass::kRtp ? rtp_ : rtcp_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (q.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      auto d = RecvRaw(left);
      if (d.empty()) return {};
      PacketClass c = Classify(d);
      if (c == PacketClass::kRtp) {
        if (size_t n = in_->UnprotectRtp(d.data(), d.size()))
          rtp_.emplace_back(d.begin(), d.begin() + static_cast<long>(n));
      } else if (c == PacketClass::kRtcp) {
        if (size_t n = in_->UnprotectRtcp(d.data(), d.size()))
          rtcp_.emplace_back(d.begin(), d.begin() + static_cast<long>(n));
      }
    }
    Bytes p = std::move(q.front());
    q.pop_front();
    return p;
  }

  int fd_ = -1;
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> out_, in_;
  std::deque<Bytes> rtp_, rtcp_;
};

// An RTP packet; with `ext_id`, a one-byte header extension element carrying `ext`.
inline Bytes Rtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, Bytes payload, uint8_t ext_id = 0,
                 Bytes ext = {}) {
  Bytes p(12);
  p[0] = 0x80;
  p[1] = pt;
  Store16(&p[2], seq);
  Store32(&p[4], ts);
  Store32(&p[8], ssrc);
  if (ext_id) {
    p[0] |= 0x10;
    Bytes e = {static_cast<uint8_t>((ext_id << 4) | (ext.size() - 1))};
    e.insert(e.end(), ext.begin(), ext.end());
    while (e.size() % 4) e.push_back(0);
    p.push_back(0xBE);
    p.push_back(0xDE);
    p.push_back(0);
    p.push_back(static_cast<uint8_t>(e.size() / 4));
    p.insert(p.end(), e.begin(), e.end());
  }
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

}  // namespace parley::sfu::test_peer
