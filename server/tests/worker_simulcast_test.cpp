// Simulcast through a real media worker over UDP on 127.0.0.1, with DTLS-SRTP clients:
// a publisher sends a camera as two layers (by SSRC, and by RID), a subscriber gets one
// of them as one continuous stream, switches at keyframes when it asks for the other
// (the publisher is asked for the keyframe), and in auto follows its REMB.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/rtcp_writer.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Peer;
using test_peer::Rtp;

constexpr uint32_t kSmall = 0x5100, kBig = 0xB100, kOut = 0xC0;

// A VP8 payload: descriptor with a 15-bit picture id, then a frame tag (key or delta)
// and, for a keyframe, the start code and a 64x64 size.
Bytes Vp8Frame(uint16_t pic, bool key) {
  Bytes p = {0x90, 0x80, static_cast<uint8_t>(0x80 | (pic >> 8)), static_cast<uint8_t>(pic & 0xFF)};
  if (key) {
    Bytes tag = {0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x00, 0x40, 0x00, 0x00, 0x00};
    p.insert(p.end(), tag.begin(), tag.end());
  } else {
    Bytes tag = {0x11, 0x02, 0x00, 0x00, 0x00, 0x00};
    p.insert(p.end(), tag.begin(), tag.end());
  }
  return p;
}
uint16_t PicOf(Bytes rtp) {
  auto v = ParseRtp(rtp);
  auto p = v->payload();
  return static_cast<uint16_t>(((p[2] & 0x7F) << 8) | p[3]);
}

std::vector<InboundTrack> SsrcLayers();  // the small and the big layer, by SSRC

