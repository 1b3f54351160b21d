// A channel spread over two media workers, over real UDP on 127.0.0.1 with DTLS-SRTP
// clients: the publisher on its home worker, the subscriber on the other, routed from a
// mirror that the home worker's relay feeds (relay.cpp). The subscriber gets every
// packet as one continuous stream, its NACKs are answered from the mirror's buffer, the
// publisher's sender reports reach it rewritten, its keyframe requests reach the
// publisher, and the publisher's layer economy counts what it wants.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Peer;
using test_peer::Rtp;

constexpr uint32_t kCam = 0x1111, kCamRtx = 0x1112, kMic = 0x3333;
constexpr uint32_t kOutCam = 0xA1, kOutCamRtx = 0xA2, kOutMic = 0xA3;
constexpr uint64_t kPub = 1, kSub = 2, kMirror = 3, kChannel = 7;

// Home worker 0 and worker 1, with a ring each way (as MediaPlane::Ring makes them).
class WorkerRelay : public ::testing::Test {
 protected:
  void StartWorkers(bool test_clock, size_t ring_capacity = RelayRing::kDefaultCapacity) {
    cert_ = *DtlsCertificate::Generate();
    for (auto& w : workers_) {
      if (test_clock) {
        w = StartOnTestClock(cert_, now_);
      } else {
        w = *MediaWorker::Create("127.0.0.1", 0, cert_);
        w->Start();
      }
    }
    to_mirror_ = RelayRing::Create(workers_[1]->wake_fd(), ring_capacity);
    to_home_ = RelayRing::Create(workers_[0]->wake_fd());
    ASSERT_TRUE(to_mirror_ && to_home_);
    OnWorker(*workers_[0], [&] {
      workers_[0]->AddInboundRing(to_home_);
      return 0;
    });
    OnWorker(*workers_[1], [&] {
      workers_[1]->AddInboundRing(to_mirror_);
      return 0;
    });
  }
  void TearDown() override {
    for (auto& w : workers_)
      if (w) w->Stop();
  }
  // Publisher on worker 0 with `tracks`, subscriber on worker 1, the mirror between.
  void Connect(const std::vector<InboundTrack>& tracks, TransportParams pub_params = {}) {
    pub_ = std::make_unique<Peer>(workers_[0]->port());
    sub_ = std::make_unique<Peer>(workers_[1]->port());
    pub_params.local_ufrag = "pub";
    pub_params.local_pwd = "publisher-password-0123";
    pub_params.remote_ufrag = "cp";
    pub_params.remote_fingerprint = pub_->fingerprint();
    OnWorker(*workers_[0], [&] {
      workers_[0]->AddTransport(kPub, pub_params, kChannel)->SetInboundTracks(tracks);
      return 0;
    });
    OnWorker(*workers_[1], [&] {
      workers_[1]->AddMirror(kMirror, tracks, kChannel, to_home_, kPub);
      workers_[1]->AddTransport(kSub, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()}, kChannel);
      return 0;
    });
    OnWorker(*workers_[0], [&] {
      workers_[0]->AddRelay(kPub, to_mirror_, kMirror);
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", cert_->fingerprint()));
    ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
  }
  void Route(const RouteSpec& spec) {
    OnWorker(*workers_[1], [&] {
      workers_[1]->AddRoute(kMirror, kSub, spec);
      return 0;
    });
  }
  // Lets both workers take what the other sent them (test clock: advanced by `ms`).
  void Settle(int64_t ms = 0) {
    now_.fetch_add(ms * 1000);
    for (int round = 0; round < 3; ++round)
      for (auto& w : workers_) OnWorker(*w, [] { return 0; });
  }
  bool PliFor(uint32_t ssrc) { return pub_->GetsPliFor(ssrc, 1s); }

  std::atomic<int64_t> now_{1'000'000};
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<MediaWorker> workers_[2];
  std::shared_ptr<RelayRing> to_mirror_, to_home_;
  std::unique_ptr<Peer> pub_, sub_;
};

TEST_F(WorkerRelay, ASubscriberOnAnotherWorkerGetsEveryPacketItsRepairsTheSenderReportsAndItsKeyframes) {
  StartWorkers(false);
  Connect({{false, kMic, 111, 0, 0}, {true, kCam, 96, 97, kCamRtx}});
  Route({1, kOutCam, 96, kOutCamRtx, 97});
  Route({0, kOutMic, 111, 0, 0});
  // The route asked for a keyframe once the subscriber could take it: through the
  // mirror, the home worker, to the publisher.
  EXPECT_TRUE(PliFor(kCam));

  for (uint16_t i = 0; i < 20; ++i)
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + i), 3000u * i, kCam, Bytes(200, static_cast<uint8_t>(i))));
  for (uint16_t i = 0; i < 5; ++i)
    pub_->SendRtp(Rtp(111, static_cast<uint16_t>(700 + i), 960u * i, kMic, Bytes(40, 0xAA)));
  std::map<uint32_t, std::vector<Bytes>> got;
  for (int i = 0; i < 25; ++i) {
    auto p = sub_->RecvRtp(2s);
    ASSERT_FALSE(p.empty()) << "packet " << i;
    got[Load32(&p[8])].push_back(p);
  }
  ASSERT_EQ(got[kOutCam].size(), 20u);
  ASSERT_EQ(got[kOutMic].size(), 5u);
  for (size_t i = 1; i < got[kOutCam].size(); ++i) {
    EXPECT_EQ(Load16(&got[kOutCam][i][2]), static_cast<uint16_t>(Load16(&got[kOutCam][0][2]) + i)) << "continuous";
    EXPECT_EQ(ParseRtp(got[kOutCam][i])->payload()[0], i) << "in order, whole";
  }

  // A NACK is answered on the subscriber's worker, from the mirror's buffer, as RTX.
  const uint16_t lost = Load16(&got[kOutCam][4][2]);
  auto rtx = sub_->AskAgain(kOutCam, lost, 2s);
  ASSERT_FALSE(rtx.empty());
  auto v = ParseRtp(rtx);
  EXPECT_EQ(v->ssrc, kOutCamRtx);
  EXPECT_EQ(Load16(v->payload().data()), lost);
  EXPECT_EQ(v->payload()[2], 4);

  // The publisher's sender report reaches the subscriber on its own stream.
  uint8_t sr[28];
  WriteSenderReport(sr, kCam, {0x0102030405060708ull, 3000u * 19, 20, 4000});
  pub_->SendRtcp(Bytes(sr, sr + 28));
  auto report = sub_->RecvRtcpOf(kSr, -1, 2s);
  ASSERT_FALSE(report.empty());
  RtcpIterator it(report);
  EXPECT_EQ(it->sender_ssrc(), kOutCam);
  EXPECT_EQ(ParseSenderInfo(*it)->ntp, 0x0102030405060708ull);

  // The subscriber's keyframe request goes home to the publisher (after the throttle).
  while (!pub_->RecvRtcp(100ms).empty()) {
  }
  uint8_t pli[12];
  WritePli(pli, 0x5EB, kOutCam);
  sub_->SendRtcp(Bytes(pli, pli + 12));
  EXPECT_TRUE(PliFor(kCam));
  EXPECT_GE(workers_[1]->relayed_in(), 25u);
  EXPECT_EQ(workers_[0]->drops().Get(DropReason::kRelayFull), 0u);
}

