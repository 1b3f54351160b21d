// The remote users of a call: the join's and the notices' changes, and after a resume
// the channel's snapshot against what the engine knew.
#include "call/remote_users.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::sdk::call {
namespace {

using Kind = RemoteUsers::Change::Kind;

proto::UserInfo User(const std::string& id, TrackSet tracks = {}) {
  proto::UserInfo u;
  u.user_id = id;
  u.user_name = "name of " + id;
  u.tracks = std::move(tracks);
  return u;
}

std::vector<std::string> Ids(const std::vector<RemoteUser>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u.user_id);
  return out;
}

TEST(CallRemoteUsers, NeverListsItselfOrANameless) {
  RemoteUsers r;
  r.SetSelf("me");
  EXPECT_FALSE(r.Add(User("me")));
  EXPECT_FALSE(r.Add(User("")));
  EXPECT_TRUE(r.Add(User("ann", {TrackKind::kCamera, TrackKind::kAudio})));
  auto snapshot = r.Snapshot();
  ASSERT_EQ(snapshot.size(), 1U);
  EXPECT_EQ(snapshot[0].user_name, "name of ann");
  EXPECT_EQ(snapshot[0].tracks, (std::vector<TrackKind>{TrackKind::kAudio, TrackKind::kCamera}));
}

TEST(CallRemoteUsers, NoticesChangeTheUsersAndTheirTracks) {
  RemoteUsers r;
  r.SetSelf("me");
  r.Add(User("ann"));
  r.AddTrack("ann", TrackKind::kAudio);
  r.AddTrack("bob", TrackKind::kScreen);  // published before its userOnline arrived
  EXPECT_EQ(Ids(r.Snapshot()), (std::vector<std::string>{"ann", "bob"}));
  EXPECT_EQ(r.Snapshot()[0].tracks, std::vector<TrackKind>{TrackKind::kAudio});
  EXPECT_TRUE(r.RemoveTrack("ann", TrackKind::kAudio));
  EXPECT_FALSE(r.RemoveTrack("cat", TrackKind::kAudio));
  EXPECT_TRUE(r.Remove("bob"));
  EXPECT_FALSE(r.Remove("bob"));
  EXPECT_EQ(Ids(r.Snapshot()), std::vector<std::string>{"ann"});
  r.Clear();
  EXPECT_TRUE(r.Snapshot().empty());
  EXPECT_FALSE(r.Knows("ann"));
}

TEST(CallRemoteUsers, ReconcileAddsMissedUsersAndRemovesGoneOnes) {
  RemoteUsers r;
  r.SetSelf("me");
  r.Add(User("ann", {TrackKind::kAudio}));
  r.Add(User("bob", {TrackKind::kAudio, TrackKind::kCamera}));
  r.Add(User("cat"));
  // While the link was down: bob stopped his camera, cat started a screen share, ann
  // left, and dan and eve (who publishes nothing) joined.
  auto changes = r.Reconcile({User("me", {TrackKind::kAudio}), User("bob", {TrackKind::kAudio}),
                              User("cat", {TrackKind::kScreen}), User("dan", {TrackKind::kCamera}), User("eve")});
  EXPECT_EQ(changes, (std::vector<RemoteUsers::Change>{{Kind::kNewTracks, "cat", true},
                                                       {Kind::kOnline, "dan", true},
                                                       {Kind::kOnline, "eve", false},
                                                       {Kind::kOffline, "ann", false}}));
  EXPECT_EQ(Ids(r.Snapshot()), (std::vector<std::string>{"bob", "cat", "dan", "eve"}));
  EXPECT_EQ(r.Snapshot()[0].tracks, std::vector<TrackKind>{TrackKind::kAudio});
  EXPECT_TRUE(r.Reconcile({User("bob", {TrackKind::kAudio}), User("cat", {TrackKind::kScreen}),
                           User("dan", {TrackKind::kCamera}), User("eve")})
                  .empty());
}

}  // namespace
}  // namespace parley::sdk::call
