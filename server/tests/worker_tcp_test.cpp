// ICE over TCP (RFC 6544 passive candidate, RFC 4571 framing) on a media worker, with
// real DTLS-SRTP clients on 127.0.0.1: a publisher over TCP reaches a subscriber over
// UDP and one over TCP, a retransmission goes back over TCP, and what the network can
// send the TCP listener (junk, empty or oversized frames, silent connections, too many
// connections) is bounded and closed while media keeps flowing. Deframe's own cases
// are here too (tests/fuzz/fuzz_tcp_frames.cpp fuzzes it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/tcp_links.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Over;
using test_peer::Peer;
using test_peer::Rtp;

constexpr uint32_t kCam = 0x1111, kCamRtx = 0x1112;
constexpr uint32_t kOutCam = 0xA1, kOutCamRtx = 0xA2, kOutCam2 = 0xC1, kOutCam2Rtx = 0xC2;

TEST(Deframe, WholeFramesAreHandedOverAndAPartOneWaits) {
  std::vector<Bytes> got;
  auto collect = [&](std::span<uint8_t> f) { got.emplace_back(f.begin(), f.end()); };
  Bytes two = {0, 2, 7, 8, 0, 1, 9, 0, 3, 1};  // [7 8] [9] and the start of a 3-byte frame
  EXPECT_EQ(Deframe(std::span<uint8_t>(two), 1500, collect), 7);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Bytes{7, 8}));
  EXPECT_EQ(got[1], (Bytes{9}));
  Bytes one_byte = {0};
  EXPECT_EQ(Deframe(std::span<uint8_t>(one_byte), 1500, collect), 0);
  Bytes empty_frame = {0, 0, 1};
  EXPECT_EQ(Deframe(std::span<uint8_t>(empty_frame), 1500, collect), -1);
  Bytes too_long = {0x05, 0xDD};  // 1501
  EXPECT_EQ(Deframe(std::span<uint8_t>(too_long), 1500, collect), -1);
  EXPECT_EQ(got.size(), 2u);
}

class WorkerTcp : public ::testing::Test {
 protected:
  void SetUp() override {
    WorkerOptions opts;
    opts.tcp_limits.max_links = 8;
    opts.tcp_limits.first_frame_us = 300'000;
    opts.tcp_limits.idle_us = 2'000'000;
    server_cert_ = *DtlsCertificate::Generate();
    worker_ = *MediaWorker::Create("127.0.0.1", 0, server_cert_, opts);
    worker_->Start();
    ASSERT_EQ(worker_->tcp_port(), worker_->port());
  }
  void TearDown() override { worker_->Stop(); }

  // Publisher (id 1, camera with RTX) over `pub_over`, subscriber (id 2) over
  // `sub_over`, both connected, the camera routed.
  void Connect(Over pub_over, Over sub_over) {
    pub_ = std::make_unique<Peer>(worker_->port(), pub_over);
    sub_ = std::make_unique<Peer>(worker_->port(), sub_over);
    ASSERT_TRUE(pub_->connected() && sub_->connected());
    OnWorker(*worker_, [&] {
      Transport* p = worker_->AddTransport(1, {"pub", "publisher-password-0123", "cp", pub_->fingerprint()});
      p->SetInboundTracks({{true, kCam, 96, 97, kCamRtx}});
      worker_->AddTransport(2, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()});
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", server_cert_->fingerprint()));
    ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", server_cert_->fingerprint()));
    OnWorker(*worker_, [&] {
      worker_->AddRoute(1, 2, {0, kOutCam, 96, kOutCamRtx, 97});
      return 0;
    });
  }
  // Sends `n` camera packets from the publisher; how many the subscriber received.
  int Flow(Peer& to, uint16_t first, int n, uint32_t ssrc = kOutCam) {
    for (int i = 0; i < n; ++i)
      pub_->SendRtp(Rtp(96, static_cast<uint16_t>(first + i), 9000u * static_cast<uint32_t>(i), kCam,
                        Bytes(900, static_cast<uint8_t>(i))));
    int got = 0;
    for (int i = 0; i < n; ++i) {
      auto p = to.RecvRtp(2s);
      if (p.empty()) break;
      if (Load32(&p[8]) == ssrc) ++got;
    }
    return got;
  }
  TcpLinks::Counters TcpCounters() {
    return OnWorker(*worker_, [&] { return worker_->tcp_links().counters(); });
  }

  std::shared_ptr<DtlsCertificate> server_cert_;
  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<Peer> pub_, sub_;
};

TEST_F(WorkerTcp, APublisherOverTcpReachesSubscribersOverUdpAndOverTcp) {
  Connect(Over::kTcp, Over::kUdp);
  EXPECT_EQ(Flow(*sub_, 100, 20), 20);
  // A second subscriber over TCP gets the same stream, and a retransmission over TCP.
  Peer tcp_sub(worker_->port(), Over::kTcp);
  OnWorker(*worker_, [&] {
    worker_->AddTransport(3, {"sub2", "subscriber-password-345", "c2", tcp_sub.fingerprint()});
    return 0;
  });
  ASSERT_TRUE(tcp_sub.Connect("sub2:c2", "subscriber-password-345", server_cert_->fingerprint()));
  OnWorker(*worker_, [&] {
    worker_->AddRoute(1, 3, {0, kOutCam2, 96, kOutCam2Rtx, 97});
    return 0;
  });
  // The new route's first packet, then a count.
  Bytes first;
  for (uint16_t i = 0; i < 40 && first.empty(); ++i) {
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(120 + i), 9000u * (20u + i), kCam, Bytes(900, 1)));
    first = tcp_sub.RecvRtp(100ms);
  }
  ASSERT_FALSE(first.empty()) << "nothing reached the subscriber over TCP";
  EXPECT_EQ(Flow(tcp_sub, 200, 20, kOutCam2), 20);
  const uint16_t seq = Load16(&first[2]);
  auto again = tcp_sub.AskAgain(kOutCam2, seq, 2s);
  ASSERT_FALSE(again.empty()) << "the NACKed packet came back over TCP";
  EXPECT_EQ(Load32(&again[8]), kOutCam2Rtx);
  TcpLinks::Counters c = TcpCounters();
  EXPECT_EQ(c.accepted, 2u);
  EXPECT_GT(c.frames_in, 40u);
  EXPECT_GT(c.frames_out, 20u);
  EXPECT_EQ(c.bad_frames, 0u);
}