// A ring that overflows loses packets on the way to the mirror: the mirror asks home
// again (as a publish transport asks its client) and home answers from its buffer, so
// the subscriber still gets every packet.
TEST_F(WorkerRelay, WhatAFullRingLostIsAskedAgainAndComesFromTheHomeWorkersBuffer) {
  StartWorkers(false, 24);
  Connect({{true, kCam, 96, 97, kCamRtx}});
  Route({0, kOutCam, 96, kOutCamRtx, 97});
  std::set<uint32_t> sent;
  auto send = [&](uint16_t i) {
    Bytes payload(1000, static_cast<uint8_t>(i));
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + i), 3000u * (i / 3), kCam, payload));
    sent.insert(i);
  };
  // The mirror's worker is busy while the burst comes: the ring fills.
  workers_[1]->Post([] { std::this_thread::sleep_for(200ms); });
  std::this_thread::sleep_for(20ms);
  for (uint16_t i = 0; i < 60; ++i) send(i);
  // The stream goes on: the next packets show the mirror what it missed.
  std::this_thread::sleep_for(400ms);
  for (uint16_t i = 60; i < 63; ++i) send(i);
  std::set<uint32_t> got;
  while (got.size() < sent.size()) {
    auto p = sub_->RecvRtp(2s);
    if (p.empty()) break;
    if (Load32(&p[8]) == kOutCam) got.insert(ParseRtp(p)->payload()[0]);
  }
  const uint64_t lost_in_ring =
      OnWorker(*workers_[0], [&] { return workers_[0]->drops().Get(DropReason::kRelayFull); });
  std::printf("the ring lost %llu copies on the way; the subscriber got %zu of %zu packets\n",
              static_cast<unsigned long long>(lost_in_ring), got.size(), sent.size());
  EXPECT_GT(lost_in_ring, 0u) << "a burst of 60 into a ring of 24 overflows it";
  EXPECT_EQ(got, sent);
}

