// The sender's bandwidth estimate over synthetic paths (link_sim.hpp): it settles under
// a bottleneck, grows where there is room, keeps its rate under random loss (that FEC
// and retransmission repair) but backs off from loss at a full queue, recovers when a
// cap lifts, measures the round trip from the feedback, and the delay trend tells a
// filling queue from a steady or a draining one.
#include "parley/congestion/bandwidth_estimator.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "link_sim.hpp"

namespace parley::congestion {
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

TEST(BandwidthEstimator, UnderA300KbpsDropTailCapEachSecondAveragesNearTheCapFromTheFifthOn) {
  BandwidthEstimator bwe({60'000, 800'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 300'000;
  link.Run(5'000'000);
  for (int second = 5; second < 20; ++second) {
    SCOPED_TRACE(second);
    std::vector<std::pair<int64_t, int64_t>> trace;
    int64_t delivered = link.delivered_bytes();
    link.Run(1'000'000, &trace);
    double mean = 0;
    for (const auto& [t, bps] : trace) mean += static_cast<double>(bps) / static_cast<double>(trace.size());
    EXPECT_GE(mean, 270'000);
    EXPECT_LE(mean, 340'000);
    // And the link is used, not starved: at least 90 % of its capacity arrives.
    EXPECT_GE((link.delivered_bytes() - delivered) * 8, 270'000);
  }
}

TEST(BandwidthEstimator, WithRoomToSpareTheTargetGrowsToTheMaximum) {
  BandwidthEstimator bwe({60'000, 300'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 20'000'000;
  link.Run(30'000'000);
  EXPECT_EQ(bwe.target_bps(), 2'500'000);
  EXPECT_EQ(bwe.usage(), BandwidthUsage::kNormal);
}

// The lowest target over the trace from `from_us` on.
int64_t LowestFrom(const std::vector<std::pair<int64_t, int64_t>>& trace, int64_t from_us) {
  int64_t lo = INT64_MAX;
  for (const auto& [t, bps] : trace)
    if (t >= from_us) lo = std::min(lo, bps);
  return lo;
}

TEST(BandwidthEstimator, RandomLossOnAnUncappedLinkKeepsTheRateNearTheCeiling) {
  for (double loss : {0.10, 0.30}) {
    SCOPED_TRACE(loss);
    // Starting at the ceiling, as the sender does: it stays there.
    BandwidthEstimator at({60'000, 1'000'000, 1'000'000});
    LinkSim link(at);
    link.capacity_bps = 20'000'000;
    link.loss = loss;
    std::vector<std::pair<int64_t, int64_t>> trace;
    link.Run(20'000'000, &trace);
    EXPECT_GE(LowestFrom(trace, 0), 900'000);
    EXPECT_GT(at.loss_fraction(), 0.0);  // measured (one window's: noisy), just not held against the path
    EXPECT_FALSE(at.congested());
    // Starting low, it climbs to the ceiling through the loss.
    BandwidthEstimator low({60'000, 300'000, 1'000'000});
    LinkSim climb(low, 13);
    climb.capacity_bps = 20'000'000;
    climb.loss = loss;
    trace.clear();
    climb.Run(30'000'000, &trace);
    EXPECT_GE(LowestFrom(trace, 20'000'000), 900'000);
  }
}

TEST(BandwidthEstimator, AnEncoderSendingLessUnderRandomLossDoesNotDragTheEstimateDown) {
  // A still picture: 200 kbit/s of a 1 Mbit/s allowance, 10 % of it lost at random.
  BandwidthEstimator bwe({60'000, 1'000'000, 1'000'000});
  LinkSim link(bwe);
  link.capacity_bps = 20'000'000;
  link.loss = 0.10;
  link.app_limit_bps = 200'000;
  std::vector<std::pair<int64_t, int64_t>> trace;
  link.Run(20'000'000, &trace);
  EXPECT_GE(LowestFrom(trace, 0), 900'000);
}

TEST(BandwidthEstimator, LossBeyondHalfOfEverythingLowersTheTargetAnyway) {
  BandwidthEstimator bwe({60'000, 1'000'000, 1'000'000});
  LinkSim link(bwe);
  link.capacity_bps = 20'000'000;
  link.loss = 0.6;
  link.Run(10'000'000);
  EXPECT_LT(bwe.target_bps(), 400'000);
}

TEST(BandwidthEstimator, RandomLossOnTopOfABottleneckStillBacksOff) {
  BandwidthEstimator bwe({60'000, 800'000, 2'500'000});
  LinkSim link(bwe);
  link.capacity_bps = 300'000;
  link.loss = 0.10;
  std::vector<std::pair<int64_t, int64_t>> trace;
  link.Run(20'000'000, &trace);
  int64_t hi = 0;
  for (const auto& [t, bps] : trace)
    if (t >= 5'000'000) hi = std::max(hi, bps);
  EXPECT_LE(hi, 420'000);
  EXPECT_GE(LowestFrom(trace, 10'000'000), 100'000);
}

TEST(BandwidthEstimator, LightRandomLossLetsTheTargetGrow) {
  BandwidthEstimator light({60'000, 800'000, 2'500'000});
  LinkSim slight(light, 11);
  slight.capacity_bps = 20'000'000;
  slight.loss = 0.01;
  slight.Run(10'000'000);
  EXPECT_GT(light.target_bps(), 800'000);
}

TEST(BandwidthEstimator, TheRoundTripIsMeasuredFromTheFeedback) {
  for (int64_t one_way : {20'000, 200'000}) {
    SCOPED_TRACE(one_way);
    BandwidthEstimator bwe({60'000, 800'000, 800'000});
    LinkSim link(bwe);
    link.capacity_bps = 20'000'000;
    link.propagation_us = link.return_us = one_way;
    EXPECT_EQ(bwe.round_trip_us(), 0);  // nothing measured yet
    link.Run(3'000'000);
    // Both ways, plus at most a packet interval (12 ms at 800 kbit/s) waiting for the
    // feedback and the packet's own time on the link.
    EXPECT_GE(bwe.round_trip_us(), 2 * one_way);
    EXPECT_LE(bwe.round_trip_us(), 2 * one_way + 15'000);
  }
}

TEST(RoundTrip, TheLowestSampleOfTheLastSecondAndNothingOutOfRange) {
  RoundTrip rtt;
  rtt.Add(1'000'000, 1'000'000 + 5);           // sent after the feedback came: clocks disagree
  rtt.Add(1'000'000, 1'000'000 - 11'000'000);  // 11 s: no round trip is that long
  EXPECT_EQ(rtt.value(), 0);
  rtt.Add(1'000'000, 900'000);    // 100 ms
  rtt.Add(1'050'000, 970'000);    // 80 ms
  rtt.Add(1'100'000, 1'010'000);  // 90 ms: the lowest still wins
  EXPECT_EQ(rtt.value(), 80'000);
  rtt.Add(2'200'000, 1'900'000);  // a second later only this one is recent: 300 ms
  EXPECT_EQ(rtt.value(), 300'000);
}

TEST(BandwidthEstimator, LossDecreasesComeAtMostOncePerMeasuredRoundTripPlus300Ms) {
  // A path that loses most of everything: the rate comes down step by step, and each
  // step waits for the last one's effect, a measured round trip plus 300 ms.
  int64_t shortest_gap[2] = {INT64_MAX, INT64_MAX};
  for (int far = 0; far < 2; ++far) {
    SCOPED_TRACE(far);
    int64_t one_way = far ? 400'000 : 20'000;
    BandwidthEstimator bwe({60'000, 2'500'000, 2'500'000});
    LinkSim link(bwe);
    link.capacity_bps = 20'000'000;
    link.loss = 0.6;
    link.propagation_us = link.return_us = one_way;
    int64_t last = bwe.loss_based_bps(), last_decrease_us = -1;
    int decreases = 0;
    for (int i = 0; i < 200; ++i) {
      link.Run(50'000);
      if (bwe.loss_based_bps() < last) {
        if (last_decrease_us >= 0) shortest_gap[far] = std::min(shortest_gap[far], link.now() - last_decrease_us);
        last_decrease_us = link.now();
        ++decreases;
      }
      last = bwe.loss_based_bps();
    }
    EXPECT_GE(decreases, 3);
    EXPECT_GE(shortest_gap[far], 300'000 + 2 * one_way);
    EXPECT_GE(bwe.round_trip_us(), 2 * one_way);
  }
  // Near, the steps come faster than a far round trip would allow.
  EXPECT_LT(shortest_gap[0], 300'000 + 800'000);
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

// Arrival times are the receiver's word: standing still, or going back by days, they
// never make the acknowledged-rate window grow without bound.
TEST(BandwidthEstimator, KeepsItsWindowBoundedWhateverTheArrivalTimesSay) {
  BandwidthEstimator bwe({});
  constexpr int64_t kTenDays = 864'000'000'000;
  std::vector<PacketResult> batch;
  uint16_t seq = 0;
  for (int64_t round = 0; round < 100; ++round) {
    batch.clear();
    for (int i = 0; i < 100; ++i, ++seq)
      batch.push_back({seq, round * 50'000 + i * 500, kTenDays, 1200});  // all "arrive" at once
    bwe.OnFeedback(round * 50'000 + 60'000, batch);
  }
  EXPECT_LE(bwe.acked_window(), 4096u);
  // The receiver's clock goes back by ten days: the window starts again and measures.
  for (int64_t round = 100; round < 140; ++round) {
    batch.clear();
    for (int i = 0; i < 10; ++i, ++seq) {
      int64_t send = round * 50'000 + i * 5'000;
      batch.push_back({seq, send, send + 20'000, 1200});
    }
    bwe.OnFeedback(round * 50'000 + 60'000, batch);
  }
  EXPECT_LT(bwe.acked_window(), 200u);
  EXPECT_GT(bwe.acked_bps(), 1'500'000);  // 10 x 1,200 bytes every 50 ms: 1.92 Mbit/s
  EXPECT_LT(bwe.acked_bps(), 2'500'000);
}

}  // namespace
}  // namespace parley::congestion
