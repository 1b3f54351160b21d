// The media worker's per-track media handling over real UDP on 127.0.0.1, with real
// DTLS-SRTP clients: routing each published track to its own subscriber stream,
// retransmission from the buffer (plain and RTX), NACKs to a lossy publisher and RTX
// repair, SR rewriting, receiver reports, transport-cc feedback, audio levels, the
// connect and consent timeouts, video paused to a congested subscriber, and RED audio
// forwarded as RED or as its primary block, and a publisher's padding taken out.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <future>
#include <stdexcept>
#include <thread>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/stun.hpp"
#include "sfu/twcc.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Peer;
using test_peer::Rtp;

constexpr uint32_t kCam = 0x1111, kCamRtx = 0x1112, kScreen = 0x2222, kMic = 0x3333;
constexpr uint32_t kOutCam = 0xA1, kOutCamRtx = 0xA2, kOutScreen = 0xB1;

class WorkerMedia : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void TearDown() override {
    if (worker_) worker_->Stop();
  }
  void Start(WorkerOptions opts) {
    if (worker_) worker_->Stop();
    server_cert_ = *DtlsCertificate::Generate();
    worker_ = *MediaWorker::Create("127.0.0.1", 0, server_cert_, opts);
    worker_->Start();
  }
  // Publisher (id 1: mic, camera with RTX, screen) and subscriber (id 2) transports,
  // both connected; camera and screen routed to the subscriber.
  void Connect(uint8_t ext_twcc = 0, uint8_t ext_level = 0) {
    pub_ = std::make_unique<Peer>(worker_->port());
    sub_ = std::make_unique<Peer>(worker_->port());
    OnWorker(*worker_, [&] {
      Transport* p =
          worker_->AddTransport(1, {"pub", "publisher-password-0123", "cp", pub_->fingerprint(), ext_twcc, ext_level});
      p->SetInboundTracks({{false, kMic, 111, 0, 0}, {true, kCam, 96, 97, kCamRtx}, {true, kScreen, 98, 0, 0}});
      worker_->AddTransport(2, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()});
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", server_cert_->fingerprint()));
    ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", server_cert_->fingerprint()));
    OnWorker(*worker_, [&] {
      worker_->AddRoute(1, 2, {1, kOutCam, 96, kOutCamRtx, 97});
      worker_->AddRoute(1, 2, {2, kOutScreen, 98, 0, 0});
      return 0;
    });
  }
  // The subscriber NACKs `seq` of its stream `ssrc`; what it receives next within `wait`
  // (the retransmission; empty if none).
  Bytes AskAgain(uint32_t ssrc, uint16_t seq, std::chrono::milliseconds wait = 2s) {
    return sub_->AskAgain(ssrc, seq, wait);
  }
  // An RTX payload (RFC 4588): the original sequence number, then the original payload.
  static Bytes RtxPayload(uint16_t seq, const Bytes& payload) {
    Bytes p = {static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq)};
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
  }
  // The counters are atomics shared with other threads: reading them here is how the
  // control plane reads them.
  std::shared_ptr<TransportCounters> Counters(uint64_t id) {
    return OnWorker(*worker_, [&] { return worker_->FindTransport(id)->shared_counters(); });
  }

  std::shared_ptr<DtlsCertificate> server_cert_;
  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<Peer> pub_, sub_;
};

TEST_F(WorkerMedia, EachTrackReachesItsOwnStreamAndNackedPacketsComeBackAsRtx) {
  Connect();
  for (uint16_t i = 0; i < 10; ++i)
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + i), 9000 * i, kCam, Bytes(50, static_cast<uint8_t>(i))));
  for (uint16_t i = 0; i < 5; ++i)
    pub_->SendRtp(Rtp(98, static_cast<uint16_t>(500 + i), 3000 * i, kScreen, Bytes(40, 0xEE)));
  std::map<uint32_t, std::vector<Bytes>> by_ssrc;
  for (int i = 0; i < 15; ++i) {
    auto p = sub_->RecvRtp(2s);
    ASSERT_FALSE(p.empty()) << "packet " << i;
    by_ssrc[Load32(&p[8])].push_back(p);
  }
  ASSERT_EQ(by_ssrc[kOutCam].size(), 10u);
  ASSERT_EQ(by_ssrc[kOutScreen].size(), 5u);
  EXPECT_EQ(by_ssrc.size(), 2u);
  const Bytes& third = by_ssrc[kOutCam][2];
  uint16_t out_seq = Load16(&third[2]);
  EXPECT_EQ(Load16(&by_ssrc[kOutCam][3][2]), static_cast<uint16_t>(out_seq + 1));  // continuous

  // The subscriber lost the third camera packet: NACK → RTX from the buffer (RFC 4588).
  auto rtx = AskAgain(kOutCam, out_seq);
  ASSERT_FALSE(rtx.empty());
  auto v = ParseRtp(rtx);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ssrc, kOutCamRtx);
  EXPECT_EQ(v->payload_type, 97);
  EXPECT_EQ(v->timestamp, Load32(&third[4]));
  ASSERT_EQ(v->payload_length, 52u);
  EXPECT_EQ(Load16(v->payload().data()), out_seq);  // original sequence number first
  EXPECT_EQ(v->payload()[2], 2);                    // then the original payload
  // A sequence number the buffer never had gets nothing.
  EXPECT_TRUE(AskAgain(kOutCam, static_cast<uint16_t>(out_seq + 1000), 300ms).empty());
  EXPECT_EQ(Counters(2)->nacks_in.load(), 2u);
  EXPECT_EQ(Counters(2)->retransmitted.load(), 1u);
}