class WorkerSimulcast : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = *DtlsCertificate::Generate();
    worker_ = StartOnTestClock(cert_, now_);
  }
  void TearDown() override { worker_->Stop(); }

  // Publisher 1 sends `layers` (smallest first); subscriber 2 gets the source.
  void Connect(std::vector<InboundTrack> layers, TransportParams pub_params, VideoStreamType type) {
    pub_ = std::make_unique<Peer>(worker_->port());
    sub_ = std::make_unique<Peer>(worker_->port());
    pub_params.local_ufrag = "pub";
    pub_params.local_pwd = "publisher-password-0123";
    pub_params.remote_ufrag = "cp";
    pub_params.remote_fingerprint = pub_->fingerprint();
    OnWorker(*worker_, [&] {
      worker_->AddTransport(1, pub_params)->SetInboundTracks(layers);
      worker_->AddTransport(2, {"sub", "subscriber-password-012", "cs", sub_->fingerprint()});
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", cert_->fingerprint()));
    ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
    RouteSpec spec{0, kOut, 96, 0, 0};
    spec.stream_type = type;
    OnWorker(*worker_, [&] {
      worker_->AddRoute(1, 2, spec);
      return 0;
    });
  }
  void Advance(int64_t ms) {
    now_.fetch_add(ms * 1000);
    OnWorker(*worker_, [] { return 0; });
    OnWorker(*worker_, [] { return 0; });
  }
  // Sends one frame on each layer: seq/ts/picture id advance together.
  void SendFrames(int n, bool key_small, bool key_big, uint8_t rid_ext = 0) {
    for (int i = 0; i < n; ++i, ++frame_) {
      bool first = i == 0;
      auto seq = static_cast<uint16_t>(frame_);
      auto ts = static_cast<uint32_t>(frame_ * 3000);
      Bytes small = Vp8Frame(static_cast<uint16_t>(1000 + frame_), first && key_small);
      Bytes big = Vp8Frame(static_cast<uint16_t>(20000 + frame_), first && key_big);
      // The big layer's packet first, then the small one's.
      if (rid_ext) {
        pub_->SendRtp(Rtp(96, static_cast<uint16_t>(seq + 5000), ts + 90000, kBig, big, rid_ext, Bytes{'f'}));
        pub_->SendRtp(Rtp(96, static_cast<uint16_t>(seq + 100), ts + 7, kSmall, small, rid_ext, Bytes{'q'}));
      } else {
        pub_->SendRtp(Rtp(96, static_cast<uint16_t>(seq + 5000), ts + 90000, kBig, big));
        pub_->SendRtp(Rtp(96, static_cast<uint16_t>(seq + 100), ts + 7, kSmall, small));
      }
    }
  }
  // Everything the subscriber gets within `wait`.
  std::vector<Bytes> Received(std::chrono::milliseconds wait = 300ms) {
    std::vector<Bytes> out;
    for (auto p = sub_->RecvRtp(wait); !p.empty(); p = sub_->RecvRtp(wait)) out.push_back(p);
    return out;
  }
  void DrainRtcp() {
    while (!pub_->RecvRtcp(100ms).empty()) {
    }
  }
  bool PliFor(uint32_t ssrc) { return pub_->GetsPliFor(ssrc, 500ms); }
  // Publisher 1 connected and sending both layers' tracks; subscriber 2 routed to the
  // source (big) but not connected yet.
  // `answered`: the subscriber's transport has its client's answer (remote credentials)
  // already, as a transport of a running call does; else its offer is still out.
  void SubscribeBeforeConnecting(bool answered = true) {
    pub_ = std::make_unique<Peer>(worker_->port());
    sub_ = std::make_unique<Peer>(worker_->port());
    OnWorker(*worker_, [&] {
      worker_->AddTransport(1, {"pub", "publisher-password-0123", "cp", pub_->fingerprint()})
          ->SetInboundTracks(SsrcLayers());
      worker_->AddTransport(
          2, {"sub", "subscriber-password-012", answered ? "cs" : "", answered ? sub_->fingerprint() : ""});
      return 0;
    });
    ASSERT_TRUE(pub_->Connect("pub:cp", "publisher-password-0123", cert_->fingerprint()));
    Advance(40);  // the worker's tick sees the publisher connected (no routes: no request)
    RouteSpec spec{0, kOut, 96, 0, 0};
    spec.stream_type = VideoStreamType::kBig;
    OnWorker(*worker_, [&] {
      worker_->AddRoute(1, 2, spec);
      return 0;
    });
  }

  std::atomic<int64_t> now_{1'000'000};
  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<Peer> pub_, sub_;
  int frame_ = 0;
};

std::vector<InboundTrack> SsrcLayers() {
  InboundTrack small{true, kSmall, 96, 0, 0, PayloadFormat::kVp8};
  small.layers = 2;
  InboundTrack big = small;
  big.ssrc = kBig;
  big.layer = 1;
  return {small, big};
}

TEST_F(WorkerSimulcast, ASubscriberGetsOneLayerAndSwitchesAtAKeyframeAsOneStream) {
  Connect(SsrcLayers(), {}, VideoStreamType::kSmall);
  SendFrames(5, true, true);
  auto got = Received();
  ASSERT_EQ(got.size(), 5u);  // the small layer only, from its keyframe
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(Load32(&got[i][8]), kOut);
    EXPECT_EQ(PicOf(got[i]), 1000 + i);
  }
  uint16_t last_seq = Load16(&got.back()[2]);
  uint32_t last_ts = Load32(&got.back()[4]);
  uint16_t last_pic = PicOf(got.back());

  // Big, please: the publisher is asked for a keyframe, and until one comes on the big
  // layer the small one keeps flowing (no frozen picture while waiting).
  DrainRtcp();
  Advance(400);  // past the keyframe requests' throttle
  OnWorker(*worker_, [&] {
    worker_->SetStreamType(1, 2, VideoStreamType::kBig);
    return 0;
  });
  EXPECT_TRUE(PliFor(kBig));
  SendFrames(3, false, false);
  got = Received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(PicOf(got[0]), 1005);
  last_seq = Load16(&got.back()[2]);
  last_ts = Load32(&got.back()[4]);
  last_pic = PicOf(got.back());
  SendFrames(4, false, true);  // the big layer's keyframe: the switch
  got = Received();
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(Load32(&got[i][8]), kOut) << "one stream for the subscriber";
    EXPECT_EQ(Load16(&got[i][2]), static_cast<uint16_t>(last_seq + 1 + i)) << "sequence continues";
    EXPECT_EQ(PicOf(got[i]), static_cast<uint16_t>(last_pic + 1 + i)) << "picture ids continue";
  }
  EXPECT_EQ(Load32(&got[0][4]), last_ts + 3000) << "one frame after the last timestamp";
  EXPECT_EQ(Load32(&got[1][4]), last_ts + 6000);
  auto payload = ParseRtp(got[0])->payload();
  EXPECT_EQ(payload[4] & 0x01, 0) << "the first big packet is the keyframe";

  // A NACK for a number sent before the switch gets nothing: under the new offsets it
  // would name a big-layer packet from before the switch.
  uint8_t nack[16];
  uint16_t old[] = {last_seq};
  size_t n = WriteNack(nack, sizeof nack, 0x5EB, kOut, old);
  sub_->SendRtcp(Bytes(nack, nack + n));
  EXPECT_TRUE(sub_->RecvRtp(300ms).empty());
}

