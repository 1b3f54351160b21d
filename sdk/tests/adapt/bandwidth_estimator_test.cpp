// The sender's bandwidth estimate over synthetic paths (link_sim.hpp): it settles under
// a bottleneck, grows where there is room, backs off from heavy random loss but not from
// light loss, recovers when a cap lifts, and the delay trend tells a filling queue from
// a steady or a draining one.
#include "adapt/bandwidth_estimator.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "link_sim.hpp"

namespace parley::sdk::adapt {
namespace {

// Results of `n` bursts 20 ms apart, each arriving `growth_us` later relative to its send
// time than the one before (positive: a queue fills; negative: it drains).
std::vector<PacketResult> Bursts(int n, int64_t growth_us) {
  std::vector<PacketResult> out;
  int64_t extra = 0;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) {
      int64_t send = i * 20'000 + k * 1'000;
      out.push_back({static_cast<uint16_t>(out.size()), send, 1'000'000 + send + extra + k * 1'000, 1200});
    }
    extra = std::max<int64_t>(extra + growth_us, -900'000);
  }
  return out;
}

BandwidthUsage UsageAfter(const std::vector<PacketResult>& results) {
  DelayTrend trend;
  for (const auto& p : results) trend.Add(p);
  return trend.usage();
}

TEST(DelayTrend, SteadyDelayIsNormalAGrowingQueueIsOveruseADrainingOneUnderuse) {
  EXPECT_EQ(UsageAfter(Bursts(60, 0)), BandwidthUsage::kNormal);
  EXPECT_EQ(UsageAfter(Bursts(60, 2'000)), BandwidthUsage::kOverusing);
  EXPECT_EQ(UsageAfter(Bursts(60, -2'000)), BandwidthUsage::kUnderusing);
}

TEST(DelayTrend, LostPacketsAndTooFewBurstsDecideNothing) {
  DelayTrend trend;
  for (int i = 0; i < 10; ++i) trend.Add({static_cast<uint16_t>(i), i * 20'000, -1, 1200});
  EXPECT_EQ(trend.usage(), BandwidthUsage::kNormal);
  for (const auto& p : Bursts(10, 5'000)) trend.Add(p);  // growing, but fewer bursts than the trend window
  EXPECT_EQ(trend.usage(), BandwidthUsage::kNormal);
}

TEST(BandwidthEstimator, UnderABottleneckTheTargetSettlesNearItsCapacity) {
  BandwidthEstimator bwe({60'000, 800'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 300'000;
  std::vector<std::pair<int64_t, int64_t>> trace;
  link.Run(20'000'000, &trace);
  // Over the last 10 s: near the capacity, neither starving nor flooding it.
  int64_t lo = INT64_MAX, hi = 0;
  for (const auto& [t, bps] : trace)
    if (t >= 10'000'000) {
      lo = std::min(lo, bps);
      hi = std::max(hi, bps);
    }
  EXPECT_GE(lo, 150'000);
  EXPECT_LE(hi, 420'000);
  // It got there from 800 kbps within the first 5 s.
  int64_t at5 = 0;
  for (const auto& [t, bps] : trace)
    if (t <= 5'000'000) at5 = bps;
  EXPECT_LE(at5, 420'000);
}

TEST(BandwidthEstimator, WithRoomToSpareTheTargetGrowsToTheMaximum) {
  BandwidthEstimator bwe({60'000, 300'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 20'000'000;
  link.Run(30'000'000);
  EXPECT_EQ(bwe.target_bps(), 2'500'000);
  EXPECT_EQ(bwe.usage(), BandwidthUsage::kNormal);
}

TEST(BandwidthEstimator, HeavyRandomLossLowersTheTargetLightLossDoesNot) {
  BandwidthEstimator lossy({60'000, 800'000, 2'500'000});
  LinkSim heavy(lossy);
  heavy.capacity_bps = 20'000'000;
  heavy.loss = 0.25;
  heavy.Run(10'000'000);
  EXPECT_LT(lossy.target_bps(), 400'000);
  // Measured over the last window (ten packets or more at this low rate): noisy, but there.
  EXPECT_GE(lossy.loss_fraction(), 0.05);
  EXPECT_LE(lossy.loss_fraction(), 0.5);

  BandwidthEstimator light({60'000, 800'000, 2'500'000});
  LinkSim slight(light, 11);
  slight.capacity_bps = 20'000'000;
  slight.loss = 0.01;
  slight.Run(10'000'000);
  EXPECT_GT(light.target_bps(), 800'000);
}

TEST(BandwidthEstimator, WhenACapLiftsTheTargetClimbsBack) {
  BandwidthEstimator bwe({60'000, 800'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 300'000;
  link.Run(10'000'000);
  EXPECT_LE(bwe.target_bps(), 420'000);
  link.capacity_bps = 5'000'000;
  link.Run(15'000'000);
  EXPECT_GE(bwe.target_bps(), 1'000'000);
}

TEST(BandwidthEstimator, TheTargetStaysWithinItsBounds) {
  BandwidthEstimator bwe({100'000, 500'000, 600'000});
  LinkSim link(bwe);
  link.capacity_bps = 20'000'000;
  link.Run(10'000'000);
  EXPECT_EQ(bwe.target_bps(), 600'000);
  link.capacity_bps = 30'000;  // far below the minimum: the estimate stops at it
  link.loss = 0.5;
  link.Run(10'000'000);
  EXPECT_EQ(bwe.target_bps(), 100'000);
}

TEST(BandwidthEstimator, AckedRateFollowsWhatArrived) {
  BandwidthEstimator bwe({60'000, 800'000, 2'500'000});
  std::vector<PacketResult> r;
  // 500 kbps: 1250-byte packets every 20 ms for a second.
  for (int i = 0; i < 50; ++i) r.push_back({static_cast<uint16_t>(i), i * 20'000, 5'000 + i * 20'000, 1250});
  bwe.OnFeedback(1'000'000, r);
  EXPECT_NEAR(static_cast<double>(bwe.acked_bps()), 500'000, 30'000);
}

}  // namespace
}  // namespace parley::sdk::adapt
