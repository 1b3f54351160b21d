// What the tests' WebRTC clients share (media_peer.hpp, data_peer.hpp): a UDP socket
// connected to a media worker on 127.0.0.1 (or, with Over::kTcp, a TCP connection to
// the same port carrying RFC 4571 frames, as an ICE-TCP active candidate would), an ICE
// check, and the DTLS client handshake.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <functional>
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

enum class Over { kUdp, kTcp };

class LoopbackClient {
 public:
  explicit LoopbackClient(uint16_t server_port, Over over = Over::kUdp)
      : tcp_(over == Over::kTcp), cert_(*DtlsCertificate::Generate()) {
    fd_ = socket(AF_INET, (tcp_ ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    a.sin_port = htons(server_port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  /// Whether the socket reached the worker (a TCP connection can be refused).
  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] int fd() const { return fd_; }
  /// Whether the worker closed the TCP connection (within `timeout`).
  bool ClosedByServer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      uint8_t b[4096];
      ssize_t n = recv(fd_, b, sizeof b, 0);
      if (n <= 0) return true;
    }
    return false;
  }

  ~LoopbackClient() { close(fd_); }
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;
  [[nodiscard]] std::string fingerprint() const { return cert_->fingerprint(); }

  /// An ICE connectivity check with USERNAME `user`, signed with `pwd`.
  void Check(const std::string& user, const std::string& pwd) {
    std::array<uint8_t, 12> tx{};
    for (auto& b : tx) b = static_cast<uint8_t>(rand());
    Bytes req(256);
    req.resize(WriteStunBindingRequest(req, tx, user, pwd, 100, 42, true));
    Send(req);
  }

 protected:
  /// A check and its answer, then the DTLS client handshake (at most 5 s); `setup`
  /// configures the DTLS transport before it starts. True once connected.
  bool Handshake(const std::string& user, const std::string& pwd, const std::string& server_fp,
                 const std::function<void(DtlsTransport&)>& setup = {}) {
    Check(user, pwd);
    auto r = Recv(2s);
    if (r.empty() || Classify(r) != PacketClass::kStun) return false;
    dtls_ = std::make_unique<DtlsTransport>(cert_, DtlsTransport::Role::kClient, server_fp,
                                            [this](std::span<const uint8_t> d) { Send(d); });
    if (setup) setup(*dtls_);
    dtls_->Start();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (dtls_->state() == DtlsTransport::State::kConnecting && std::chrono::steady_clock::now() < deadline) {
      auto d = Recv(50ms);
      if (!d.empty() && Classify(d) == PacketClass::kDtls)
        dtls_->Feed(d);
      else
        (void)dtls_->HandleTimeout();
    }
    return dtls_->state() == DtlsTransport::State::kConnected;
  }

  void Send(std::span<const uint8_t> d) {
    if (!tcp_) {
      (void)send(fd_, d.data(), d.size(), 0);
      return;
    }
    Bytes framed = {static_cast<uint8_t>(d.size() >> 8), static_cast<uint8_t>(d.size())};
    framed.insert(framed.end(), d.begin(), d.end());
    (void)send(fd_, framed.data(), framed.size(), MSG_NOSIGNAL);
  }
  /// The next datagram (over TCP: frame) within `timeout`; empty on timeout.
  Bytes Recv(std::chrono::milliseconds timeout) {
    if (tcp_) return RecvFrame(timeout);
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    Bytes buf(2048);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  int fd_ = -1;
  bool tcp_ = false, connected_ = false;
  Bytes stream_;  ///< TCP bytes read and not yet a whole frame
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;

 private:
  Bytes RecvFrame(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (stream_.size() >= 2) {
        size_t len = static_cast<size_t>(stream_[0]) << 8 | stream_[1];
        if (stream_.size() >= 2 + len) {
          Bytes frame(stream_.begin() + 2, stream_.begin() + 2 + static_cast<std::ptrdiff_t>(len));
          stream_.erase(stream_.begin(), stream_.begin() + 2 + static_cast<std::ptrdiff_t>(len));
          return frame;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      uint8_t b[4096];
      ssize_t n = recv(fd_, b, sizeof b, 0);
      if (n <= 0) return {};
      stream_.insert(stream_.end(), b, b + n);
    }
  }
};

}  // namespace parley::sfu::test_peer
