// Simulcast, piece by piece: the SDP of RIDs and a=simulcast, the publish answer's
// layers (by RID and by SIM group), matching packets to layers, where a switch may
// happen (keyframes), which layer a subscriber gets (LayerSwitch) and VP8's picture
// numbering across layers. The forwarding itself is tested through a real worker
// (server/tests/worker_simulcast_test.cpp) and browsers (web/tests/simulcast.test.mjs).
#include <gtest/gtest.h>

#include <array>

#include "sfu/layer_economy.hpp"
#include "sfu/layer_switch.hpp"
#include "sfu/negotiate.hpp"
#include "sfu/publisher_tracks.hpp"
#include "sfu/rtp.hpp"
#include "sfu/sdp.hpp"

namespace parley::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

// A browser's simulcast offer for one camera: two RIDs, smallest first, with RTX.
std::string RidOffer(std::string_view simulcast = "a=simulcast:send q;f", bool rid_ext = true) {
  std::string s =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
      "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\n"
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n";
  if (rid_ext)
    s += "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
         "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n";
  s += "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
       "a=rid:q send\r\na=rid:f send max-width=1280\r\n";
  s += std::string(simulcast) + "\r\n";
  return s;
}

LocalTransport Local() {
  return {"uf", "pw", "AA:BB", "127.0.0.1", 5000, 0, ""};
}

TEST(SimulcastSdp, RidsAndSimulcastParseAndWriteBack) {
  auto sdp = ParseSdp(RidOffer("a=simulcast:send q;~f,x recv r"));
  ASSERT_TRUE(sdp) << sdp.error().message;
  const SdpMedia& m = sdp->media[0];
  ASSERT_EQ(m.rids.size(), 2u);
  EXPECT_EQ(m.rids[0].id, "q");
  EXPECT_EQ(m.rids[1].direction, "send");
  EXPECT_EQ(m.simulcast_send, (std::vector<std::string>{"q", "~f"}));  // first alternative of each stream
  EXPECT_EQ(m.simulcast_recv, (std::vector<std::string>{"r"}));
  auto again = ParseSdp(WriteSdp(*sdp));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->media[0].simulcast_send, m.simulcast_send);
  EXPECT_EQ(again->media[0].rids.size(), 2u);
}

TEST(SimulcastSdp, MalformedRidsAndListsAreRefused) {
  for (std::string bad : {"a=rid:q! send", "a=rid:q sideways", "a=rid:q", "a=rid:abcdefghijklmnopq send",
                          "a=simulcast:send", "a=simulcast:sideways q", "a=simulcast:send q;;f",
                          "a=simulcast:send q;f send q", "a=rid:q send\r\na=rid:q send"}) {
    std::string offer = RidOffer("a=simulcast:send q;f") + bad + "\r\n";
    EXPECT_FALSE(ParseSdp(offer)) << bad;
  }
  std::string many = RidOffer("a=simulcast:send q;f");
  for (int i = 0; i < 7; ++i) many += "a=rid:x" + std::to_string(i) + " send\r\n";
  EXPECT_FALSE(ParseSdp(many)) << "nine rids";
}

TEST(SimulcastAnswer, RidLayersInTheOffersOrderAndTheAnswerReceivesThem) {
  auto offer = ParseSdp(RidOffer());
  ASSERT_TRUE(offer);
  auto a = AnswerPublishOffer(*offer, Local());
  ASSERT_TRUE(a) << a.error().message;
  const AcceptedTrack& t = a->tracks[0];
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].rid, "q");
  EXPECT_EQ(t.layers[1].rid, "f");
  EXPECT_EQ(t.ext_rid, 10);
  EXPECT_EQ(t.ext_repaired_rid, 11);
  std::string answer = WriteSdp(a->sdp);
  EXPECT_NE(answer.find("a=rid:q recv\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=rid:f recv\r\n"), std::string::npos);
  EXPECT_NE(answer.find("a=simulcast:recv q;f\r\n"), std::string::npos);
  EXPECT_NE(answer.find("rtp-stream-id"), std::string::npos);
}

