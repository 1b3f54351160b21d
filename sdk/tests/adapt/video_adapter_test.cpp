// Which resolution and frame rate the encoder gets for a bandwidth estimate, for each
// degradation preference: down at once when bits per pixel run short, back up only
// after the level above has been affordable for a while.
#include "adapt/video_adapter.hpp"

#include <gtest/gtest.h>

namespace parley::sdk::adapt {
namespace {

VideoAdapter::Config Config(DegradationPreference p) {
  VideoAdapter::Config c;
  c.width = 640;
  c.height = 360;
  c.fps = 30;
  c.max_bps = 1'200'000;
  c.preference = p;
  return c;
}

TEST(VideoAdapter, EnoughBitsKeepTheAppsSetting) {
  VideoAdapter a(Config(DegradationPreference::kMaintainFramerate));
  VideoSetting s = a.Update(0, 900'000);
  EXPECT_EQ(s, (VideoSetting{900'000, 640, 360, 30}));
  EXPECT_EQ(a.Update(1'000'000, 5'000'000).bitrate_bps, 1'200'000);  // capped at the app's ceiling
  EXPECT_EQ(a.level(), 0u);
}

TEST(VideoAdapter, KeepFluencyLowersResolutionAndKeepsTheFrameRate) {
  VideoAdapter a(Config(DegradationPreference::kMaintainFramerate));
  VideoSetting s = a.Update(0, 250'000);
  EXPECT_EQ(s.fps, 30);
  EXPECT_LT(s.width, 640);
  EXPECT_EQ(s.width % 2, 0);
  EXPECT_EQ(s.height % 2, 0);
  EXPECT_EQ(s.width * 360, s.height * 640);  // aspect kept
}

TEST(VideoAdapter, KeepClarityLowersTheFrameRateAndKeepsTheResolution) {
  VideoAdapter a(Config(DegradationPreference::kMaintainResolution));
  VideoSetting s = a.Update(0, 180'000);
  EXPECT_EQ(s.width, 640);
  EXPECT_EQ(s.height, 360);
  EXPECT_LT(s.fps, 30);
  EXPECT_GE(s.fps, 5);
}

TEST(VideoAdapter, BalancedGivesUpSomeOfEach) {
  VideoAdapter a(Config(DegradationPreference::kBalanced));
  VideoSetting s = a.Update(0, 120'000);
  EXPECT_LT(s.fps, 30);
  EXPECT_LT(s.width, 640);
}

TEST(VideoAdapter, StepsDownAtOnceAndUpOneLevelAfterTheDelay) {
  VideoAdapter a(Config(DegradationPreference::kMaintainFramerate));
  a.Update(0, 60'000);
  size_t low = a.level();
  EXPECT_GE(low, 3u);  // several levels in one update
  // Plenty again: nothing for the up delay, then one level at a time.
  EXPECT_EQ(a.Update(1'000'000, 1'200'000).width, a.current().width);
  EXPECT_EQ(a.level(), low);
  a.Update(4'500'000, 1'200'000);  // affordable since 1 s: 3.5 s, not yet
  EXPECT_EQ(a.level(), low);
  a.Update(5'100'000, 1'200'000);
  EXPECT_EQ(a.level(), low - 1);
  a.Update(6'000'000, 1'200'000);  // the timer restarted with the new level
  EXPECT_EQ(a.level(), low - 1);
}

TEST(VideoAdapter, AnEstimateBetweenTheThresholdsDoesNotFlap) {
  VideoAdapter a(Config(DegradationPreference::kMaintainFramerate));
  a.Update(0, 250'000);
  size_t l = a.level();
  ASSERT_GT(l, 0u);
  // Enough for the current level, not enough to go up: stays, however long.
  for (int64_t t = 1'000'000; t < 30'000'000; t += 500'000) a.Update(t, 280'000);
  EXPECT_EQ(a.level(), l);
}

TEST(VideoAdapter, AtTheBitrateFloorEveryPreferenceStillSendsAFewFramesOfAQuarterOfThePixels) {
  for (auto p : {DegradationPreference::kMaintainFramerate, DegradationPreference::kMaintainResolution,
                 DegradationPreference::kBalanced}) {
    VideoAdapter a(Config(p));
    VideoSetting s = a.Update(0, 1);
    EXPECT_EQ(s.bitrate_bps, 50'000);  // the floor
    EXPECT_GE(s.fps, 5);
    EXPECT_GE(s.width, 160);
    EXPECT_GT(a.level(), 0u);
    EXPECT_LT(a.level(), a.levels());
  }
}

TEST(VideoAdapter, TheDevicesFloorDegradesWhateverTheEstimateAndGivesLevelsBackAsItIsLowered) {
  VideoAdapter a(Config(DegradationPreference::kMaintainResolution));
  EXPECT_EQ(a.Update(0, 1'200'000).fps, 30);
  // The encoder cannot keep up: one level down at once, with bits to spare.
  VideoSetting s = a.SetFloor(1'000'000, 1);
  EXPECT_EQ(a.level(), 1u);
  EXPECT_EQ(s.width, 640);  // keep clarity: the frame rate gives way
  EXPECT_LT(s.fps, 30);
  EXPECT_EQ(a.Update(9'000'000, 1'200'000), s);  // the estimate cannot lift it
  a.SetFloor(10'000'000, 2);
  EXPECT_EQ(a.level(), 2u);
  // The floor lowered a level at a time: each level it held comes back at once.
  a.SetFloor(11'000'000, 1);
  EXPECT_EQ(a.level(), 1u);
  a.SetFloor(12'000'000, 0);
  EXPECT_EQ(a.level(), 0u);
  // Where the estimate holds the level too, the floor going away changes nothing: the
  // estimate steps up at its own pace.
  a.SetFloor(13'000'000, 2);
  a.Update(13'500'000, 80'000);  // too few bits for level 2: the estimate goes lower
  size_t by_estimate = a.level();
  EXPECT_GT(by_estimate, 2u);
  a.SetFloor(14'000'000, 1);
  EXPECT_EQ(a.level(), by_estimate);
  // A floor past the last level is the last level.
  a.SetFloor(21'000'000, 99);
  EXPECT_EQ(a.level(), a.levels() - 1);
}

// A floor lowered by several levels at once (the device was starved and now idles)
// gives back every level the estimate affords in one change, and no more.
TEST(VideoAdapter, AFloorLoweredBySeveralLevelsGivesThemBackInOneChange) {
  VideoAdapter a(Config(DegradationPreference::kMaintainFramerate));
  a.Update(0, 1'200'000);
  a.SetFloor(1'000'000, 4);
  EXPECT_EQ(a.level(), 4u);
  EXPECT_EQ(a.PixelRate(0), 640 * 360 * 30);
  EXPECT_LT(a.PixelRate(4), a.PixelRate(3));
  VideoSetting s = a.SetFloor(2'000'000, 0);
  EXPECT_EQ(a.level(), 0u);
  EXPECT_EQ(s.width, 640);
  // Where the estimate affords only some of them, those come back and the estimate
  // climbs the rest at its own pace.
  a.SetFloor(3'000'000, 4);
  a.Update(3'500'000, 250'000);
  const size_t by_floor = a.level();
  EXPECT_EQ(by_floor, 4u);
  a.SetFloor(4'000'000, 0);
  EXPECT_LT(a.level(), by_floor);
  EXPECT_GT(a.level(), 0u);
}

}  // namespace
}  // namespace parley::sdk::adapt