// Publisher economy: the big layer nobody watches is paused (the publish transport's
// counters say so, for the control plane to tell the publisher), and a subscriber
// asking for it resumes it at once, keeping the small layer until the big keyframe.
TEST_F(WorkerSimulcast, TheLayerNobodyWatchesIsPausedAndResumedWhenASubscriberAsksForIt) {
  Connect(SsrcLayers(), {}, VideoStreamType::kSmall);
  auto paused = [&] {
    return OnWorker(*worker_, [&] { return worker_->FindTransport(1)->shared_counters()->paused_layers.load(); });
  };
  SendFrames(1, true, true);
  for (int i = 0; i < 30 && paused() == 0; ++i) {
    Advance(100);
    SendFrames(1, false, false);
  }
  EXPECT_EQ(paused(), 0b10u) << "track 1, the big layer, after 2 s without a viewer";
  // The big layer stops coming (its publisher honoured the pause); the small one flows.
  auto small_frame = [&] {
    pub_->SendRtp(Rtp(96, static_cast<uint16_t>(frame_ + 100), static_cast<uint32_t>(frame_ * 3000 + 7), kSmall,
                      Vp8Frame(static_cast<uint16_t>(1000 + frame_), false)));
    ++frame_;
  };
  for (int i = 0; i < 15; ++i) {
    Advance(100);
    small_frame();
  }
  EXPECT_EQ(paused(), 0b10u) << "still paused: nobody asked for it";
  (void)Received(100ms);
  DrainRtcp();
  OnWorker(*worker_, [&] {
    worker_->SetStreamType(1, 2, VideoStreamType::kBig);
    return 0;
  });
  EXPECT_EQ(paused(), 0u) << "resumed at once";
  EXPECT_TRUE(PliFor(kBig));
  for (int i = 0; i < 3; ++i) small_frame();
  EXPECT_EQ(Received().size(), 3u) << "the small layer keeps flowing until the big one is back";
  SendFrames(2, false, true);  // the big layer's first keyframe: the switch
  auto got = Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(ParseRtp(got[0])->payload()[4] & 0x01, 0) << "the big layer's keyframe";
  EXPECT_EQ(Load32(&got[0][8]), kOut) << "one stream for the subscriber";
}

// A subscriber on auto that receives the big layer still wants the small one: it is
// its fallback, kept flowing.
TEST_F(WorkerSimulcast, TheSmallestLayerIsKeptForASubscriberOnAuto) {
  Connect(SsrcLayers(), {}, VideoStreamType::kAuto);
  auto paused = [&] {
    return OnWorker(*worker_, [&] { return worker_->FindTransport(1)->shared_counters()->paused_layers.load(); });
  };
  SendFrames(1, true, true);
  for (int i = 0; i < 40; ++i) {
    Advance(100);
    SendFrames(1, false, false);
  }
  EXPECT_EQ(paused(), 0u) << "neither layer is paused after 4 s";
  OnWorker(*worker_, [&] {
    worker_->SetStreamType(1, 2, VideoStreamType::kBig);
    return 0;
  });
  for (int i = 0; i < 30 && paused() == 0; ++i) {
    Advance(100);
    SendFrames(1, false, false);
  }
  EXPECT_EQ(paused(), 0b01u) << "asked for big explicitly: the small layer is paused";
}

