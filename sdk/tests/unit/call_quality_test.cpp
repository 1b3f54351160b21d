// The call's network quality: video freezes seen from decoded frames, and remote users'
// relayed pairs with "down" while their link is lost. Times are passed in.
#include "call/call_quality.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace parley::sdk::call {
namespace {

using Pair = CallQuality::Pair;

// A clean interval: packets both ways, nothing lost, a short round trip.
UplinkSample Up() {
  return {.sent = 200, .lost = 0, .rtt_ms = 20};
}
DownlinkSample Down() {
  return {.expecting = true, .received = 200, .lost = 0, .jitter_ms = 5, .rtt_ms = 20};
}

TEST(CallQuality, VideoThatStopsForMoreThanHalfASecondIsAFreeze) {
  CallQuality q;
  int64_t t = 1'000'000;
  for (int i = 0; i < 30; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 33'000);
  auto s = q.Sample(Up(), Down(), t + 10'000);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(*s.changed, (Pair{0, 0}));
  // 700 ms without a frame, then frames again: a freeze in this interval.
  t += 700'000;
  for (int i = 0; i < 30; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 33'000);
  s = q.Sample(Up(), Down(), t + 10'000);
  ASSERT_TRUE(s.changed) << "a fall of three bands is taken at once";
  EXPECT_EQ(*s.changed, (Pair{0, 3}));
  EXPECT_TRUE(s.weak);
}

TEST(CallQuality, VideoThatEndsOnPurposeOrNeverStartedIsNoFreeze) {
  CallQuality q;
  auto s = q.Sample(Up(), Down(), 1'000'000);
  EXPECT_EQ(q.local(), (Pair{0, 0})) << "audio only: no video to freeze";
  int64_t t = 2'000'000;
  for (int i = 0; i < 30; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 33'000);
  q.Sample(Up(), Down(), t);
  q.MediaEndedOnPurpose("b", TrackKind::kCamera);  // the remote camera was unpublished
  s = q.Sample(Up(), Down(), t + 2'000'000);
  EXPECT_FALSE(s.changed);
  EXPECT_EQ(q.local(), (Pair{0, 0}));
}

TEST(CallQuality, ALostLinkIsDownAtOnceAndTheFirstSampleAfterItLeavesDown) {
  CallQuality q;
  q.Sample(Up(), Down(), 1'000'000);
  auto s = q.LinkLost();
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(*s.changed, (Pair{5, 5}));
  EXPECT_FALSE(s.weak);
  s = q.Sample(Up(), Down(), 3'000'000);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(*s.changed, (Pair{0, 0}));
}

TEST(CallQuality, RemotePairsAreToldOnChangeAndDownWhileTheirLinkIsLost) {
  CallQuality q;
  EXPECT_EQ(q.Remote("b", 6, 6), std::nullopt) << "unknown is what nothing said already means";
  EXPECT_EQ(q.Remote("b", 1, 2), (Pair{1, 2}));
  EXPECT_EQ(q.Remote("b", 1, 2), std::nullopt);
  EXPECT_EQ(q.RemoteLinkLost("b"), (Pair{5, 5}));
  EXPECT_EQ(q.Remote("b", 3, 3), std::nullopt) << "still down";
  EXPECT_EQ(q.RemoteLinkBack("b"), (Pair{3, 3}));
  EXPECT_EQ(q.RemoteLinkBack("nobody"), std::nullopt);
  EXPECT_EQ(q.Remote("c", 2, -4), (Pair{2, 6})) << "off the scale reads as unknown";
  EXPECT_EQ(q.Remote("d", 9, 0), (Pair{6, 0}));
  q.Forget("b");
  EXPECT_EQ(q.Remote("b", 3, 3), (Pair{3, 3})) << "a user who comes back starts afresh";
}

}  // namespace
}  // namespace parley::sdk::call

namespace parley::sdk::call {
namespace {

TEST(CallQuality, SilenceIsDownOnlyWhereMediaWasFlowingAndNobodyLeft) {
  CallQuality q;
  DownlinkSample silent = Down();
  silent.received = 0;
  q.Sample(Up(), Down(), 1'000'000);
  auto s = q.Sample(Up(), silent, 3'000'000);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(*s.changed, (Pair{0, 5})) << "packets stopped for a whole interval";
  q.Sample(Up(), Down(), 5'000'000);
  EXPECT_EQ(q.local(), (Pair{0, 0}));
  // The last publisher leaves: the silence after it is no cut.
  q.MediaEndedOnPurpose("b", std::nullopt);
  s = q.Sample(Up(), silent, 7'000'000);
  EXPECT_FALSE(s.changed);
  EXPECT_EQ(q.local(), (Pair{0, 0}));
  s = q.Sample(Up(), silent, 9'000'000);
  EXPECT_FALSE(s.changed) << "nothing flowed in the interval before either";
}

TEST(CallQuality, AMutedRemoteVideoSendingSlowBlackFramesIsNoFreeze) {
  CallQuality q;
  int64_t t = 1'000'000;
  for (int i = 0; i < 30; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 33'000);
  q.Sample(Up(), Down(), t);
  q.RemoteVideoMuted("b", true, t);
  for (int i = 0; i < 2; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 900'000);  // about one black frame a second
  auto s = q.Sample(Up(), Down(), t + 10'000);
  EXPECT_FALSE(s.changed);
  q.RemoteVideoMuted("b", false, t + 20'000);
  for (int i = 0; i < 30; ++i) q.OnVideoFrame("b", TrackKind::kCamera, t += 33'000);
  s = q.Sample(Up(), Down(), t + 10'000);
  EXPECT_FALSE(s.changed) << "the gap while muted is not counted after the unmute";
  EXPECT_EQ(q.local(), (Pair{0, 0}));
}

// `n` frames 33 ms apart, each for every one of `streams`, from `t` on.
void Frames(CallQuality& q, int64_t& t, int n, std::initializer_list<std::pair<const char*, TrackKind>> streams) {
  for (int i = 0; i < n; ++i) {
    t += 33'000;
    for (const auto& [user, track] : streams) q.OnVideoFrame(user, track, t);
  }
}

TEST(CallQuality, OneStreamThatStopsIsAFreezeWhileTheOthersFlow) {
  const std::pair<const char*, TrackKind> bob{"bob", TrackKind::kCamera}, carol{"carol", TrackKind::kCamera},
      bob_screen{"bob", TrackKind::kScreen};
  CallQuality q;
  int64_t t = 1'000'000;
  Frames(q, t, 30, {bob, carol});
  q.Sample(Up(), Down(), t + 10'000);
  EXPECT_EQ(q.local(), (Pair{0, 0}));
  // Carol's video stops for a whole interval; bob's goes on at 30 fps.
  Frames(q, t, 45, {bob});
  auto s = q.Sample(Up(), Down(), t + 10'000);
  ASSERT_TRUE(s.changed);
  EXPECT_EQ(*s.changed, (Pair{0, 3}));
  // Bob's screen share next to his camera: the same rule, per track.
  CallQuality r;
  t = 1'000'000;
  Frames(r, t, 30, {bob, bob_screen});
  r.Sample(Up(), Down(), t + 10'000);
  Frames(r, t, 30, {bob});
  EXPECT_TRUE(r.Sample(Up(), Down(), t + 10'000).changed);
  // Carol mutes her camera: her gap is no freeze, and bob's is still watched.
  CallQuality m;
  t = 1'000'000;
  Frames(m, t, 30, {bob, carol});
  m.Sample(Up(), Down(), t + 10'000);
  m.RemoteVideoMuted("carol", true, t);
  Frames(m, t, 30, {bob});
  EXPECT_FALSE(m.Sample(Up(), Down(), t + 10'000).changed);
  t += 800'000;  // bob freezes
  Frames(m, t, 5, {bob});
  EXPECT_TRUE(m.Sample(Up(), Down(), t + 10'000).changed);
}

}  // namespace
}  // namespace parley::sdk::call
