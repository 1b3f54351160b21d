#include "core/playout_delay.hpp"

#include <gtest/gtest.h>

namespace parley::sdk {
namespace {

constexpr uint64_t kTwoSeconds = 96'000;  // 48 kHz samples in a heartbeat interval

TEST(PlayoutDelay, StartsShortAndStaysThereOnACleanNetwork) {
  PlayoutDelay d;
  EXPECT_EQ(d.ms(), PlayoutDelay::kNormalMs);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.Sample(150, 1, kTwoSeconds, 0), PlayoutDelay::kNormalMs);
}

TEST(PlayoutDelay, HeavyLossOrAudibleConcealmentRaisesItAtOnce) {
  PlayoutDelay lossy;
  EXPECT_EQ(lossy.Sample(135, 15, kTwoSeconds, 0), PlayoutDelay::kLossyMs);  // 10 % lost
  PlayoutDelay concealing;
  EXPECT_EQ(concealing.Sample(150, 4, kTwoSeconds, 2'000), PlayoutDelay::kLossyMs);  // 2.1 % concealed
  PlayoutDelay below;
  EXPECT_EQ(below.Sample(136, 14, kTwoSeconds, 1'800), PlayoutDelay::kNormalMs);  // 9.3 %, 1.9 %
}

TEST(PlayoutDelay, TooFewPacketsOrTooLittleAudioDecideNothing) {
  PlayoutDelay d;
  // A silent publisher (DTX: a few packets a second): one lost of five is not 20 %.
  EXPECT_EQ(d.Sample(4, 1, 4'800, 960), PlayoutDelay::kNormalMs);
  EXPECT_EQ(d.Sample(0, 0, 0, 0), PlayoutDelay::kNormalMs);
}

TEST(PlayoutDelay, ComesBackAfterFiveCleanIntervalsInARow) {
  PlayoutDelay d;
  ASSERT_EQ(d.Sample(100, 40, kTwoSeconds, 9'000), PlayoutDelay::kLossyMs);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.Sample(150, 2, kTwoSeconds, 0), PlayoutDelay::kLossyMs);
  // A middling interval (5 % lost) starts the count again without raising anything.
  EXPECT_EQ(d.Sample(143, 7, kTwoSeconds, 0), PlayoutDelay::kLossyMs);
  // Intervals with nothing to judge neither count nor break the run.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.Sample(150, 2, kTwoSeconds, 0), PlayoutDelay::kLossyMs);
  EXPECT_EQ(d.Sample(3, 0, 0, 0), PlayoutDelay::kLossyMs);
  EXPECT_EQ(d.Sample(150, 2, kTwoSeconds, 0), PlayoutDelay::kNormalMs);
  // And goes up again with the next bad interval.
  EXPECT_EQ(d.Sample(100, 30, kTwoSeconds, 0), PlayoutDelay::kLossyMs);
}

TEST(PlayoutDelay, NegativeLossCountsAsNone) {
  // RTP's cumulative loss can go down (duplicates count as received): a negative delta.
  PlayoutDelay d;
  EXPECT_EQ(d.Sample(150, -3, kTwoSeconds, 0), PlayoutDelay::kNormalMs);
}

}  // namespace
}  // namespace parley::sdk