TEST(SimulcastAnswer, WithoutTheRidExtensionOrWithOneLayerItIsOneStream) {
  for (auto sdp : {RidOffer("a=simulcast:send q;f", false), RidOffer("a=simulcast:send q")}) {
    auto offer = ParseSdp(sdp);
    ASSERT_TRUE(offer);
    auto a = AnswerPublishOffer(*offer, Local());
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->tracks[0].layers.empty());
    EXPECT_EQ(WriteSdp(a->sdp).find("a=simulcast"), std::string::npos);
  }
  // A list naming an undeclared RID keeps only the declared ones; at most three.
  auto offer = ParseSdp(RidOffer("a=simulcast:send q;z;f"));
  ASSERT_TRUE(offer);
  auto a = AnswerPublishOffer(*offer, Local());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tracks[0].layers.size(), 2u);
}

TEST(SimulcastAnswer, SsrcLayersFromASimGroupWithTheirRtx) {
  std::string sdp = RidOffer("a=ssrc-group:SIM 11 22 33 44", false);
  sdp += "a=ssrc-group:FID 11 12\r\na=ssrc-group:FID 22 23\r\na=ssrc-group:FID 33 34\r\n";
  for (uint32_t s : {11u, 12u, 22u, 23u, 33u, 34u, 44u}) sdp += "a=ssrc:" + std::to_string(s) + " cname:x\r\n";
  auto offer = ParseSdp(sdp);
  ASSERT_TRUE(offer) << offer.error().message;
  auto a = AnswerPublishOffer(*offer, Local());
  ASSERT_TRUE(a);
  const AcceptedTrack& t = a->tracks[0];
  ASSERT_EQ(t.layers.size(), 3u);  // the fourth is past kMaxSimulcastLayers
  EXPECT_EQ(t.layers[0].ssrc, 11u);
  EXPECT_EQ(t.layers[0].rtx_ssrc, 12u);
  EXPECT_EQ(t.layers[2].ssrc, 33u);
  EXPECT_EQ(t.layers[2].rtx_ssrc, 34u);
  EXPECT_EQ(t.layers[0].rid, "");
}

// An RTP packet with the RID (id 10) or repaired RID (id 11) extension.
Bytes RidPacket(uint8_t pt, uint16_t seq, uint32_t ssrc, std::string_view rid, bool repaired = false) {
  Bytes p(12);
  p[0] = 0x90;
  p[1] = pt;
  Store16(&p[2], seq);
  Store32(&p[8], ssrc);
  Bytes e = {static_cast<uint8_t>(((repaired ? 11 : 10) << 4) | (rid.size() - 1))};
  e.insert(e.end(), rid.begin(), rid.end());
  while (e.size() % 4) e.push_back(0);
  Bytes hdr = {0xBE, 0xDE, 0, static_cast<uint8_t>(e.size() / 4)};
  p.insert(p.end(), hdr.begin(), hdr.end());
  p.insert(p.end(), e.begin(), e.end());
  Bytes payload = {0x90, 0x80, 0x01, 0x00};
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

TEST(SimulcastTracks, RidPacketsFindTheirLayerAndTheSsrcIsLearnt) {
  PublisherTracks tracks;
  InboundTrack q{true, 0, 96, 97, 0, PayloadFormat::kVp8};
  q.rid = "q";
  q.layers = 2;
  InboundTrack f = q;
  f.rid = "f";
  f.layer = 1;
  tracks.Set({{false, 0x55, 111}, q, f}, 10, 11);
  bool rtx = false;
  Bytes p = RidPacket(96, 1, 0xF0, "f");
  auto v = ParseRtp(p);
  ASSERT_TRUE(v);
  EXPECT_EQ(tracks.Match(*v, &rtx), 2);
  EXPECT_FALSE(rtx);
  // Without the extension now (senders stop writing it): the learnt SSRC says which.
  Bytes plain(16, 0);
  plain[0] = 0x80;
  plain[1] = 96;
  Store32(&plain[8], 0xF0);
  auto pv = ParseRtp(plain);
  ASSERT_TRUE(pv);
  EXPECT_EQ(tracks.Match(*pv, &rtx), 2);
  // The repaired RID names the RTX stream of a layer.
  Bytes r = RidPacket(97, 9, 0xF1, "q", true);
  auto rv = ParseRtp(r);
  ASSERT_TRUE(rv);
  EXPECT_EQ(tracks.Match(*rv, &rtx), 1);
  EXPECT_TRUE(rtx);
  // An unknown RID, or an unknown SSRC without one, is nobody's (no payload-type guess
  // for RID layers).
  Bytes u = RidPacket(96, 1, 0xF2, "zz");
  auto uv = ParseRtp(u);
  ASSERT_TRUE(uv);
  EXPECT_EQ(tracks.Match(*uv, &rtx), -1);
}

TEST(SimulcastKeyframes, Vp8AndH264KeyframeStarts) {
  // VP8: X=1, S=1, partition 0; I with a 15-bit picture id; then the frame tag (P=0: key).
  Bytes key = {0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00};
  EXPECT_TRUE(StartsKeyframe(PayloadFormat::kVp8, key));
  Bytes delta = key;
  delta[4] = 0x11;  // P=1
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kVp8, delta));
  Bytes middle = key;
  middle[0] = 0x80;  // S=0: not the start of a frame
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kVp8, middle));
  EXPECT_TRUE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x65, 0x88}));                    // IDR
  EXPECT_TRUE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x78, 0x00, 0x02, 0x67, 0x42}));  // STAP-A with an SPS
  EXPECT_TRUE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x7C, 0x85, 0x00}));              // first FU-A of an IDR
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x7C, 0x05, 0x00}));             // a later fragment
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x41, 0x9A}));                   // a P slice
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kH264, Bytes{0x78, 0x00, 0x09, 0x67}));       // STAP-A past its end
  EXPECT_FALSE(StartsKeyframe(PayloadFormat::kOpus, Bytes{0x78}));
}