TEST_F(WorkerMedia, PublisherLossIsNackedAndTheRtxRepairIsForwardedAsTheOriginal) {
  Connect();
  for (uint16_t seq : {uint16_t{1}, uint16_t{2}, uint16_t{4}})
    pub_->SendRtp(Rtp(96, seq, seq * 3000u, kCam, Bytes(30, static_cast<uint8_t>(seq))));
  std::vector<Bytes> got;
  for (int i = 0; i < 3; ++i) got.push_back(sub_->RecvRtp(2s));
  ASSERT_FALSE(got[2].empty());
  // The SFU asks the publisher for 3 (RFC 4585 generic NACK).
  auto fb = pub_->RecvRtcpOf(kRtpfb, 1, 2s);
  ASSERT_FALSE(fb.empty());
  std::vector<uint16_t> asked;
  RtcpIterator it(fb);
  ForEachNack(*it, [&](uint16_t s) { asked.push_back(s); });
  EXPECT_EQ(asked, std::vector<uint16_t>{3});
  EXPECT_EQ(it->media_ssrc(), kCam);
  // The publisher repairs it with RTX: OSN 3 on the RTX SSRC and payload type.
  Bytes payload = {0, 3};
  payload.insert(payload.end(), 30, 3);
  pub_->SendRtp(Rtp(97, 77, 9000, kCamRtx, payload));
  auto repaired = sub_->RecvRtp(2s);
  ASSERT_FALSE(repaired.empty());
  auto v = ParseRtp(repaired);
  EXPECT_EQ(v->ssrc, kOutCam);
  EXPECT_EQ(v->payload_type, 96);
  EXPECT_EQ(v->sequence, static_cast<uint16_t>(Load16(&got[1][2]) + 1));  // slots in between 2 and 4
  EXPECT_EQ(v->payload_length, 30u);
  EXPECT_EQ(v->payload()[0], 3);
  EXPECT_GE(Counters(1)->nacks_sent.load(), 1u);
}

TEST_F(WorkerMedia, SenderReportsAreRewrittenAndReceiverReportsGoBack) {
  Connect();
  for (uint16_t i = 0; i < 5; ++i)
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(10 + i), 1000 + 3000u * i, kCam, Bytes(100, 1)));
  Bytes last;
  for (int i = 0; i < 5; ++i) last = sub_->RecvRtp(2s);
  ASSERT_FALSE(last.empty());
  uint32_t offset = Load32(&last[4]) - (1000 + 3000u * 4);
  // SR from the publisher: NTP 0x0102030405060708, RTP time 50000.
  uint8_t sr[28];
  WriteSenderReport(sr, kCam, {0x0102030405060708ull, 50000, 5, 500});
  pub_->SendRtcp(Bytes(sr, sr + 28));
  auto got = sub_->RecvRtcpOf(kSr, -1, 2s);
  ASSERT_FALSE(got.empty());
  RtcpIterator it(got);
  auto info = ParseSenderInfo(*it);
  ASSERT_TRUE(info);
  EXPECT_EQ(it->sender_ssrc(), kOutCam);
  EXPECT_EQ(info->ntp, 0x0102030405060708ull);
  EXPECT_EQ(info->rtp_timestamp, 50000 + offset);
  EXPECT_EQ(info->packet_count, 5u);
  EXPECT_EQ(info->octet_count, 500u);
  // Within a second or so the publisher gets a receiver report on its camera stream,
  // echoing the SR's middle NTP bits as LSR.
  Bytes rr;
  for (int i = 0; i < 3 && rr.empty(); ++i) {
    auto p = pub_->RecvRtcpOf(kRr, -1, 1500ms);
    if (p.empty()) break;
    RtcpIterator r(p);
    for (size_t b = 0; b < r->count; ++b)
      if (auto block = GetReportBlock(*r, b); block && block->ssrc == kCam && block->last_sr) rr = p;
  }
  ASSERT_FALSE(rr.empty());
  RtcpIterator r(rr);
  for (size_t b = 0; b < r->count; ++b) {
    auto block = GetReportBlock(*r, b);
    if (block->ssrc != kCam) continue;
    EXPECT_EQ(block->highest_sequence, 14u);
    EXPECT_EQ(block->cumulative_lost, 0);
    EXPECT_EQ(block->last_sr, 0x03040506u);
  }
}

