#include "channel/channel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::server {
namespace {

using nlohmann::json;

// Records what each connection was sent.
class RecordingNotifier final : public Notifier {
 public:
  void SendTo(Conn& c, std::string text) override { sent.push_back({c.id, json::parse(text)}); }
  std::vector<std::pair<uint64_t, json>> sent;
};

// A channel with three members: a and b connected, c waiting to resume.
class ChannelTest : public ::testing::Test {
 protected:
  ChannelTest() {
    ch_.channel_id = "room";
    ch_.app_id = "app";
    ch_.profile = Profile::kInteractiveLive;
    ch_.h5_compatible = true;
    ch_.created_at_unix = 1700000000;
    ca_.id = 1;
    cb_.id = 2;
    uint64_t id = 11;
    for (auto [s, user] : {std::pair{&a_, "a"}, std::pair{&b_, "b"}, std::pair{&c_, "c"}}) {
      s->id = id++;
      s->user_id = user;
      s->channel = &ch_;
      ch_.members[s->user_id] = s;
    }
    a_.conn = &ca_;
    b_.conn = &cb_;
  }
  Conn ca_, cb_;
  Session a_, b_, c_;
  Channel ch_;
  RecordingNotifier out_;
};

TEST_F(ChannelTest, BroadcastNumbersNotificationsAndSkipsTheSenderAndTheOffline) {
  ch_.Broadcast(out_, {{"type", "userOnline"}}, &a_);
  ch_.Broadcast(out_, {{"type", "activeSpeaker"}});
  ASSERT_EQ(out_.sent.size(), 3u);
  // The first goes to b only (a sent it, c has no connection); each gets the next seq.
  EXPECT_EQ(out_.sent[0].first, 2u);
  EXPECT_EQ(out_.sent[0].second, (json{{"type", "userOnline"}, {"channelId", "room"}, {"seq", 1}}));
  EXPECT_EQ(out_.sent[1].first, 1u);
  EXPECT_EQ(out_.sent[2].first, 2u);
  EXPECT_EQ(out_.sent[1].second["seq"], 2);
  EXPECT_EQ(out_.sent[2].second["seq"], 2);
  EXPECT_EQ(ch_.seq, 2u);
}

TEST_F(ChannelTest, DirectMessageCarriesChannelIdButNoSeq) {
  ch_.SendDirect(out_, b_, {{"type", "message"}, {"fromUserId", "a"}, {"data", "hi"}});
  ch_.SendDirect(out_, c_, {{"type", "message"}});  // offline: nothing is sent
  ASSERT_EQ(out_.sent.size(), 1u);
  EXPECT_EQ(out_.sent[0].first, 2u);
  EXPECT_EQ(out_.sent[0].second,
            (json{{"type", "message"}, {"fromUserId", "a"}, {"data", "hi"}, {"channelId", "room"}}));
  EXPECT_EQ(ch_.seq, 0u);  // the others' sequence has no gap
}

TEST_F(ChannelTest, SnapshotListsOthersWithTracksAndMutes) {
  b_.published = {Track::kAudio, Track::kCamera};
  b_.muted = {Track::kCamera};
  b_.user_name = "Bea";
  b_.platform = Platform::kH5;
  ch_.seq = 7;
  ch_.active_speaker = "b";
  json snap = ChannelSnapshot(a_, 2500);
  EXPECT_EQ(snap["channelId"], "room");
  EXPECT_EQ(snap["userId"], "a");
  EXPECT_EQ(snap["profile"], "interactive-live");
  EXPECT_EQ(snap["role"], "broadcaster");
  EXPECT_EQ(snap["h5Compatible"], true);
  EXPECT_EQ(snap["channelCreatedAt"], 1700000000);
  EXPECT_EQ(snap["seq"], 7);
  EXPECT_EQ(snap["heartbeatIntervalMs"], 2500);
  EXPECT_EQ(snap["activeSpeaker"], "b");
  ASSERT_EQ(snap["users"].size(), 2u);  // b and c, never a itself
  EXPECT_EQ(snap["users"][0], (json{{"userId", "b"},
                                    {"userName", "Bea"},
                                    {"role", "broadcaster"},
                                    {"platform", "h5"},
                                    {"tracks", {"audio", "camera"}},
                                    {"muted", {"camera"}},
                                    {"online", true},
                                    {"networkQuality", {{"up", 6}, {"down", 6}}}}));  // 6: never reported
  EXPECT_EQ(snap["users"][1]["userId"], "c");
  EXPECT_EQ(snap["users"][1]["online"], false);
  EXPECT_EQ(snap["users"][1]["tracks"], json::array());
}

TEST_F(ChannelTest, TheAudienceOfALiveChannelIsNotListed) {
  c_.role = Role::kAudience;
  EXPECT_TRUE(Listed(b_));
  EXPECT_FALSE(Listed(c_));
  json snap = ChannelSnapshot(a_, 2500);
  ASSERT_EQ(snap["users"].size(), 1u);  // b; c is audience
  EXPECT_EQ(snap["users"][0]["userId"], "b");
  // The audience sees the broadcasters, never itself or other audience.
  b_.role = Role::kAudience;
  snap = ChannelSnapshot(c_, 2500);
  ASSERT_EQ(snap["users"].size(), 1u);
  EXPECT_EQ(snap["users"][0]["userId"], "a");
  // The last active speaker is named only while the others see it: not once it turned
  // audience, nor after it left.
  ch_.active_speaker = "b";
  EXPECT_EQ(ChannelSnapshot(a_, 2500)["activeSpeaker"], "");
  ch_.active_speaker = "gone";
  EXPECT_EQ(ChannelSnapshot(a_, 2500)["activeSpeaker"], "");
  ch_.active_speaker = "a";
  EXPECT_EQ(ChannelSnapshot(c_, 2500)["activeSpeaker"], "a");
  // In the communication profile everyone is listed.
  ch_.profile = Profile::kCommunication;
  EXPECT_TRUE(Listed(c_));
  EXPECT_EQ(ChannelSnapshot(a_, 2500)["users"].size(), 2u);
}

}  // namespace
}  // namespace parley::server