std::array<LayerState, 3> Layers(bool small, uint64_t small_bps, bool big, uint64_t big_bps) {
  return {LayerState{small, small_bps}, LayerState{big, big_bps}, LayerState{false, 0}};
}

TEST(SimulcastSwitch, BigAndSmallTakeTheLayersBeingSent) {
  LayerSwitch s;
  s.SetType(VideoStreamType::kBig);
  auto both = Layers(true, 150'000, true, 900'000);
  EXPECT_TRUE(s.Choose(std::span<const LayerState>(both.data(), 2), 0, 0));
  EXPECT_EQ(s.target(), 1);
  EXPECT_FALSE(s.Accept(1, false)) << "a switch waits for a keyframe";
  EXPECT_FALSE(s.Accept(0, false));
  EXPECT_TRUE(s.Accept(0, true)) << "nothing forwarded yet: the smaller layer's keyframe starts the picture";
  EXPECT_EQ(s.current(), 0);
  EXPECT_EQ(s.target(), 1);
  EXPECT_TRUE(s.Accept(0, false));
  EXPECT_FALSE(s.Accept(1, false)) << "the target follows at its keyframe";
  EXPECT_TRUE(s.Accept(1, true));
  EXPECT_EQ(s.current(), 1);
  EXPECT_EQ(s.switches(), 0u) << "the climb from the first picture is not a switch";
  EXPECT_FALSE(s.Accept(0, true)) << "once started, only the target's keyframe moves it";
  EXPECT_TRUE(s.Accept(1, false));
  EXPECT_FALSE(s.Accept(0, false));
  // Small: the old layer keeps flowing until the new one's keyframe.
  s.SetType(VideoStreamType::kSmall);
  EXPECT_TRUE(s.Choose(std::span<const LayerState>(both.data(), 2), 0, 1000));
  EXPECT_TRUE(s.Accept(1, false));
  EXPECT_FALSE(s.Accept(0, false));
  EXPECT_TRUE(s.Accept(0, true));
  EXPECT_EQ(s.current(), 0);
  EXPECT_EQ(s.switches(), 1u);
  // Big while the publisher sends only the small layer: the small one (at once).
  s.SetType(VideoStreamType::kBig);
  auto small_only = Layers(true, 150'000, false, 0);
  EXPECT_FALSE(s.Choose(std::span<const LayerState>(small_only.data(), 2), 0, 2000));
  EXPECT_EQ(s.target(), 0);
  // Nothing sent: nothing to choose.
  LayerSwitch idle;
  auto none = Layers(false, 0, false, 0);
  EXPECT_FALSE(idle.Choose(std::span<const LayerState>(none.data(), 2), 0, 0));
  EXPECT_EQ(idle.target(), LayerSwitch::kNone);
}

TEST(SimulcastSwitch, AutoFollowsTheEstimateDownSoonAndUpSlowly) {
  LayerSwitch s;
  s.SetType(VideoStreamType::kAuto);
  auto both = Layers(true, 150'000, true, 900'000);
  std::span<const LayerState> layers(both.data(), 2);
  EXPECT_TRUE(s.Choose(layers, 2'000'000, 0));
  EXPECT_EQ(s.target(), 1) << "the big layer fits 2 Mbit/s";
  ASSERT_TRUE(s.Accept(1, true));
  // The estimate falls below the big layer: 300 ms later, the small one.
  EXPECT_FALSE(s.Choose(layers, 600'000, 1'000'000));
  EXPECT_FALSE(s.Choose(layers, 600'000, 1'200'000));
  EXPECT_EQ(s.target(), 1);
  EXPECT_TRUE(s.Choose(layers, 600'000, 1'300'000));
  EXPECT_EQ(s.target(), 0);
  ASSERT_TRUE(s.Accept(0, true));
  // Back up only when the big layer fits with 15 % to spare for 2 s without a break.
  EXPECT_FALSE(s.Choose(layers, 1'000'000, 2'000'000));  // 900k x 1.15 > 1M: not enough
  EXPECT_FALSE(s.Choose(layers, 1'100'000, 2'100'000));
  EXPECT_FALSE(s.Choose(layers, 1'100'000, 3'000'000));
  EXPECT_FALSE(s.Choose(layers, 700'000, 3'500'000));  // a dip starts the wait again
  EXPECT_FALSE(s.Choose(layers, 1'100'000, 3'600'000));
  EXPECT_FALSE(s.Choose(layers, 1'100'000, 5'500'000));
  EXPECT_TRUE(s.Choose(layers, 1'100'000, 5'600'000));
  EXPECT_EQ(s.target(), 1);
  // With no estimate (a subscriber that sends no REMB), auto is big.
  LayerSwitch blind;
  blind.SetType(VideoStreamType::kAuto);
  EXPECT_TRUE(blind.Choose(layers, 0, 0));
  EXPECT_EQ(blind.target(), 1);
}

// Auto on the small layer with an estimate that cannot show room for the big one (a
// receiver estimates from what arrives): every 100 ms from `from` to `to`, the share
// given by `share(t)`. Returns when the target changed (-1: it did not).
// `congested`: the estimate is below what the subscriber is sent.
template <typename Share>
int64_t RunAuto(LayerSwitch& s, std::span<const LayerState> layers, int64_t from, int64_t to, Share share,
                bool congested = true) {
  for (int64_t t = from; t < to; t += 100'000) {
    uint8_t before = s.target();
    s.Choose(layers, static_cast<uint64_t>(share(t)), t, congested);
    if (s.target() != before) {
      s.Accept(s.target(), true);
      return t;
    }
  }
  return -1;
}

// Within one 100 ms look of each other.
bool Near(int64_t a, int64_t b) {
  return a >= b - 100'000 && a <= b + 100'000;
}

// Held on the small layer at the estimate it has: after a switch down at kStart.
constexpr int64_t kStart = 1'000'000;
LayerSwitch HeldOnSmall(std::span<const LayerState> layers) {
  LayerSwitch s;
  s.SetType(VideoStreamType::kAuto);
  EXPECT_TRUE(s.Choose(layers, 2'000'000, 0));
  s.Accept(1, true);
  EXPECT_FALSE(s.Choose(layers, 500'000, kStart - 300'000));
  EXPECT_TRUE(s.Choose(layers, 500'000, kStart));
  s.Accept(0, true);
  return s;
}

TEST(SimulcastSwitch, AutoTriesTheNextLayerWhenTheEstimateCannotShowRoomAndKeepsItWhenTheEstimateGrows) {
  auto both = Layers(true, 150'000, true, 900'000);
  std::span<const LayerState> layers(both.data(), 2);
  LayerSwitch s = HeldOnSmall(layers);
  // 500k never fits 900k: after 4 s below it, the big layer is tried.
  int64_t at = RunAuto(s, layers, kStart + 100'000, kStart + 10'000'000, [](int64_t) { return 500'000; });
  EXPECT_TRUE(Near(at - kStart, 4'100'000)) << at;
  EXPECT_EQ(s.target(), 1);
  EXPECT_TRUE(s.trying());
  EXPECT_EQ(s.trials(), 1u);
  // The estimate grows with what arrives (not yet enough): the trial goes on, and once
  // the layer fits it is an ordinary choice.
  EXPECT_EQ(RunAuto(s, layers, at + 100'000, at + 3'000'000,
                    [&](int64_t t) { return 500'000 + static_cast<uint64_t>(t - at) / 10; }),
            -1);
  EXPECT_EQ(s.target(), 1);
  EXPECT_EQ(RunAuto(s, layers, at + 3'000'000, at + 20'000'000, [](int64_t) { return 1'000'000; }), -1);
  EXPECT_FALSE(s.trying());
  EXPECT_EQ(s.target(), 1);
  EXPECT_EQ(s.trials(), 1u);
  // Short of the layer while taking all it is sent (a receive-side estimate sits just
  // above what arrives): kept; congested as well: left.
  EXPECT_EQ(RunAuto(
                s, layers, at + 20'000'000, at + 30'000'000, [](int64_t) { return 850'000; }, false),
            -1);
  EXPECT_EQ(s.target(), 1);
  EXPECT_GE(RunAuto(s, layers, at + 30'000'000, at + 31'000'000, [](int64_t) { return 850'000; }), 0);
  EXPECT_EQ(s.target(), 0);
}

TEST(SimulcastSwitch, AFailedTrialGoesBackAtOnceAndTheNextWaitsTwiceAsLongUpToSixteenSeconds) {
  auto both = Layers(true, 150'000, true, 900'000);
  std::span<const LayerState> layers(both.data(), 2);
  LayerSwitch s = HeldOnSmall(layers);
  // A capped link: every trial brings the estimate down (a queue builds), and the
  // small layer is back at the next look.
  int64_t t = kStart;
  std::vector<int64_t> waits;
  for (int i = 0; i < 6; ++i) {
    int64_t tried = RunAuto(s, layers, t + 100'000, t + 60'000'000, [](int64_t) { return 500'000; });
    ASSERT_GE(tried, 0);
    ASSERT_EQ(s.target(), 1);
    waits.push_back(tried - t);
    int64_t back = RunAuto(s, layers, tried + 100'000, tried + 10'000'000, [](int64_t) { return 450'000; });
    EXPECT_EQ(back, tried + 100'000) << "an estimate below 95 % of its peak ends the trial";
    EXPECT_EQ(s.target(), 0);
    t = back;
  }
  ASSERT_EQ(waits.size(), 6u);
  // The wait is counted from the look after the way back (one tick).
  std::vector<int64_t> want = {4'100'000, 8'100'000, 16'100'000, 16'100'000, 16'100'000, 16'100'000};
  for (size_t i = 0; i < waits.size(); ++i) EXPECT_TRUE(Near(waits[i], want[i])) << i << ": " << waits[i];
  EXPECT_EQ(s.trials(), 6u);
  // A trial whose estimate neither falls nor climbs is over after 2 s: the layer
  // is kept while the subscriber takes what it is sent, left (a failed trial) once the
  // estimate is below it.
  int64_t tried = RunAuto(s, layers, t + 100'000, t + 60'000'000, [](int64_t) { return 500'000; });
  EXPECT_EQ(RunAuto(
                s, layers, tried + 100'000, tried + 7'000'000, [](int64_t) { return 500'000; }, false),
            -1);
  EXPECT_FALSE(s.trying());
  EXPECT_EQ(s.target(), 1);
  int64_t back = RunAuto(s, layers, tried + 7'000'000, tried + 20'000'000, [](int64_t) { return 500'000; });
  EXPECT_TRUE(Near(back - tried, 7'300'000)) << back - tried;
  // A trial that fits and holds 10 s resets the wait to 4 s (after the 16 s of the
  // one that failed).
  tried = RunAuto(s, layers, back + 100'000, back + 60'000'000, [](int64_t) { return 500'000; });
  EXPECT_TRUE(Near(tried - back, 16'100'000)) << tried - back;
  EXPECT_EQ(RunAuto(s, layers, tried + 100'000, tried + 12'000'000, [](int64_t) { return 1'000'000; }), -1);
  int64_t down = RunAuto(s, layers, tried + 12'000'000, tried + 13'000'000, [](int64_t) { return 500'000; });
  ASSERT_GE(down, 0);
  EXPECT_EQ(s.target(), 0);
  int64_t again = RunAuto(s, layers, down + 100'000, down + 60'000'000, [](int64_t) { return 500'000; });
  EXPECT_TRUE(Near(again - down, 4'100'000)) << again - down;
}

// A VP8 payload descriptor with a 15-bit picture id and TL0PICIDX, then one byte.
Bytes Vp8(uint16_t pic, uint8_t tl0) {
  return {0x90, 0xC0, static_cast<uint8_t>(0x80 | (pic >> 8)), static_cast<uint8_t>(pic & 0xFF), tl0, 0x01};
}
uint16_t PicOf(const Bytes& p) {
  return static_cast<uint16_t>(((p[2] & 0x7F) << 8) | p[3]);
}

// Publisher economy: three layers being sent (a packet just now), a rate each.
std::vector<PublisherTracks::Track> SentLayers(int64_t now_us) {
  std::vector<PublisherTracks::Track> t(3);
  for (size_t i = 0; i < t.size(); ++i) {
    t[i].last_packet_us = now_us;
    t[i].last_window_bytes = (i + 1) * 10'000;
  }
  return t;
}

// A look at `when`: the layers not paused have just sent a packet.
bool LookAt(std::vector<PublisherTracks::Track>& t, int64_t when, uint32_t wanted) {
  for (auto& l : t)
    if (!l.paused) l.last_packet_us = when;
  return SpareLayers(std::span<PublisherTracks::Track>(t), wanted, when);
}

TEST(SimulcastEconomy, ALayerNobodyWantsForTwoSecondsIsPausedAndResumedWhenWanted) {
  int64_t now = 10'000'000;
  auto t = SentLayers(now);
  auto look = [&](int64_t when, uint32_t wanted) { return LookAt(t, when, wanted); };
  // Only the middle layer is watched: the others go after 2 s.
  EXPECT_FALSE(look(now, 0b010));
  EXPECT_FALSE(look(now + kPauseAfterUs - 1, 0b010));
  EXPECT_TRUE(look(now + kPauseAfterUs, 0b010));
  EXPECT_TRUE(t[0].paused) << "a watched layer is enough: the smallest goes too";
  EXPECT_FALSE(t[1].paused);
  EXPECT_TRUE(t[2].paused);
  // Paused, it stops coming, and stays a choice at the rate it had.
  now += 5'000'000;
  t[2].last_window_bytes = 0;
  EXPECT_TRUE(LayerAvailable(t[2], now));
  EXPECT_EQ(LayerRate(t[2]), 240'000u);
  // A subscriber wants it again: resumed at once, a choice until its packets come.
  EXPECT_TRUE(SpareLayers(std::span<PublisherTracks::Track>(t), 0b110, now));
  EXPECT_FALSE(t[2].paused);
  EXPECT_TRUE(t[0].paused) << "still unwatched";
  EXPECT_TRUE(LayerAvailable(t[2], now + kResumeGraceUs - 1));
  EXPECT_FALSE(LayerAvailable(t[2], now + kResumeGraceUs)) << "it never came back: no longer a choice";
}

TEST(SimulcastEconomy, WithNobodyWatchingTheSmallestStaysAndAMomentsWantRestartsTheCount) {
  int64_t now = 10'000'000;
  auto t = SentLayers(now);
  auto look = [&](int64_t when, uint32_t wanted) { return LookAt(t, when, wanted); };
  EXPECT_FALSE(look(now, 0));
  EXPECT_FALSE(look(now + 1'500'000, 0b100));  // the top one wanted for a moment
  EXPECT_TRUE(look(now + 2'500'000, 0));
  EXPECT_FALSE(t[0].paused) << "nobody watches: the smallest stays, for whoever comes";
  EXPECT_TRUE(t[1].paused) << "nobody wanted the middle one for 2.5 s";
  EXPECT_FALSE(t[2].paused) << "the top one was wanted 1 s ago";
  EXPECT_TRUE(look(now + 4'500'000, 0));
  EXPECT_TRUE(t[2].paused);
  // Someone arrives and wants the middle one: resumed; the smallest stays until 2 s
  // after it is no longer the one that has to stay.
  EXPECT_TRUE(look(now + 5'000'000, 0b010));
  EXPECT_FALSE(t[1].paused);
  EXPECT_FALSE(look(now + 6'000'000, 0b010));
  EXPECT_FALSE(t[0].paused);
  EXPECT_TRUE(look(now + 7'000'000, 0b010));
  EXPECT_TRUE(t[0].paused);
}

TEST(SimulcastEconomy, ALayerThePublisherStoppedItselfIsNotPausedAndTheSmallestSentStays) {
  int64_t now = 10'000'000;
  auto t = SentLayers(now);
  t[0].last_packet_us = -1;               // the camera is too small for its small layer
  t[2].last_packet_us = now - 2'000'000;  // and its own bandwidth dropped the top one
  std::span<PublisherTracks::Track> layers(t);
  EXPECT_FALSE(SpareLayers(layers, 0, now));
  EXPECT_FALSE(SpareLayers(layers, 0, now + 10'000'000));
  for (const auto& l : t) EXPECT_FALSE(l.paused);
  EXPECT_FALSE(LayerAvailable(t[2], now)) << "not a choice until it comes back";
}

TEST(SimulcastVp8Ids, PictureIdsContinueAcrossLayers) {
  Vp8Ids ids;
  Bytes a = Vp8(100, 7);
  ids.Rewrite(a, 1, false);
  EXPECT_EQ(PicOf(a), 100);  // the first stream passes as it is
  Bytes b = Vp8(101, 8);
  ids.Rewrite(b, 1, false);
  // Another layer numbers its pictures its own way: the output goes on from 101 / 8.
  Bytes c = Vp8(0x7FFF, 200);
  ids.Rewrite(c, 2, false);
  EXPECT_EQ(PicOf(c), 102);
  EXPECT_EQ(c[4], 9);
  Bytes d = Vp8(0, 201);  // the 15-bit picture id wraps
  ids.Rewrite(d, 2, false);
  EXPECT_EQ(PicOf(d), 103);
  EXPECT_EQ(d[4], 10);
  EXPECT_EQ(d[2] & 0x80, 0x80) << "still 15 bits";
  // A retransmission of an earlier picture of this layer keeps its number and moves nothing.
  Bytes r = Vp8(0x7FFF, 200);
  ids.Rewrite(r, 2, true);
  EXPECT_EQ(PicOf(r), 102);
  Bytes e = Vp8(1, 202);
  ids.Rewrite(e, 2, false);
  EXPECT_EQ(PicOf(e), 104);
  // Short or descriptor-less payloads are left alone.
  Bytes tiny = {0x90};
  ids.Rewrite(tiny, 2, false);
  Bytes no_x = {0x10, 0x00};
  ids.Rewrite(no_x, 2, false);
  EXPECT_EQ(no_x, (Bytes{0x10, 0x00}));
}

}  // namespace
}  // namespace parley::sfu