TEST_F(WorkerMedia, TransportWideFeedbackReportsEveryPacket) {
  Connect(/*ext_twcc=*/5);
  for (uint16_t i = 0; i < 10; ++i) {
    if (i == 6) continue;  // lost
    Bytes seq = {0, static_cast<uint8_t>(i)};
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(200 + i), 0, kCam, Bytes(20, 0), 5, seq));
    std::this_thread::sleep_for(2ms);
  }
  std::vector<std::optional<int64_t>> arrivals;
  uint16_t base = 0;
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (arrivals.size() < 10 && std::chrono::steady_clock::now() < deadline) {
    auto p = pub_->RecvRtcpOf(kRtpfb, 15, 1s);
    if (p.empty()) continue;
    RtcpIterator it(p);
    auto f = ParseTwccFeedback(*it);
    ASSERT_TRUE(f);
    if (arrivals.empty()) base = f->base_sequence;
    EXPECT_EQ(f->media_ssrc, kCam);  // browsers drop feedback that names none of their SSRCs
    arrivals.insert(arrivals.end(), f->arrivals_us.begin(), f->arrivals_us.end());
  }
  EXPECT_EQ(base, 0);
  ASSERT_EQ(arrivals.size(), 10u);
  for (size_t i = 0; i < arrivals.size(); ++i) EXPECT_EQ(arrivals[i].has_value(), i != 6) << i;
  EXPECT_GE(Counters(1)->twcc_feedbacks.load(), 1u);
}

TEST_F(WorkerMedia, AudioLevelPeaksAreExposed) {
  Connect(0, /*ext_level=*/3);
  pub_->SendRtp(Rtp(111, 1, 960, kMic, Bytes(20, 0), 3, {0x80 | 70}));
  pub_->SendRtp(Rtp(111, 2, 1920, kMic, Bytes(20, 0), 3, {0x80 | 25}));
  pub_->SendRtp(Rtp(111, 3, 2880, kMic, Bytes(20, 0), 3, {127}));
  for (int i = 0; i < 100 && Counters(1)->rtp_packets.load() < 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(Counters(1)->audio_peak.load(), 127u - 25u);
}

// Opus in RED (RFC 2198): [redundant header for `older`] [primary header] [older] [primary].
Bytes Red(uint8_t block_pt, const Bytes& older, uint16_t older_offset, const Bytes& primary) {
  Bytes p;
  if (!older.empty()) {
    p.push_back(static_cast<uint8_t>(0x80 | block_pt));
    p.push_back(static_cast<uint8_t>(older_offset >> 6));
    p.push_back(static_cast<uint8_t>(((older_offset & 0x3F) << 2) | (older.size() >> 8)));
    p.push_back(static_cast<uint8_t>(older.size() & 0xFF));
  }
  p.push_back(block_pt);
  p.insert(p.end(), older.begin(), older.end());
  p.insert(p.end(), primary.begin(), primary.end());
  return p;
}

// An Opus packet of one 20 ms CELT frame (RFC 6716 §3.1: TOC config 31, code 0).
Bytes Opus(uint8_t fill, size_t n = 20) {
  Bytes p(n, fill);
  p[0] = 0xF8;
  return p;
}

// A publisher sending Opus in RED: a subscriber that took RED gets it with the blocks
// renumbered to its Opus payload type; one that did not (or a retransmission) gets the
// primary block alone, as plain Opus. A RED packet whose block is not the track's codec
// is dropped, and an RTX repair of a RED packet is forwarded as RED.
TEST_F(WorkerMedia, RedGoesAsRedWhereTakenElseAsItsPrimaryBlock) {
  constexpr uint32_t kMicRtx = 0x3334, kOutMic = 0xC1, kOutMicRtx = 0xC2;
  pub_ = std::make_unique<Peer>(worker_->port());
  sub_ = std::make_unique<Peer>(worker_->port());
  OnWorker(*worker_, [&] {
    Transport* p = worker_->AddTransport(1, {"pub", "publisher-password-0123", "cp", pub_->fingerprint()});
    p->SetInboundTracks({{false, kMic, 111, 112, kMicRtx, PayloadFormat::kOpus, 63, 113}});
    worker_->AddTransport(2, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()});
    return 0;
  });
  ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", server_cert_->fingerprint()));
  ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", server_cert_->fingerprint()));
  // The subscriber numbers Opus 109 and RED 100, and took RED.
  OnWorker(*worker_, [&] {
    worker_->AddRoute(1, 2, {0, kOutMic, 109, kOutMicRtx, 110, 100});
    return 0;
  });
  Bytes first = Opus(1), second = Opus(2);
  pub_->SendRtp(Rtp(63, 10, 960, kMic, Red(111, {}, 0, first)));
  pub_->SendRtp(Rtp(63, 11, 1920, kMic, Red(111, first, 960, second)));
  auto a = sub_->RecvRtp(2s), b = sub_->RecvRtp(2s);
  ASSERT_FALSE(b.empty());
  auto vb = ParseRtp(b);
  EXPECT_EQ(vb->payload_type, 100);
  EXPECT_EQ(vb->ssrc, kOutMic);
  EXPECT_EQ(Bytes(vb->payload().begin(), vb->payload().end()), Red(109, first, 960, second));

  // Its answer to a new offer did not take RED: the primary alone, as Opus 109.
  OnWorker(*worker_, [&] {
    worker_->SetRouteRed(2, kOutMic, 0);
    return 0;
  });
  Bytes third = Opus(3);
  pub_->SendRtp(Rtp(63, 12, 2880, kMic, Red(111, second, 960, third)));
  auto c = sub_->RecvRtp(2s);
  ASSERT_FALSE(c.empty());
  auto vc = ParseRtp(c);
  EXPECT_EQ(vc->payload_type, 109);
  EXPECT_EQ(vc->sequence, static_cast<uint16_t>(vb->sequence + 1));
  EXPECT_EQ(Bytes(vc->payload().begin(), vc->payload().end()), third);

  // A NACK for the RED packet it had: RTX carries the primary block as Opus.
  auto rtx = AskAgain(kOutMic, vb->sequence);
  ASSERT_FALSE(rtx.empty());
  auto vr = ParseRtp(rtx);
  EXPECT_EQ(vr->ssrc, kOutMicRtx);
  EXPECT_EQ(vr->payload_type, 110);
  EXPECT_EQ(Bytes(vr->payload().begin(), vr->payload().end()), RtxPayload(vb->sequence, second));

  // A block that names another codec is not forwarded; a RED packet's RTX repair
  // (the publisher's RTX for RED) is, as RED, here stripped to its primary.
  pub_->SendRtp(Rtp(63, 13, 3840, kMic, Red(96, third, 960, Opus(4))));
  Bytes repair = {0, 13};
  Bytes fourth = Opus(4);
  Bytes red13 = Red(111, third, 960, fourth);
  repair.insert(repair.end(), red13.begin(), red13.end());
  pub_->SendRtp(Rtp(113, 500, 3840, kMicRtx, repair));
  auto d = sub_->RecvRtp(2s);
  ASSERT_FALSE(d.empty());
  auto vd = ParseRtp(d);
  EXPECT_EQ(vd->payload_type, 109);
  EXPECT_EQ(Bytes(vd->payload().begin(), vd->payload().end()), fourth);
  EXPECT_EQ(worker_->drops().Get(DropReason::kMalformedPayload), 1u);
}

