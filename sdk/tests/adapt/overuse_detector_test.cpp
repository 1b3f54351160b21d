// The encoder overuse detector on synthetic frame sequences: 30 fps, each frame some
// milliseconds in the encoder.
#include "adapt/overuse_detector.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sdk::adapt {
namespace {

using Verdict = OveruseDetector::Verdict;

struct Outcome {
  std::vector<int64_t> overuse_at_us, underuse_at_us;
};

// `seconds` of frames every `step` µs from `start_us`, each `busy_ms` in the encoder
// and coming out `late_ms` after its capture.
Outcome Feed(OveruseDetector& d, int64_t start_us, double seconds, double busy_ms, double late_ms = -1,
             int64_t step = 33'333) {
  Outcome r;
  for (int64_t t = start_us; t < start_us + static_cast<int64_t>(seconds * 1e6); t += step) {
    Verdict v =
        d.Frame(t, static_cast<int64_t>(busy_ms * 1000), late_ms < 0 ? -1 : static_cast<int64_t>(late_ms * 1000));
    if (v == Verdict::kOveruse) r.overuse_at_us.push_back(t);
    if (v == Verdict::kUnderuse) r.underuse_at_us.push_back(t);
  }
  return r;
}

TEST(OveruseDetector, AnEncoderThatKeepsUpIsNeverOverused) {
  OveruseDetector d;
  Outcome r = Feed(d, 0, 30, 20);  // 60 % busy: neither over nor with room
  EXPECT_TRUE(r.overuse_at_us.empty());
  EXPECT_TRUE(r.underuse_at_us.empty());
  EXPECT_NEAR(d.usage(), 0.6, 0.02);
}

TEST(OveruseDetector, TwoBusyWindowsInARowAreAnOveruseAndItRepeatsWhileItLasts) {
  OveruseDetector d;
  Outcome r = Feed(d, 0, 6.5, 32);  // 96 % busy
  // A window ends at the first frame a second or more after it began (every ~1.03 s
  // at 30 fps): an overuse after every second window.
  ASSERT_EQ(r.overuse_at_us.size(), 3u);
  EXPECT_NEAR(static_cast<double>(r.overuse_at_us[0]), 2e6, 0.2e6);
  EXPECT_NEAR(static_cast<double>(r.overuse_at_us[1]), 4e6, 0.2e6);
  EXPECT_GT(d.usage(), 0.9);
}

TEST(OveruseDetector, OneBusyWindowAloneIsNotAnOveruse) {
  OveruseDetector d;
  Outcome r = Feed(d, 0, 1.5, 10);
  r = Feed(d, 1'500'000, 1.0, 32);  // one busy second
  EXPECT_TRUE(r.overuse_at_us.empty());
  r = Feed(d, 2'500'000, 3.0, 10);
  EXPECT_TRUE(r.overuse_at_us.empty());
}

TEST(OveruseDetector, RoomForTheHoldGivesOneLevelBackAtATime) {
  OveruseDetector d;
  Outcome r = Feed(d, 0, 3, 32);
  ASSERT_FALSE(r.overuse_at_us.empty());
  r = Feed(d, 3'000'000, 6, 5);  // 15 % busy from 3 s
  // A level back after 2 s of room, then another 2 s later.
  ASSERT_EQ(r.underuse_at_us.size(), 2u);
  EXPECT_NEAR(static_cast<double>(r.underuse_at_us[0]), 5e6, 0.4e6);
  EXPECT_NEAR(static_cast<double>(r.underuse_at_us[1]), 7e6, 0.6e6);
}

TEST(OveruseDetector, AnOveruseSoonAfterALevelWasGivenBackDoublesTheNextHold) {
  OveruseDetector d;
  Feed(d, 0, 3, 32);
  Outcome r = Feed(d, 3'000'000, 2.5, 5);
  ASSERT_EQ(r.underuse_at_us.size(), 1u);  // at ~5 s
  r = Feed(d, 5'500'000, 3.5, 32);         // the level given back is too much
  ASSERT_EQ(r.overuse_at_us.size(), 1u);
  EXPECT_EQ(d.hold_us(), 4'000'000);
  r = Feed(d, 9'000'000, 12, 5);
  ASSERT_FALSE(r.underuse_at_us.empty());
  EXPECT_GE(r.underuse_at_us[0], 9'000'000 + 3'900'000);
}

TEST(OveruseDetector, APauseStartsAfresh) {
  OveruseDetector d;
  Feed(d, 0, 1.5, 32);
  // Ten seconds without frames (muted), then busy again: the old window does not count.
  Outcome r = Feed(d, 11'500'000, 1.5, 32);
  EXPECT_TRUE(r.overuse_at_us.empty());
}

TEST(OveruseDetector, AStarvedProcessWhoseFewFramesComeOutLateIsOverusedToo) {
  OveruseDetector d;
  Outcome r = Feed(d, 0, 3, 5, 20);  // on time
  EXPECT_TRUE(r.overuse_at_us.empty());
  // Starved: one frame a second gets through, each quick to encode once it runs but
  // seconds behind its capture.
  r = Feed(d, 3'000'000, 4, 40, 2500, 1'000'000);
  ASSERT_FALSE(r.overuse_at_us.empty());
  EXPECT_LT(d.usage(), 0.1) << "not the encoder's own time";
  // Back on time with room: levels come back.
  r = Feed(d, 7'000'000, 12, 5, 20);
  EXPECT_FALSE(r.underuse_at_us.empty());
  // Frames a little late (150 ms, catching up) are neither overuse nor room.
  OveruseDetector catching_up;
  r = Feed(catching_up, 0, 10, 5, 150);
  EXPECT_TRUE(r.overuse_at_us.empty());
  EXPECT_TRUE(r.underuse_at_us.empty());
}

}  // namespace
}  // namespace parley::sdk::adapt
