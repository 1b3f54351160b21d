// The accompaniment's mix: nothing until a lead is in hand, then what was written, in
// order, at its gain and with saturation; a reader that runs dry waits for a lead
// again, one that falls behind skips ahead; mono takes the average of the two sides.
#include "impl/gst/mix_in.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace parley::sdk::gst {
namespace {

// `frames` stereo frames counting up from `first` (left) and down (right).
std::vector<int16_t> Ramp(size_t frames, int first) {
  std::vector<int16_t> v;
  for (size_t i = 0; i < frames; ++i) {
    v.push_back(static_cast<int16_t>(first + static_cast<int>(i % 1000)));
    v.push_back(static_cast<int16_t>(-first - static_cast<int>(i % 1000)));
  }
  return v;
}

TEST(MixIn, NothingIsAddedUntilALeadIsInHandThenWhatWasWrittenInOrder) {
  MixIn mix;
  std::vector<int16_t> mic(480 * 2, 0);
  mix.MixInto(mic.data(), 480, 2);  // closed: nothing
  EXPECT_EQ(mic[0], 0);
  mix.Open(1.0, false);
  auto ramp = Ramp(MixIn::kLeadFrames, 1);
  mix.Write(ramp.data(), MixIn::kLeadFrames / 2);
  mix.MixInto(mic.data(), 480, 2);
  EXPECT_EQ(mic[0], 0) << "under the lead";
  mix.Write(ramp.data() + MixIn::kLeadFrames, MixIn::kLeadFrames / 2);
  mix.MixInto(mic.data(), 480, 2);
  EXPECT_EQ(mic[0], 1);
  EXPECT_EQ(mic[1], -1);
  EXPECT_EQ(mic[2 * 479], 480);
  std::vector<int16_t> next(480 * 2, 100);
  mix.MixInto(next.data(), 480, 2);
  EXPECT_EQ(next[0], 100 + 481) << "the microphone keeps its own sound under the mix";
}

TEST(MixIn, RunningDryWaitsForALeadAgain) {
  MixIn mix;
  mix.Open(1.0, false);
  auto ramp = Ramp(MixIn::kLeadFrames, 1);
  mix.Write(ramp.data(), MixIn::kLeadFrames);
  std::vector<int16_t> mic(MixIn::kLeadFrames * 2 + 20, 0);
  mix.MixInto(mic.data(), MixIn::kLeadFrames + 10, 2);
  EXPECT_NE(mic[2 * (MixIn::kLeadFrames - 1)], 0);
  EXPECT_EQ(mic[2 * MixIn::kLeadFrames], 0) << "what was not written is not made up";
  mix.Write(ramp.data(), 10);
  std::vector<int16_t> more(20, 0);
  mix.MixInto(more.data(), 10, 2);
  EXPECT_EQ(more[0], 0) << "10 frames are not a lead";
}

TEST(MixIn, AReaderFarBehindSkipsAheadAndTheOldestGo) {
  MixIn mix;
  mix.Open(1.0, false);
  auto ramp = Ramp(MixIn::kCapacityFrames + 1000, 0);
  mix.Write(ramp.data(), MixIn::kCapacityFrames + 1000);  // more than the ring holds
  std::vector<int16_t> mic(2, 0);
  mix.MixInto(mic.data(), 1, 2);
  // The reader is kLeadFrames behind the last frame written.
  const size_t expect = (MixIn::kCapacityFrames + 1000 - MixIn::kLeadFrames) % 1000;
  EXPECT_EQ(mic[0], static_cast<int16_t>(expect));
}

TEST(MixIn, GainSaturationMonoAndReplace) {
  MixIn mix;
  mix.Open(0.5, false);
  std::vector<int16_t> loud(MixIn::kLeadFrames * 2);
  for (size_t i = 0; i < loud.size(); i += 2) {
    loud[i] = 30000;
    loud[i + 1] = 10000;
  }
  mix.Write(loud.data(), MixIn::kLeadFrames);
  std::vector<int16_t> mono(4, 1000);
  mix.MixInto(mono.data(), 4, 1);
  EXPECT_EQ(mono[0], 1000 + 10000) << "(15000 + 5000) / 2";
  std::vector<int16_t> stereo{30000, -30000};
  mix.SetGain(1.0);
  mix.MixInto(stereo.data(), 1, 2);
  EXPECT_EQ(stereo[0], 32767);
  EXPECT_EQ(stereo[1], -20000);
  mix.Open(1.0, true);  // a new stream that replaces the microphone
  std::vector<int16_t> mic(2, 5000);
  mix.MixInto(mic.data(), 1, 2);
  EXPECT_EQ(mic[0], 0) << "left out even before the lead";
  mix.Close();
  mic = {5000, 5000};
  mix.MixInto(mic.data(), 1, 2);
  EXPECT_EQ(mic[0], 5000) << "closed: the microphone alone";
}

}  // namespace
}  // namespace parley::sdk::gst