// Padding-only packets a publisher numbers in its media stream (a sender probing its
// uplink: Chromium does so on audio too) are not forwarded and leave no gap in the
// numbers that are; a NACK for the packet after them finds it.
TEST_F(WorkerMedia, PaddingIsNotForwardedAndLeavesNoGap) {
  Connect();
  pub_->SendRtp(Rtp(96, 100, 0, kCam, Bytes(50, 1)));
  for (uint16_t seq = 101; seq < 105; ++seq) {
    Bytes padding(200, 0);
    padding.back() = 200;
    Bytes p = Rtp(96, seq, 0, kCam, padding);
    p[0] |= 0x20;  // P: the payload is all padding
    pub_->SendRtp(p);
  }
  pub_->SendRtp(Rtp(96, 105, 3000, kCam, Bytes(50, 5)));
  auto a = sub_->RecvRtp(2s), b = sub_->RecvRtp(2s);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  auto va = ParseRtp(a), vb = ParseRtp(b);
  EXPECT_EQ(vb->sequence, static_cast<uint16_t>(va->sequence + 1)) << "no gap where the padding was";
  EXPECT_EQ(Bytes(vb->payload().begin(), vb->payload().end()), Bytes(50, 5));
  EXPECT_TRUE(sub_->RecvRtp(200ms).empty()) << "the padding is not forwarded";
  EXPECT_EQ(worker_->drops().Get(DropReason::kPadding), 4u);
  auto rtx = AskAgain(kOutCam, vb->sequence);
  ASSERT_FALSE(rtx.empty());
  auto vr = ParseRtp(rtx);
  EXPECT_EQ(vr->ssrc, kOutCamRtx);
  EXPECT_EQ(Bytes(vr->payload().begin(), vr->payload().end()), RtxPayload(vb->sequence, Bytes(50, 5)));
}

// Simulated loss (--media-loss-permille) drops forwarded copies after they were
// protected and counted as sent, and says so in the drop counters.
TEST_F(WorkerMedia, SimulatedLossIsCountedAsSuch) {
  Start({10000, 30000, /*send_loss_permille*/ 1000, {}});
  Connect();
  for (uint16_t i = 0; i < 10; ++i)
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + i), 9000 * i, kCam, Bytes(50, 1)));
  const DropCounters& drops = worker_->drops();
  for (int i = 0; i < 200 && drops.Get(DropReason::kSimulatedLoss) < 10; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(drops.Get(DropReason::kSimulatedLoss), 10u);
  EXPECT_TRUE(sub_->RecvRtp(200ms).empty());
  EXPECT_EQ(Counters(2)->sent_packets.load(), 10u);
}

// A packet received twice is forwarded once, and RTP of no published stream is not
// forwarded at all; each is counted under its reason.
TEST_F(WorkerMedia, DuplicatesAndUnknownStreamsAreCountedDropped) {
  Connect();
  pub_->SendRtp(Rtp(96, 100, 0, kCam, Bytes(50, 1)));
  pub_->SendRtp(Rtp(96, 101, 3000, kCam, Bytes(50, 2)));
  Bytes repair = {0, 101};  // 101 again, as an RTX repair nobody asked for (RFC 4588)
  repair.insert(repair.end(), 50, 2);
  pub_->SendRtp(Rtp(97, 9000, 3000, kCamRtx, repair));
  pub_->SendRtp(Rtp(100, 7, 0, 0xDEAD, Bytes(50, 3)));  // an SSRC and payload type nobody published
  pub_->SendRtp(Rtp(96, 102, 6000, kCam, Bytes(50, 4)));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(sub_->RecvRtp(2s).empty()) << "packet " << i;
  EXPECT_TRUE(sub_->RecvRtp(200ms).empty());
  const DropCounters& drops = worker_->drops();
  EXPECT_EQ(drops.Get(DropReason::kDuplicate), 1u);
  EXPECT_EQ(drops.Get(DropReason::kUnknownSsrc), 1u);
}

