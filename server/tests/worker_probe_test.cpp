// Probing a subscriber's link through a real media worker over UDP on 127.0.0.1, with
// DTLS-SRTP clients and the worker on a test clock: a publisher sends a camera as two
// layers, a subscriber on auto takes its video through a simulated bottleneck and
// reports arrivals with transport-cc feedback (the server's own recorder, as Chromium
// and webrtcbin do). Capped, the subscriber falls to the small layer and is then
// probed, not tried with the big layer: padding-only RTX clusters, numbered like media;
// their answers find no room and it stays. When the cap lifts a probe finds room and the
// subscriber is back on the big layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/twcc.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Peer;
using test_peer::Rtp;

constexpr uint32_t kSmall = 0x5100, kBig = 0xB100, kOut = 0xC0, kOutRtx = 0xC1;
constexpr uint8_t kAbsSendTime = 3, kTransportCc = 4;

// A VP8 packet `size` bytes long, its frame data all `fill` (the layer shows in it).
Bytes Vp8(uint16_t pic, bool key, size_t size, uint8_t fill) {
  Bytes p = {0x90, 0x80, static_cast<uint8_t>(0x80 | (pic >> 8)), static_cast<uint8_t>(pic & 0xFF)};
  if (key) {
    Bytes tag = {0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x00, 0x40, 0x00};
    p.insert(p.end(), tag.begin(), tag.end());
  } else {
    p.push_back(0x11);
  }
  p.resize(size, fill);
  return p;
}

class WorkerLinkProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = *DtlsCertificate::Generate();
    worker_ = StartOnTestClock(cert_, now_);
    pub_ = std::make_unique<Peer>(worker_->port());
    sub_ = std::make_unique<Peer>(worker_->port());
    InboundTrack small{true, kSmall, 96, 0, 0, PayloadFormat::kVp8};
    small.layers = 2;
    InboundTrack big = small;
    big.ssrc = kBig;
    big.layer = 1;
    OnWorker(*worker_, [&] {
      worker_->AddTransport(1, {"pub", "publisher-password-0123", "cp", pub_->fingerprint()})
          ->SetInboundTracks({small, big});
      Transport* s = worker_->AddTransport(2, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()});
      s->set_abs_send_time_id(kAbsSendTime);
      s->set_transport_cc_id(kTransportCc);
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", cert_->fingerprint()));
    ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
    RouteSpec spec{0, kOut, 96, kOutRtx, 97};
    spec.stream_type = VideoStreamType::kAuto;
    OnWorker(*worker_, [&] {
      worker_->AddRoute(1, 2, spec);
      return 0;
    });
  }
  void TearDown() override { worker_->Stop(); }

  std::shared_ptr<TransportCounters> Counters(uint64_t id) {
    return OnWorker(*worker_, [&] { return worker_->FindTransport(id)->shared_counters(); });
  }

  // Runs `ms` of test time in 2 ms steps: the publisher sends a frame on each layer every
  // 100 ms (small: one 1,000-byte packet; big: five; a keyframe on both every second),
  // the subscriber takes what the worker sent through the bottleneck and reports
  // arrivals every 50 ms.
  void Run(int64_t ms) {
    for (int64_t step = 0; step < ms / 2; ++step) {
      now_.fetch_add(2000);
      const int64_t now = now_.load();
      if (now >= next_frame_us_) {
        next_frame_us_ += 100'000;
        const bool key = frame_ % 10 == 0;
        auto ts = static_cast<uint32_t>(frame_ * 9000);
        pub_->SendRtp(Rtp(96, small_seq_++, ts, kSmall, Vp8(static_cast<uint16_t>(frame_), key, 1000, 0x55)));
        for (int i = 0; i < 5; ++i)
          pub_->SendRtp(Rtp(96, big_seq_++, ts, kBig, Vp8(static_cast<uint16_t>(frame_), key && i == 0, 1000, 0xBB)));
        ++frame_;
      }
      OnWorker(*worker_, [] { return 0; });
      OnWorker(*worker_, [] { return 0; });
      Receive(now);
      if (now >= next_report_us_) {
        next_report_us_ += 50'000;
        Report(now);
      }
    }
  }
  void Receive(int64_t now) {
    for (Bytes p = sub_->RecvRtp(0ms); !p.empty(); p = sub_->RecvRtp(0ms)) {
      auto v = ParseRtp(p);
      ASSERT_TRUE(v);
      const bool probe = v->ssrc == kOutRtx && v->payload_length == 0;
      if (probe) {
        ++probe_packets_;
        EXPECT_EQ(v->payload_type, 97);
        EXPECT_GT(v->padding, 0);
      } else if (v->ssrc == kOut) {
        ++media_packets_;
        on_big_ = v->payload().back() == 0xBB;
      }
      auto seq = v->Extension(kTransportCc);
      ASSERT_TRUE(seq && seq->size() == 2) << "every video packet and probe is numbered";
      // Through the bottleneck: serialised at its rate behind what is queued, dropped when
      // the queue holds more than 300 ms.
      const size_t bytes = p.size() + 10;  // as protected
      const int64_t start = std::max(now, link_free_us_);
      if (start - now > 300'000) continue;  // lost
      link_free_us_ = start + static_cast<int64_t>(bytes) * 8'000'000 / capacity_bps_;
      arrivals_.push_back({Load16(seq->data()), link_free_us_ + 20'000});
    }
  }
  void Report(int64_t now) {
    std::sort(arrivals_.begin(), arrivals_.end(), [](auto& a, auto& b) { return a.second < b.second; });
    while (!arrivals_.empty() && arrivals_.front().second <= now) {
      (void)recorder_.Record(arrivals_.front().first, arrivals_.front().second);
      arrivals_.pop_front();
    }
    while (recorder_.pending()) {
      uint8_t fb[1200];
      size_t n = recorder_.WriteFeedback(fb, sizeof fb, 0x5EB, kOut);
      if (!n) break;
      sub_->SendRtcp(Bytes(fb, fb + n));
    }
  }

  std::atomic<int64_t> now_{1'000'000};
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<Peer> pub_, sub_;
  int64_t next_frame_us_ = 1'000'000, next_report_us_ = 1'050'000;
  int frame_ = 0;
  uint16_t small_seq_ = 100, big_seq_ = 5000;
  int64_t capacity_bps_ = 300'000, link_free_us_ = 0;
  std::deque<std::pair<uint16_t, int64_t>> arrivals_;
  TwccRecorder recorder_;
  size_t probe_packets_ = 0, media_packets_ = 0;
  bool on_big_ = false;  ///< the last media packet was of the big layer
};

TEST_F(WorkerLinkProbe, ACappedSubscriberIsProbedNotTriedAndReturnsToTheBigLayerWhenTheCapLifts) {
  // Capped at 300 kbit/s: the big layer (400) does not fit, the small one (80) does.
  Run(6000);
  auto c = Counters(2);
  EXPECT_GT(media_packets_, 50u);
  EXPECT_GT(c->twcc_feedbacks.load(), 50u);
  EXPECT_GE(c->layer_switches.load(), 1u) << "down to the small layer";
  EXPECT_FALSE(on_big_);
  const uint64_t switches = c->layer_switches.load();
  // Held there for 20 s: probed (several clusters), never tried with the big layer, and
  // the probes' answers say what the cap leaves.
  Run(20000);
  EXPECT_GE(c->layer_probes.load(), 2u);
  EXPECT_GE(probe_packets_, 2 * 8u) << "clusters of padding went out";
  EXPECT_EQ(c->layer_trials.load(), 0u);
  EXPECT_EQ(c->layer_switches.load(), switches) << "no try of the big layer";
  EXPECT_FALSE(on_big_);
  EXPECT_GT(c->probe_bps.load(), 0u);
  EXPECT_LT(c->probe_bps.load(), 300'000u);
  // The cap lifts: within a probe's wait, its answer and the up rule's 2 s, the big layer.
  capacity_bps_ = 20'000'000;
  Run(14000);
  EXPECT_GT(c->layer_switches.load(), switches);
  EXPECT_TRUE(on_big_) << "probe " << c->probe_bps.load() << " estimate " << c->downstream_bps.load();
  EXPECT_GT(c->probe_bps.load(), 460'000u) << "room for the big layer and its 15 %";
  EXPECT_EQ(c->layer_trials.load(), 0u);
}

}  // namespace
}  // namespace parley::sfu
