#include "http/admin_ops.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace parley::server {
namespace {

using nlohmann::json;
using Events = std::vector<std::string>;

// Sessions in a real registry; removing one takes it out of its channel and closes the
// channel when it was the last member, as the signalling side does.
class AdminOpsTest : public ::testing::Test, public AdminOps::SessionRemover {
 protected:
  void RemoveSession(Session& s, std::string_view reason) override {
    removed_.push_back(s.channel->app_id + "/" + s.channel->channel_id + "/" + s.user_id + " " + std::string(reason));
    Channel* ch = s.channel;
    ch->members.erase(s.user_id);
    s.channel = nullptr;
    if (ch->members.empty()) registry_.Close(*ch);
    sessions_.Erase(s);
  }
  Channel& Open(const std::string& app, const std::string& channel) {
    return registry_.Create({app, channel, Profile::kCommunication, true, kNow, 1700000000});
  }
  Session& Join(Channel& ch, const std::string& user) {
    Session& s = sessions_.Create(next_id_++, "tok" + user + ch.channel_id + ch.app_id);
    s.user_id = user;
    s.channel = &ch;
    ch.members[user] = &s;
    return s;
  }

  const Clock::time_point kNow = Clock::time_point{} + std::chrono::hours(1);
  sfu::MediaPlane plane_{{}, ""};
  ChannelRegistry registry_{plane_};
  SessionTable sessions_;
  UsageMeter usage_;
  AdminOps ops_{registry_, usage_, *this};
  Events removed_;
  uint64_t next_id_ = 1;
};

TEST_F(AdminOpsTest, KickRemovesWithReasonKicked) {
  Channel& room = Open("app1", "room");
  Join(room, "a");
  Join(room, "b");
  EXPECT_TRUE(ops_.Kick("app1", "room", "b"));
  EXPECT_EQ(removed_, (Events{"app1/room/b kicked"}));
  Status gone = ops_.Kick("app1", "room", "b");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::kAdminNotFound);
  EXPECT_EQ(gone.error().What(), "no user b in channel");
  // Channel ids are per app: another app's "room" is not live.
  Status other = ops_.Kick("app2", "room", "a");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::kAdminNotFound);
  EXPECT_EQ(removed_.size(), 1u);
}

TEST_F(AdminOpsTest, CloseChannelRemovesEveryMember) {
  Channel& room = Open("app1", "room");
  Join(room, "a");
  Join(room, "b");
  Join(Open("app1", "hall"), "c");
  EXPECT_TRUE(ops_.CloseChannel("app1", "room"));
  EXPECT_EQ(removed_, (Events{"app1/room/a channel-closed", "app1/room/b channel-closed"}));
  EXPECT_EQ(registry_.Find("app1", "room"), nullptr);
  EXPECT_NE(registry_.Find("app1", "hall"), nullptr);
  Status again = ops_.CloseChannel("app1", "room");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kAdminNotFound);
}

TEST_F(AdminOpsTest, RevokedAppLosesSessionsAndPendingUsage) {
  Channel& one = Open("app1", "room");
  Join(one, "a");
  Join(Open("app1", "hall"), "b");
  Channel& other = Open("app2", "room");
  Join(other, "c");
  usage_.Count("app1", 1, one.metered_at, kNow + std::chrono::seconds(10));
  usage_.Count("app2", 1, other.metered_at, kNow + std::chrono::seconds(10));
  ASSERT_EQ(usage_.PendingMs("app1"), 10000);
  ops_.OnAppRevoked("app1");
  Events got = removed_;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Events{"app1/hall/b app-disabled", "app1/room/a app-disabled"}));
  EXPECT_EQ(usage_.PendingMs("app1"), 0);
  EXPECT_EQ(usage_.PendingMs("app2"), 10000);  // another app's usage is kept
  EXPECT_TRUE(registry_.ForApp("app1").empty());
  // A rotated key removes the app's users too, but its usage is still billed.
  removed_.clear();
  ops_.OnAppKeyRotated("app2");
  EXPECT_EQ(removed_, (Events{"app2/room/c key-rotated"}));
  EXPECT_EQ(usage_.PendingMs("app2"), 10000);
}

TEST_F(AdminOpsTest, ListFiltersByApp) {
  Channel& one = Open("app1", "room");
  Session& a = Join(one, "a");
  a.published = {Track::kAudio};
  Join(Open("app2", "room"), "c");
  json all = ops_.ListChannels("");
  ASSERT_EQ(all.size(), 2u);
  json mine = ops_.ListChannels("app1");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["appId"], "app1");
  EXPECT_EQ(mine[0]["channelId"], "room");
  EXPECT_EQ(mine[0]["profile"], "communication");
  EXPECT_EQ(mine[0]["h5Compatible"], true);
  EXPECT_EQ(mine[0]["createdAt"], 1700000000);
  EXPECT_EQ(mine[0]["mediaWorker"], 0);
  EXPECT_EQ(mine[0]["activeSpeaker"], "");
  ASSERT_EQ(mine[0]["users"].size(), 1u);
  EXPECT_EQ(mine[0]["users"][0]["userId"], "a");
  EXPECT_EQ(mine[0]["users"][0]["tracks"], json::array({"audio"}));
  EXPECT_FALSE(mine[0]["users"][0].contains("media"));  // a plane without workers has no counters
  EXPECT_TRUE(ops_.ListChannels("app3").empty());
}

}  // namespace
}  // namespace parley::server
