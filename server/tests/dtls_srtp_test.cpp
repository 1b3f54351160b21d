// DTLS-SRTP round trip: a client and a server transport handshake over in-memory
// datagrams, verify each other's fingerprints, export SRTP keys, and protect/unprotect
// RTP and RTCP in both directions.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "sfu/dtls.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

struct Pair {
  std::shared_ptr<DtlsCertificate> server_cert, client_cert;
  std::deque<std::vector<uint8_t>> to_server, to_client;
  std::unique_ptr<DtlsTransport> server, client;
  size_t datagrams = 0;

  explicit Pair(bool wrong_fingerprint = false) {
    server_cert = *DtlsCertificate::Generate();
    client_cert = *DtlsCertificate::Generate();
    std::string expect_client = wrong_fingerprint ? server_cert->fingerprint() : client_cert->fingerprint();
    server = std::make_unique<DtlsTransport>(
        server_cert, DtlsTransport::Role::kServer, expect_client,
        [this](std::span<const uint8_t> d) { to_client.emplace_back(d.begin(), d.end()); });
    client = std::make_unique<DtlsTransport>(
        client_cert, DtlsTransport::Role::kClient, server_cert->fingerprint(),
        [this](std::span<const uint8_t> d) { to_server.emplace_back(d.begin(), d.end()); });
  }

  void Run() {
    server->Start();
    client->Start();
    for (int i = 0; i < 50 && (!to_server.empty() || !to_client.empty()); ++i) {
      while (!to_server.empty()) {
        auto d = std::move(to_server.front());
        to_server.pop_front();
        EXPECT_EQ(Classify(d), PacketClass::kDtls);
        ++datagrams;
        server->Feed(d);
      }
      while (!to_client.empty()) {
        auto d = std::move(to_client.front());
        to_client.pop_front();
        ++datagrams;
        client->Feed(d);
      }
    }
  }
};

TEST(DtlsSrtp, HandshakeExportsMatchingGcmKeys) {
  Pair p;
  p.Run();
  ASSERT_EQ(p.server->state(), DtlsTransport::State::kConnected) << p.server->failure();
  ASSERT_EQ(p.client->state(), DtlsTransport::State::kConnected) << p.client->failure();
  EXPECT_EQ(p.server->keys().profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(p.server->keys().local_master, p.client->keys().remote_master);
  EXPECT_EQ(p.server->keys().remote_master, p.client->keys().local_master);
  EXPECT_NE(p.server->keys().local_master, p.server->keys().remote_master);
  EXPECT_EQ(p.server->keys().local_master.size(), 28u);
  EXPECT_EQ(p.server_cert->fingerprint().size(), 95u);  // 32 bytes as "AB:" x 32 - 1
}

TEST(DtlsSrtp, RtpAndRtcpRoundTripBothWays) {
  Pair p;
  p.Run();
  ASSERT_EQ(p.server->state(), DtlsTransport::State::kConnected);
  const auto& sk = p.server->keys();
  const auto& ck = p.client->keys();
  auto client_out = *SrtpSession::Create(ck.profile, ck.local_master, SrtpSession::Direction::kOutbound);
  auto server_in = *SrtpSession::Create(sk.profile, sk.remote_master, SrtpSession::Direction::kInbound);
  auto server_out = *SrtpSession::Create(sk.profile, sk.local_master, SrtpSession::Direction::kOutbound);
  auto client_in = *SrtpSession::Create(ck.profile, ck.remote_master, SrtpSession::Direction::kInbound);

  for (uint16_t seq = 1000; seq < 1010; ++seq) {
    uint8_t pkt[1500] = {0x80, 111};
    Store16(pkt + 2, seq);
    Store32(pkt + 4, seq * 960u);
    Store32(pkt + 8, 0xABCDEF01);
    for (int i = 12; i < 112; ++i) pkt[i] = static_cast<uint8_t>(i);
    std::vector<uint8_t> plain(pkt, pkt + 112);
    size_t n = client_out->ProtectRtp(pkt, 112, sizeof pkt);
    ASSERT_EQ(n, 112u + 16u);  // GCM tag
    EXPECT_NE(std::vector<uint8_t>(pkt + 12, pkt + 112), std::vector<uint8_t>(plain.begin() + 12, plain.end()));
    uint8_t replay[1500];
    std::copy(pkt, pkt + n, replay);
    size_t m = server_in->UnprotectRtp(pkt, n);
    ASSERT_EQ(m, 112u);
    EXPECT_EQ(std::vector<uint8_t>(pkt, pkt + m), plain);
    // A replay is refused, and the sender never protects the same number twice.
    EXPECT_EQ(server_in->UnprotectRtp(replay, n), 0u);
    uint8_t again[1500];
    std::copy(plain.begin(), plain.end(), again);
    EXPECT_EQ(client_out->ProtectRtp(again, 112, sizeof again), 0u);
  }
  // RTCP server -> client: a PLI.
  uint8_t rtcp[64];
  size_t len = WritePli(rtcp, 1, 0xABCDEF01);
  size_t prot = server_out->ProtectRtcp(rtcp, len, sizeof rtcp);
  ASSERT_GT(prot, len);
  size_t back = client_in->UnprotectRtcp(rtcp, prot);
  ASSERT_EQ(back, len);
  RtcpIterator it(std::span<const uint8_t>(rtcp, back));
  ASSERT_FALSE(it.done());
  EXPECT_TRUE(IsKeyframeRequest(*it));
  // Tampering is detected.
  uint8_t pkt[1500] = {0x80, 111, 0, 1, 0, 0, 0, 1, 0xAB, 0xCD, 0xEF, 0x01, 1, 2, 3, 4};
  size_t n = client_out->ProtectRtp(pkt, 16, sizeof pkt);
  pkt[13] ^= 0xFF;
  EXPECT_EQ(server_in->UnprotectRtp(pkt, n), 0u);
  // No room for the tag.
  EXPECT_EQ(client_out->ProtectRtp(pkt, 16, 20), 0u);
}

TEST(DtlsSrtp, CmProfileKeysWork) {
  Pair p;
  p.Run();
  ASSERT_EQ(p.server->state(), DtlsTransport::State::kConnected);
  // Both profiles are supported by SrtpSession; exercise AES-CM with fresh keys.
  std::vector<uint8_t> master(30, 0x42);
  auto out = *SrtpSession::Create(SrtpProfile::kAes128CmSha1_80, master, SrtpSession::Direction::kOutbound);
  auto in = *SrtpSession::Create(SrtpProfile::kAes128CmSha1_80, master, SrtpSession::Direction::kInbound);
  uint8_t pkt[200] = {0x80, 96, 0, 7, 0, 0, 0, 9, 1, 2, 3, 4, 'v', 'p', '8'};
  size_t n = out->ProtectRtp(pkt, 15, sizeof pkt);
  EXPECT_EQ(n, 15u + 10u);  // HMAC-SHA1-80 tag
  EXPECT_EQ(in->UnprotectRtp(pkt, n), 15u);
  EXPECT_FALSE(SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, master, SrtpSession::Direction::kOutbound).ok());
}

