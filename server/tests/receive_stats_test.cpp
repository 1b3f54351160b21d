// ReceiveStats: RFC 3550 receive statistics of one stream and the report block sent
// back to its sender. Time is passed in, so nothing here sleeps.
#include "sfu/receive_stats.hpp"

#include <gtest/gtest.h>

namespace parley::sfu {
namespace {

constexpr int64_t kT0 = 10'000'000;
using Kind = ReceiveStats::Kind;

TEST(ReceiveStats, Rfc3550JitterOfAConstantStreamIsZero) {
  ReceiveStats s(90000);
  // 25 frames a second, one packet each, after a constant network delay: the transit
  // time never changes, so neither does the jitter.
  for (int i = 0; i < 50; ++i)
    s.OnPacket(1, static_cast<uint16_t>(i), 1234 + 3600u * static_cast<uint32_t>(i), kT0 + 40'000 * i);
  EXPECT_EQ(s.TakeReportBlock(kT0 + 2'000'000).jitter, 0u);
  // One packet 10 ms late (900 ticks at 90 kHz) moves it by 1/16 of that (A.8).
  s.OnPacket(1, 50, 1234 + 3600u * 50, kT0 + 40'000 * 50 + 10'000);
  EXPECT_EQ(s.TakeReportBlock(kT0 + 3'000'000).jitter, 900u / 16);
}

TEST(ReceiveStats, ReportBlockFractionAndCumulativeLost) {
  ReceiveStats s(48000);
  // 100 packets expected from 65500, across the wrap; every tenth is lost.
  int64_t now = kT0;
  for (uint32_t i = 0; i < 100; ++i) {
    if (i % 10 == 5) continue;
    auto seq = static_cast<uint16_t>(65500 + i);
    s.OnPacket(7, seq, 960 * i, now += 20'000);
  }
  ReportBlock b = s.TakeReportBlock(now);
  EXPECT_EQ(b.ssrc, 7u);
  EXPECT_EQ(b.fraction_lost, 25) << "10 % of 256";
  EXPECT_EQ(b.cumulative_lost, 10);
  EXPECT_EQ(b.highest_sequence, 65536u + static_cast<uint16_t>(65500 + 99)) << "one cycle";
  // The next interval loses nothing: the fraction is per interval, the count is not.
  for (uint32_t i = 100; i < 150; ++i) s.OnPacket(7, static_cast<uint16_t>(65500 + i), 960 * i, now += 20'000);
  b = s.TakeReportBlock(now);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 10);
  // A lost packet that arrives after all (and is accepted) lowers the total.
  ASSERT_EQ(s.OnPacket(7, 65505, 960 * 5, now += 20'000).kind, Kind::kLate);
  s.CountLate(960 * 5, now);
  EXPECT_EQ(s.TakeReportBlock(now).cumulative_lost, 9);
}

TEST(ReceiveStats, DlsrCountsFromTheLastSr) {
  ReceiveStats s(90000);
  s.OnPacket(3, 1, 0, kT0);
  ReportBlock b = s.TakeReportBlock(kT0);
  EXPECT_EQ(b.last_sr, 0u) << "no SR yet";
  EXPECT_EQ(b.delay_since_last_sr, 0u);
  uint64_t ntp = 0x0123456789ABCDEFull;
  s.OnSenderReport(ntp, kT0 + 500'000);
  b = s.TakeReportBlock(kT0 + 2'000'000);  // 1.5 s later, in 1/65536 s
  EXPECT_EQ(b.last_sr, 0x456789ABu) << "the middle 32 bits of the NTP time";
  EXPECT_EQ(b.delay_since_last_sr, 3u * 65536 / 2);
}

TEST(ReceiveStats, NewSsrcRestarts) {
  ReceiveStats s(48000);
  EXPECT_FALSE(s.started());
  EXPECT_EQ(s.ssrc(), 0u);
  EXPECT_EQ(s.OnPacket(1, 100, 0, kT0).kind, Kind::kFirst);
  EXPECT_EQ(s.OnPacket(1, 105, 960, kT0 + 20'000).missing_before, 4);
  ASSERT_EQ(s.TakeReportBlock(kT0 + 20'000).cumulative_lost, 4);
  // The publisher restarted: a new source with its own numbers, nothing carried over.
  auto a = s.OnPacket(2, 9, 555, kT0 + 40'000);
  EXPECT_EQ(a.kind, Kind::kRestart);
  EXPECT_EQ(s.ssrc(), 2u);
  ReportBlock b = s.TakeReportBlock(kT0 + 40'000);
  EXPECT_EQ(b.ssrc, 2u);
  EXPECT_EQ(b.cumulative_lost, 0);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.highest_sequence, 9u);
  EXPECT_EQ(s.OnPacket(2, 10, 1515, kT0 + 60'000).kind, Kind::kNewer);
}

TEST(ReceiveStats, DuplicateIsRefused) {
  ReceiveStats s(48000);
  s.OnPacket(1, 10, 0, kT0);
  s.OnPacket(1, 12, 1920, kT0 + 40'000);
  EXPECT_EQ(s.OnPacket(1, 12, 1920, kT0 + 41'000).kind, Kind::kDuplicate);
  // Late packets wait for the caller's verdict: not counted until CountLate.
  EXPECT_EQ(s.OnPacket(1, 10, 0, kT0 + 42'000).kind, Kind::kLate);
  ReportBlock b = s.TakeReportBlock(kT0 + 50'000);
  EXPECT_EQ(b.cumulative_lost, 1) << "3 expected (10..12), 2 counted";
  EXPECT_EQ(b.highest_sequence, 12u);
}

}  // namespace
}  // namespace parley::sfu
