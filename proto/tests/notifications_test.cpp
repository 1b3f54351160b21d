#include "parley/proto/notifications.hpp"

#include <gtest/gtest.h>

#include <string>

#include "parley/proto/envelope.hpp"
#include "parley/proto/errc.hpp"

namespace parley::proto {
namespace {

using nlohmann::json;

// How server/src/signal/hub.cpp put a channel notification on the wire at aa7c5f4
// (Broadcast: channelId and seq added, the replace handler), copied here as the
// reference the typed structs must match byte for byte.
std::string HubBroadcast(json note, const std::string& channel_id, uint64_t seq) {
  note["channelId"] = channel_id;
  note["seq"] = seq;
  return note.dump(-1, ' ', false, json::error_handler_t::replace);
}

UserInfo Ann() {
  UserInfo u;
  u.user_id = "ann";
  u.user_name = "Ann";
  u.role = ClientRole::kAudience;
  u.platform = Platform::kH5;
  u.tracks = {TrackKind::kScreen, TrackKind::kAudio};
  u.muted = {TrackKind::kAudio};
  u.online = false;
  u.quality_up = 2;
  u.quality_down = 6;
  return u;
}

TEST(Notifications, BytesAreIdenticalToTheHubs) {
  // The hub's UserJson (without media) for the same user.
  json hub_user = {{"userId", "ann"},
                   {"userName", "Ann"},
                   {"role", "audience"},
                   {"platform", "h5"},
                   {"tracks", {"audio", "screen"}},
                   {"muted", {"audio"}},
                   {"online", false},
                   {"networkQuality", {{"up", 2}, {"down", 6}}}};
  // One literal golden, to pin the format itself (sorted keys, no spaces).
  EXPECT_EQ(BroadcastText(TrackPublished{"u", TrackKind::kCamera}.ToJson(), "c", 3),
            R"({"channelId":"c","seq":3,"track":"camera","type":"trackPublished","userId":"u"})");

  struct Case {
    const char* what;
    json hub;  // the hub's expression at aa7c5f4
    json ours;
  };
  const int32_t kDisconnected = static_cast<int32_t>(Errc::kRemoteNetworkDisconnected);
  const int32_t kAbort = static_cast<int32_t>(Errc::kPublishStreamAbort);
  const Case kBroadcasts[] = {
      {"userOnline", {{"type", "userOnline"}, {"user", hub_user}}, UserOnline{Ann()}.ToJson()},
      {"userUpdated", {{"type", "userUpdated"}, {"user", hub_user}}, UserUpdated{Ann()}.ToJson()},
      {"userOffline",
       {{"type", "userOffline"}, {"userId", "ann"}, {"reason", "leave"}},
       UserOffline{"ann", "leave"}.ToJson()},
      {"userNetwork",
       {{"type", "userNetwork"}, {"userId", "ann"}, {"state", "disconnected"}, {"code", kDisconnected}},
       UserNetwork{"ann", "disconnected", kDisconnected}.ToJson()},
      {"roleUpdated",
       {{"type", "roleUpdated"}, {"userId", "ann"}, {"role", "broadcaster"}},
       RoleUpdated{"ann", ClientRole::kBroadcaster}.ToJson()},
      {"trackPublished",
       {{"type", "trackPublished"}, {"userId", "ann"}, {"track", "screen"}},
       TrackPublished{"ann", TrackKind::kScreen}.ToJson()},
      {"trackUnpublished",
       {{"type", "trackUnpublished"}, {"userId", "ann"}, {"track", "audio"}},
       TrackUnpublished{"ann", TrackKind::kAudio}.ToJson()},
      {"trackMuted",
       {{"type", "trackMuted"}, {"userId", "ann"}, {"track", "camera"}, {"muted", true}},
       TrackMuted{"ann", TrackKind::kCamera, true}.ToJson()},
      {"streamAborted",
       {{"type", "streamAborted"}, {"userId", "ann"}, {"code", kAbort}, {"message", "no media for 3000 ms"}},
       StreamAborted{"ann", kAbort, "no media for 3000 ms"}.ToJson()},
      {"streamResumed", {{"type", "streamResumed"}, {"userId", "ann"}}, StreamResumed{"ann"}.ToJson()},
      {"activeSpeaker",
       {{"type", "activeSpeaker"}, {"userId", "ann"}, {"levelDbov", -static_cast<int>(127 - 100)}},
       ActiveSpeaker{"ann", -27}.ToJson()},
      {"networkQuality",
       {{"type", "networkQuality"}, {"userId", "ann"}, {"up", 1}, {"down", 4}},
       NetworkQuality{"ann", 1, 4}.ToJson()},
      {"message",
       {{"type", "message"}, {"fromUserId", "ann"}, {"data", "hi \"there\""}},
       Message{"ann", "hi \"there\""}.ToJson()},
  };
  for (const auto& c : kBroadcasts)
    EXPECT_EQ(BroadcastText(c.ours, "room-1", 42), HubBroadcast(c.hub, "room-1", 42)) << c.what;

  // Sent to one connection with a plain dump(): identical bytes for valid UTF-8.
  const int32_t kRemoved = static_cast<int32_t>(Errc::kSessionRemoved);
  const int32_t kSubAbort = static_cast<int32_t>(Errc::kSubscribeStreamAbort);
  const int32_t kCreate = static_cast<int32_t>(Errc::kMediaConnectionCreateFailed);
  std::string removed_message = std::string(Describe(Errc::kSessionRemoved)) + ": kicked";
  const Case kDirect[] = {
      {"sessionRemoved",
       {{"type", "sessionRemoved"}, {"code", kRemoved}, {"reason", "kicked"}, {"message", removed_message}},
       SessionRemoved{kRemoved, "kicked", removed_message}.ToJson()},
      {"subscribeOffer", json{{"type", "subscribeOffer"}, {"sdp", "v=0\r\n"}}, SubscribeOffer{"v=0\r\n"}.ToJson()},
      {"transportFailed",
       json{{"type", "transportFailed"},
            {"transport", "publish"},
            {"reason", "dtls"},
            {"code", kCreate},
            {"message", "the publish media transport failed: dtls"}},
       TransportFailed{"publish", "dtls", kCreate, "the publish media transport failed: dtls"}.ToJson()},
      {"subscribeAborted",
       json{{"type", "subscribeAborted"},
            {"reason", "consent"},
            {"code", kSubAbort},
            {"users", json::array({"bob", "cy"})},
            {"message", "the server's media transport to this subscriber failed: consent"}},
       SubscribeAborted{
           "consent", kSubAbort, {"bob", "cy"}, "the server's media transport to this subscriber failed: consent"}
           .ToJson()},
      {"subscribeAborted (nobody)",
       json{{"type", "subscribeAborted"},
            {"reason", "x"},
            {"code", kSubAbort},
            {"users", json::array()},
            {"message", "m"}},
       SubscribeAborted{"x", kSubAbort, {}, "m"}.ToJson()},
      {"publishAborted", json{{"type", "publishAborted"}, {"code", kAbort}, {"message", "no media"}},
       PublishAborted{kAbort, "no media"}.ToJson()},
  };
  for (const auto& c : kDirect) EXPECT_EQ(DumpSafe(c.ours), c.hub.dump()) << c.what;

  // A direct message: the hub adds channelId and no seq, with the replace handler.
  json hub_direct = {{"type", "message"}, {"fromUserId", "ann"}, {"data", "psst"}};
  hub_direct["channelId"] = "room-1";
  json ours_direct = Message{"ann", "psst"}.ToJson();
  ours_direct["channelId"] = "room-1";
  EXPECT_EQ(DumpSafe(ours_direct), hub_direct.dump(-1, ' ', false, json::error_handler_t::replace));

  // The snapshot of join/resume/listUsers replies, as ChannelSnapshot() built it.
  ChannelSnapshot snap{
      "room-1", "bob",  ChannelProfile::kInteractiveLive, ClientRole::kBroadcaster, true, 1700000000, 9, 2000,
      "ann",    {Ann()}};
  json hub_snap = {{"channelId", "room-1"},
                   {"userId", "bob"},
                   {"profile", "interactive-live"},
                   {"role", "broadcaster"},
                   {"h5Compatible", true},
                   {"channelCreatedAt", int64_t{1700000000}},
                   {"seq", uint64_t{9}},
                   {"heartbeatIntervalMs", 2000},
                   {"activeSpeaker", "ann"},
                   {"users", json::array({hub_user})}};
  EXPECT_EQ(DumpSafe(snap.ToJson()), hub_snap.dump());
}

TEST(Notifications, LenientParseKeepsTheUserWhenTheTrackIsUnknown) {
  // The SDK subscribes on trackPublished whatever the track (engine.cpp:849): the user
  // must survive a track word from a newer server.
  auto n = ParseNotification({{"type", "trackPublished"}, {"userId", "ann"}, {"track", "hologram"}});
  ASSERT_TRUE(std::holds_alternative<TrackPublished>(n));
  EXPECT_EQ(std::get<TrackPublished>(n).user_id, "ann");
  EXPECT_FALSE(std::get<TrackPublished>(n).track.has_value());
  // Mistyped fields read as empty instead of throwing (json::value() would throw).
  auto m = ParseNotification({{"type", "trackMuted"}, {"userId", 5}, {"track", "audio"}, {"muted", "yes"}});
  ASSERT_TRUE(std::holds_alternative<TrackMuted>(m));
  EXPECT_EQ(std::get<TrackMuted>(m).user_id, "");
  EXPECT_EQ(std::get<TrackMuted>(m).track, TrackKind::kAudio);
  EXPECT_FALSE(std::get<TrackMuted>(m).muted);
  // Unknown words in lists are skipped, the rest kept; a missing "online" means online.
  auto u =
      ParseNotification({{"type", "userOnline"},
                         {"user", {{"userId", "bob"}, {"role", "king"}, {"tracks", {"audio", 7, "smell", "screen"}}}}});
  ASSERT_TRUE(std::holds_alternative<UserOnline>(u));
  const UserInfo& bob = std::get<UserOnline>(u).user;
  EXPECT_EQ(bob.user_id, "bob");
  EXPECT_FALSE(bob.role.has_value());
  EXPECT_EQ(bob.tracks, (TrackSet{TrackKind::kAudio, TrackKind::kScreen}));
  EXPECT_TRUE(bob.online);
  auto a = ParseNotification({{"type", "subscribeAborted"}, {"users", {"bob", nullptr, 3, "cy"}}, {"code", "x"}});
  ASSERT_TRUE(std::holds_alternative<SubscribeAborted>(a));
  EXPECT_EQ(std::get<SubscribeAborted>(a).users, (std::vector<std::string>{"bob", "cy"}));
  EXPECT_EQ(std::get<SubscribeAborted>(a).code, 0);
}

TEST(Notifications, InvalidUtf8IsReplacedNeverThrown) {
  const std::string bad = "bo\xff\xfe";
  json note = Message{"ann", bad}.ToJson();
  // Why the hub's plain dump() was a hazard for echoed text:
  EXPECT_THROW((void)note.dump(), json::type_error);
  std::string text;
  EXPECT_NO_THROW(text = BroadcastText(note, "room\xc3", 1));
  EXPECT_NE(text.find("bo\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(text.find("room\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NO_THROW(text = DumpSafe(SessionRemoved{1, bad, bad}.ToJson()));
  EXPECT_EQ(text.find('\xff'), std::string::npos);
  // And what comes back parses.
  EXPECT_NO_THROW((void)ParseNotification(json::parse(text)));
}

TEST(Notifications, ParseNotificationDispatchesEveryType) {
  // Every type of the catalog (protocol.tsv) has a struct, and an empty message of that type parses to it.
  ASSERT_EQ(NotificationTypes().size(), std::variant_size_v<Notification> - 1);
  for (std::string_view type : NotificationTypes()) {
    Notification n = ParseNotification({{"type", type}});
    ASSERT_FALSE(std::holds_alternative<std::monostate>(n)) << type;
    std::string_view got = std::visit(
        [](const auto& v) -> std::string_view {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
            return "";
          else
            return std::decay_t<decltype(v)>::kType;
        },
        n);
    EXPECT_EQ(got, type);
  }
  // What the server writes reads back as the same value.
  const Notification kSamples[] = {
      UserOnline{Ann()},
      UserOffline{"a", "timeout"},
      UserNetwork{"a", "connected", 5},
      UserUpdated{Ann()},
      RoleUpdated{"a", ClientRole::kAudience},
      TrackPublished{"a", TrackKind::kCamera},
      TrackUnpublished{"a", TrackKind::kScreen},
      TrackMuted{"a", TrackKind::kAudio, true},
      SubscribeOffer{"v=0\r\n"},
      SubscribeAborted{"r", 7, {"x", "y"}, "m"},
      PublishAborted{8, "m"},
      StreamAborted{"a", 8, "m"},
      StreamResumed{"a"},
      TransportFailed{"publish", "ice", 9, "m"},
      ActiveSpeaker{"a", -12},
      Message{"a", "d"},
      SessionRemoved{10, "kicked", "m"},
      NetworkQuality{"a", 0, 6},
      TokenWillExpire{1'700'000'030},
      TokenExpired{1'700'000'030, 30000},
      VolumeIndication{{{"ann", 200}, {"bob", 0}}},
      PublishLayers{TrackKind::kCamera, {{"q", true}, {"f", false}}},
  };
  for (const auto& sample : kSamples) {
    json j = std::visit(
        [](const auto& v) -> json {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
            return nullptr;
          else
            return v.ToJson();
        },
        sample);
    EXPECT_EQ(ParseNotification(json::parse(BroadcastText(j, "c", 1))), sample) << j.dump();
  }
  // Whatever arrives, nothing throws; what is not a known notification is monostate.
  for (const json& odd : {json(), json(5), json("userOnline"), json::array({1}), json{{"type", 5}},
                          json{{"type", "response"}}, json{{"type", "UserOnline"}}, json::object()}) {
    Notification n;
    EXPECT_NO_THROW(n = ParseNotification(odd)) << odd.dump();
    EXPECT_TRUE(std::holds_alternative<std::monostate>(n)) << odd.dump();
  }
  // A quality outside 0..6, or not a number, reads as unknown (6); 0 is excellent.
  EXPECT_EQ(ParseNotification(json{{"type", "networkQuality"}, {"userId", "a"}, {"up", 9}, {"down", "3"}}),
            Notification(NetworkQuality{"a", kQualityUnknown, kQualityUnknown}));
  EXPECT_EQ(ParseNotification(json{{"type", "networkQuality"}, {"userId", "a"}, {"up", 0}, {"down", 5}}),
            Notification(NetworkQuality{"a", 0, 5}));
  auto odd = UserInfo::FromJson(json{{"userId", "a"}, {"networkQuality", {{"up", -1}, {"down", 5}}}});
  EXPECT_EQ(odd.quality_up, kQualityUnknown);
  EXPECT_EQ(odd.quality_down, 5);
  EXPECT_EQ(UserInfo::FromJson(json{{"userId", "a"}}).quality_up, kQualityUnknown) << "never reported";
  // publishLayers: an entry that is not an object is skipped, an "active" that is not a
  // boolean reads as sending (pausing is the server's explicit word), and no more than
  // eight layers are read.
  json layers = json::array({json{{"rid", "q"}, {"active", false}}, 5, json{{"rid", 7}, {"active", "no"}}});
  for (int i = 0; i < 20; ++i) layers.push_back(json{{"rid", "x"}});
  auto pl = std::get<PublishLayers>(
      ParseNotification(json{{"type", "publishLayers"}, {"track", "camera"}, {"layers", layers}}));
  EXPECT_EQ(pl.track, TrackKind::kCamera);
  ASSERT_EQ(pl.layers.size(), 8u);
  EXPECT_EQ(pl.layers[0], (PublishLayers::Layer{"q", false}));
  EXPECT_EQ(pl.layers[1], (PublishLayers::Layer{"", true}));
  EXPECT_EQ(std::get<PublishLayers>(ParseNotification(json{{"type", "publishLayers"}, {"layers", 3}})),
            PublishLayers{});
  // A snapshot round-trips too, and a reply without one reads as an empty snapshot.
  ChannelSnapshot snap{"c", "me",   ChannelProfile::kCommunication, ClientRole::kBroadcaster, false, 1, 2, 3,
                       "",  {Ann()}};
  EXPECT_EQ(ChannelSnapshot::FromJson(json::parse(DumpSafe(snap.ToJson()))), snap);
  EXPECT_TRUE(ChannelSnapshot::FromJson(json(7)).users.empty());
}

}  // namespace
}  // namespace parley::proto
