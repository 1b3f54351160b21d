#include "core/network_quality.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sdk {
namespace {

TEST(NetworkQualityBands, UplinkIsTheWorstOfLossRttAndBandwidth) {
  EXPECT_EQ(UplinkBand({}), kQualityUnknown) << "nothing sent, nothing measured";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = -1}), kQualityUnknown) << "no receiver report yet";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20}), 0);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 2, .rtt_ms = 20}), 1);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 5, .rtt_ms = 20}), 2);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 10, .rtt_ms = 20}), 3);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 30, .rtt_ms = 20}), 4);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 500, .rtt_ms = 20}), 4) << "more lost than sent is clamped";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 250}), 2);
  EXPECT_EQ(UplinkBand({.sent = 0, .lost = -1, .rtt_ms = 900}), 4) << "rtt alone is a measurement";
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20, .bandwidth_ratio = 0.5}), 2);
  EXPECT_EQ(UplinkBand({.sent = 100, .lost = 0, .rtt_ms = 20, .bandwidth_ratio = 0.1}), 4);
  EXPECT_EQ(UplinkBand({.link_down = true, .sent = 100, .lost = 0}), kQualityDown);
}

TEST(NetworkQualityBands, DownlinkCountsJitterFreezesAndSilence) {
  EXPECT_EQ(DownlinkBand({}), kQualityUnknown);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 5, .rtt_ms = 10}), 0);
  EXPECT_EQ(DownlinkBand({.received = 450, .lost = 50, .jitter_ms = 5}), 3);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 120}), 3);
  EXPECT_EQ(DownlinkBand({.received = 500, .lost = 0, .jitter_ms = 5, .froze = true}), 3);
  EXPECT_EQ(DownlinkBand({.expecting = true, .received = 0, .lost = 0}), kQualityDown) << "flowing, then nothing";
  EXPECT_EQ(DownlinkBand({.expecting = false, .received = 0, .lost = 0}), kQualityUnknown) << "nothing to receive";
  EXPECT_EQ(DownlinkBand({.link_down = true, .received = 500}), kQualityDown);
}

// What retransmission repaired was lost on the network all the same: 30 % loss that
// repair brings down to 5 % is a very bad link, not a poor one.
TEST(NetworkQualityBands, DownlinkLossCountsWhatRetransmissionRepaired) {
  EXPECT_EQ(DownlinkBand({.received = 420, .lost = 30, .jitter_ms = 5}), 2) << "after repair alone: 6.7 %";
  EXPECT_EQ(DownlinkBand({.received = 420, .lost = 30, .repaired = 150, .jitter_ms = 5}), 4) << "30 % lost";
  EXPECT_EQ(DownlinkBand({.received = 490, .lost = 0, .repaired = 10, .jitter_ms = 5}), 1) << "2 %, all repaired";
  EXPECT_EQ(DownlinkBand({.expecting = true, .received = 0, .repaired = 3}), 2)
      << "only repairs arrived: media came, so not down (3 lost of at least 50)";
}

// A silent microphone with DTX sends 2.5 packets a second: one lost of five is not
// 20 % loss. Losses count against at least 50 packets.
TEST(NetworkQualityBands, LossOverAFewPacketsCountsAgainstFifty) {
  EXPECT_EQ(kLossFloorPackets, 50);
  EXPECT_EQ(DownlinkBand({.received = 4, .lost = 1, .jitter_ms = 5}), 1);
  EXPECT_EQ(UplinkBand({.sent = 5, .lost = 1, .rtt_ms = 20}), 1);
  EXPECT_EQ(DownlinkBand({.received = 10, .lost = 10, .jitter_ms = 5}), 4) << "10 of 50 is still very bad";
  EXPECT_EQ(DownlinkBand({.received = 45, .lost = 5, .jitter_ms = 5}), 3) << "from 50 packets on, as before";
}

std::vector<int> Feed(QualityFilter& f, const std::vector<int>& raws) {
  std::vector<int> out;
  for (int r : raws) out.push_back(f.Add(r));
  return out;
}

