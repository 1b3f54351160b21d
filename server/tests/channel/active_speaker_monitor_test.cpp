#include "channel/active_speaker_monitor.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace parley::server {
namespace {

// Peaks the test sets; a take resets them, as the media worker's counter does.
class FakePeaks final : public ActiveSpeakerMonitor::PeakSource {
 public:
  std::optional<uint32_t> TakeAudioPeak(uint64_t session_id) override {
    ++takes[session_id];
    auto it = peaks.find(session_id);
    if (it == peaks.end()) return std::nullopt;
    uint32_t v = it->second;
    it->second = 0;
    return v;
  }
  std::map<uint64_t, uint32_t> peaks;  ///< sessions with a publish transport
  std::map<uint64_t, int> takes;
};

using Member = ActiveSpeakerMonitor::Member;

TEST(ActiveSpeakerMonitor, LoudestUnmutedAboveMinus60Wins) {
  FakePeaks peaks;
  ActiveSpeakerMonitor monitor(peaks);
  std::string current;
  const std::vector<Member> members = {{1, "ann", true}, {2, "bob", false}, {3, "cat", true}, {4, "dan", true}};
  peaks.peaks = {{1, 100}, {2, 120}, {3, 90}};  // bob is louder but muted; dan has no transport
  auto s = monitor.Tick(current, members);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "ann");
  EXPECT_EQ(s->level_dbov, -27);
  EXPECT_EQ(current, "ann");
  // Below -60 dBov is not speech: nobody is named, the current speaker stays.
  peaks.peaks = {{1, 0}, {2, 0}, {3, ActiveSpeakerMonitor::kSpeech - 1}};
  EXPECT_FALSE(monitor.Tick(current, members).has_value());
  EXPECT_EQ(current, "ann");
  // Exactly -60 dBov is.
  peaks.peaks = {{1, 0}, {2, 0}, {3, ActiveSpeakerMonitor::kSpeech}};
  s = monitor.Tick(current, members);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "cat");
  EXPECT_EQ(s->level_dbov, -60);
  // Equally loud: the first in the channel's order.
  peaks.peaks = {{1, 110}, {2, 0}, {3, 110}};
  s = monitor.Tick(current, members);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "ann");
}

TEST(ActiveSpeakerMonitor, SameSpeakerIsNotAnnouncedTwice) {
  FakePeaks peaks;
  ActiveSpeakerMonitor monitor(peaks);
  std::string current;
  const std::vector<Member> members = {{1, "ann", true}, {2, "bob", true}};
  peaks.peaks = {{1, 100}, {2, 80}};
  ASSERT_TRUE(monitor.Tick(current, members).has_value());
  peaks.peaks = {{1, 105}, {2, 80}};
  EXPECT_FALSE(monitor.Tick(current, members).has_value());
  peaks.peaks = {{1, 80}, {2, 105}};
  auto s = monitor.Tick(current, members);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "bob");
  EXPECT_EQ(current, "bob");
}

TEST(ActiveSpeakerMonitor, PeaksAreTakenEveryTickEvenFromMuted) {
  FakePeaks peaks;
  ActiveSpeakerMonitor monitor(peaks);
  std::string current;
  std::vector<Member> members = {{1, "ann", false}, {2, "bob", true}};
  peaks.peaks = {{1, 120}, {2, 0}};
  EXPECT_FALSE(monitor.Tick(current, members).has_value());
  EXPECT_EQ(peaks.takes[1], 1);
  EXPECT_EQ(peaks.peaks[1], 0u);  // taken although muted
  // Unmuted: what she said while muted is not counted.
  members[0].audible = true;
  EXPECT_FALSE(monitor.Tick(current, members).has_value());
  EXPECT_EQ(peaks.takes[1], 2);
  EXPECT_EQ(peaks.takes[2], 2);
  EXPECT_EQ(current, "");
}

}  // namespace
}  // namespace parley::server

namespace parley::server {
namespace {

TEST(ActiveSpeakerMonitor, VolumesAreEachMembersTickOnAScaleOf255) {
  EXPECT_EQ(ActiveSpeakerMonitor::Volume(0), 0);
  EXPECT_EQ(ActiveSpeakerMonitor::Volume(ActiveSpeakerMonitor::kSpeech), 0) << "-60 dBov";
  EXPECT_EQ(ActiveSpeakerMonitor::Volume(127), 255) << "0 dBov";
  EXPECT_EQ(ActiveSpeakerMonitor::Volume(97), 127) << "-30 dBov: half way in dB";
  EXPECT_EQ(ActiveSpeakerMonitor::Volume(500), 255) << "off the scale is clamped";
  FakePeaks peaks;
  ActiveSpeakerMonitor monitor(peaks);
  std::string current;
  const std::vector<Member> members = {{1, "ann", true}, {2, "bob", false}, {3, "cat", true}, {4, "dan", true}};
  peaks.peaks = {{1, 100}, {2, 120}, {3, 80}};  // bob is muted; dan has no transport
  std::vector<int> volumes;
  monitor.Tick(current, members, &volumes);
  EXPECT_EQ(volumes, (std::vector<int>{140, 0, 55, 0}));
}

}  // namespace
}  // namespace parley::server
