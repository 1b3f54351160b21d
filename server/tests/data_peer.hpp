// A data connection's client for tests and benchmarks over real UDP on 127.0.0.1
// (worker_data_test.cpp, bench/data_relay.cpp): an ICE check, the DTLS client handshake
// and an SCTP association in it, as a browser's data channel does. Its SCTP shares the
// process's stack with the worker's (one usrsctp per process).
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sfu/data_relay.hpp"
#include "sfu/dtls.hpp"
#include "sfu/rtp.hpp"
#include "sfu/sctp.hpp"
#include "sfu/stun.hpp"

namespace parley::sfu::test_peer {

using namespace std::chrono_literals;

// A data connection's client: a UDP socket, an ICE check, the DTLS client handshake and
// an SCTP association in it.
class DataPeer {
 public:
  using Bytes = std::vector<uint8_t>;

  explicit DataPeer(uint16_t server_port) : cert_(*DtlsCertificate::Generate()) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    a.sin_port = htons(server_port);
    connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~DataPeer() {
    sctp_.reset();
    close(fd_);
  }
  [[nodiscard]] std::string fingerprint() const { return cert_->fingerprint(); }

  bool Connect(const std::string& user, const std::string& pwd, const std::string& server_fp) {
    std::array<uint8_t, 12> tx{};
    Bytes req(256);
    req.resize(WriteStunBindingRequest(req, tx, user, pwd, 100, 42, true));
    Send(req);
    auto r = Recv(2000);
    if (r.empty() || Classify(r) != PacketClass::kStun) return false;
    dtls_ = std::make_unique<DtlsTransport>(cert_, DtlsTransport::Role::kClient, server_fp,
                                            [this](std::span<const uint8_t> d) { Send(d); });
    dtls_->AllowNoSrtp();
    dtls_->OnApplicationData([this](std::span<const uint8_t> d) {
      if (sctp_) sctp_->Input(d);
    });
    dtls_->Start();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (dtls_->state() == DtlsTransport::State::kConnecting && std::chrono::steady_clock::now() < deadline) {
      auto d = Recv(50);
      if (!d.empty() && Classify(d) == PacketClass::kDtls)
        dtls_->Feed(d);
      else
        (void)dtls_->HandleTimeout();
    }
    if (dtls_->state() != DtlsTransport::State::kConnected) return false;
    sctp_ = std::make_unique<SctpAssociation>(
        5000, 5000, [this](std::span<const uint8_t> p) { (void)dtls_->SendApplicationData(p); });
    if (!sctp_->Start()) return false;
    return PumpUntil([this] { return sctp_->state() == SctpAssociation::State::kOpen; }, 5000);
  }

  // Reads datagrams and runs SCTP's timers until `done` or `ms` passed.
  template <typename Done>
  bool PumpUntil(Done done, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < end) {
      auto d = Recv(5);
      if (!d.empty() && Classify(d) == PacketClass::kDtls) dtls_->Feed(d);
      SctpStack::Tick();
      if (sctp_) {
        sctp_->Flush();
        for (auto& m : sctp_->TakeMessages()) got.push_back(std::move(m));
      }
    }
    return done();
  }
  /// One step: a datagram (waiting at most `wait_ms` for one), SCTP's timers, and
  /// what arrived collected.
  void Step(int wait_ms) {
    auto d = Recv(wait_ms);
    if (!d.empty() && Classify(d) == PacketClass::kDtls) dtls_->Feed(d);
    SctpStack::Tick();
    if (sctp_) {
      sctp_->Flush();
      for (auto& m : sctp_->TakeMessages()) got.push_back(std::move(m));
    }
  }
  void Pump(int ms) {
    PumpUntil([] { return false; }, ms);
  }

  // Sends an envelope: `to` ("" = the channel), a colon, `payload`.
  bool SendTo(const std::string& to, const std::string& payload, uint16_t stream = 0, uint32_t ppid = kPpidString) {
    Bytes m(to.begin(), to.end());
    m.push_back(kEnvelopeSeparator);
    m.insert(m.end(), payload.begin(), payload.end());
    return SendRaw(m, stream, ppid);
  }
  bool SendRaw(const Bytes& m, uint16_t stream = 0, uint32_t ppid = kPpidString) {
    return sctp_->Send(stream, ppid, m, DataStreamOptions(stream));
  }

  std::vector<SctpMessage> got;

 private:
  void Send(std::span<const uint8_t> d) { (void)send(fd_, d.data(), d.size(), 0); }
  Bytes Recv(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return {};
    Bytes buf(2048);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

  int fd_ = -1;
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SctpAssociation> sctp_;
};

}  // namespace parley::sfu::test_peer