TEST_F(WorkerMedia, TransportsFailWithoutIceAndWhenConsentLapses) {
  // The worker's clock is the test's: the timeouts are reached by moving it, so a slow
  // machine (sanitizers) cannot make a check arrive late.
  auto now = std::make_shared<std::atomic<int64_t>>(1'000'000'000);
  Start({/*connect*/ 300, /*consent*/ 400, 0, [now] { return now->load(); }});
  Connect();
  OnWorker(*worker_, [&] {
    worker_->AddTransport(3, {"idle", "idle-password-0123456789", "ci", "00:11"});
    return 0;
  });
  // After a clock change the loop ticks at the end of the iteration that runs posted
  // work; a second round trip through the queue comes after that tick.
  auto advance = [&](int64_t ms) {
    now->fetch_add(ms * 1000);
    OnWorker(*worker_, [] { return 0; });
    OnWorker(*worker_, [] { return 0; });
  };
  auto state = [&](uint64_t id) {
    return OnWorker(*worker_, [&] {
      Transport* t = worker_->FindTransport(id);
      return std::make_pair(t->state(), t->failure());
    });
  };
  advance(250);
  EXPECT_EQ(state(3).first, Transport::State::kNew);  // 250 ms of 300
  // The publisher keeps consent; the subscriber does not.
  ASSERT_TRUE(pub_->CheckAnswered("pub:cp", "publisher-password-0123"));
  advance(300);
  ASSERT_TRUE(pub_->CheckAnswered("pub:cp", "publisher-password-0123"));
  EXPECT_EQ(state(3), std::make_pair(Transport::State::kFailed, Failure::kIceTimeout));
  EXPECT_EQ(state(2), std::make_pair(Transport::State::kFailed, Failure::kConsentLost));  // 550 ms without a check
  advance(200);
  EXPECT_EQ(state(1).first, Transport::State::kConnected);  // 200 ms since its last check
  advance(201);
  EXPECT_EQ(state(1), std::make_pair(Transport::State::kFailed, Failure::kConsentLost));
}

// A subscriber whose REMB says it cannot take its video gets none: audio goes on and
// the video copies are counted as subscriber-congested. Once its estimate has stayed
// well above the video rate long enough, video resumes where its numbering left off and
// the publisher is asked for a keyframe. The worker's clock is the test's: the
// estimate's windows are seconds, reached by moving it.
TEST_F(WorkerMedia, ACongestedSubscriberLosesVideoNotAudioAndGetsAKeyframeWhenItRecovers) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'000'000'000);
  // Without pacing: the test reads which video came before each audio packet, and a
  // pacer lets audio overtake the video it holds.
  Start({10000, 60000, 0, [now] { return now->load(); }, false});
  Connect();
  constexpr uint32_t kOutMic = 0xC1;
  OnWorker(*worker_, [&] {
    worker_->AddRoute(1, 2, {0, kOutMic, 111, 0, 0});
    return 0;
  });
  auto advance = [&](int64_t ms) {  // a tick comes after the first round trip (see above)
    now->fetch_add(ms * 1000);
    OnWorker(*worker_, [] { return 0; });
    OnWorker(*worker_, [] { return 0; });
  };
  auto remb = [&](uint64_t bps) {
    uint8_t p[24];
    const uint32_t ssrcs[] = {kOutCam};
    sub_->SendRtcp(Bytes(p, p + WriteRemb(p, sizeof p, 0x5EB, bps, ssrcs)));
  };
  // Sends `video` camera packets (1 kB each) and then one audio packet; returns the
  // camera sequence numbers the subscriber got before the audio. Loopback keeps the
  // order, and so does the worker: what comes before the audio was sent, or never is.
  uint16_t cam_seq = 100, mic_seq = 1;
  auto send = [&](int video) {
    for (int i = 0; i < video; ++i) pub_->SendRtp(Rtp(96, cam_seq, 3000u * cam_seq, kCam, Bytes(1000, 1))), ++cam_seq;
    pub_->SendRtp(Rtp(111, mic_seq, 960u * mic_seq, kMic, Bytes(80, 2)));
    ++mic_seq;
    std::vector<uint16_t> cams;
    for (auto p = sub_->RecvRtp(2s); !p.empty(); p = sub_->RecvRtp(2s)) {
      if (Load32(&p[8]) == kOutMic) return cams;
      if (Load32(&p[8]) == kOutCam) cams.push_back(Load16(&p[2]));
    }
    ADD_FAILURE() << "the audio packet did not arrive";
    return cams;
  };
  auto paused = [&] { return Counters(2)->video_paused.load(); };
  advance(20);  // the subscriber's first tick: its rate window opens

  // 20 kB in the first second (162 kbit/s with headers); the client can take 10 kbit/s.
  auto cams = send(20);
  ASSERT_EQ(cams.size(), 20u);
  remb(10'000);
  EXPECT_EQ(send(0).size(), 0u);  // the REMB was handled before this audio
  advance(1000);
  EXPECT_EQ(Counters(2)->downstream_bps.load(), 10'000u);
  EXPECT_EQ(send(5).size(), 5u);  // 1 s below the video rate: not yet (2 s of hysteresis)
  advance(1000);
  EXPECT_FALSE(paused());
  cams = send(5);
  ASSERT_EQ(cams.size(), 5u);
  uint16_t last_before_pause = cams.back();
  advance(1000);
  ASSERT_TRUE(paused());
  EXPECT_EQ(Counters(2)->video_pauses.load(), 1u);

  // Paused: the audio comes, the video does not, and the drops say why.
  EXPECT_EQ(send(5).size(), 0u);
  EXPECT_EQ(worker_->drops().Get(DropReason::kSubscriberCongested), 5u);
  while (!pub_->RecvRtcpOf(kPsfb, 1, 200ms).empty()) {
  }  // the keyframe requests of the start

  // The client's estimate recovers to 5 Mbit/s: 3 s later video resumes with a keyframe.
  remb(5'000'000);
  EXPECT_EQ(send(5).size(), 0u);
  for (int s = 0; s < 3; ++s) {  // the first tick after the REMB starts the 3 s
    advance(1000);
    EXPECT_EQ(send(5).size(), 0u) << "second " << s;
  }
  EXPECT_TRUE(paused());
  EXPECT_TRUE(pub_->RecvRtcpOf(kPsfb, 1, 100ms).empty());
  advance(1000);
  EXPECT_FALSE(paused());
  auto pli = pub_->RecvRtcpOf(kPsfb, 1, 2s);
  ASSERT_FALSE(pli.empty());
  EXPECT_EQ(RtcpIterator(pli)->media_ssrc(), kCam);
  cams = send(3);
  ASSERT_EQ(cams.size(), 3u);
  EXPECT_EQ(cams[0], static_cast<uint16_t>(last_before_pause + 1));  // no gap to NACK
  // A late NACK for a packet from before the pause gets nothing (not a packet of the
  // pause that now maps to its number); one after the pause gets its packet.
  uint8_t nack[16];
  uint16_t late[] = {last_before_pause};
  sub_->SendRtcp(Bytes(nack, nack + WriteNack(nack, sizeof nack, 0x5EB, kOutCam, late)));
  uint16_t fresh[] = {cams[1]};
  sub_->SendRtcp(Bytes(nack, nack + WriteNack(nack, sizeof nack, 0x5EB, kOutCam, fresh)));
  auto rtx = sub_->RecvRtp(2s);
  ASSERT_FALSE(rtx.empty());
  EXPECT_EQ(Load32(&rtx[8]), kOutCamRtx);
  EXPECT_EQ(Load16(&rtx[12]), cams[1]);  // the original sequence number (no extensions)
  EXPECT_TRUE(sub_->RecvRtp(200ms).empty());
  EXPECT_EQ(worker_->drops().Get(DropReason::kSubscriberCongested), 25u);
}

// A bug that throws while one transport's packet is handled must not end the worker
// thread (and every call on it): that transport closes as failed (internal-error, which
// the control plane reports like any transport failure), the throw is counted, and the
// worker goes on serving the others.
// A keyframe-sized burst of video leaves through the subscriber's pacer: a burst
// allowance at once, the rest as the budget refills (or when it has waited the longest
// a packet may), complete and in order. Audio sent after the burst does not wait behind
// it. The worker's clock is the test's, so what leaves when is exact.
TEST_F(WorkerMedia, AVideoBurstIsPacedInOrderAndAudioDoesNotWaitBehindIt) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'000'000'000);
  Start({10000, 60000, 0, [now] { return now->load(); }});
  Connect();
  constexpr uint32_t kOutMic = 0xC1;
  OnWorker(*worker_, [&] {
    worker_->AddRoute(1, 2, {0, kOutMic, 111, 0, 0});
    return 0;
  });
  auto advance = [&](int64_t ms) {
    now->fetch_add(ms * 1000);
    OnWorker(*worker_, [] { return 0; });
    OnWorker(*worker_, [] { return 0; });
  };
  // Receives until `ssrc` arrives (or nothing more does); the camera's sequence numbers.
  std::vector<uint16_t> cams;
  auto receive = [&](uint32_t until, std::chrono::milliseconds wait) {
    for (auto p = sub_->RecvRtp(wait); !p.empty(); p = sub_->RecvRtp(wait)) {
      if (Load32(&p[8]) == kOutCam) cams.push_back(Load16(&p[2]));
      if (Load32(&p[8]) == until) return true;
    }
    return false;
  };
  for (uint16_t i = 0; i < 30; ++i) pub_->SendRtp(Rtp(96, static_cast<uint16_t>(100 + i), 9000, kCam, Bytes(1000, 1)));
  pub_->SendRtp(Rtp(111, 1, 960, kMic, Bytes(80, 2)));
  // The pacer's floor is 500 kbit/s with two datagrams of burst: two copies go at once.
  ASSERT_TRUE(receive(kOutMic, 2s)) << "the audio waited behind the video";
  EXPECT_EQ(cams.size(), 2u);
  // 20 ms earn 1250 bytes: about one more copy of 1 kB each time.
  advance(20);
  advance(20);
  EXPECT_FALSE(receive(0, 300ms));
  EXPECT_GE(cams.size(), 3u);
  EXPECT_LT(cams.size(), 6u);
  // 300 ms after the burst, whatever still waits goes.
  advance(300);
  EXPECT_FALSE(receive(0, 300ms));
  ASSERT_EQ(cams.size(), 30u);
  for (size_t i = 1; i < cams.size(); ++i) EXPECT_EQ(cams[i], static_cast<uint16_t>(cams[0] + i)) << i;
  EXPECT_EQ(worker_->paced(), 28u);

  // A burst larger than the FIFO (160 small copies, 128 slots): the oldest leave early
  // to make room, nothing is lost, the order holds. (Small, so that the sockets'
  // receive buffers hold the whole burst.)
  cams.clear();
  constexpr size_t kBurst = 160;
  for (uint16_t i = 0; i < kBurst; ++i)
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(130 + i), 9000, kCam, Bytes(300, 1)));
  pub_->SendRtp(Rtp(111, 2, 1920, kMic, Bytes(80, 2)));
  ASSERT_TRUE(receive(kOutMic, 2s));
  EXPECT_GE(cams.size(), kBurst - Pacer::kSlots);  // went early, plus what the budget allowed
  EXPECT_LT(cams.size(), kBurst);
  advance(400);
  EXPECT_FALSE(receive(0, 300ms));
  ASSERT_EQ(cams.size(), kBurst);
  for (size_t i = 1; i < cams.size(); ++i) EXPECT_EQ(cams[i], static_cast<uint16_t>(cams[0] + i)) << i;
  EXPECT_EQ(worker_->drops().Get(DropReason::kSubscriberNotReady), 0u);
  EXPECT_EQ(worker_->drops().Get(DropReason::kSendBufferFull), 0u);
}

