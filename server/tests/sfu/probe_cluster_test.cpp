// Probing a subscriber's link instead of trying a larger layer with real video: the
// layer switch asks for a probe where a trial would have been (and judges it), a cluster
// is timed at the rate asked for, and its packets are padding-only RTX with the server's
// own extensions. The whole loop (feedback, answer, switch up) is tested through a real
// worker (server/tests/worker_probe_test.cpp) and browsers (web/tests/capped.test.mjs).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "sfu/layer_switch.hpp"
#include "sfu/probe_cluster.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

std::array<LayerState, 2> SmallAndBig() {
  return {LayerState{true, 150'000}, LayerState{true, 900'000}};
}

// Auto held on the small layer from 1 s on, by an estimate of 500 kbit/s.
LayerSwitch HeldOnSmall(std::span<const LayerState> layers) {
  LayerSwitch s;
  s.SetType(VideoStreamType::kAuto);
  EXPECT_TRUE(s.Choose(layers, 2'000'000, 0, true, true));
  s.Accept(1, true);
  EXPECT_FALSE(s.Choose(layers, 500'000, 700'000, true, true));
  EXPECT_TRUE(s.Choose(layers, 500'000, 1'000'000, true, true));
  s.Accept(0, true);
  return s;
}

// Looks every 100 ms from `from` to `to` with the share `share`; returns the times a
// probe was asked for, and stops at a switch (its time in `switched`).
std::vector<int64_t> Look(LayerSwitch& s, std::span<const LayerState> layers, int64_t from, int64_t to, uint64_t share,
                          int64_t* switched = nullptr, std::vector<uint64_t>* rates = nullptr) {
  std::vector<int64_t> probes;
  for (int64_t t = from; t < to; t += 100'000) {
    const uint8_t before = s.target();
    s.Choose(layers, share, t, true, true);
    if (uint64_t bps = s.TakeProbe()) {
      probes.push_back(t);
      if (rates) rates->push_back(bps);
    }
    if (s.target() != before) {
      s.Accept(s.target(), true);
      if (switched) *switched = t;
      break;
    }
  }
  return probes;
}

TEST(ProbeInsteadOfTrial, AutoAsksForAProbeAtTheNextLayersShareAndDoesNotMove) {
  auto both = SmallAndBig();
  std::span<const LayerState> layers(both);
  LayerSwitch s = HeldOnSmall(layers);
  std::vector<uint64_t> rates;
  int64_t switched = -1;
  auto probes = Look(s, layers, 1'100'000, 30'000'000, 500'000, &switched, &rates);
  EXPECT_EQ(switched, -1) << "no trial with the real layer";
  EXPECT_EQ(s.target(), 0);
  EXPECT_EQ(s.trials(), 0u);
  ASSERT_GE(probes.size(), 3u);
  EXPECT_EQ(rates[0], 1'035'000u) << "the next layer's rate and the 15 % it must fit with";
  // 4 s after the switch down, then twice as long each time no room was found, up to 8 s.
  EXPECT_NEAR(static_cast<double>(probes[0]), 5'100'000.0, 100'000.0);
  EXPECT_NEAR(static_cast<double>(probes[1] - probes[0]), 8'000'000.0, 100'000.0);
  EXPECT_NEAR(static_cast<double>(probes[2] - probes[1]), 8'000'000.0, 100'000.0);
  EXPECT_EQ(s.probes(), probes.size());
}

TEST(ProbeInsteadOfTrial, AProbeThatFindsRoomLetsTheUsualRuleMoveUpAndResetsTheWait) {
  auto both = SmallAndBig();
  std::span<const LayerState> layers(both);
  LayerSwitch s = HeldOnSmall(layers);
  auto first = Look(s, layers, 1'100'000, 6'000'000, 500'000);
  ASSERT_EQ(first.size(), 1u);
  // The probe's answer raised the estimate: the big layer fits with its 15 %, and after
  // the usual 2 s the switch goes up (at the big layer's next keyframe).
  int64_t switched = -1;
  auto more = Look(s, layers, 6'000'000, 20'000'000, 1'100'000, &switched);
  EXPECT_TRUE(more.empty());
  EXPECT_NEAR(static_cast<double>(switched), 8'000'000.0, 100'000.0);
  EXPECT_EQ(s.target(), 1);
  // Down again later: the next probe comes 4 s after (the wait was reset), not 8.
  switched = -1;
  Look(s, layers, 20'000'000, 21'000'000, 500'000, &switched);
  ASSERT_GE(switched, 0);
  EXPECT_EQ(s.target(), 0);
  auto next = Look(s, layers, switched + 100'000, switched + 10'000'000, 500'000);
  ASSERT_FALSE(next.empty());
  EXPECT_NEAR(static_cast<double>(next[0] - switched), 4'100'000.0, 100'000.0);
}

TEST(ProbeInsteadOfTrial, AProbeThatCouldNotGoIsNeitherCountedNorJudged) {
  auto both = SmallAndBig();
  std::span<const LayerState> layers(both);
  LayerSwitch s = HeldOnSmall(layers);
  std::vector<int64_t> asked;
  for (int64_t t = 1'100'000; t < 14'000'000; t += 100'000) {
    s.Choose(layers, 500'000, t, true, true);
    if (s.TakeProbe()) {
      asked.push_back(t);
      s.ProbeRefused();  // another route's cluster to the subscriber was under way
    }
  }
  ASSERT_GE(asked.size(), 2u);
  EXPECT_EQ(s.probes(), 0u);
  EXPECT_NEAR(static_cast<double>(asked[1] - asked[0]), 4'000'000.0, 100'000.0) << "asked again after 4 s, not 8";
}

TEST(ProbeInsteadOfTrial, WithoutProbesAutoStillTries) {
  auto both = SmallAndBig();
  std::span<const LayerState> layers(both);
  LayerSwitch s = HeldOnSmall(layers);
  bool moved = false;
  for (int64_t t = 1'100'000; t < 10'000'000 && !moved; t += 100'000) {
    moved = s.Choose(layers, 500'000, t, true, false);
    EXPECT_EQ(s.TakeProbe(), 0u);
  }
  EXPECT_TRUE(moved);
  EXPECT_EQ(s.trials(), 1u);
  EXPECT_EQ(s.probes(), 0u);
}

TEST(ProbeCluster, IsTimedAtTheRateAskedForWithinItsBounds) {
  ProbeCluster c;
  EXPECT_FALSE(c.active());
  EXPECT_EQ(c.next_us(), -1);
  // 1.2 Mbit/s of 300-byte packets for 25 ms: 12 packets, one every 2 ms.
  ASSERT_EQ(c.Start(1'200'000, 300, 0x1234, 7, 1'000'000), 12u);
  EXPECT_EQ(c.id(), 7);
  EXPECT_EQ(c.ssrc(), 0x1234u);
  int sent = 0;
  int64_t last = 0;
  for (int64_t t = 1'000'000; c.active(); t += 100) {
    while (c.Due(t)) {
      c.Sent(t);
      ++sent;
      last = t;
    }
  }
  EXPECT_EQ(sent, 12);
  EXPECT_EQ(last, 1'022'000);
  EXPECT_EQ(ProbeCluster::PacketsFor(100'000, 300), ProbeCluster::kMinPackets) << "a slow probe still has enough";
  EXPECT_EQ(ProbeCluster::PacketsFor(100'000'000, 300), ProbeCluster::kMaxPackets) << "a fast one is bounded";
  c.Cancel();
  EXPECT_FALSE(c.active());
  // A late wake sends what is due, one packet, and the next an interval after it: never
  // faster than planned (a burst would read as a faster path).
  c.Start(1'200'000, 300, 0x1234, 8, 1'000'000);
  ASSERT_TRUE(c.Due(1'010'000));
  c.Sent(1'010'000);
  EXPECT_FALSE(c.Due(1'010'000));
  EXPECT_EQ(c.next_us(), 1'012'000);
  EXPECT_EQ(c.planned_us(), 1'000'000);
}

TEST(ProbeCluster, APacketIsPaddingOnlyRtxWithTheServersExtensions) {
  Route r{1, 2, RouteSpec{0, 0xAAAA, 96, 0xBBBB, 97}, SeqRewriter(100, 5000)};
  std::array<uint8_t, 1500> slot{};
  OwnExtensions ext{3, 1'000'000, 4, 0x0102};
  size_t len = WriteProbe(slot.data(), r, ext);
  ASSERT_EQ(len, 12u + 12u + 255u);
  auto v = ParseRtp(std::span<uint8_t>(slot.data(), len));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ssrc, 0xBBBBu);
  EXPECT_EQ(v->payload_type, 97);
  EXPECT_EQ(v->sequence, 5000);
  EXPECT_EQ(v->payload_length, 0u);
  EXPECT_EQ(v->padding, 255);
  auto twcc = v->Extension(4);
  ASSERT_TRUE(twcc);
  ASSERT_EQ(twcc->size(), 2u);
  EXPECT_EQ((*twcc)[0], 0x01);
  EXPECT_EQ((*twcc)[1], 0x02);
  auto ast = v->Extension(3);
  ASSERT_TRUE(ast);
  EXPECT_EQ(ast->size(), 3u);
  // The next one takes the next RTX number; a route without RTX has no probe.
  ASSERT_GT(WriteProbe(slot.data(), r, ext, 1), 0u);
  EXPECT_EQ(ParseRtp(std::span<uint8_t>(slot.data(), 12 + 12 + 1))->sequence, 5001);
  Route plain{1, 2, RouteSpec{0, 0xAAAA, 96}, SeqRewriter(100, 5000)};
  EXPECT_EQ(WriteProbe(slot.data(), plain, ext), 0u);
  EXPECT_EQ(WriteProbe(slot.data(), r, ext, 0), 0u);
  EXPECT_EQ(WriteProbe(slot.data(), r, ext, 256), 0u);
}

}  // namespace
}  // namespace parley::sfu