TEST(NetworkQualityScale, IsArtcsAndUnknownGivesWayToAMeasurement) {
  EXPECT_EQ(kQualityExcellent, 0);
  EXPECT_EQ(kQualityBad, 3);
  EXPECT_EQ(kQualityDown, 5);
  EXPECT_EQ(kQualityUnknown, 6);
  EXPECT_EQ(WorseQuality(kQualityUnknown, 2), 2);
  EXPECT_EQ(WorseQuality(0, kQualityUnknown), 0);
  EXPECT_EQ(WorseQuality(kQualityUnknown, kQualityUnknown), kQualityUnknown);
  EXPECT_EQ(WorseQuality(1, kQualityDown), kQualityDown);
  EXPECT_EQ(WorseQuality(3, 0), 3);
}

TEST(NetworkQualityFilter, OneNoisyIntervalChangesNothing) {
  QualityFilter f;
  EXPECT_EQ(Feed(f, {0, 1, 0, 1, 0, 1, 0}), (std::vector<int>{0, 0, 0, 0, 0, 0, 0}));
}

TEST(NetworkQualityFilter, TwoIntervalsAgreeingMoveToTheMilderOfThem) {
  QualityFilter f;
  EXPECT_EQ(Feed(f, {1, 2, 2}), (std::vector<int>{1, 1, 2})) << "worse by one, twice";
  EXPECT_EQ(Feed(f, {0, 1, 0, 0}), (std::vector<int>{2, 1, 1, 0})) << "better: 0 then 1 moves to 1, then on to 0";
}

TEST(NetworkQualityFilter, FirstMeasurementDownAndBigFallsAreTakenAtOnce) {
  QualityFilter f;
  EXPECT_EQ(f.reported(), kQualityUnknown);
  EXPECT_EQ(f.Add(2), 2) << "leaving unknown";
  EXPECT_EQ(f.Add(kQualityDown), kQualityDown) << "down";
  EXPECT_EQ(f.Add(1), 1) << "back up from down";
  EXPECT_EQ(f.Add(3), 3) << "two bands worse at once";
  EXPECT_EQ(f.Add(kQualityUnknown), kQualityUnknown) << "nothing measured any more";
  EXPECT_EQ(f.Add(-3), 0) << "out of the scale: clamped";
}

TEST(NetworkQualityLocal, WeakIsToldOnceAndRecoveryOnceWhenGoodAgain) {
  LocalQuality q;
  auto u = q.Add(0, 0);
  EXPECT_TRUE(u.changed);
  EXPECT_FALSE(u.weak);
  u = q.Add(0, 3);  // a fall of three bands: at once
  EXPECT_TRUE(u.changed);
  EXPECT_TRUE(u.weak);
  EXPECT_EQ(u.down, 3);
  u = q.Add(0, 4);
  u = q.Add(0, 4);
  EXPECT_EQ(u.down, 4);
  EXPECT_FALSE(u.weak) << "told once";
  u = q.Add(0, 2);
  u = q.Add(0, 2);
  EXPECT_EQ(u.down, 2);
  EXPECT_FALSE(u.recovered) << "poor is not recovered yet";
  u = q.Add(0, 1);
  u = q.Add(0, 1);
  EXPECT_EQ(u.down, 1);
  EXPECT_TRUE(u.recovered);
  u = q.Add(0, 0);
  u = q.Add(0, 0);
  EXPECT_FALSE(u.recovered) << "told once";
  EXPECT_FALSE(q.Add(0, 0).changed);
}

TEST(NetworkQualityLocal, UnknownOneWayDoesNotHideAWeakOther) {
  LocalQuality q;
  auto u = q.Add(kQualityUnknown, 3);
  EXPECT_EQ(u.up, kQualityUnknown);
  EXPECT_TRUE(u.weak) << "the measured direction is bad";
}

TEST(NetworkQualityLocal, DownIsNotWeak) {
  LocalQuality q;
  q.Add(0, 0);
  auto u = q.Add(kQualityDown, kQualityDown);
  EXPECT_EQ(u.up, kQualityDown);
  EXPECT_FALSE(u.weak) << "a cut link has its own notices";
}

}  // namespace
}  // namespace parley::sdk
