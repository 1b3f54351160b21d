// WebRtcTransport without sockets or clocks: STUN checks and a DTLS client in memory,
// datagrams handed over by the test, time passed as numbers.
#include "sfu/webrtc_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <deque>
#include <string_view>
#include <thread>
#include <vector>

#include "sfu/stun.hpp"

namespace parley::sfu {
namespace {

constexpr int64_t kT0 = 1'000'000'000;
constexpr TransportTimeouts kTimeouts{300'000, 400'000};

sockaddr_storage Address(uint16_t port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
  return ss;
}

uint16_t PortOf(const sockaddr_storage& ss) {
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

std::vector<uint8_t> StunRequest(std::string_view user, std::string_view pwd, bool use_candidate, uint8_t id = 1) {
  std::array<uint8_t, 12> tx{};
  tx.fill(id);
  std::vector<uint8_t> out(256);
  out.resize(WriteStunBindingRequest(out, tx, user, pwd, 100, 42, use_candidate));
  return out;
}

struct Sent {
  std::vector<uint8_t> data;
  uint16_t port;
};

class FakeSink final : public sfu::WebRtcTransport::PacketSink {
 public:
  void SendNow(std::span<const uint8_t> d, const sockaddr_storage& to) override {
    now.push_back({{d.begin(), d.end()}, PortOf(to)});
  }
  uint8_t* Slot() override { return slot.data(); }
  void Queue(size_t length, const sockaddr_storage& to) override {
    queued.push_back({{slot.begin(), slot.begin() + static_cast<std::ptrdiff_t>(length)}, PortOf(to)});
  }
  std::vector<Sent> now, queued;
  std::array<uint8_t, kSlotBytes> slot{};
};

class FakeListener final : public sfu::WebRtcTransport::Listener {
 public:
  void OnPathChanged(sfu::WebRtcTransport& t, const sockaddr_storage* old) override {
    paths.push_back({old ? PortOf(*old) : uint16_t{0}, PortOf(t.path())});
  }
  void OnRtp(sfu::WebRtcTransport&, size_t track, const RtpView& v) override { rtp.push_back({track, v.sequence}); }
  void OnRtcp(sfu::WebRtcTransport&, std::span<const uint8_t>, int64_t) override { ++rtcp; }
  void OnDropped(sfu::WebRtcTransport&, DropReason r) override { drops.Count(r); }
  DropCounters drops;
  std::vector<std::pair<uint16_t, uint16_t>> paths;  ///< (old port or 0, new port)
  std::vector<std::pair<size_t, uint16_t>> rtp;      ///< (track, sequence)
  int rtcp = 0;
};

// Named as the unit it tests, so the tests read WebRtcTransport.*; inside this file the
// unit itself is spelled sfu::WebRtcTransport.
class WebRtcTransport : public ::testing::Test {
 protected:
  static std::shared_ptr<DtlsCertificate> ServerCert() {
    static auto cert = *DtlsCertificate::Generate();
    return cert;
  }
  static std::shared_ptr<DtlsCertificate> ClientCert() {
    static auto cert = *DtlsCertificate::Generate();
    return cert;
  }
  std::unique_ptr<sfu::WebRtcTransport> Make(std::string remote_fingerprint, std::string remote_ufrag = "cli") {
    return std::make_unique<sfu::WebRtcTransport>(
        7, TransportParams{"srv", "server-password-0123456789", remote_ufrag, std::move(remote_fingerprint)},
        ServerCert(), kT0, kTimeouts, &listener_, &sink_);
  }
  void Check(sfu::WebRtcTransport& t, uint16_t from_port, int64_t now, bool use_candidate = true) {
    auto req = StunRequest("srv:cli", "server-password-0123456789", use_candidate);
    t.Receive(req, PacketClass::kStun, Address(from_port), now, now);
  }
  // Runs the client's DTLS handshake against `t` in memory, from port 5000.
  void Handshake(sfu::WebRtcTransport& t, int64_t now) {
    std::deque<std::vector<uint8_t>> to_server;
    client_ = std::make_unique<DtlsTransport>(
        ClientCert(), DtlsTransport::Role::kClient, ServerCert()->fingerprint(),
        [&](std::span<const uint8_t> d) { to_server.emplace_back(d.begin(), d.end()); });
    DtlsTransport& client = *client_;
    client.Start();
    for (int i = 0; i < 50 && !to_server.empty(); ++i) {
      while (!to_server.empty()) {
        auto d = std::move(to_server.front());
        to_server.pop_front();
        t.Receive(d, PacketClass::kDtls, Address(5000), now, now);
      }
      auto flights = std::move(sink_.now);
      sink_.now.clear();
      for (const Sent& s : flights)
        if (Classify(s.data) == PacketClass::kDtls) {
          EXPECT_EQ(s.port, 5000);  // flights go to the path
          client.Feed(s.data);
        }
    }
    client_connected_ = client.state() == DtlsTransport::State::kConnected;
  }
  // SRTP as the client sends it, once Handshake connected.
  std::vector<uint8_t> Protect(std::vector<uint8_t> rtp) {
    if (!client_out_)
      client_out_ = *SrtpSession::Create(client_->keys().profile, client_->keys().local_master,
                                         SrtpSession::Direction::kOutbound);
    size_t length = rtp.size();
    rtp.resize(length + kSrtpMaxOverhead);
    rtp.resize(client_out_->ProtectRtp(rtp.data(), length, rtp.size()));
    return rtp;
  }

  FakeSink sink_;
  FakeListener listener_;
  std::unique_ptr<DtlsTransport> client_;
  std::unique_ptr<SrtpSession> client_out_;
  bool client_connected_ = false;
};

TEST_F(WebRtcTransport, AnswersOnlyChecksWithOurUfragAndPassword) {
  auto t = Make("");
  auto wrong_pwd = StunRequest("srv:cli", "another-password-01234567", true);
  auto wrong_local = StunRequest("xyz:cli", "server-password-0123456789", true);
  auto wrong_remote = StunRequest("srv:zzz", "server-password-0123456789", true);
  for (auto* r : {&wrong_pwd, &wrong_local, &wrong_remote}) t->Receive(*r, PacketClass::kStun, Address(5000), kT0, kT0);
  EXPECT_TRUE(sink_.now.empty());  // silently dropped: no error leaks whether the ufrag exists
  EXPECT_EQ(t->stun_requests(), 0u);
  EXPECT_FALSE(t->has_path());
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kNew);

  Check(*t, 5000, kT0);
  ASSERT_EQ(sink_.now.size(), 1u);
  EXPECT_EQ(sink_.now[0].port, 5000);
  auto answer = ParseStun(sink_.now[0].data);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->type, kStunBindingSuccess);
  EXPECT_TRUE(VerifyStunIntegrity(*answer, sink_.now[0].data, "server-password-0123456789"));
  EXPECT_EQ(t->stun_requests(), 1u);
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kIceConnected);

