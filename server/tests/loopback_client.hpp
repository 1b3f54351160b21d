// What the tests' WebRTC clients share (media_peer.hpp, data_peer.hpp): a UDP socket
// connected to a media worker on 127.0.0.1, an ICE check, and the DTLS client handshake.
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

class LoopbackClient {
 public:
  explicit LoopbackClient(uint16_t server_port) : cert_(*DtlsCertificate::Generate()) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    a.sin_port = htons(server_port);
    connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
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

  void Send(std::span<const uint8_t> d) { (void)send(fd_, d.data(), d.size(), 0); }
  /// The next datagram within `timeout`; empty on timeout.
  Bytes Recv(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    Bytes buf(2048);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

  int fd_ = -1;
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
};

}  // namespace parley::sfu::test_peer
