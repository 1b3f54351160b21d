// A data connection's client for tests and benchmarks over real UDP on 127.0.0.1
// (worker_data_test.cpp, bench/data_relay.cpp): an ICE check, the DTLS client handshake
// and an SCTP association in it, as a browser's data channel does. Its SCTP shares the
// process's stack with the worker's (one usrsctp per process).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loopback_client.hpp"
#include "sfu/data_relay.hpp"
#include "sfu/sctp.hpp"

namespace parley::sfu::test_peer {

// A data connection's client: what LoopbackClient does, and an SCTP association in
// its DTLS.
class DataPeer : public LoopbackClient {
 public:
  using LoopbackClient::LoopbackClient;

  bool Connect(const std::string& user, const std::string& pwd, const std::string& server_fp) {
    bool ok = Handshake(user, pwd, server_fp, [this](DtlsTransport& dtls) {
      dtls.AllowNoSrtp();
      dtls.OnApplicationData([this](std::span<const uint8_t> d) {
        if (sctp_) sctp_->Input(d);
      });
    });
    if (!ok) return false;
    sctp_ = std::make_unique<SctpAssociation>(
        kSctpPort, kSctpPort, [this](std::span<const uint8_t> p) { (void)dtls_->SendApplicationData(p); });
    if (!sctp_->Start()) return false;
    return PumpUntil([this] { return sctp_->state() == SctpAssociation::State::kOpen; }, 5000);
  }

  // Reads datagrams and runs SCTP's timers until `done` or `ms` passed.
  template <typename Done>
  bool PumpUntil(Done done, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < end) {
      auto d = Recv(std::chrono::milliseconds(5));
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
    auto d = Recv(std::chrono::milliseconds(wait_ms));
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
  std::unique_ptr<SctpAssociation> sctp_;
};

}  // namespace parley::sfu::test_peer