TEST(DtlsSrtp, WrongFingerprintFailsTheHandshake) {
  Pair p(/*wrong_fingerprint=*/true);
  p.Run();
  EXPECT_EQ(p.server->state(), DtlsTransport::State::kFailed);
  EXPECT_NE(p.server->failure().find("fingerprint"), std::string::npos) << p.server->failure();
}

// The handshake through a lossy path: datagrams are delivered at once unless `drop`
// says otherwise (by direction and the datagram's number in it); when nothing is in
// flight, the test waits for the earliest flight timer (real time: OpenSSL reads the
// clock itself) and lets both sides retransmit. Returns the timer rounds it took.
struct LossyRun {
  std::function<bool(bool to_server, size_t n)> drop;
  size_t sent_to_server = 0, sent_to_client = 0, largest = 0;
  int rounds = 0;

  bool Connected(const Pair& p) const {
    return p.server->state() == DtlsTransport::State::kConnected &&
           p.client->state() == DtlsTransport::State::kConnected;
  }
  void Deliver(Pair& p) {
    while (!p.to_server.empty() || !p.to_client.empty()) {
      while (!p.to_server.empty()) {
        auto d = std::move(p.to_server.front());
        p.to_server.pop_front();
        largest = std::max(largest, d.size());
        if (!drop(true, sent_to_server++)) p.server->Feed(d);
      }
      while (!p.to_client.empty()) {
        auto d = std::move(p.to_client.front());
        p.to_client.pop_front();
        largest = std::max(largest, d.size());
        if (!drop(false, sent_to_client++)) p.client->Feed(d);
      }
    }
  }
  void Run(Pair& p, int max_rounds) {
    p.server->Start();
    p.client->Start();
    while (rounds < max_rounds) {
      Deliver(p);
      if (Connected(p)) return;
      auto s = p.server->HandleTimeout(), c = p.client->HandleTimeout();
      Deliver(p);
      if (!s && !c) return;  // nobody is waiting for anything: stuck or failed
      auto wait =
          std::min(s.value_or(std::chrono::milliseconds(10'000)), c.value_or(std::chrono::milliseconds(10'000)));
      std::this_thread::sleep_for(wait + std::chrono::milliseconds(5));
      p.server->HandleTimeout();
      p.client->HandleTimeout();
      ++rounds;
    }
  }
};