  // Before the client's answer its ufrag is unknown: any remote part is taken.
  auto offered = Make("", "");
  auto any_remote = StunRequest("srv:whoever", "server-password-0123456789", false);
  offered->Receive(any_remote, PacketClass::kStun, Address(5001), kT0, kT0);
  EXPECT_EQ(offered->stun_requests(), 1u);
}

TEST_F(WebRtcTransport, FollowsUseCandidateNomination) {
  auto t = Make("");
  Check(*t, 5000, kT0, false);  // the first valid address serves before any nomination
  EXPECT_EQ(PortOf(t->path()), 5000);
  Check(*t, 5001, kT0, false);  // another candidate pair's check: the path stays
  EXPECT_EQ(PortOf(t->path()), 5000);
  Check(*t, 5001, kT0, true);  // nominated: the path moves
  EXPECT_EQ(PortOf(t->path()), 5001);
  EXPECT_EQ(listener_.paths, (std::vector<std::pair<uint16_t, uint16_t>>{{0, 5000}, {5000, 5001}}));
  ASSERT_EQ(sink_.now.size(), 3u);  // every valid check is answered, to where it came from
  EXPECT_EQ(sink_.now[1].port, 5001);
}

TEST_F(WebRtcTransport, IceTimeoutThenDtlsTimeoutOnTick) {
  auto silent = Make("");
  silent->Tick(kT0 + kTimeouts.connect_us);  // exactly at the limit: still waiting
  EXPECT_EQ(silent->state(), sfu::WebRtcTransport::State::kNew);
  silent->Tick(kT0 + kTimeouts.connect_us + 1);
  EXPECT_EQ(silent->state(), sfu::WebRtcTransport::State::kFailed);
  EXPECT_EQ(silent->failure(), Failure::kIceTimeout);
  EXPECT_EQ(silent->counters().failure.load(), static_cast<int>(Failure::kIceTimeout));

  auto no_dtls = Make("");
  Check(*no_dtls, 5000, kT0 + 100'000);  // ICE works, no DTLS follows
  no_dtls->Tick(kT0 + kTimeouts.connect_us + 1);
  EXPECT_EQ(no_dtls->failure(), Failure::kDtlsTimeout);

  // A failed transport answers no more checks.
  sink_.now.clear();
  Check(*no_dtls, 5000, kT0 + kTimeouts.connect_us + 2);
  EXPECT_TRUE(sink_.now.empty());

  // A handshake under way (the peer's flights keep coming) gets up to three times the
  // bound, then fails as a DTLS timeout all the same.
  auto slow = Make(ClientCert()->fingerprint());
  Check(*slow, 5000, kT0);
  DtlsTransport client(ClientCert(), DtlsTransport::Role::kClient, ServerCert()->fingerprint(),
                       [&](std::span<const uint8_t> d) {
                         std::vector<uint8_t> copy(d.begin(), d.end());
                         slow->Receive(copy, PacketClass::kDtls, Address(5000), kT0 + 250'000, kT0 + 250'000);
                       });
  client.Start();  // its ClientHello arrives; nothing it is sent back reaches it
  slow->Tick(kT0 + kTimeouts.connect_us + 1);
  EXPECT_EQ(slow->state(), sfu::WebRtcTransport::State::kIceConnected);
  slow->Tick(kT0 + 3 * kTimeouts.connect_us + 1);
  EXPECT_EQ(slow->failure(), Failure::kDtlsTimeout);
}

// A subscriber's transport opens with the server's offer; the answer comes back over
// signalling, which through heavy loss can take seconds. Its ICE and DTLS get the whole
// bound from the answer on, and one that never answers still fails at the bound.
TEST_F(WebRtcTransport, AnAnswerRestartsTheConnectBound) {
  const int64_t bound = kTimeouts.connect_us;
  const int64_t answer_at = kT0 + bound * 2 / 3;  // most of the bound gone before the answer
  auto unanswered = Make("", "");
  unanswered->Tick(kT0 + bound + 1);
  EXPECT_EQ(unanswered->failure(), Failure::kIceTimeout);

  auto late = Make("", "");
  late->Tick(answer_at - 1);
  late->SetRemote("cli", ClientCert()->fingerprint());
  late->Tick(answer_at);
  late->Tick(kT0 + bound + 1);
  EXPECT_EQ(late->state(), sfu::WebRtcTransport::State::kNew);
  late->Tick(answer_at + bound + 1);
  EXPECT_EQ(late->failure(), Failure::kIceTimeout);

  auto answered = Make("", "");  // and connects after the offer's bound, within the answer's
  answered->SetRemote("cli", ClientCert()->fingerprint());
  answered->Tick(answer_at);
  answered->Tick(kT0 + bound + 1);
  Check(*answered, 5000, kT0 + bound + 10'000);
  Handshake(*answered, kT0 + bound + 20'000);
  answered->Tick(kT0 + bound + 30'000);
  EXPECT_EQ(answered->state(), sfu::WebRtcTransport::State::kConnected);
}

TEST_F(WebRtcTransport, ConsentLapses) {
  auto t = Make(ClientCert()->fingerprint());
  Check(*t, 5000, kT0);
  Handshake(*t, kT0);
  ASSERT_TRUE(client_connected_);
  ASSERT_EQ(t->state(), sfu::WebRtcTransport::State::kConnected);
  EXPECT_TRUE(t->TakeJustConnected());
  EXPECT_FALSE(t->TakeJustConnected());  // once
  // Checks keep consent: each one restarts the window.
  Check(*t, 5000, kT0 + 350'000);
  t->Tick(kT0 + 700'000);
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kConnected);
  t->Tick(kT0 + 350'000 + kTimeouts.consent_us + 1);
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kFailed);
  EXPECT_EQ(t->failure(), Failure::kConsentLost);
}

TEST_F(WebRtcTransport, FingerprintMismatchFails) {
  auto t = Make(ServerCert()->fingerprint());  // not the client's
  Check(*t, 5000, kT0);
  Handshake(*t, kT0);
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kFailed);
  EXPECT_EQ(t->failure(), Failure::kDtlsFailed);
  uint8_t rtcp[12];
  EXPECT_FALSE(t->SendRtcp({rtcp, WritePli(rtcp, 1, 2)}));
}

TEST_F(WebRtcTransport, HandshakeBeforeTheAnswerWaitsForSetRemote) {
  auto t = Make("", "");  // the server offered; the client's answer is on its way
  Check(*t, 5000, kT0);
  Handshake(*t, kT0);
  ASSERT_TRUE(client_connected_);
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kIceConnected);  // nothing to check the peer against yet
  t->SetRemote("cli", ClientCert()->fingerprint());
  EXPECT_EQ(t->state(), sfu::WebRtcTransport::State::kConnected);

  // Connected: what is sent is protected and batched to the path.
  uint8_t pli[12];
  ASSERT_TRUE(t->SendRtcp({pli, WritePli(pli, 1, 2)}));
  ASSERT_EQ(sink_.queued.size(), 1u);
  EXPECT_EQ(sink_.queued[0].port, 5000);
  EXPECT_GT(sink_.queued[0].data.size(), sizeof pli);  // SRTCP adds its index and tag

  // The answer with the wrong fingerprint fails it instead.
  auto other = Make("", "");
  Check(*other, 5000, kT0);
  Handshake(*other, kT0);
  other->SetRemote("cli", ServerCert()->fingerprint());
  EXPECT_EQ(other->failure(), Failure::kDtlsFailed);
}

// The server as the DTLS client (it answered a=setup:active, or the client answered
// passive): the ClientHello leaves with the first check's answer, and the server's own
// timer retransmits a lost flight after 200 ms, so a peer that never retransmits (or
// waits a second, as OpenSSL's default does) still completes in a few hundred ms.
TEST_F(WebRtcTransport, AsTheDtlsClientItStartsWithThePathAndRetransmitsLostFlightsItself) {
  TransportParams params{"srv", "server-password-0123456789", "cli", ClientCert()->fingerprint()};
  params.dtls_client = true;
  // OpenSSL times flights on the real clock: this test runs in real time.
  sfu::WebRtcTransport t(7, params, ServerCert(), kT0, TransportTimeouts{10'000'000, 30'000'000}, &listener_, &sink_);
  auto started = std::chrono::steady_clock::now();
  Check(t, 5000, kT0);
  std::vector<std::vector<uint8_t>> hello;
  for (const Sent& s : sink_.now)
    if (Classify(s.data) == PacketClass::kDtls) hello.push_back(s.data);
  sink_.now.clear();
  ASSERT_FALSE(hello.empty()) << "no ClientHello with the path";

  // The peer is a DTLS server that only answers what it gets (the test never runs its
  // timer). Lost: the first ClientHello (above), the peer's first flight, and every
  // other batch the server sends after that.
  int64_t now = kT0;
  bool lose_peer_flight = true;
  DtlsTransport peer(ClientCert(), DtlsTransport::Role::kServer, ServerCert()->fingerprint(),
                     [&](std::span<const uint8_t> d) {
                       std::vector<uint8_t> copy(d.begin(), d.end());
                       if (!lose_peer_flight) t.Receive(copy, PacketClass::kDtls, Address(5000), now, now);
                     });
  peer.Start();
  int batches = 0, lost = 1;
  for (int step = 0; step < 200 && t.state() != sfu::WebRtcTransport::State::kConnected; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the worker's tick
    now += 20'000;
    t.Tick(now);
    std::vector<std::vector<uint8_t>> batch;
    for (const Sent& s : sink_.now)
      if (Classify(s.data) == PacketClass::kDtls) batch.push_back(s.data);
    sink_.now.clear();
    if (batch.empty()) continue;
    if (++batches % 2 == 0) {
      ++lost;
      continue;
    }
    for (const auto& d : batch) peer.Feed(d);
    if (lose_peer_flight) {
      lose_peer_flight = false;
      ++lost;
    }
  }
  EXPECT_GE(lost, 3);
  ASSERT_EQ(t.state(), sfu::WebRtcTransport::State::kConnected);
  EXPECT_EQ(peer.state(), DtlsTransport::State::kConnected);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3))
      << "retransmitted by the server's own timer (200 ms, doubling)";
}

// A subscribe answer that says passive makes the server the client; one that says
// active keeps it the server, and a later answer cannot change a started role.
TEST_F(WebRtcTransport, SetRemoteTakesTheRoleTheAnswerLeftToTheServer) {
  auto t = Make("", "");
  Check(*t, 5000, kT0);
  EXPECT_TRUE(sink_.now.size() == 1u);  // only the check's answer: still waiting for the role
  sink_.now.clear();
  t->SetRemote("cli", ClientCert()->fingerprint(), true);
  bool hello = false;
  for (const Sent& s : sink_.now) hello = hello || Classify(s.data) == PacketClass::kDtls;
  EXPECT_TRUE(hello);
  EXPECT_TRUE(t->params().dtls_client);
  t->SetRemote("cli", ClientCert()->fingerprint(), false);
  EXPECT_TRUE(t->params().dtls_client);
}

std::vector<uint8_t> RtpPacket(uint8_t pt, uint16_t seq, uint32_t ssrc) {
  std::vector<uint8_t> p(30, 0xAB);
  p[0] = 0x80;
  p[1] = pt;
  Store16(p.data() + 2, seq);
  Store32(p.data() + 4, 0);
  Store32(p.data() + 8, ssrc);
  return p;
}

TEST_F(WebRtcTransport, MediaReachesTheListenerWithItsTrackOnceAndCounted) {
  auto t = Make(ClientCert()->fingerprint());
  t->SetInboundTracks({{false, 1111, 111, 0, 0}, {true, 2222, 96, 97, 2223}});
  Check(*t, 5000, kT0);
  Handshake(*t, kT0);
  ASSERT_EQ(t->state(), sfu::WebRtcTransport::State::kConnected);
  for (auto p : {RtpPacket(96, 7, 2222), RtpPacket(111, 1, 1111), RtpPacket(96, 7, 2222), RtpPacket(100, 1, 9999)}) {
    auto srtp = Protect(p);
    t->Receive(srtp, PacketClass::kRtp, Address(5000), kT0 + 1000, kT0 + 1000);
  }
  // The replayed packet fails SRTP's replay check (RFC 3711 §3.3.2); the packet of no
  // track is counted as received but not reported.
  EXPECT_EQ(listener_.rtp, (std::vector<std::pair<size_t, uint16_t>>{{1, 7}, {0, 1}}));
  EXPECT_EQ(t->counters().rtp_packets.load(), 3u);
  // An unprotected packet fails authentication: dropped, not counted.
  listener_.rtp.clear();
  auto garbage = RtpPacket(96, 8, 2222);
  t->Receive(garbage, PacketClass::kRtp, Address(5000), kT0 + 2000, kT0 + 2000);
  EXPECT_TRUE(listener_.rtp.empty());
  EXPECT_EQ(t->counters().rtp_packets.load(), 3u);
  // RTCP goes to the listener whole.
  std::vector<uint8_t> pli(12 + kSrtpMaxOverhead);
  pli.resize(client_out_->ProtectRtcp(pli.data(), WritePli(pli.data(), 1111, 2222), pli.size()));
  t->Receive(pli, PacketClass::kRtcp, Address(5000), kT0 + 3000, kT0 + 3000);
  EXPECT_EQ(listener_.rtcp, 1);
}

// A publisher's packets reach subscribers only with their section's payload type and a
// payload their codec's depacketizer can read; the rest is dropped and counted.
TEST_F(WebRtcTransport, AWrongPayloadTypeOrAMalformedPayloadIsNotForwarded) {
  auto t = Make(ClientCert()->fingerprint());
  t->SetInboundTracks(
      {{false, 1111, 111, 0, 0, PayloadFormat::kOpus}, {true, 2222, 96, 97, 2223, PayloadFormat::kVp8}});
  Check(*t, 5000, kT0);
  Handshake(*t, kT0);
  ASSERT_EQ(t->state(), sfu::WebRtcTransport::State::kConnected);
  auto with = [](std::vector<uint8_t> p, std::vector<uint8_t> payload) {
    p.resize(12);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
  };
  const std::vector<uint8_t> opus = {0x78, 1, 2, 3};             // code 0, one frame
  const std::vector<uint8_t> vp8_delta = {0x10, 0x01, 0, 0, 7};  // start of a delta frame
  // A keyframe declaring 16383 x 16383 pixels.
  const std::vector<uint8_t> vp8_huge = {0x10, 0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0xFF, 0x3F, 0xFF, 0x3F, 0};
  for (auto p : {with(RtpPacket(111, 1, 1111), opus), with(RtpPacket(96, 1, 2222), vp8_delta),
                 with(RtpPacket(96, 9, 1111), opus),          // audio SSRC, the video's payload type
                 with(RtpPacket(111, 2, 1111), {0x7B, 0}),    // code 3 with no frame
                 with(RtpPacket(96, 2, 2222), vp8_huge),      // too large a picture
                 with(RtpPacket(96, 3, 2222), {0x90, 0x80}),  // descriptor cut short
                 with(RtpPacket(111, 3, 1111), opus)}) {
    auto srtp = Protect(p);
    t->Receive(srtp, PacketClass::kRtp, Address(5000), kT0 + 1000, kT0 + 1000);
  }
  EXPECT_EQ(listener_.rtp, (std::vector<std::pair<size_t, uint16_t>>{{0, 1}, {1, 1}, {0, 3}}));
  EXPECT_EQ(listener_.drops.Get(DropReason::kBadPayloadType), 1u);
  EXPECT_EQ(listener_.drops.Get(DropReason::kMalformedPayload), 3u);
}

RtpView Rtp(std::vector<uint8_t>& buf, uint8_t pt, uint16_t seq, uint32_t ssrc) {
  buf.assign(20, 0);
  buf[0] = 0x80;
  buf[1] = pt;
  Store16(buf.data() + 2, seq);
  Store32(buf.data() + 8, ssrc);
  return *ParseRtp(buf);
}

TEST(PublisherTracks, RtxIsMatchedBySsrcOrPayloadType) {
  PublisherTracks tracks;
  // Audio with a known SSRC, video whose SSRCs the offer gave, video without SSRCs.
  tracks.Set({{false, 1111, 111, 0, 0}, {true, 2222, 96, 97, 2223}, {true, 0, 98, 99, 0}});
  std::vector<uint8_t> buf;
  bool rtx = true;
  EXPECT_EQ(tracks.Match(Rtp(buf, 111, 1, 1111), &rtx), 0);
  EXPECT_FALSE(rtx);
  EXPECT_EQ(tracks.Match(Rtp(buf, 97, 1, 2223), &rtx), 1);  // by the RTX SSRC
  EXPECT_TRUE(rtx);
  EXPECT_EQ(tracks.Match(Rtp(buf, 97, 1, 2222), &rtx), 1);  // RTX payload type on the media SSRC
  EXPECT_TRUE(rtx);
  EXPECT_EQ(tracks.Match(Rtp(buf, 96, 1, 2222), &rtx), 1);
  EXPECT_FALSE(rtx);
  // No SSRC in the offer: by payload type, and the SSRC is learnt from the first packet.
  EXPECT_EQ(tracks.Match(Rtp(buf, 99, 1, 3334), &rtx), 2);
  EXPECT_TRUE(rtx);
  RtpView first = Rtp(buf, 98, 1, 3333);
  ASSERT_EQ(tracks.Match(first, &rtx), 2);
  EXPECT_FALSE(rtx);
  EXPECT_TRUE(PublisherTracks::Received(tracks[2], first, kT0));
  EXPECT_EQ(tracks.Match(Rtp(buf, 98, 2, 3333), &rtx), 2);
  EXPECT_EQ(tracks.Match(Rtp(buf, 98, 2, 4444), &rtx), -1);  // the track has its SSRC now
  EXPECT_EQ(tracks.Match(Rtp(buf, 100, 1, 5555), &rtx), -1);
  // transport-cc names a video stream the client sends.
  EXPECT_EQ(tracks.FeedbackSsrc(), 2222u);
}

// An RTP packet naming its m-section in the MID extension (id 4).
std::vector<uint8_t> MidPacket(uint8_t pt, uint16_t seq, uint32_t ssrc, std::string_view mid) {
  std::vector<uint8_t> p(12);
  p[0] = 0x90;
  p[1] = pt;
  Store16(&p[2], seq);
  Store32(&p[8], ssrc);
  std::vector<uint8_t> e = {static_cast<uint8_t>((4 << 4) | (mid.size() - 1))};
  e.insert(e.end(), mid.begin(), mid.end());
  while (e.size() % 4) e.push_back(0);
  std::vector<uint8_t> hdr = {0xBE, 0xDE, 0, static_cast<uint8_t>(e.size() / 4)};
  p.insert(p.end(), hdr.begin(), hdr.end());
  p.insert(p.end(), e.begin(), e.end());
  p.insert(p.end(), {0x90, 0x80, 0x01, 0x00});
  return p;
}

// A camera and a screen share offered without SSRCs, with one payload type: the first
// packet of the screen must not make it the camera (first come by payload type). The
// MID each packet names says whose it is, media and RTX, and the SSRCs are learnt.
TEST(PublisherTracks, SectionsWithoutSsrcsAreToldApartByTheirMid) {
  PublisherTracks tracks;
  InboundTrack camera{true, 0, 104, 100, 0, PayloadFormat::kVp8};
  camera.mid = "video1";
  InboundTrack screen = camera;
  screen.mid = "video2";
  tracks.Set({{false, 0, 111}, camera, screen}, 0, 0, 4);
  bool rtx = true;
  auto match = [&](std::vector<uint8_t> p) { return tracks.Match(*ParseRtp(p), &rtx); };
  auto screen_first = MidPacket(104, 1, 0x5C, "video2");
  ASSERT_EQ(match(screen_first), 2);
  EXPECT_FALSE(rtx);
  EXPECT_TRUE(PublisherTracks::Received(tracks[2], *ParseRtp(screen_first), kT0));
  auto camera_first = MidPacket(104, 1, 0xCA, "video1");
  ASSERT_EQ(match(camera_first), 1);
  EXPECT_TRUE(PublisherTracks::Received(tracks[1], *ParseRtp(camera_first), kT0));
  // Learnt: later packets are matched by SSRC, with or without the extension.
  std::vector<uint8_t> buf;
  EXPECT_EQ(tracks.Match(Rtp(buf, 104, 2, 0x5C), &rtx), 2);
  EXPECT_EQ(tracks.Match(Rtp(buf, 104, 2, 0xCA), &rtx), 1);
  // Retransmissions carry their packet's MID: the RTX SSRC is learnt too.
  EXPECT_EQ(match(MidPacket(100, 7, 0x5D, "video2")), 2);
  EXPECT_TRUE(rtx);
  EXPECT_EQ(tracks.Match(Rtp(buf, 100, 8, 0x5D), &rtx), 2);
  EXPECT_TRUE(rtx);
  // A new stream naming a taken section is nobody's, and is not handed to another
  // section by its payload type; an unknown MID falls back to the payload type.
  EXPECT_EQ(match(MidPacket(104, 1, 0x77, "video1")), -1);
  EXPECT_EQ(match(MidPacket(100, 1, 0x78, "video2")), -1);
  EXPECT_EQ(match(MidPacket(111, 1, 0x79, "zz")), 0);
  EXPECT_FALSE(rtx);
}

// Audio whose publisher negotiated RTX (a native client) is repaired like video: its
// packets are kept for subscribers' NACKs and its gaps are asked for again; audio
// without RTX (a browser's) is not.
TEST(PublisherTracks, AudioWithRtxIsKeptAndItsLossesAreAskedForAgain) {
  PublisherTracks tracks;
  tracks.Set({{false, 1111, 111, 0, 0}, {false, 3333, 111, 97, 3334}});
  EXPECT_FALSE(tracks[0].ring);
  ASSERT_TRUE(tracks[1].ring);
  EXPECT_EQ(tracks[1].ring->slots(), RetransmissionBuffer::kAudioSlots);
  std::vector<uint8_t> buf;
  for (PublisherTracks::Track* t : {&tracks[0], &tracks[1]}) {
    uint32_t ssrc = t->cfg.ssrc;
    EXPECT_TRUE(PublisherTracks::Received(*t, Rtp(buf, 111, 10, ssrc), kT0));
    EXPECT_TRUE(PublisherTracks::Received(*t, Rtp(buf, 111, 14, ssrc), kT0 + 20'000));  // 11..13 lost
  }
  EXPECT_EQ(tracks[0].nack.size(), 0u);
  EXPECT_EQ(tracks[1].nack.size(), 3u);
  EXPECT_TRUE(tracks[1].ring->Has(14, 3333));
  std::array<uint16_t, NackGenerator::kMaxMissing> due{};
  ASSERT_EQ(tracks[1].nack.TakeDue(kT0 + 20'000, due), 3u);
  EXPECT_EQ(due[0], 11);
  EXPECT_EQ(due[2], 13);
  // The retransmission of 12 arrives: no longer missing, kept, forwarded.
  EXPECT_TRUE(PublisherTracks::Received(tracks[1], Rtp(buf, 111, 12, 3333), kT0 + 40'000));
  EXPECT_EQ(tracks[1].nack.size(), 2u);
  EXPECT_TRUE(tracks[1].ring->Has(12, 3333));
}

TEST(PublisherTracks, AudioWithoutRtxGetsNoRetransmissionBufferAndADuplicateIsRefused) {
  PublisherTracks tracks;
  tracks.Set({{false, 1111, 111, 0, 0}, {true, 2222, 96, 97, 2223}});
  EXPECT_FALSE(tracks[0].ring);
  ASSERT_TRUE(tracks[1].ring);
  std::vector<uint8_t> buf;
  RtpView v = Rtp(buf, 96, 10, 2222);
  EXPECT_TRUE(PublisherTracks::Received(tracks[1], v, kT0));
  EXPECT_TRUE(tracks[1].ring->Has(10, 2222));
  EXPECT_FALSE(PublisherTracks::Received(tracks[1], v, kT0 + 1000));
}

}  // namespace
}  // namespace parley::sfu
