#include "core/network_quality.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sdk {
namespace {

TEST(NetworkQualityBands, UplinkIsTheWorstOfLossRttAndBandwidth) {
  EXPECT_EQ(UplinkBand({}), kQualityUnknown) << "nothing sent, nothing measured";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = -1}), kQualityUnknown) << "no receiver report yet";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20}), 1);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 2, .rtt_ms = 20}), 2);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 5, .rtt_ms = 20}), 3);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 10, .rtt_ms = 20}), 4);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 30, .rtt_ms = 20}), 5);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 500, .rtt_ms = 20}), 5) << "more lost than sent is clamped";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 250}), 3);
  EXPECT_EQ(UplinkBand({.sent = 0, .lost = -1, .rtt_ms = 900}), 5) << "rtt alone is a measurement";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20, .bandwidth_ratio = 0.5}), 3);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20, .bandwidth_ratio = 0.1}), 5);
  EXPECT_EQ(UplinkBand({.link_down = true, .sent = 100, .lost = 0}), kQualityDown);
}

TEST(NetworkQualityBands, DownlinkCountsJitterFreezesAndSilence) {
  EXPECT_EQ(DownlinkBand({}), kQualityUnknown);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 5, .rtt_ms = 10}), 1);
  EXPECT_EQ(DownlinkBand({.received = 450, .lost = 50, .jitter_ms = 5}), 4);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 120}), 4);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 5, .froze = true}), 4);
  EXPECT_EQ(DownlinkBand({.expecting = true, .received = 0, .lost = 0}), kQualityDown) << "flowing, then nothing";
  EXPECT_EQ(DownlinkBand({.expecting = false, .received = 0, .lost = 0}), kQualityUnknown) << "nothing to receive";
  EXPECT_EQ(DownlinkBand({.link_down = true, .received = 500}), kQualityDown);
}

// A silent microphone with DTX sends 2.5 packets a second: one lost of five is not
// 20 % loss. Losses count against at least 50 packets.
TEST(NetworkQualityBands, LossOverAFewPacketsCountsAgainstFifty) {
  EXPECT_EQ(kLossFloorPackets, 50);
  EXPECT_EQ(DownlinkBand({.received = 4, .lost = 1, .jitter_ms = 5}), 2);
  EXPECT_EQ(UplinkBand({.sent = 5, .lost = 1, .rtt_ms = 20}), 2);
  EXPECT_EQ(DownlinkBand({.received = 10, .lost = 10, .jitter_ms = 5}), 5) << "10 of 50 is still very bad";
  EXPECT_EQ(DownlinkBand({.received = 45, .lost = 5, .jitter_ms = 5}), 4) << "from 50 packets on, as before";
}

std::vector<int> Feed(QualityFilter& f, const std::vector<int>& raws) {
  std::vector<int> out;
  for (int r : raws) out.push_back(f.Add(r));
  return out;
}

TEST(NetworkQualityFilter, OneNoisyIntervalChangesNothing) {
  QualityFilter f;
  EXPECT_EQ(Feed(f, {1, 2, 1, 2, 1, 2, 1}), (std::vector<int>{1, 1, 1, 1, 1, 1, 1}));
}

TEST(NetworkQualityFilter, TwoIntervalsAgreeingMoveToTheMilderOfThem) {
  QualityFilter f;
  EXPECT_EQ(Feed(f, {2, 3, 3}), (std::vector<int>{2, 2, 3})) << "worse by one, twice";
  EXPECT_EQ(Feed(f, {1, 2, 1, 1}), (std::vector<int>{3, 2, 2, 1})) << "better: 1 then 2 moves to 2, then on to 1";
}

TEST(NetworkQualityFilter, FirstMeasurementDownAndBigFallsAreTakenAtOnce) {
  QualityFilter f;
  EXPECT_EQ(f.Add(3), 3) << "leaving unknown";
  EXPECT_EQ(f.Add(6), 6) << "down";
  EXPECT_EQ(f.Add(2), 2) << "back up from down";
  EXPECT_EQ(f.Add(4), 4) << "two bands worse at once";
  EXPECT_EQ(f.Add(0), 0) << "nothing measured any more";
}

TEST(NetworkQualityLocal, WeakIsToldOnceAndRecoveryOnceWhenGoodAgain) {
  LocalQuality q;
  auto u = q.Add(1, 1);
  EXPECT_TRUE(u.changed);
  EXPECT_FALSE(u.weak);
  u = q.Add(1, 4);  // a fall of three bands: at once
  EXPECT_TRUE(u.changed);
  EXPECT_TRUE(u.weak);
  EXPECT_EQ(u.down, 4);
  u = q.Add(1, 5);
  u = q.Add(1, 5);
  EXPECT_EQ(u.down, 5);
  EXPECT_FALSE(u.weak) << "told once";
  u = q.Add(1, 3);
  u = q.Add(1, 3);
  EXPECT_EQ(u.down, 3);
  EXPECT_FALSE(u.recovered) << "poor is not recovered yet";
  u = q.Add(1, 2);
  u = q.Add(1, 2);
  EXPECT_EQ(u.down, 2);
  EXPECT_TRUE(u.recovered);
  u = q.Add(1, 1);
  u = q.Add(1, 1);
  EXPECT_FALSE(u.recovered) << "told once";
  EXPECT_FALSE(q.Add(1, 1).changed);
}

TEST(NetworkQualityLocal, DownIsNotWeak) {
  LocalQuality q;
  q.Add(1, 1);
  auto u = q.Add(kQualityDown, kQualityDown);
  EXPECT_EQ(u.up, kQualityDown);
  EXPECT_FALSE(u.weak) << "a cut link has its own notices";
}

}  // namespace
}  // namespace parley::sdk