TEST_F(WorkerTcp, TheSubscriberOverTcpGetsWhatAPublisherOverUdpSends) {
  Connect(Over::kUdp, Over::kTcp);
  EXPECT_EQ(Flow(*sub_, 100, 30), 30);
}

TEST_F(WorkerTcp, HostileConnectionsAreClosedAndMediaGoesOn) {
  Connect(Over::kTcp, Over::kTcp);
  auto raw = [&] {
    auto c = std::make_unique<Peer>(worker_->port(), Over::kTcp);
    EXPECT_TRUE(c->connected());
    return c;
  };
  auto write = [](Peer& p, const Bytes& b) { return send(p.fd(), b.data(), b.size(), MSG_NOSIGNAL); };
  // An empty frame, and a frame longer than any datagram: closed at once.
  auto empty = raw();
  write(*empty, {0, 0});
  EXPECT_TRUE(empty->ClosedByServer(2s));
  auto oversized = raw();
  write(*oversized, {0xFF, 0xFF, 1, 2, 3});
  EXPECT_TRUE(oversized->ClosedByServer(2s));
  // Silence, and junk that is no valid check (it is answered with nothing): closed once
  // the unproven time is over.
  auto silent = raw();
  auto junk = raw();
  write(*junk, {0, 4, 0xDE, 0xAD, 0xBE, 0xEF});
  EXPECT_TRUE(silent->ClosedByServer(3s));
  EXPECT_TRUE(junk->ClosedByServer(3s));
  // More connections than the limit: room is made by closing the oldest unproven ones
  // (the call's two are proven: they were answered), never the call's.
  std::vector<std::unique_ptr<Peer>> many;
  for (int i = 0; i < 10; ++i) many.push_back(raw());
  int closed = 0;
  for (auto& c : many) closed += c->ClosedByServer(100ms) ? 1 : 0;
  EXPECT_GE(closed, 4);  // 8 allowed, 2 of them the call's
  // Half a frame, then the connection goes: nothing of it is handed on.
  auto half = raw();
  write(*half, {0, 200, 1, 2, 3});
  half.reset();
  // The call never noticed.
  EXPECT_EQ(Flow(*sub_, 300, 20), 20);
  TcpLinks::Counters c = TcpCounters();
  EXPECT_EQ(c.bad_frames, 2u);
  EXPECT_GE(c.evicted, 4u);
  EXPECT_GE(c.timed_out, 2u);
  EXPECT_EQ(worker_->exceptions(), 0u);
}

// One address may hold only so many connections that were never answered: more from
// it are closed as they come, while another address could still connect.
TEST_F(WorkerTcp, OneAddressCannotHoldManyUnansweredConnections) {
  WorkerOptions opts;
  opts.tcp_limits.unproven_per_address = 2;
  auto w = *MediaWorker::Create("127.0.0.1", 0, server_cert_, opts);
  w->Start();
  std::vector<std::unique_ptr<Peer>> conns;
  for (int i = 0; i < 5; ++i) conns.push_back(std::make_unique<Peer>(w->port(), Over::kTcp));
  int closed = 0;
  for (auto& c : conns) closed += c->ClosedByServer(200ms) ? 1 : 0;
  EXPECT_EQ(closed, 3);
  auto c = OnWorker(*w, [&] { return w->tcp_links().counters(); });
  EXPECT_EQ(c.refused, 3u);
  EXPECT_EQ(OnWorker(*w, [&] { return w->tcp_links().size(); }), 2u);
  w->Stop();
}

TEST_F(WorkerTcp, OffWhenTurnedOff) {
  WorkerOptions opts;
  opts.ice_tcp = false;
  auto udp_only = *MediaWorker::Create("127.0.0.1", 0, server_cert_, opts);
  EXPECT_EQ(udp_only->tcp_port(), 0);
  Peer c(udp_only->port(), Over::kTcp);
  EXPECT_FALSE(c.connected());
}

}  // namespace
}  // namespace parley::sfu