TEST_F(WorkerSimulcast, RidLayersAreLearntAndAutoFollowsTheSubscribersEstimate) {
  std::vector<InboundTrack> layers = SsrcLayers();
  layers[0].ssrc = layers[1].ssrc = 0;  // the SSRCs come from the RIDs the packets name
  layers[0].rid = "q";
  layers[1].rid = "f";
  TransportParams params;
  params.ext_rid = 10;
  Connect(layers, params, VideoStreamType::kAuto);
  // No estimate from the subscriber: auto takes the big layer.
  SendFrames(3, true, true, 10);
  auto got = Received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(PicOf(got[0]), 20000);
  // Rates are measured over a second: a second's worth of frames (a few kbit/s each).
  for (int i = 0; i < 10; ++i) {
    Advance(110);
    SendFrames(1, false, false, 10);
  }
  (void)Received(100ms);
  // The subscriber's REMB says 1 kbit/s: less than either layer. After the down hold the
  // small layer is chosen (and asked a keyframe of), and it takes over at that keyframe.
  DrainRtcp();
  uint8_t remb[32];
  uint32_t ssrcs[] = {kOut};
  size_t n = WriteRemb(remb, sizeof remb, 0x5EB, 1000, ssrcs);
  sub_->SendRtcp(Bytes(remb, remb + n));
  for (int i = 0; i < 5; ++i) Advance(110);
  EXPECT_TRUE(PliFor(kSmall));
  SendFrames(1, true, false, 10);  // the big layer's delta (still forwarded), then the small keyframe
  got = Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(PicOf(got[0]), 20013);
  EXPECT_EQ(PicOf(got[1]), 20014) << "continues the big layer's numbering";
  EXPECT_EQ(Load16(&got[1][2]), static_cast<uint16_t>(Load16(&got[0][2]) + 1));
  auto payload = ParseRtp(got[1])->payload();
  EXPECT_EQ(payload[4] & 0x01, 0) << "the small layer's keyframe";
  SendFrames(2, false, false, 10);
  EXPECT_EQ(Received().size(), 2u);
}

// A newcomer on big whose big layer has no keyframe yet (paused, or its keyframe still
// to come) starts on the small layer's keyframe at once and moves to big at big's.
TEST_F(WorkerSimulcast, ARouteWithNoPictureStartsOnASmallerLayersKeyframe) {
  Connect(SsrcLayers(), {}, VideoStreamType::kBig);
  SendFrames(3, true, false);
  auto got = Received();
  ASSERT_EQ(got.size(), 3u) << "the small layer from its keyframe, not nothing until big's";
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(PicOf(got[i]), 1000 + i);
  SendFrames(2, false, true);
  auto later = Received();
  ASSERT_EQ(later.size(), 2u) << "big from its keyframe on, the small layer no more";
  EXPECT_EQ(Load32(&later[0][8]), kOut);
  EXPECT_EQ(Load16(&later[0][2]), static_cast<uint16_t>(Load16(&got.back()[2]) + 1)) << "one stream";
  EXPECT_EQ(PicOf(later[0]), static_cast<uint16_t>(PicOf(got.back()) + 1));
}

