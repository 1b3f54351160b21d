#include "parley/congestion/probe_meter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "link_sim.hpp"
#include "parley/congestion/bandwidth_estimator.hpp"

namespace parley::congestion {
namespace {

// A cluster of `packets` packets of `size` bytes sent at `rate_bps` through a bottleneck
// of `capacity_bps` (empty queue at the start), 20 ms away; every `lose_every`-th packet
// lost (0: none).
std::vector<PacketResult> Cluster(size_t packets, uint32_t size, int64_t rate_bps, int64_t capacity_bps,
                                  size_t lose_every = 0) {
  std::vector<PacketResult> out;
  const int64_t gap = static_cast<int64_t>(size) * 8 * 1'000'000 / rate_bps;
  const int64_t serialise = static_cast<int64_t>(size) * 8 * 1'000'000 / capacity_bps;
  int64_t link_free = 0;
  for (size_t i = 0; i < packets; ++i) {
    const int64_t send = 1'000'000 + static_cast<int64_t>(i) * gap;
    PacketResult p{static_cast<uint16_t>(i), send, -1, size};
    if (lose_every == 0 || (i + 1) % lose_every != 0) {
      link_free = std::max(link_free, send) + serialise;
      p.recv_us = link_free + 20'000;
    }
    out.push_back(p);
  }
  return out;
}

int64_t Measure(ProbeMeter& m, uint32_t id, const std::vector<PacketResult>& cluster) {
  m.Begin(id, cluster.size(), 1'000'000);
  int64_t answer = -1;
  for (size_t i = 0; i < cluster.size(); ++i) {
    answer = m.Add(id, cluster[i], 1'100'000);
    if (i + 1 < cluster.size()) {
      EXPECT_EQ(answer, -1) << "complete only with its last result";
    }
  }
  return answer;
}

TEST(ProbeMeter, AFastPathAnswersTheRateTheClusterWasSentAt) {
  ProbeMeter m;
  int64_t answer = Measure(m, 1, Cluster(20, 300, 1'200'000, 10'000'000));
  EXPECT_NEAR(static_cast<double>(answer), 1'200'000.0, 60'000.0);
}

TEST(ProbeMeter, AThinPathAnswersWhatItCarriesLessALittle) {
  ProbeMeter m;
  int64_t answer = Measure(m, 1, Cluster(20, 300, 1'200'000, 250'000));
  EXPECT_NEAR(static_cast<double>(answer), 0.95 * 250'000.0, 15'000.0);
}

TEST(ProbeMeter, AClusterThatLostMuchOrArrivedAllAtOnceGivesNoAnswer) {
  ProbeMeter m;
  EXPECT_EQ(Measure(m, 1, Cluster(20, 300, 1'200'000, 10'000'000, 3)), 0);  // a third lost
  auto squeezed = Cluster(20, 300, 1'200'000, 10'000'000);
  for (auto& p : squeezed) p.recv_us = 5'000'000;  // one arrival time for all
  EXPECT_EQ(Measure(m, 2, squeezed), 0);
  auto fast = Cluster(20, 300, 1'200'000, 10'000'000);
  for (size_t i = 0; i < fast.size(); ++i) fast[i].recv_us = 5'000'000 + static_cast<int64_t>(i) * 100;
  EXPECT_EQ(Measure(m, 3, fast), 0) << "arrivals ten times faster than sent: the receiver's clock, not the path";
  EXPECT_EQ(Measure(m, 4, Cluster(3, 300, 1'200'000, 10'000'000)), 0) << "too few packets";
}

TEST(ProbeMeter, ALittleLossStillAnswers) {
  ProbeMeter m;
  int64_t answer = Measure(m, 1, Cluster(20, 300, 1'200'000, 10'000'000, 10));  // 10 % lost
  EXPECT_GT(answer, 1'000'000);
}

TEST(ProbeMeter, UnknownAndExpiredClustersAreNoAnswer) {
  ProbeMeter m;
  auto c = Cluster(10, 300, 1'200'000, 10'000'000);
  EXPECT_EQ(m.Add(7, c[0], 0), -1);  // never begun
  EXPECT_EQ(m.Add(0, c[0], 0), -1);
  m.Begin(1, c.size(), 0);
  for (size_t i = 0; i + 1 < c.size(); ++i) EXPECT_EQ(m.Add(1, c[i], 1000), -1);
  EXPECT_EQ(m.Add(1, c.back(), ProbeMeter::kTimeoutUs + 1), -1) << "reported too late: given up";
  EXPECT_EQ(m.timed_out(), 1u);
  // More clusters at once than it tracks: the oldest is replaced, the others still answer.
  for (uint32_t id = 10; id < 10 + ProbeMeter::kClusters + 1; ++id) m.Begin(id, c.size(), id);
  EXPECT_EQ(m.Add(10, c[0], 100), -1);
  int64_t answer = -1;
  for (const auto& p : c) answer = m.Add(11 + ProbeMeter::kClusters - 1, p, 100);
  EXPECT_GT(answer, 0);
}

TEST(ProbeMeter, ProbePacketsDoNotCountAsAcknowledgedMedia) {
  BandwidthEstimator bwe(BandwidthEstimator::Config{});
  std::vector<PacketResult> media;
  for (uint16_t i = 0; i < 50; ++i)  // 1,000 bytes every 20 ms: 400 kbit/s
    media.push_back({i, 1'000'000 + i * 20'000, 1'020'000 + i * 20'000, 1000});
  bwe.OnFeedback(2'100'000, media);
  const int64_t acked = bwe.acked_bps();
  EXPECT_NEAR(static_cast<double>(acked), 400'000.0, 20'000.0);
  auto probes = Cluster(20, 300, 1'200'000, 10'000'000);
  for (size_t i = 0; i < probes.size(); ++i) {
    probes[i].seq = static_cast<uint16_t>(50 + i);
    probes[i].send_us += 1'000'000;
    probes[i].recv_us += 1'000'000;
    probes[i].probe = true;
  }
  bwe.OnFeedback(2'200'000, probes);
  EXPECT_EQ(bwe.acked_bps(), acked);
}

TEST(ProbeMeter, AProbeLiftsAnEstimateASenderHoldingBackCouldNotRaise) {
  BandwidthEstimator::Config cfg;
  cfg.start_bps = 300'000;
  cfg.max_bps = 10'000'000;
  BandwidthEstimator bwe(cfg);
  LinkSim link(bwe);
  link.capacity_bps = 5'000'000;
  link.app_limit_bps = 200'000;  // a small layer and audio: far less than the path takes
  link.Run(10'000'000);
  const int64_t held = bwe.target_bps();
  EXPECT_LT(held, 500'000) << "what was never sent is never confirmed";
  bwe.OnProbe(200'000);
  EXPECT_EQ(bwe.target_bps(), held) << "a lower answer changes nothing";
  bwe.OnProbe(1'500'000);
  EXPECT_GE(bwe.target_bps(), 1'500'000);
  link.Run(5'000'000);
  EXPECT_GE(bwe.target_bps(), 1'400'000) << "and it holds while nothing says otherwise";
}

}  // namespace
}  // namespace parley::congestion