// What arrives in one receive batch goes out subscriber by subscriber and stream by
// stream: a subscriber's copies of one stream's packets sit side by side in the send
// batch, and those to one address leave as one segmented send (send_batch.hpp).
TEST_F(WorkerMedia, AReceiveBatchGoesOutStreamByStreamAndARunLeavesAsOneSend) {
  Connect();
  constexpr uint32_t kOutMic = 0xC1;
  OnWorker(*worker_, [&] {
    worker_->AddRoute(1, 2, {0, kOutMic, 111, 0, 0});
    return 0;
  });
  auto sent = [&] {
    return OnWorker(*worker_, [&] {
      return std::pair{worker_->send_batch().messages_sent(), worker_->send_batch().datagrams_sent()};
    });
  };
  auto before = sent();
  // Hold the worker while the burst arrives, so that one recvmmsg takes all of it.
  std::promise<void> go;
  std::shared_future<void> released = go.get_future().share();
  worker_->Post([released] { released.wait(); });
  pub_->SendRtp(Rtp(111, 1, 960, kMic, Bytes(200, 1)));
  pub_->SendRtp(Rtp(96, 100, 9000, kCam, Bytes(300, 2)));
  pub_->SendRtp(Rtp(111, 2, 1920, kMic, Bytes(200, 3)));
  pub_->SendRtp(Rtp(111, 3, 2880, kMic, Bytes(120, 4)));  // shorter: the run's last
  std::this_thread::sleep_for(50ms);
  go.set_value();
  std::vector<std::pair<uint32_t, uint16_t>> got;  // (ssrc, payload's first byte)
  for (int i = 0; i < 4; ++i) {
    auto p = sub_->RecvRtp(2s);
    ASSERT_FALSE(p.empty()) << "packet " << i;
    auto v = ParseRtp(p);
    ASSERT_TRUE(v);
    got.emplace_back(v->ssrc, v->payload()[0]);
  }
  std::vector<std::pair<uint32_t, uint16_t>> mic, cam;
  for (auto g : got) (g.first == kOutMic ? mic : cam).push_back(g);
  EXPECT_EQ(mic, (std::vector<std::pair<uint32_t, uint16_t>>{{kOutMic, 1}, {kOutMic, 3}, {kOutMic, 4}}));
  EXPECT_EQ(cam, (std::vector<std::pair<uint32_t, uint16_t>>{{kOutCam, 2}}));
  // The microphone's three copies left as one message.
  auto after = sent();
  ASSERT_TRUE(OnWorker(*worker_, [&] { return worker_->send_batch().segmenting(); }));
  EXPECT_GE((after.second - before.second) - (after.first - before.first), 2u)
      << "three datagrams to one address in one message save two";
}