TEST(DtlsSrtp, FlightTimersStartShortAndDoubleToTwoSeconds) {
  EXPECT_EQ(DtlsTransport::NextFlightTimeoutUs(0), 200'000u);
  EXPECT_EQ(DtlsTransport::NextFlightTimeoutUs(200'000), 400'000u);
  EXPECT_EQ(DtlsTransport::NextFlightTimeoutUs(1'600'000), 2'000'000u);
  EXPECT_EQ(DtlsTransport::NextFlightTimeoutUs(2'000'000), 2'000'000u);
}

TEST(DtlsSrtp, ALostServerFlightCostsOneRetransmissionAndEveryDatagramFitsTheMtu) {
  Pair p;
  LossyRun run;
  // Everything the server sends first (its whole hello flight) is lost.
  run.drop = [&](bool to_server, size_t) { return !to_server && run.rounds == 0; };
  run.Run(p, 6);
  ASSERT_EQ(p.server->state(), DtlsTransport::State::kConnected) << p.server->failure();
  ASSERT_EQ(p.client->state(), DtlsTransport::State::kConnected) << p.client->failure();
  // One timer round: the client's hello again, the server's flight again, and the
  // client's answer to it is taken the first time it arrives.
  EXPECT_EQ(run.rounds, 1);
  EXPECT_LE(run.largest, 1200u);
}

TEST(DtlsSrtp, AHandshakeThroughThirtyPercentLossCompletes) {
  // Several seeds: each a different pattern of loss on both directions.
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    Pair p;
    LossyRun run;
    std::mt19937 rng(seed);
    run.drop = [&](bool, size_t) { return std::uniform_real_distribution<double>(0, 1)(rng) < 0.3; };
    run.Run(p, 12);
    EXPECT_EQ(p.server->state(), DtlsTransport::State::kConnected) << "seed " << seed << ": " << p.server->failure();
    EXPECT_EQ(p.client->state(), DtlsTransport::State::kConnected) << "seed " << seed << ": " << p.client->failure();
    EXPECT_LE(run.largest, 1200u);
  }
}

TEST(DtlsSrtp, GarbageDoesNotConnect) {
  auto cert = *DtlsCertificate::Generate();
  int sent = 0;
  DtlsTransport t(cert, DtlsTransport::Role::kServer, "AA", [&](std::span<const uint8_t>) { ++sent; });
  t.Start();
  std::vector<uint8_t> junk = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3};
  t.Feed(junk);
  EXPECT_NE(t.state(), DtlsTransport::State::kConnected);
}

}  // namespace
}  // namespace parley::sfu

namespace parley::sfu {
namespace {

TEST(DtlsSrtp, UnknownFingerprintDefersTheCheckToTheCaller) {
  auto server_cert = *DtlsCertificate::Generate();
  auto client_cert = *DtlsCertificate::Generate();
  std::deque<std::vector<uint8_t>> to_server, to_client;
  DtlsTransport server(server_cert, DtlsTransport::Role::kServer, "",
                       [&](std::span<const uint8_t> d) { to_client.emplace_back(d.begin(), d.end()); });
  DtlsTransport client(client_cert, DtlsTransport::Role::kClient, server_cert->fingerprint(),
                       [&](std::span<const uint8_t> d) { to_server.emplace_back(d.begin(), d.end()); });
  server.Start();
  client.Start();
  for (int i = 0; i < 50 && (!to_server.empty() || !to_client.empty()); ++i) {
    while (!to_server.empty()) {
      server.Feed(to_server.front());
      to_server.pop_front();
    }
    while (!to_client.empty()) {
      client.Feed(to_client.front());
      to_client.pop_front();
    }
  }
  ASSERT_EQ(server.state(), DtlsTransport::State::kConnected) << server.failure();
  EXPECT_TRUE(SameFingerprint(server.peer_fingerprint(), client_cert->fingerprint()));
  EXPECT_FALSE(SameFingerprint(server.peer_fingerprint(), server_cert->fingerprint()));
  std::string lower = client_cert->fingerprint();
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  EXPECT_TRUE(SameFingerprint(lower, client_cert->fingerprint()));
}

}  // namespace
}  // namespace parley::sfu