// One request asks every layer, each from a sender SSRC of its own: a native
// publisher's RTP session (GStreamer's) keeps only the first of one sender's keyframe
// requests within two round trips, and the big layer would wait for its encoder's
// periodic keyframe.
TEST_F(WorkerSimulcast, EachLayersKeyframeRequestComesFromASenderOfItsOwn) {
  SubscribeBeforeConnecting();
  std::map<uint32_t, uint32_t> sender_of;  // media SSRC -> the request's sender SSRC
  for (auto fb = pub_->RecvRtcpOf(kPsfb, 1, 500ms); !fb.empty() && sender_of.size() < 2;
       fb = pub_->RecvRtcpOf(kPsfb, 1, 500ms))
    sender_of.emplace(Load32(&fb[8]), Load32(&fb[4]));
  ASSERT_EQ(sender_of.count(kSmall), 1u);
  ASSERT_EQ(sender_of.count(kBig), 1u);
  EXPECT_NE(sender_of[kSmall], sender_of[kBig]);
  EXPECT_NE(sender_of[kSmall], kSmall);
  EXPECT_NE(sender_of[kBig], kBig);
}

// A subscriber's keyframe is asked for as it is routed (it has answered), before its
// connection is up; what comes first is kept for it, and it starts from it as it connects.
TEST_F(WorkerSimulcast, TheKeyframeAskedForAsASubscriberComesIsKeptUntilItCanTakeIt) {
  SubscribeBeforeConnecting();
  EXPECT_TRUE(PliFor(kSmall)) << "asked for as the subscriber comes, before it connects";
  SendFrames(3, true, false);  // the small layer's keyframe comes before the subscriber can take it
  Advance(40);
  ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
  Advance(40);  // the worker's tick sees the subscriber connected
  auto got = Received();
  ASSERT_EQ(got.size(), 3u) << "started from the kept keyframe, not the next one";
  EXPECT_EQ(ParseRtp(got[0])->payload()[4] & 0x01, 0) << "the keyframe first";
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(PicOf(got[i]), 1000 + i);
  SendFrames(1, false, false);
  auto next = Received();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(Load16(&next[0][2]), static_cast<uint16_t>(Load16(&got.back()[2]) + 1)) << "one stream on";
}

// A new subscriber's routes are added with its offer; their keyframe is asked for when
// its answer comes, so that it is fresh when the connection is up (a browser answers
// 70-300 ms after the offer, and its publisher takes no second request within 300 ms).
TEST_F(WorkerSimulcast, TheKeyframeForANewSubscriberIsAskedForWhenItAnswers) {
  SubscribeBeforeConnecting(false);
  EXPECT_FALSE(pub_->GetsPliFor(kSmall, 200ms)) << "not asked for while the offer is out";
  OnWorker(*worker_, [&] {
    worker_->FindTransport(2)->SetRemote("cs", sub_->fingerprint());
    worker_->Answered(2);
    return 0;
  });
  EXPECT_TRUE(PliFor(kSmall)) << "asked for as the answer comes";
  SendFrames(3, true, false);
  Advance(40);
  ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
  Advance(40);
  auto got = Received();
  ASSERT_EQ(got.size(), 3u) << "started from the keyframe that answered the request";
  EXPECT_EQ(ParseRtp(got[0])->payload()[4] & 0x01, 0) << "the keyframe first";
}

// A keyframe older than kKeptKeyframeUs is not replayed (a player timing frames by their
// RTP clock would show the rest of the call that late): the subscriber is asked one.
TEST_F(WorkerSimulcast, AnOldKeyframeIsNotReplayedToANewSubscriber) {
  SubscribeBeforeConnecting();
  ASSERT_TRUE(PliFor(kSmall));
  SendFrames(3, true, false);
  std::this_thread::sleep_for(50ms);  // the worker has them (by its clock, now)
  Advance(Forwarder::kKeptKeyframeUs / 1000 + 200);
  ASSERT_TRUE(sub_->Connect("sub:cs", "subscriber-password-012", cert_->fingerprint()));
  Advance(40);
  EXPECT_TRUE(Received(150ms).empty()) << "nothing from a keyframe that old";
  EXPECT_TRUE(PliFor(kSmall)) << "a keyframe asked for again as it connects";
  SendFrames(2, true, false);
  auto got = Received();
  ASSERT_EQ(got.size(), 2u) << "from the new keyframe";
  EXPECT_EQ(ParseRtp(got[0])->payload()[4] & 0x01, 0);
}

}  // namespace
}  // namespace parley::sfu