TEST_F(WorkerRelay, ThePublishersLayersAreKeptForWhatTheMirrorsSubscribersWatch) {
  StartWorkers(true);
  InboundTrack small{true, 0x5100, 96, 0, 0, PayloadFormat::kVp8};
  small.layers = 2;
  InboundTrack big = small;
  big.ssrc = 0xB100;
  big.layer = 1;
  Connect({small, big});
  RouteSpec spec{0, 0xC0, 96, 0, 0};
  spec.stream_type = VideoStreamType::kBig;
  Route(spec);
  auto paused = [&] {
    return OnWorker(*workers_[0],
                    [&] { return workers_[0]->FindTransport(kPub)->shared_counters()->paused_layers.load(); });
  };
  auto frame = [&](int n, bool key) {
    Bytes payload = {0x90, 0x80, 0x80, static_cast<uint8_t>(n)};
    Bytes tag = key ? Bytes{0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x00, 0x40, 0x00, 0x00, 0x00}
                    : Bytes{0x11, 0x02, 0x00, 0x00, 0x00, 0x00};
    payload.insert(payload.end(), tag.begin(), tag.end());
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(5000 + n), 3000u * static_cast<uint32_t>(n), 0xB100, payload));
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + n), 3000u * static_cast<uint32_t>(n), 0x5100, payload));
  };
  // Nobody on the home worker watches; the mirror's subscriber watches the big layer.
  // Without its word the home worker would keep the small layer alone and pause the big.
  for (int i = 0; i < 40; ++i) {
    frame(i, i == 0);
    Settle(100);
  }
  EXPECT_EQ(paused(), 0b01u) << "the big layer is watched (on the other worker), the small one is not";
  // The mirror knows what its publisher's worker paused: it still offers the layer.
  const bool mirror_small_paused =
      OnWorker(*workers_[1], [&] { return workers_[1]->FindTransport(kMirror)->tracks()[0].paused; });
  EXPECT_TRUE(mirror_small_paused);

  // The subscriber turns to the small layer: it is resumed at once, and once the
  // switch is done, the big one pauses.
  OnWorker(*workers_[1], [&] {
    workers_[1]->SetStreamType(kMirror, kSub, VideoStreamType::kSmall);
    return 0;
  });
  for (int i = 40; i < 40 + 40 && paused() != 0b10u; ++i) {
    frame(i, true);
    Settle(100);
  }
  EXPECT_EQ(paused(), 0b10u) << "the small layer is watched now; nobody watches the big one";
}

}  // namespace
}  // namespace parley::sfu
