#include "parley/proto/requests.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

namespace parley::proto {
namespace {

using nlohmann::json;

// Parses `body` as a request of `type`; only the outcome matters here.
Status ParseAs(const std::string& type, const json& body) {
  static const std::map<std::string, std::function<Status(const json&)>> kParsers = {
      {"join",
       [](const json& b) -> Status {
         if (auto r = JoinRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"credentials",
       [](const json& b) -> Status {
         if (auto r = JoinCredentials::Parse(b); !r) return r.error();
         return {};
       }},
      {"resume",
       [](const json& b) -> Status {
         if (auto r = ResumeRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"publish",
       [](const json& b) -> Status {
         if (auto r = PublishRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"updatePublish",
       [](const json& b) -> Status {
         if (auto r = UpdatePublishRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"openData",
       [](const json& b) -> Status {
         if (auto r = OpenDataRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"unpublish",
       [](const json& b) -> Status {
         if (auto r = UnpublishRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"subscribe",
       [](const json& b) -> Status {
         if (auto r = SubscribeRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"unsubscribe",
       [](const json& b) -> Status {
         if (auto r = UnsubscribeRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"subscribeAnswer",
       [](const json& b) -> Status {
         if (auto r = SubscribeAnswerRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"setRole",
       [](const json& b) -> Status {
         if (auto r = SetRoleRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"mute",
       [](const json& b) -> Status {
         if (auto r = MuteRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"sendMessage",
       [](const json& b) -> Status {
         if (auto r = SendMessageRequest::Parse(b); !r) return r.error();
         return {};
       }},
      {"updateUserInfo",
       [](const json& b) -> Status {
         if (auto r = UpdateUserInfoRequest::Parse(b); !r) return r.error();
         return {};
       }},
  };
  return kParsers.at(type)(body);
}

TEST(Requests, ErrorMessagesAreTheServersWordsVerbatim) {
  // Golden: the code and text server/src/signal/hub.cpp (and protocol.cpp's field
  // readers) answered at aa7c5f4. Clients and tests match these strings.
  const std::string kTrackWords = R"(track must be "audio", "camera" or "screen")";
  const std::string kTracksWords = R"(tracks must be a non-empty array of "audio", "camera", "screen")";
  struct Case {
    std::string type;
    json body;
    Errc code;
    std::string message;
  };
  const Case kCases[] = {
      {"publish", json::object(), Errc::kInvalidField, "missing field 'tracks'"},
      {"publish", {{"sdp", 5}}, Errc::kInvalidField, "missing field 'tracks'"},  // tracks are read first
      {"publish", {{"tracks", json::array()}}, Errc::kInvalidField, kTracksWords},
      {"publish", {{"tracks", "audio"}}, Errc::kInvalidField, kTracksWords},
      {"publish", {{"tracks", {"audio", "audio", "camera", "screen"}}}, Errc::kInvalidField, kTracksWords},
      {"publish", {{"tracks", {"mic"}}}, Errc::kInvalidField, kTrackWords},
      {"publish", {{"tracks", {1}}}, Errc::kInvalidField, kTrackWords},
      {"publish", {{"track", nullptr}, {"tracks", {"audio"}}}, Errc::kInvalidField, kTrackWords},
      {"publish",
       {{"tracks", {"audio"}}, {"sdp", std::string(65537, 'x')}},
       Errc::kInvalidField,
       "field 'sdp' is longer than 65536 bytes"},
      {"publish", {{"tracks", {"audio"}}, {"sdp", 5}}, Errc::kInvalidField, "field 'sdp' must be a string"},
      {"updatePublish", json::object(), Errc::kInvalidField, "missing field 'sdp'"},
      {"subscribeAnswer", {{"sdp", nullptr}}, Errc::kInvalidField, "missing field 'sdp'"},
      {"unpublish", {{"tracks", nullptr}}, Errc::kInvalidField, "missing field 'tracks'"},
      {"join", {{"userName", std::string(257, 'n')}}, Errc::kInvalidField, "field 'userName' is longer than 256 bytes"},
      {"join", {{"sdkVersion", 1}}, Errc::kInvalidField, "field 'sdkVersion' must be a string"},
      {"join", {{"profile", "live"}}, Errc::kInvalidField, R"(profile must be "communication" or "interactive-live")"},
      {"join", {{"role", "host"}}, Errc::kInvalidField, R"(role must be "broadcaster" or "audience")"},
      {"join", {{"platform", "ios"}}, Errc::kInvalidField, R"(platform must be "native" or "h5")"},
      {"join", {{"h5Compatible", "yes"}}, Errc::kInvalidField, "field 'h5Compatible' must be a boolean"},
      {"join",
       {{"platform", "web"}, {"h5Compatible", false}},
       Errc::kH5CompatibleModeConfig,
       "an H5 client cannot turn H5-compatible mode off"},
      {"credentials", json::object(), Errc::kInvalidField,
       "join needs 'token' (an access token) or 'auth' (an AuthInfo object)"},
      {"credentials",
       {{"auth", "abc"}},
       Errc::kInvalidField,
       "join needs 'token' (an access token) or 'auth' (an AuthInfo object)"},
      {"credentials", {{"token", 5}}, Errc::kInvalidField, "field 'token' must be a string"},
      {"credentials", {{"auth", {{"timestamp", "soon"}}}}, Errc::kInvalidField, "field 'timestamp' must be an integer"},
      {"credentials",
       {{"auth", {{"appId", std::string(257, 'a')}}}},
       Errc::kInvalidField,
       "field 'appId' is longer than 256 bytes"},
      {"resume", json::object(), Errc::kInvalidField, "missing field 'resumeToken'"},
      {"resume",
       {{"resumeToken", std::string(129, 'r')}},
       Errc::kInvalidField,
       "field 'resumeToken' is longer than 128 bytes"},
      {"subscribe", json::object(), Errc::kInvalidField, "missing field 'userId'"},
      {"subscribe", {{"userId", std::string(65, 'u')}}, Errc::kInvalidField, "field 'userId' is longer than 64 bytes"},
      {"subscribe", {{"userId", "u"}, {"tracks", json::array()}}, Errc::kInvalidField, kTracksWords},
      {"unsubscribe", {{"userId", "u"}, {"track", "mic"}}, Errc::kInvalidField, kTrackWords},
      {"setRole", json::object(), Errc::kInvalidField, "missing field 'role'"},
      {"setRole", {{"role", ""}}, Errc::kInvalidField, R"(role must be "broadcaster" or "audience")"},
      {"mute", {{"muted", true}}, Errc::kInvalidField, "missing field 'tracks'"},
      {"mute", {{"tracks", {"audio"}}, {"muted", 1}}, Errc::kInvalidField, "field 'muted' must be a boolean"},
      {"sendMessage", json::object(), Errc::kInvalidField, "missing field 'data'"},
      {"sendMessage",
       {{"data", std::string(4097, 'd')}},
       Errc::kMessageTooLarge,
       "field 'data' is longer than 4096 bytes"},
      {"sendMessage", {{"data", "hi"}, {"toUserId", 7}}, Errc::kInvalidField, "field 'toUserId' must be a string"},
      {"updateUserInfo", json::object(), Errc::kInvalidField, "missing field 'userName'"},
  };
  for (const auto& c : kCases) {
    Status s = ParseAs(c.type, c.body);
    ASSERT_FALSE(s.ok()) << c.type << " " << c.body.dump();
    EXPECT_EQ(s.code(), c.code) << c.type << " " << c.body.dump();
    EXPECT_EQ(s.error().message, c.message) << c.type << " " << c.body.dump();
  }
  // The limits are inclusive.
  EXPECT_TRUE(ParseAs("publish", {{"tracks", {"audio"}}, {"sdp", std::string(65536, 'x')}}).ok());
  EXPECT_TRUE(ParseAs("sendMessage", {{"data", std::string(4096, 'd')}}).ok());
}

TEST(Requests, SingleTrackBeatsTracks) {
  auto r = UnpublishRequest::Parse({{"track", "video"}, {"tracks", {"audio", "screen"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tracks, TrackSet{TrackKind::kCamera});
  // Duplicates collapse and aliases are read.
  auto p = PublishRequest::Parse({{"tracks", {"camera", "video", "audio"}}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tracks, (TrackSet{TrackKind::kAudio, TrackKind::kCamera}));
  EXPECT_EQ(p->sdp, "");
  // An optional list that is missing means all tracks: the empty set.
  auto s = SubscribeRequest::Parse({{"userId", "bob"}});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->tracks.empty());
}

TEST(Requests, MuteWithoutMutedMeansMuted) {
  auto m = MuteRequest::Parse({{"track", "audio"}});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->muted);
  auto n = MuteRequest::Parse({{"track", "audio"}, {"muted", nullptr}});
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->muted);
  auto u = MuteRequest::Parse({{"track", "audio"}, {"muted", false}});
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->muted);
}

TEST(Requests, JoinDefaultsH5CompatibleAndCommunication) {
  auto j = JoinRequest::Parse(json::object());
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j->h5_compatible);
  EXPECT_EQ(j->profile, ChannelProfile::kCommunication);
  EXPECT_EQ(j->role, ClientRole::kBroadcaster);
  EXPECT_FALSE(j->role_given);
  EXPECT_EQ(j->platform, Platform::kNative);
  // Empty strings are the defaults too.
  auto e = JoinRequest::Parse({{"profile", ""}, {"role", ""}, {"platform", ""}});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, *j);
  // Everyone is a broadcaster in communication, whatever the request asked.
  auto a = JoinRequest::Parse({{"role", "audience"}});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->role, ClientRole::kBroadcaster);
  EXPECT_TRUE(a->role_given);
  auto live = JoinRequest::Parse({{"profile", "interactive_live"}, {"role", "audience"}, {"platform", "web"}});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->profile, ChannelProfile::kInteractiveLive);
  EXPECT_EQ(live->role, ClientRole::kAudience);
  EXPECT_EQ(live->platform, Platform::kH5);
  EXPECT_TRUE(live->h5_compatible);
  // A native client may opt out.
  auto native = JoinRequest::Parse({{"h5Compatible", false}});
  ASSERT_TRUE(native.ok());
  EXPECT_FALSE(native->h5_compatible);
}

TEST(Requests, CredentialsTokenWinsOverAuth) {
  json auth = {{"appId", "app"}, {"channelId", "ch"}, {"userId", "u"}, {"timestamp", 1700000000}, {"token", "t2"}};
  auto both = JoinCredentials::Parse({{"token", "t1"}, {"auth", auth}});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->token, "t1");
  EXPECT_FALSE(both->fields.has_value());
  // A null token is no token: the AuthInfo is used.
  auto classic = JoinCredentials::Parse({{"token", nullptr}, {"auth", auth}});
  ASSERT_TRUE(classic.ok());
  EXPECT_EQ(classic->token, "t2");
  ASSERT_TRUE(classic->fields.has_value());
  EXPECT_EQ(classic->fields->app_id, "app");
  EXPECT_EQ(classic->fields->nonce, "");
  EXPECT_EQ(classic->fields->timestamp, 1700000000);
}

template <typename T>
void ExpectRoundTrip(const json& body) {
  auto first = T::Parse(body);
  ASSERT_TRUE(first.ok()) << body.dump() << ": " << first.error().message;
  auto again = T::Parse(first->ToJson());
  ASSERT_TRUE(again.ok()) << first->ToJson().dump();
  EXPECT_TRUE(*again == *first) << body.dump() << " -> " << first->ToJson().dump();
}

TEST(Requests, ToJsonThenParseIsIdentity) {
  ExpectRoundTrip<JoinRequest>(json::object());
  ExpectRoundTrip<JoinRequest>({{"userName", "Ann"}, {"sdkVersion", "1.2"}, {"role", "audience"}});
  ExpectRoundTrip<JoinRequest>(
      {{"profile", "interactive_live"}, {"role", "audience"}, {"platform", "web"}, {"h5Compatible", true}});
  ExpectRoundTrip<JoinRequest>({{"h5Compatible", false}, {"platform", "native"}});
  ExpectRoundTrip<JoinCredentials>({{"token", "abc.def.ghi"}});
  ExpectRoundTrip<JoinCredentials>(
      {{"auth",
        {{"appId", "a"}, {"channelId", "c"}, {"userId", "u"}, {"nonce", "n"}, {"timestamp", 5}, {"token", "t"}}}});
  ExpectRoundTrip<ResumeRequest>({{"resumeToken", "r"}});
  ExpectRoundTrip<PublishRequest>({{"tracks", {"screen", "audio"}}, {"sdp", "v=0\r\n"}});
  ExpectRoundTrip<PublishRequest>({{"track", "video"}});
  ExpectRoundTrip<UpdatePublishRequest>({{"sdp", "v=0\r\n"}});
  ExpectRoundTrip<PublishRequest>({{"tracks", {"camera"}}, {"sdp", "v=0\r\n"}, {"cameraLayers", 2}});
  ExpectRoundTrip<UpdatePublishRequest>({{"sdp", "v=0\r\n"}, {"cameraLayers", 3}});
  ExpectRoundTrip<OpenDataRequest>({{"sdp", "v=0\r\n"}});
  ExpectRoundTrip<UnpublishRequest>({{"tracks", {"camera"}}});
  ExpectRoundTrip<SubscribeRequest>({{"userId", "bob"}});
  ExpectRoundTrip<SubscribeRequest>({{"userId", "bob"}, {"tracks", {"audio", "screen"}}});
  ExpectRoundTrip<UnsubscribeRequest>({{"userId", "bob"}, {"track", "camera"}});
  ExpectRoundTrip<SubscribeAnswerRequest>({{"sdp", ""}});
  ExpectRoundTrip<SetRoleRequest>({{"role", "audience"}});
  ExpectRoundTrip<MuteRequest>({{"track", "audio"}});
  ExpectRoundTrip<MuteRequest>({{"tracks", {"audio", "camera"}}, {"muted", false}});
  ExpectRoundTrip<SendMessageRequest>({{"data", "hello"}});
  ExpectRoundTrip<SendMessageRequest>({{"data", ""}, {"toUserId", "bob"}});
  ExpectRoundTrip<UpdateUserInfoRequest>({{"userName", "Bo"}});
  ExpectRoundTrip<ReportStatsRequest>({{"up", 1}, {"down", 6}});
  // What ToJson writes: canonical names, never the aliases.
  EXPECT_EQ(PublishRequest::Parse({{"track", "video"}})->ToJson().dump(), R"({"tracks":["camera"]})");
  EXPECT_EQ(MuteRequest::Parse({{"track", "audio"}})->ToJson().dump(), R"({"muted":true,"tracks":["audio"]})");
}

TEST(Requests, CameraLayersIsOneByDefaultAndAtMostThree) {
  EXPECT_EQ(PublishRequest::Parse({{"tracks", {"camera"}}})->camera_layers, 1);
  EXPECT_EQ(PublishRequest::Parse({{"tracks", {"camera"}}, {"cameraLayers", 2}})->camera_layers, 2);
  EXPECT_EQ(UpdatePublishRequest::Parse({{"sdp", "x"}, {"cameraLayers", 3}})->camera_layers, 3);
  for (const json& v : {json(0), json(4), json(-1), json(2.5), json("2"), json(true), json(4294967298LL)}) {
    auto p = PublishRequest::Parse({{"tracks", {"camera"}}, {"cameraLayers", v}});
    ASSERT_FALSE(p) << v.dump();
    EXPECT_EQ(p.error().code, Errc::kInvalidField) << v.dump();
    auto u = UpdatePublishRequest::Parse({{"sdp", "x"}, {"cameraLayers", v}});
    ASSERT_FALSE(u) << v.dump();
    EXPECT_EQ(u.error().code, Errc::kInvalidField) << v.dump();
  }
}

TEST(Requests, ReportStatsTakesTwoQualitiesFromZeroToSix) {
  auto ok = ReportStatsRequest::Parse({{"up", 0}, {"down", 6}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->up, 0);
  EXPECT_EQ(ok->down, 6);
  const json bad[] = {json::object(),
                      {{"up", 1}},
                      {{"down", 1}},
                      {{"up", 7}, {"down", 1}},
                      {{"up", 1}, {"down", -1}},
                      {{"up", 1.5}, {"down", 1}},
                      {{"up", "1"}, {"down", 1}},
                      {{"up", true}, {"down", 1}},
                      {{"up", 1}, {"down", 4294967298LL}}};
  for (const json& b : bad) {
    auto r = ReportStatsRequest::Parse(b);
    ASSERT_FALSE(r) << b.dump();
    EXPECT_EQ(r.error().code, Errc::kInvalidField) << b.dump();
  }
}

TEST(Requests, LastMileProbeTakesTwoRatesOneOfWhichMayBeZero) {
  auto defaults = LastMileProbeRequest::Parse(json::object());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->uplink_kbps, 1000);
  EXPECT_EQ(defaults->downlink_kbps, 1000);
  auto up_only = LastMileProbeRequest::Parse({{"uplinkKbps", 10000}, {"downlinkKbps", 0}});
  ASSERT_TRUE(up_only);
  EXPECT_EQ(up_only->uplink_kbps, 10000);
  EXPECT_EQ(up_only->downlink_kbps, 0);
  auto back = LastMileProbeRequest::Parse(up_only->ToJson());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *up_only);
  const json bad[] = {{{"uplinkKbps", 0}, {"downlinkKbps", 0}},
                      {{"uplinkKbps", 99}},
                      {{"downlinkKbps", 10001}},
                      {{"uplinkKbps", -1}},
                      {{"uplinkKbps", "500"}},
                      {{"downlinkKbps", 1.5}},
                      {{"uplinkKbps", 4294967796LL}}};
  for (const json& b : bad) {
    auto r = LastMileProbeRequest::Parse(b);
    ASSERT_FALSE(r) << b.dump();
    EXPECT_EQ(r.error().code, Errc::kInvalidField) << b.dump();
  }
}

TEST(Requests, SetRemoteVideoStreamTypeTakesATypeAndMaybeAUser) {
  auto one = SetRemoteVideoStreamTypeRequest::Parse({{"userId", "alice"}, {"streamType", "small"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->user_id, "alice");
  EXPECT_EQ(one->type, VideoStreamType::kSmall);
  auto all = SetRemoteVideoStreamTypeRequest::Parse({{"streamType", "auto"}});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->user_id, "");
  EXPECT_EQ(all->type, VideoStreamType::kAuto);
  EXPECT_EQ(all->ToJson(), (json{{"streamType", "auto"}}));
  auto back = SetRemoteVideoStreamTypeRequest::Parse(one->ToJson());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *one);
  const json bad[] = {json::object(),
                      {{"streamType", "Big"}},
                      {{"streamType", "huge"}},
                      {{"streamType", ""}},
                      {{"streamType", 0}},
                      {{"streamType", "big"}, {"userId", 7}},
                      {{"streamType", "big"}, {"userId", std::string(kMaxIdLength + 1, 'u')}}};
  for (const json& b : bad) {
    auto r = SetRemoteVideoStreamTypeRequest::Parse(b);
    ASSERT_FALSE(r) << b.dump();
    EXPECT_EQ(r.error().code, Errc::kInvalidField) << b.dump();
  }
}

}  // namespace
}  // namespace parley::proto
