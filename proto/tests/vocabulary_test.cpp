#include "parley/proto/vocabulary.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(Vocabulary, NamesAndParsersRoundTrip) {
  for (TrackKind t : {TrackKind::kAudio, TrackKind::kCamera, TrackKind::kScreen}) {
    EXPECT_EQ(ParseTrackKind(Name(t), Aliases::kStrict), t) << Name(t);
    EXPECT_EQ(ParseTrackKind(Name(t), Aliases::kAccept), t) << Name(t);
  }
  for (ClientRole r : {ClientRole::kBroadcaster, ClientRole::kAudience}) EXPECT_EQ(ParseRole(Name(r)), r);
  for (ChannelProfile p : {ChannelProfile::kCommunication, ChannelProfile::kInteractiveLive})
    EXPECT_EQ(ParseProfile(Name(p), Aliases::kStrict), p);
  for (Platform p : {Platform::kNative, Platform::kH5}) EXPECT_EQ(ParsePlatform(Name(p), Aliases::kStrict), p);

  // The exact words on the wire (docs/protocol.md); a typo here would change the protocol.
  EXPECT_EQ(Name(TrackKind::kAudio), "audio");
  EXPECT_EQ(Name(TrackKind::kCamera), "camera");
  EXPECT_EQ(Name(TrackKind::kScreen), "screen");
  EXPECT_EQ(Name(ClientRole::kBroadcaster), "broadcaster");
  EXPECT_EQ(Name(ClientRole::kAudience), "audience");
  EXPECT_EQ(Name(ChannelProfile::kCommunication), "communication");
  EXPECT_EQ(Name(ChannelProfile::kInteractiveLive), "interactive-live");
  EXPECT_EQ(Name(Platform::kNative), "native");
  EXPECT_EQ(Name(Platform::kH5), "h5");

  // Empty, case variants and near misses are not words: defaults are the caller's rule.
  for (std::string_view bad : {"", "Audio", "AUDIO", "audio ", " camera", "audiox", "aud"})
    EXPECT_FALSE(ParseTrackKind(bad, Aliases::kAccept)) << bad;
  for (std::string_view bad : {"", "Broadcaster", "host", "audiences"}) EXPECT_FALSE(ParseRole(bad)) << bad;
  EXPECT_FALSE(ParseProfile("", Aliases::kAccept));
  EXPECT_FALSE(ParsePlatform("", Aliases::kAccept));
}

TEST(Vocabulary, VideoIsACameraAliasOnlyWhereAliasesAreAccepted) {
  EXPECT_EQ(ParseTrackKind("video", Aliases::kAccept), TrackKind::kCamera);
  EXPECT_FALSE(ParseTrackKind("video", Aliases::kStrict));
  // The alias is read, never written.
  EXPECT_EQ(Name(*ParseTrackKind("video", Aliases::kAccept)), "camera");
}

TEST(Vocabulary, ProfileAndPlatformAliases) {
  EXPECT_EQ(ParseProfile("interactive_live", Aliases::kAccept), ChannelProfile::kInteractiveLive);
  EXPECT_FALSE(ParseProfile("interactive_live", Aliases::kStrict));
  EXPECT_EQ(ParsePlatform("web", Aliases::kAccept), Platform::kH5);
  EXPECT_FALSE(ParsePlatform("web", Aliases::kStrict));
  // Only those two: no alias leaks into another family.
  EXPECT_FALSE(ParseProfile("web", Aliases::kAccept));
  EXPECT_FALSE(ParsePlatform("interactive_live", Aliases::kAccept));
  EXPECT_FALSE(ParseTrackKind("web", Aliases::kAccept));
}

TEST(Vocabulary, TrackIdRoundTripsAndRejectsAnotherUsersPrefix) {
  EXPECT_EQ(TrackId("alice", TrackKind::kCamera), "alice-camera");
  for (TrackKind t : {TrackKind::kAudio, TrackKind::kCamera, TrackKind::kScreen})
    EXPECT_EQ(ParseTrackId("u-1", TrackId("u-1", t)), t);
  // User ids may contain '-': the prefix is the whole user id, not up to the first dash.
  EXPECT_EQ(ParseTrackId("a-b", "a-b-screen"), TrackKind::kScreen);
  EXPECT_FALSE(ParseTrackId("a", "ab-audio"));   // user "ab"'s track, not "a"'s
  EXPECT_FALSE(ParseTrackId("ab", "a-audio"));   // shorter than the user id
  EXPECT_FALSE(ParseTrackId("a", "a-"));         // no kind
  EXPECT_FALSE(ParseTrackId("a", "a"));          // no dash
  EXPECT_FALSE(ParseTrackId("a", "a-video"));    // strict: we never write the alias
  EXPECT_FALSE(ParseTrackId("a", "a-audio-x"));  // trailing junk
}

TEST(Vocabulary, EnumValuesAreTheCAbiValues) {
  // parley/parley.h: PARLEY_TRACK_AUDIO = 0, PARLEY_TRACK_CAMERA = 1, PARLEY_TRACK_SCREEN = 2; the
  // other enums travel through the C ABI as integers in the same declaration order.
  static_assert(static_cast<int>(TrackKind::kAudio) == 0);
  static_assert(static_cast<int>(TrackKind::kCamera) == 1);
  static_assert(static_cast<int>(TrackKind::kScreen) == 2);
  static_assert(static_cast<int>(ClientRole::kBroadcaster) == 0);
  static_assert(static_cast<int>(ClientRole::kAudience) == 1);
  static_assert(static_cast<int>(ChannelProfile::kCommunication) == 0);
  static_assert(static_cast<int>(ChannelProfile::kInteractiveLive) == 1);
  static_assert(static_cast<int>(Platform::kNative) == 0);
  static_assert(static_cast<int>(Platform::kH5) == 1);
  static_assert(sizeof(TrackKind) == 1 && sizeof(ClientRole) == 1 && sizeof(ChannelProfile) == 1);
  // A value a C caller cast from a bad integer still names something instead of reading past a table.
  EXPECT_EQ(Name(static_cast<TrackKind>(7)), "audio");
}

}  // namespace
}  // namespace parley