TEST_F(WorkerMedia, AThrowClosesOnlyTheTransportItCameFromAndTheWorkerGoesOn) {
  Connect();
  auto state = [&](uint64_t id) {
    return OnWorker(*worker_, [&] {
      Transport* t = worker_->FindTransport(id);
      return std::make_pair(t->state(), t->failure());
    });
  };
  // The test's hook: the publisher's RTP handler throws (the packet path itself does not).
  OnWorker(*worker_, [&] {
    worker_->FindTransport(1)->OnRtp([](RtpView&) { throw std::runtime_error("injected by the test"); });
    return 0;
  });
  pub_->SendRtp(Rtp(96, 1, 0, kCam, Bytes(30, 1)));
  for (int i = 0; i < 200 && state(1).first != Transport::State::kFailed; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(state(1), std::make_pair(Transport::State::kFailed, Failure::kInternalError));
  EXPECT_EQ(Counters(1)->failure.load(), static_cast<int>(Failure::kInternalError));  // what the hub reads
  EXPECT_EQ(worker_->exceptions(), 1u);
  EXPECT_EQ(state(2).first, Transport::State::kConnected);
  // Nothing more of the closed transport is handled.
  pub_->SendRtp(Rtp(96, 2, 3000, kCam, Bytes(30, 2)));
  EXPECT_TRUE(sub_->RecvRtp(300ms).empty());
  EXPECT_EQ(worker_->exceptions(), 1u);

  // Posted work that throws is counted too; it names no transport, none fails.
  worker_->Post([] { throw 42; });
  // The worker still connects transports and forwards their media.
  Peer pub2(worker_->port());
  OnWorker(*worker_, [&] {
    worker_->AddTransport(3, {"pub2", "second-publisher-passwd", "c3", pub2.fingerprint()})
        ->SetInboundTracks({{true, kCam, 96, 0, 0}});
    return 0;
  });
  ASSERT_TRUE(pub2.Connect("pub2:c3", "second-publisher-passwd", server_cert_->fingerprint()));
  OnWorker(*worker_, [&] {
    worker_->AddRoute(3, 2, {0, 0xC1, 96, 0, 0});
    return 0;
  });
  pub2.SendRtp(Rtp(96, 7, 0, kCam, Bytes(30, 7)));
  auto p = sub_->RecvRtp(2s);
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(Load32(&p[8]), 0xC1u);
  EXPECT_EQ(worker_->exceptions(), 2u);
  EXPECT_EQ(state(2).first, Transport::State::kConnected);
  EXPECT_EQ(state(3).first, Transport::State::kConnected);
}

// Inside a receive batch packets are held and forwarded at its end: a throw then is
// the forwarded publisher's, and closes it (not the transport whose datagram came last,
// nor none).
TEST_F(WorkerMedia, AThrowWhileHeldPacketsAreForwardedClosesTheirPublisher) {
  Connect();
  auto state = [&](uint64_t id) { return OnWorker(*worker_, [&] { return worker_->FindTransport(id)->state(); }); };
  OnWorker(*worker_, [&] {
    worker_->forwarder().SetFanoutHookForTesting([](uint64_t publisher) {
      if (publisher == 1) throw std::runtime_error("injected by the test");
    });
    return 0;
  });
  pub_->SendRtp(Rtp(96, 1, 0, kCam, Bytes(30, 1)));
  for (int i = 0; i < 200 && state(1) != Transport::State::kFailed; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(state(1), Transport::State::kFailed);
  EXPECT_EQ(Counters(1)->failure.load(), static_cast<int>(Failure::kInternalError));
  EXPECT_EQ(worker_->exceptions(), 1u);
  EXPECT_EQ(state(2), Transport::State::kConnected) << "the subscriber goes on";
}

TEST(Twcc, FeedbackRoundTripsWithLossReorderingAndLargeGaps) {
  TwccRecorder rec;
  int64_t t0 = 1'000'000'000;
  // Out of order (65533 before 65532), a gap of 88 ms (a two-byte delta), a packet that
  // arrived earlier than its predecessor (a negative delta), losses, and wrap-around.
  std::vector<std::pair<uint16_t, int64_t>> sent = {{65530, t0},        {65531, t0 + 1000}, {65533, t0 + 1500},
                                                    {65532, t0 + 1250}, {0, t0 + 90'000},   {1, t0 + 90'250},
                                                    {2, t0 + 89'000},   {20, t0 + 100'000}};
  for (auto [s, at] : sent) ASSERT_TRUE(rec.Record(s, at));
  uint8_t buf[1200];
  size_t n = rec.WriteFeedback(buf, sizeof buf, 1, 2);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  ASSERT_TRUE(IsValidRtcp({buf, n}));
  RtcpIterator it({buf, n});
  auto f = ParseTwccFeedback(*it);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base_sequence, 65530);
  EXPECT_EQ(f->status_count, 27);  // 65530 .. 20 (wrapping)
  int64_t ref = static_cast<int64_t>(f->reference_time) * 64000;
  auto at = [&](size_t i) { return *f->arrivals_us[i] + ref; };
  EXPECT_EQ(at(0), t0);
  EXPECT_EQ(at(1), t0 + 1000);
  EXPECT_EQ(at(2), t0 + 1250);
  EXPECT_EQ(at(3), t0 + 1500);
  EXPECT_FALSE(f->arrivals_us[4].has_value());
  EXPECT_FALSE(f->arrivals_us[5].has_value());
  EXPECT_EQ(at(6), t0 + 90'000);
  EXPECT_EQ(at(7), t0 + 90'250);
  EXPECT_EQ(at(8), t0 + 89'000);
  for (size_t i = 9; i < 26; ++i) EXPECT_FALSE(f->arrivals_us[i].has_value()) << i;
  EXPECT_EQ(at(26), t0 + 100'000);
  EXPECT_FALSE(rec.pending());
  // Reported packets are not reported again; later ones start a new feedback.
  ASSERT_TRUE(rec.Record(21, t0 + 100'500));
  n = rec.WriteFeedback(buf, sizeof buf, 1, 2);
  RtcpIterator it2({buf, n});
  auto f2 = ParseTwccFeedback(*it2);
  ASSERT_TRUE(f2);
  EXPECT_EQ(f2->base_sequence, 21);
  EXPECT_EQ(f2->status_count, 1);
  EXPECT_EQ(f2->feedback_count, static_cast<uint8_t>(f->feedback_count + 1));
}

}  // namespace
}  // namespace parley::sfu
