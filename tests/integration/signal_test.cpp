// Integration tests: a real parleyd on 127.0.0.1 and WebSocket clients. Every
// server-side rule of the error contract is checked with its exact code.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"
#include "run_command.hpp"
#include "server_process.hpp"
#include "sfu/stun.hpp"
#include "ws_client.hpp"

namespace parley {
namespace {

using nlohmann::json;
using test::HttpRequest;
using test::ServerProcess;
using test::WsClient;
using namespace std::chrono_literals;

struct TestApp {
  std::string id, key;
};

TestApp CreateApp(const ServerProcess& s, const std::string& name = "test", bool classic_tokens = false) {
  auto r = HttpRequest(s.port(), "POST", "/v1/admin/apps",
                       json{{"name", name}, {"classicTokens", classic_tokens}}.dump(), s.admin_key());
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  return {j["appId"], j["appKey"]};
}

int64_t Now() {
  return time(nullptr);
}

// An AuthInfo whose token is an access token (the default format).
json Auth(const TestApp& app, const std::string& channel, const std::string& user, int64_t expiry = 0,
          const std::string& key_override = {}) {
  if (expiry == 0) expiry = Now() + 3600;
  std::string key = key_override.empty() ? app.key : key_override;
  return {{"appId", app.id},     {"channelId", channel},
          {"userId", user},      {"nonce", "n1"},
          {"timestamp", expiry}, {"token", MintAccessToken({app.id, channel, user, "n1", "", expiry, Now()}, key)}};
}

// An ARTC classic AuthInfo (for apps created with classic tokens on).
json ClassicAuth(const TestApp& app, const std::string& channel, const std::string& user, int64_t expiry = 0) {
  if (expiry == 0) expiry = Now() + 3600;
  return {{"appId", app.id},     {"channelId", channel},
          {"userId", user},      {"nonce", "n1"},
          {"timestamp", expiry}, {"token", ComputeClassicToken(app.id, app.key, channel, user, "n1", expiry)}};
}

int32_t Code(const json& response) {
  return response["code"].get<int32_t>();
}
int32_t C(Errc e) {
  return static_cast<int32_t>(e);
}

json Join(WsClient& ws, const TestApp& app, const std::string& channel, const std::string& user, json extra = {}) {
  json fields = {{"auth", Auth(app, channel, user)}, {"userName", user + "-name"}};
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) fields[k] = v;
  return ws.Request("join", fields);
}

class SignalTest : public ::testing::Test {
 protected:
  ServerProcess server_;
  TestApp app_ = CreateApp(server_);
};

TEST_F(SignalTest, HelloReportsProtocolAndTimers) {
  WsClient ws(server_.port());
  auto r = ws.Request("hello", {{"sdkVersion", "test"}});
  EXPECT_EQ(Code(r), 0);
  EXPECT_EQ(r["data"]["protocol"], 1);
  EXPECT_EQ(r["data"]["heartbeatIntervalMs"], 2000);
  EXPECT_EQ(r["request"], "hello");
}

TEST_F(SignalTest, JoinPresencePublishSubscribeLeaveInOrder) {
  WsClient a(server_.port()), b(server_.port());
  auto ja = Join(a, app_, "room1", "alice");
  ASSERT_EQ(Code(ja), 0) << ja;
  EXPECT_TRUE(ja["data"]["users"].empty());
  EXPECT_FALSE(ja["data"]["resumeToken"].get<std::string>().empty());
  EXPECT_EQ(ja["data"]["profile"], "communication");
  auto jb = Join(b, app_, "room1", "bob");
  ASSERT_EQ(Code(jb), 0) << jb;
  ASSERT_EQ(jb["data"]["users"].size(), 1u);
  EXPECT_EQ(jb["data"]["users"][0]["userId"], "alice");

  auto online = a.WaitFor("userOnline");
  EXPECT_EQ(online["user"]["userId"], "bob");
  EXPECT_EQ(online["user"]["userName"], "bob-name");
  int64_t seq = online["seq"];

  ASSERT_EQ(Code(b.Request("publish", {{"tracks", {"audio", "camera"}}})), 0);
  auto p1 = a.WaitFor("trackPublished");
  auto p2 = a.WaitFor("trackPublished");
  EXPECT_EQ(p1["track"], "audio");
  EXPECT_EQ(p2["track"], "camera");
  EXPECT_EQ(p1["seq"], seq + 1);
  EXPECT_EQ(p2["seq"], seq + 2);

  auto sub = a.Request("subscribe", {{"userId", "bob"}});
  ASSERT_EQ(Code(sub), 0) << sub;
  EXPECT_EQ(sub["data"]["tracks"], json({"audio", "camera"}));

  ASSERT_EQ(Code(b.Request("mute", {{"track", "audio"}, {"muted", true}})), 0);
  auto muted = a.WaitFor("trackMuted");
  EXPECT_EQ(muted["muted"], true);
  EXPECT_EQ(muted["seq"], seq + 3);

  ASSERT_EQ(Code(b.Request("unpublish", {{"tracks", {"camera"}}})), 0);
  auto unpub = a.WaitFor("trackUnpublished");
  EXPECT_EQ(unpub["track"], "camera");
  EXPECT_EQ(unpub["seq"], seq + 4);

  ASSERT_EQ(Code(b.Request("sendMessage", {{"data", "hi"}})), 0);
  EXPECT_EQ(a.WaitFor("message")["data"], "hi");

  ASSERT_EQ(Code(b.Request("leave")), 0);
  auto gone_track = a.WaitFor("trackUnpublished");
  EXPECT_EQ(gone_track["track"], "audio");
  auto offline = a.WaitFor("userOffline");
  EXPECT_EQ(offline["userId"], "bob");
  EXPECT_EQ(offline["reason"], "left");
  EXPECT_GT(offline["seq"].get<int64_t>(), gone_track["seq"].get<int64_t>());

  auto users = a.Request("listUsers");
  EXPECT_TRUE(users["data"]["users"].empty());
  ASSERT_EQ(Code(a.Request("leave")), 0);
  auto channels = HttpRequest(server_.port(), "GET", "/v1/admin/channels", "", server_.admin_key());
  EXPECT_TRUE(json::parse(channels.body)["channels"].empty()) << "the channel closes with its last user";
}

TEST_F(SignalTest, AuthRulesAnswerWithTheirCodes) {
  WsClient ws(server_.port());
  // Unknown AppId.
  TestApp ghost{"0123456789abcdef", "nokey"};
  EXPECT_EQ(Code(Join(ws, ghost, "c", "u")), C(Errc::kAppIdNotExist));
  // Wrong token for the AppKey.
  auto bad = ws.Request("join", {{"auth", Auth(app_, "c", "u", 0, "not-the-key")}});
  EXPECT_EQ(Code(bad), C(Errc::kTokenInvalid));
  // Expired token.
  auto expired = ws.Request("join", {{"auth", Auth(app_, "c", "u", Now() - 10)}});
  EXPECT_EQ(Code(expired), C(Errc::kChannelOverdue));
  EXPECT_NE(expired["message"].get<std::string>().find("expired"), std::string::npos);
  EXPECT_EQ(expired["data"]["detail"], C(Errc::kTokenExpired));
  // AppId/AppKey mismatch: app_'s id with another app's key is just an invalid token;
  // the answer says nothing about the other app (docs/errors.md).
  TestApp other = CreateApp(server_, "other");
  auto mismatch = ws.Request("join", {{"auth", Auth(app_, "c", "u", 0, other.key)}});
  EXPECT_EQ(Code(mismatch), C(Errc::kTokenInvalid));
  EXPECT_EQ(mismatch["message"].get<std::string>().find(other.id), std::string::npos);
  // Empty token; classic AuthInfo with an empty field or timestamp <= 0.
  json empty = Auth(app_, "c", "u");
  empty["token"] = "";
  EXPECT_EQ(Code(ws.Request("join", {{"auth", empty}})), C(Errc::kInvalidAuthInfo));
  TestApp classic = CreateApp(server_, "classic", true);
  json no_user = ClassicAuth(classic, "c", "u");
  no_user["userId"] = "";
  EXPECT_EQ(Code(ws.Request("join", {{"auth", no_user}})), C(Errc::kInvalidAuthInfo));
  json zero = ClassicAuth(classic, "c", "u");
  zero["timestamp"] = 0;
  EXPECT_EQ(Code(ws.Request("join", {{"auth", zero}})), C(Errc::kInvalidAuthInfo));
  // Malformed ids.
  EXPECT_EQ(Code(Join(ws, app_, "bad channel", "u")), C(Errc::kInvalidChannelId));
  EXPECT_EQ(Code(Join(ws, app_, "c", std::string(65, 'u'))), C(Errc::kInvalidUserId));
  // Disabled app, then enabled again.
  ASSERT_EQ(
      HttpRequest(server_.port(), "POST", "/v1/admin/apps/" + app_.id + "/disable", "", server_.admin_key()).status,
      200);
  EXPECT_EQ(Code(Join(ws, app_, "c", "u")), C(Errc::kAppIdInvalid));
  ASSERT_EQ(
      HttpRequest(server_.port(), "POST", "/v1/admin/apps/" + app_.id + "/enable", "", server_.admin_key()).status,
      200);
  // Overdue app: quota of 0 minutes.
  ASSERT_EQ(HttpRequest(server_.port(), "PUT", "/v1/admin/apps/" + app_.id + "/quota", R"({"minutes":0})",
                        server_.admin_key())
                .status,
            200);
  auto overdue = Join(ws, app_, "c", "u");
  EXPECT_EQ(Code(overdue), C(Errc::kChannelOverdue));
  EXPECT_NE(overdue["message"].get<std::string>().find("quota"), std::string::npos);
  // The contract's code covers several causes; the detail names this one.
  EXPECT_EQ(overdue["data"]["detail"], C(Errc::kQuotaExhausted));
  ASSERT_EQ(HttpRequest(server_.port(), "PUT", "/v1/admin/apps/" + app_.id + "/quota", R"({"minutes":null})",
                        server_.admin_key())
                .status,
            200);
  EXPECT_EQ(Code(Join(ws, app_, "c", "u")), 0);
}

TEST_F(SignalTest, SingleParameterTokenJoins) {
  WsClient ws(server_.port());
  TestApp classic = CreateApp(server_, "classic", true);
  json a = ClassicAuth(classic, "c1", "u1");
  AuthInfo info{a["appId"], a["channelId"], a["userId"], a["nonce"], a["timestamp"], a["token"]};
  auto r = ws.Request("join", {{"token", EncodeSingleToken(info)}});
  EXPECT_EQ(Code(r), 0) << r;
  WsClient ws2(server_.port());
  EXPECT_EQ(Code(ws2.Request("join", {{"token", "%%%not-base64"}})), C(Errc::kMalformedToken));
}

TEST_F(SignalTest, ReplayedAndForgedTokensAndCrossAppIsolation) {
  WsClient ws(server_.port());
  json a = Auth(app_, "room", "alice");
  // Replayed for another user or channel: the hash covers both.
  json other_user = a;
  other_user["userId"] = "mallory";
  EXPECT_EQ(Code(ws.Request("join", {{"auth", other_user}})), C(Errc::kTokenInvalid));
  json other_channel = a;
  other_channel["channelId"] = "vip";
  EXPECT_EQ(Code(ws.Request("join", {{"auth", other_channel}})), C(Errc::kTokenInvalid));
  // Forged: a later expiry written into the signed claims.
  std::string t = a["token"];
  size_t d1 = t.find('.'), d2 = t.rfind('.');
  json claims = json::parse([&] {
    std::string raw;
    Base64UrlDecode(t.substr(d1 + 1, d2 - d1 - 1), &raw);
    return raw;
  }());
  claims["exp"] = claims["exp"].get<int64_t>() + 86400;
  std::string forged = t.substr(0, d1) + "." + Base64UrlEncode(claims.dump()) + t.substr(d2);
  EXPECT_EQ(Code(ws.Request("join", {{"token", forged}})), C(Errc::kTokenInvalid));
  // A token of app B presented under app A's id never enters A's channels.
  TestApp b = CreateApp(server_, "b");
  json cross = Auth(b, "room", "alice");
  cross["appId"] = app_.id;
  EXPECT_NE(Code(ws.Request("join", {{"auth", cross}})), 0);
  // Same channel name in two apps: two different channels.
  WsClient wa(server_.port()), wb(server_.port());
  ASSERT_EQ(Code(Join(wa, app_, "room", "alice")), 0);
  auto jb = Join(wb, b, "room", "bob");
  ASSERT_EQ(Code(jb), 0);
  EXPECT_TRUE(jb["data"]["users"].empty());
  EXPECT_FALSE(wa.Receives("userOnline", 300ms));
}

TEST_F(SignalTest, SessionStateRules) {
  WsClient ws(server_.port());
  EXPECT_EQ(Code(ws.Request("leave")), C(Errc::kNotInChannel));
  EXPECT_EQ(Code(ws.Request("publish", {{"tracks", {"audio"}}})), C(Errc::kNotInChannel));
  EXPECT_EQ(Code(ws.Request("subscribe", {{"userId", "x"}})), C(Errc::kNotInChannel));
  EXPECT_EQ(Code(ws.Request("setRole", {{"role", "audience"}})), C(Errc::kNotInChannel));
  ASSERT_EQ(Code(Join(ws, app_, "c", "u")), 0);
  EXPECT_EQ(Code(Join(ws, app_, "c", "u")), C(Errc::kAlreadyInChannel));
  EXPECT_EQ(Code(Join(ws, app_, "other", "u")), C(Errc::kAlreadyInChannel));
  ASSERT_EQ(Code(ws.Request("publish", {{"tracks", {"audio", "screen"}}})), 0);
  EXPECT_EQ(Code(ws.Request("publish", {{"tracks", {"audio"}}})), C(Errc::kAlreadyPublishing));
  EXPECT_EQ(Code(ws.Request("publish", {{"tracks", {"screen"}}})), C(Errc::kAlreadyPublishingScreen));
  EXPECT_EQ(Code(ws.Request("unpublish", {{"tracks", {"camera"}}})), C(Errc::kNotPublishing));
  EXPECT_EQ(Code(ws.Request("subscribe", {{"userId", "u"}})), C(Errc::kSubscribeConfigInvalid));
  EXPECT_EQ(Code(ws.Request("subscribe", {{"userId", "nobody"}})), C(Errc::kSubscribeRemoteStreamGone));
  EXPECT_EQ(Code(ws.Request("setRole", {{"role", "audience"}})), C(Errc::kUpdateRoleFailed));
  ASSERT_EQ(Code(ws.Request("leave")), 0);
  EXPECT_EQ(Code(ws.Request("leave")), C(Errc::kAlreadyLeaving));
  // A new join clears the "left" state.
  ASSERT_EQ(Code(Join(ws, app_, "c", "u")), 0);
  ASSERT_EQ(Code(ws.Request("leave")), 0);
}

TEST_F(SignalTest, SubscribeToTrackThatIsGone) {
  WsClient a(server_.port()), b(server_.port());
  ASSERT_EQ(Code(Join(a, app_, "c", "a")), 0);
  ASSERT_EQ(Code(Join(b, app_, "c", "b")), 0);
  EXPECT_EQ(Code(a.Request("subscribe", {{"userId", "b"}})), C(Errc::kSubscribeRemoteStreamGone));
  ASSERT_EQ(Code(b.Request("publish", {{"tracks", {"audio"}}})), 0);
  EXPECT_EQ(Code(a.Request("subscribe", {{"userId", "b"}, {"tracks", {"camera"}}})),
            C(Errc::kSubscribeRemoteStreamGone));
  EXPECT_EQ(Code(a.Request("subscribe", {{"userId", "b"}, {"tracks", {"audio"}}})), 0);
  ASSERT_EQ(Code(b.Request("unpublish", {{"tracks", {"audio"}}})), 0);
  EXPECT_EQ(Code(a.Request("subscribe", {{"userId", "b"}, {"tracks", {"audio"}}})),
            C(Errc::kSubscribeRemoteStreamGone));
}

TEST_F(SignalTest, RolesInInteractiveLive) {
  WsClient host(server_.port()), viewer(server_.port());
  ASSERT_EQ(Code(Join(host, app_, "live", "host", {{"profile", "interactive-live"}, {"role", "broadcaster"}})), 0);
  ASSERT_EQ(Code(Join(viewer, app_, "live", "viewer", {{"profile", "interactive-live"}, {"role", "audience"}})), 0);
  EXPECT_EQ(Code(viewer.Request("publish", {{"tracks", {"camera"}}})), C(Errc::kPublishWrongRole));
  ASSERT_EQ(Code(host.Request("publish", {{"tracks", {"camera"}}})), 0);
  EXPECT_EQ(Code(viewer.Request("subscribe", {{"userId", "host"}})), 0);  // audience may subscribe
  EXPECT_EQ(Code(host.Request("setRole", {{"role", "audience"}})), C(Errc::kUpdateRoleFailed));  // publishing
  ASSERT_EQ(Code(viewer.Request("setRole", {{"role", "broadcaster"}})), 0);
  // The audience is not listed: the host's first userOnline is the viewer's becoming a
  // broadcaster, not its join.
  auto online = host.WaitFor("userOnline");
  EXPECT_EQ(online["user"]["userId"], "viewer");
  EXPECT_EQ(online["user"]["role"], "broadcaster");
  auto role = host.WaitFor("roleUpdated");
  EXPECT_EQ(role["userId"], "viewer");
  EXPECT_EQ(role["role"], "broadcaster");
  EXPECT_EQ(Code(viewer.Request("publish", {{"tracks", {"camera"}}})), 0);
  // A communication-profile join into this channel.
  WsClient wrong(server_.port());
  EXPECT_EQ(Code(Join(wrong, app_, "live", "x", {{"profile", "communication"}})), C(Errc::kInvalidChannelProfile));
  EXPECT_EQ(Code(Join(wrong, app_, "live", "x", {{"profile", "sideways"}})), C(Errc::kInvalidField));
}

TEST_F(SignalTest, H5CompatibilityRule) {
  // H5-compatible is the default for every platform: a browser joins a native client's channel.
  WsClient native(server_.port()), browser(server_.port()), compat(server_.port());
  ASSERT_EQ(Code(Join(native, app_, "mixed", "n1", {{"platform", "native"}})), 0);
  ASSERT_EQ(Code(Join(browser, app_, "mixed", "b1", {{"platform", "h5"}})), 0);
  // A native client that opts out starts a native-only channel; browsers and
  // compatible natives are refused from it, and it is refused from compatible ones.
  WsClient only(server_.port()), other(server_.port());
  ASSERT_EQ(Code(Join(only, app_, "plain", "n2", {{"h5Compatible", false}})), 0);
  EXPECT_EQ(Code(Join(other, app_, "plain", "b2", {{"platform", "h5"}})), C(Errc::kH5NotCompatible));
  EXPECT_EQ(Code(Join(other, app_, "plain", "n3")), C(Errc::kH5NotCompatible));
  EXPECT_EQ(Code(Join(other, app_, "mixed", "n3", {{"h5Compatible", false}})), C(Errc::kH5NotCompatible));
  ASSERT_EQ(Code(Join(compat, app_, "plain", "n4", {{"h5Compatible", false}})), 0);
  // A browser cannot switch H5 mode off.
  WsClient legacy(server_.port());
  EXPECT_EQ(Code(Join(legacy, app_, "web", "b3", {{"platform", "h5"}, {"h5Compatible", false}})),
            C(Errc::kH5CompatibleModeConfig));
}

// An operator reads the log: where things are, who came and went, what was refused
// and why — and a flood of bad requests does not flood it.
// sendMessage: to everyone else (with seq) or to one member (no seq); too long is
// 0x0F010003, an unknown member 0x0F010005, and a sender faster than 10 a second (in
// bursts of 20) is refused with 0x0F010006 while the others still get what passed.
TEST_F(SignalTest, MessagesReachTheChannelOrOneMemberWithinTheirSizeAndRate) {
  WsClient a(server_.port()), b(server_.port()), c(server_.port());
  EXPECT_EQ(Code(a.Request("sendMessage", {{"data", "early"}})), C(Errc::kNotInChannel));
  ASSERT_EQ(Code(Join(a, app_, "msg", "ann")), 0);
  ASSERT_EQ(Code(Join(b, app_, "msg", "bob")), 0);
  ASSERT_EQ(Code(Join(c, app_, "msg", "cy")), 0);
  a.WaitFor("userOnline");
  a.WaitFor("userOnline");
  b.WaitFor("userOnline");

  ASSERT_EQ(Code(a.Request("sendMessage", {{"data", "to all"}})), 0);
  for (WsClient* to : {&b, &c}) {
    auto m = to->WaitFor("message");
    EXPECT_EQ(m["fromUserId"], "ann");
    EXPECT_EQ(m["data"], "to all");
    EXPECT_TRUE(m.contains("seq"));
  }
  EXPECT_FALSE(a.Receives("message", 200ms)) << "the sender is not told about its own message";

  ASSERT_EQ(Code(a.Request("sendMessage", {{"data", "to bob"}, {"toUserId", "bob"}})), 0);
  auto direct = b.WaitFor("message");
  EXPECT_EQ(direct["data"], "to bob");
  EXPECT_FALSE(direct.contains("seq"));
  EXPECT_EQ(direct["channelId"], "msg");
  EXPECT_FALSE(c.Receives("message", 200ms)) << "a direct message reaches its addressee alone";

  EXPECT_EQ(Code(a.Request("sendMessage", {{"data", std::string(4097, 'x')}})), C(Errc::kMessageTooLarge));
  EXPECT_EQ(Code(a.Request("sendMessage", {{"data", "?"}, {"toUserId", "nobody"}})), C(Errc::kInvalidField));
  EXPECT_EQ(Code(a.Request("sendMessage", {{"data", std::string(4096, 'x')}, {"toUserId", "cy"}})), 0);
  c.WaitFor("message");

  // A burst: the bucket (20, less the 4 taken above: a message to an unknown member
  // counts) runs dry, then what comes faster than 10 a second is refused.
  int sent = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    auto code = Code(a.Request("sendMessage", {{"data", std::to_string(i)}, {"toUserId", "bob"}}));
    if (code == 0) ++sent;
    if (code == C(Errc::kRateLimited)) ++refused;
  }
  EXPECT_GE(sent, 16);
  EXPECT_GE(refused, 10) << "the burst took well under a second and a half";
  EXPECT_EQ(sent + refused, 40);
  int delivered = 0;
  while (b.Receives("message", 300ms)) ++delivered;
  EXPECT_EQ(delivered, sent);
  // The bucket refills: after a second, about ten more.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(Code(a.Request("sendMessage", {{"data", "again"}})), 0);
  EXPECT_EQ(b.WaitFor("message")["data"], "again");
  EXPECT_EQ(Code(b.Request("sendMessage", {{"data", "bob's own bucket"}})), 0) << "each member has its own";
}

// A token's expiry in a live session: tokenWillExpire 30 s before (at once for a
// token that expires sooner), tokenExpired at the expiry, then, after the grace
// (--token-grace-ms), sessionRemoved with 0x05040002 (detail 0x0F050001) and the others
// see the user go ("token-expired"). A refreshToken with a later expiry keeps the session.
TEST(SignalTokens, AnExpiredTokenEndsTheSessionAfterTheGraceUnlessRefreshed) {
  ServerProcess server({"--token-grace-ms", "1000"});
  TestApp app = CreateApp(server);
  WsClient ann(server.port()), bob(server.port()), cy(server.port());
  const int64_t soon = Now() + 2;
  ASSERT_EQ(Code(ann.Request("join", {{"auth", Auth(app, "exp", "ann", soon)}})), 0);
  ASSERT_EQ(Code(bob.Request("join", {{"auth", Auth(app, "exp", "bob", soon)}})), 0);
  ASSERT_EQ(Code(Join(cy, app, "exp", "cy")), 0);  // an hour: no warning
  auto warned = ann.WaitFor("tokenWillExpire", 2000ms);
  EXPECT_EQ(warned["expiresAt"], soon);
  EXPECT_FALSE(warned.contains("seq")) << "to this session alone";
  bob.WaitFor("tokenWillExpire", 2000ms);

  // Bob refreshes with an hour more: he stays. A token for another user is refused.
  EXPECT_EQ(Code(bob.Request("refreshToken", {{"auth", Auth(app, "exp", "ann")}})), C(Errc::kTokenInvalid));
  auto refreshed = bob.Request("refreshToken", {{"auth", Auth(app, "exp", "bob")}});
  ASSERT_EQ(Code(refreshed), 0) << refreshed;
  EXPECT_GT(refreshed["data"]["expiresAt"].get<int64_t>(), soon + 3000);

  auto expired = ann.WaitFor("tokenExpired", 4000ms);
  EXPECT_EQ(expired["removeInMs"], 1000);
  auto removed = ann.WaitFor("sessionRemoved", 3000ms);
  EXPECT_EQ(removed["code"], C(Errc::kChannelOverdue));
  EXPECT_EQ(removed["detail"], C(Errc::kTokenExpired));
  EXPECT_EQ(removed["reason"], "token-expired");
  EXPECT_TRUE(ann.Closed());
  auto gone = cy.WaitFor("userOffline", 3000ms);
  EXPECT_EQ(gone["userId"], "ann");
  EXPECT_EQ(gone["reason"], "token-expired");

  EXPECT_FALSE(bob.Receives("tokenExpired", 1500ms)) << "bob's refreshed token has an hour left";
  EXPECT_EQ(Code(bob.Request("listUsers")), 0) << "bob is still in the channel";
  auto metrics = HttpRequest(server.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("token-expired"), std::string::npos);
}

TEST_F(SignalTest, NetworkQualityIsRelayedToTheChannelAndKeptForLateJoiners) {
  WsClient a(server_.port()), b(server_.port());
  EXPECT_EQ(Code(b.Request("reportStats", {{"up", 1}, {"down", 1}})), C(Errc::kNotInChannel));
  ASSERT_EQ(Code(Join(a, app_, "q", "alice")), 0);
  ASSERT_EQ(Code(Join(b, app_, "q", "bob")), 0);
  a.WaitFor("userOnline");

  ASSERT_EQ(Code(b.Request("reportStats", {{"up", 1}, {"down", 3}})), 0);
  auto q = a.WaitFor("networkQuality");
  EXPECT_EQ(q["userId"], "bob");
  EXPECT_EQ(q["up"], 1);
  EXPECT_EQ(q["down"], 3);
  EXPECT_TRUE(q.contains("seq"));
  EXPECT_FALSE(b.Receives("networkQuality", 200ms)) << "the reporter is not told about itself";
  // The same value again is no news.
  ASSERT_EQ(Code(b.Request("reportStats", {{"up", 1}, {"down", 3}})), 0);
  EXPECT_FALSE(a.Receives("networkQuality", 300ms));

  // Out of range, of the wrong type or missing: refused, nothing relayed.
  for (const json& bad : {json{{"up", 7}, {"down", 1}}, json{{"up", -1}, {"down", 1}}, json{{"up", "2"}, {"down", 1}},
                          json{{"up", 2}}, json{{"up", 2.5}, {"down", 1}}})
    EXPECT_EQ(Code(b.Request("reportStats", bad)), C(Errc::kInvalidField)) << bad;
  EXPECT_FALSE(a.Receives("networkQuality", 300ms));

  // A client changing its value as fast as it can is throttled to one relay a second;
  // the last value is not lost: it goes out when that second ends, unasked.
  std::this_thread::sleep_for(1100ms);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Code(b.Request("reportStats", {{"up", 2 + (i % 2)}, {"down", 5}})), 0);
  int relayed = 0;
  json last;
  try {
    for (;;) {
      last = a.WaitFor("networkQuality", 2000ms);
      ++relayed;
    }
  } catch (const std::runtime_error&) {
  }
  EXPECT_GE(relayed, 1);
  EXPECT_LE(relayed, 3) << "five changes in a burst were all relayed";
  ASSERT_TRUE(last.is_object());
  EXPECT_EQ(last["up"], 2) << "the last value reported";
  EXPECT_EQ(last["down"], 5);
  ASSERT_EQ(Code(b.Request("reportStats", {{"up", 4}, {"down", 5}})), 0);
  EXPECT_EQ(a.WaitFor("networkQuality", 2000ms)["up"], 4);

  // Someone joining later finds it in the user object.
  WsClient c(server_.port());
  auto jc = Join(c, app_, "q", "carol");
  ASSERT_EQ(Code(jc), 0) << jc;
  int seen = 0;
  for (const auto& u : jc["data"]["users"]) {
    if (u["userId"] != "bob") continue;
    ++seen;
    EXPECT_EQ(u["networkQuality"], json({{"up", 4}, {"down", 5}}));
  }
  EXPECT_EQ(seen, 1);
}

TEST(ServerLog, SaysWhereThingsAreAndWhoCameAndWent) {
  ServerProcess server({"--log-level", "info"});
  TestApp app = CreateApp(server);
  std::string port = std::to_string(server.port());
  WsClient alice(server.port()), late(server.port()), noisy(server.port());
  ASSERT_EQ(Code(Join(alice, app, "logged", "alice")), 0);
  json stale = {{"auth", Auth(app, "logged", "late", Now() - 5)}};
  ASSERT_EQ(Code(late.Request("join", stale)), C(Errc::kChannelOverdue));
  ASSERT_EQ(HttpRequest(server.port(), "POST", "/v1/admin/apps/" + app.id + "/channels/logged/users/alice/kick", "",
                        server.admin_key())
                .status,
            200);
  for (int i = 0; i < 300; ++i) noisy.SendRaw("not json");
  EXPECT_EQ(Code(noisy.Request("leave", {})), C(Errc::kNotInChannel));  // after the flood was read
  std::this_thread::sleep_for(200ms);
  std::string log = server.Log();
  EXPECT_NE(log.find("console     http://127.0.0.1:" + port + "/console/"), std::string::npos) << log;
  EXPECT_NE(log.find("demo        http://127.0.0.1:" + port + "/demo/"), std::string::npos) << log;
  EXPECT_NE(log.find("signalling  ws://127.0.0.1:" + port + "/v1/signal"), std::string::npos) << log;
  EXPECT_NE(log.find("alice joined channel logged of app " + app.id + " as broadcaster"), std::string::npos) << log;
  EXPECT_NE(log.find("join refused for connection"), std::string::npos) << log;
  EXPECT_NE(log.find("from 127.0.0.1: 0x05040002 / 0x0F050001 token expired at"), std::string::npos) << log;
  EXPECT_NE(log.find("alice left channel logged of app " + app.id + " (kicked)"), std::string::npos) << log;
  size_t refusals = 0;
  for (size_t at = log.find("message refused for"); at != std::string::npos;
       at = log.find("message refused for", at + 1))
    ++refusals;
  EXPECT_GE(refusals, 10u);
  EXPECT_LE(refusals, 60u) << "300 bad messages must not make 300 log lines";
}

TEST_F(SignalTest, MalformedInputGetsErrorsNotCrashes) {
  WsClient ws(server_.port());
  ws.SendRaw("{not json");
  auto r = ws.Next();
  EXPECT_EQ(Code(r), C(Errc::kMalformedMessage));
  EXPECT_TRUE(r["id"].is_null());
  ws.SendRaw("[1,2,3]");
  EXPECT_EQ(Code(ws.Next()), C(Errc::kMalformedMessage));
  ws.SendRaw(R"({"type":"teleport","id":42})");
  r = ws.Next();
  EXPECT_EQ(Code(r), C(Errc::kUnknownMessageType));
  EXPECT_EQ(r["id"], 42);
  ws.SendRaw(R"({"type":"join","id":"abc","auth":"not-an-object"})");
  r = ws.Next();
  EXPECT_EQ(Code(r), C(Errc::kInvalidField));
  EXPECT_EQ(r["id"], "abc");
  ws.SendRaw(R"({"type":7,"id":1})");
  EXPECT_EQ(Code(ws.Next()), C(Errc::kInvalidField));
  ws.SendRaw(R"({"type":"ping","id":{"nested":1}})");
  EXPECT_EQ(Code(ws.Next()), C(Errc::kInvalidField));
  ws.SendRaw(R"({"type":"ping","id":3,"v":2})");
  EXPECT_EQ(Code(ws.Next()), C(Errc::kUnsupportedVersion));
  ws.SendRaw(std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(Code(ws.Next()), C(Errc::kMalformedMessage));
  ws.SendRaw("\x01\x02", /*binary=*/true);
  EXPECT_EQ(Code(ws.Next()), C(Errc::kMalformedMessage));
  json big = {{"type", "sendMessage"}, {"id", 9}, {"data", std::string(70 * 1024, 'x')}};
  ws.SendRaw(big.dump());
  r = ws.Next();
  EXPECT_EQ(Code(r), C(Errc::kMessageTooLarge));
  // Wrong types in fields of a joined session.
  ASSERT_EQ(Code(Join(ws, app_, "c", "u")), 0);
  EXPECT_EQ(Code(ws.Request("publish", {{"tracks", "audio"}})), C(Errc::kInvalidField));
  EXPECT_EQ(Code(ws.Request("publish", {{"tracks", {"hologram"}}})), C(Errc::kInvalidField));
  EXPECT_EQ(Code(ws.Request("mute", {{"track", "audio"}, {"muted", "yes"}})), C(Errc::kInvalidField));
  EXPECT_EQ(Code(ws.Request("sendMessage", {{"data", 5}})), C(Errc::kInvalidField));
  // Still alive and answering.
  EXPECT_EQ(Code(ws.Request("ping")), 0);
}

TEST_F(SignalTest, FramesBeyondTheHardLimitCloseTheConnection) {
  WsClient ws(server_.port());
  ws.SendRaw(std::string(2 << 20, ' '));
  EXPECT_TRUE(ws.Closed());
  // A text frame that is not UTF-8 fails the connection (RFC 6455 section 8.1).
  WsClient bad_utf8(server_.port());
  bad_utf8.SendRaw("{\"type\":\"ping\",\"id\":5,\"x\":\"\xff\xfe\"}");
  EXPECT_TRUE(bad_utf8.Closed());
  WsClient again(server_.port());  // the server is fine
  EXPECT_EQ(Code(again.Request("ping")), 0);
}

TEST_F(SignalTest, SecondConnectionOfTheSameUserWins) {
  WsClient peer(server_.port()), first(server_.port()), second(server_.port());
  ASSERT_EQ(Code(Join(peer, app_, "c", "peer")), 0);
  ASSERT_EQ(Code(Join(first, app_, "c", "dup")), 0);
  peer.WaitFor("userOnline");
  ASSERT_EQ(Code(Join(second, app_, "c", "dup")), 0);
  auto removed = first.WaitFor("sessionRemoved");
  EXPECT_EQ(removed["code"], C(Errc::kSessionRemoved));
  EXPECT_EQ(removed["reason"], "replaced");
  EXPECT_TRUE(first.Closed());
  auto off = peer.WaitFor("userOffline");
  EXPECT_EQ(off["reason"], "replaced");
  EXPECT_EQ(peer.WaitFor("userOnline")["user"]["userId"], "dup");
  EXPECT_EQ(Code(second.Request("ping")), 0);
}

// A publish offer as a browser would send it (audio + VP8 video, BUNDLE, rtcp-mux).
std::string BrowserOffer() {
  const std::string common =
      "c=IN IP4 0.0.0.0\r\na=ice-ufrag:cl1e\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
      "a=fingerprint:sha-256 "
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
      "a=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\n";
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
         common + "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:11 cname:x\r\n" +
         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + common + "a=mid:1\r\na=rtpmap:96 VP8/90000\r\na=ssrc:22 cname:x\r\n";
}

// The client's answer to a subscribe offer, for its first section (answers may cover a
// prefix of the offered sections).
std::string SubscribeAnswerFor(const std::string& offer) {
  auto mline = offer.find("m=");
  auto end = offer.find("\r\n", mline);
  return "v=0\r\no=- 3 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" + offer.substr(mline, end - mline) +
         "\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:sub1\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=fingerprint:sha-256 "
         "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
         "a=setup:active\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n";
}

TEST(SignalMedia, TransportsThatNeverConnectAreReportedWithTheirCodes) {
  ServerProcess server({"--media-connect-timeout-ms", "400", "--media-workers", "2"});
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(a, app, "c", "a", {{"platform", "h5"}})), 0);
  ASSERT_EQ(Code(Join(b, app, "c", "b")), 0);
  auto pub = a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}});
  ASSERT_EQ(Code(pub), 0) << pub.dump();
  // A browser's actpass: the server stays passive (so Chrome, as DTLS client, offers
  // AES-GCM first); a native publisher's actpass makes the server the DTLS client.
  ASSERT_NE(pub["data"]["sdp"].get<std::string>().find("a=setup:passive"), std::string::npos);
  WsClient n(server.port());
  ASSERT_EQ(Code(Join(n, app, "c", "n")), 0);
  auto native = n.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}});
  ASSERT_EQ(Code(native), 0) << native.dump();
  EXPECT_NE(native["data"]["sdp"].get<std::string>().find("a=setup:active"), std::string::npos);
  ASSERT_EQ(Code(n.Request("leave")), 0);  // its transport closes before it can fail
  auto sub = b.Request("subscribe", {{"userId", "a"}});
  ASSERT_EQ(Code(sub), 0) << sub.dump();
  std::string offer = sub["data"]["sdp"];
  EXPECT_EQ(Code(b.Request("subscribeAnswer", {{"sdp", SubscribeAnswerFor(offer)}})), 0);
  // Nobody ever sends a connectivity check: the publisher learns its transport could
  // not be established, the subscriber that the server's transport to it failed.
  auto failed = a.WaitFor("transportFailed", 5s);
  EXPECT_EQ(failed["code"], C(Errc::kMediaConnectionCreateFailed));
  EXPECT_EQ(failed["transport"], "publish");
  EXPECT_EQ(failed["reason"], "ice-timeout");
  auto aborted = b.WaitFor("subscribeAborted", 5s);
  EXPECT_EQ(aborted["code"], C(Errc::kSubscribeStreamAbort));
  EXPECT_EQ(aborted["users"], json::array({"a"}));
  // The subscription survives; subscribing again builds a new connection.
  auto again = b.Request("subscribe", {{"userId", "a"}});
  ASSERT_EQ(Code(again), 0);
  EXPECT_NE(again["data"]["sdp"], offer);
  auto metrics = HttpRequest(server.port(), "GET", "/metrics", "", "");
  EXPECT_NE(metrics.body.find("parley_media_transport_failures_total 2"), std::string::npos) << metrics.body;
}

TEST(SignalMedia, UnpublishedTracksTurnInactiveInTheSubscribersOffer) {
  ServerProcess server;
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(a, app, "c", "a")), 0);
  ASSERT_EQ(Code(Join(b, app, "c", "b")), 0);
  ASSERT_EQ(Code(a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}})), 0);
  auto sub = b.Request("subscribe", {{"userId", "a"}});
  ASSERT_EQ(Code(sub), 0);
  std::string first = sub["data"]["sdp"];
  EXPECT_EQ(first.find("a=inactive"), std::string::npos);
  ASSERT_EQ(Code(a.Request("unpublish", {{"tracks", {"camera"}}})), 0);
  auto reoffer = b.WaitFor("subscribeOffer");
  std::string sdp = reoffer["sdp"];
  // Same two sections (mids 0 and 1); the video one is now inactive, audio still flows.
  EXPECT_NE(sdp.find("a=mid:0"), std::string::npos);
  EXPECT_NE(sdp.find("a=mid:1"), std::string::npos);
  auto video = sdp.find("m=video");
  ASSERT_NE(video, std::string::npos);
  EXPECT_NE(sdp.find("a=inactive", video), std::string::npos);
  EXPECT_NE(sdp.substr(0, video).find("a=sendonly"), std::string::npos);
  // Unsubscribing the audio retires that section too.
  ASSERT_EQ(Code(b.Request("unsubscribe", {{"userId", "a"}, {"tracks", {"audio"}}})), 0);
  std::string last = b.WaitFor("subscribeOffer")["sdp"];
  EXPECT_EQ(last.find("a=sendonly"), std::string::npos) << last;
}

// The SSRCs of each section of a subscribe offer, by mid ("a=ssrc:N ..." lines; the
// first one of a section is its media SSRC, a second one its RTX SSRC).
std::map<std::string, std::vector<std::string>> SsrcsByMid(const std::string& sdp) {
  std::map<std::string, std::vector<std::string>> out;
  std::string mid;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t end = sdp.find("\r\n", pos);
    if (end == std::string::npos) end = sdp.size();
    std::string line = sdp.substr(pos, end - pos);
    pos = end + 2;
    if (line.rfind("m=", 0) == 0) mid.clear();
    if (line.rfind("a=mid:", 0) == 0) mid = line.substr(6);
    if (line.rfind("a=ssrc:", 0) == 0) {
      std::string ssrc = line.substr(7, line.find(' ') - 7);
      auto& list = out[mid];
      if (std::find(list.begin(), list.end(), ssrc) == list.end()) list.push_back(ssrc);
    }
  }
  return out;
}

// A subscriber stays while the publisher leaves and joins again, then unpublishes and
// publishes again: each time the returning tracks reuse the subscriber's retired
// sections (same mids) with SSRCs it has not seen before. Reusing an SSRC would make
// the subscriber's SRTP layer drop the new stream as replayed packets (RFC 3711 §3.3.2).
TEST(SignalMedia, ReturningTracksReuseTheirSectionsWithNewSsrcs) {
  ServerProcess server;
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(b, app, "c", "b")), 0);
  std::set<std::string> seen;
  auto subscribe = [&](const std::string& round) {
    auto sub = b.Request("subscribe", {{"userId", "a"}});
    EXPECT_EQ(Code(sub), 0) << sub.dump();
    std::string sdp = sub["data"]["sdp"];
    EXPECT_EQ(sdp.find("a=inactive"), std::string::npos) << round << ":\n" << sdp;
    auto ssrcs = SsrcsByMid(sdp);
    EXPECT_EQ(ssrcs.size(), 2u) << round << ": sections are reused, never added:\n" << sdp;
    for (const auto& [mid, list] : ssrcs) {
      EXPECT_TRUE(mid == "0" || mid == "1") << round << ": mid " << mid;
      for (const auto& ssrc : list) EXPECT_TRUE(seen.insert(ssrc).second) << round << ": SSRC " << ssrc << " reused";
    }
  };
  auto retired = [&] {  // both sections turn inactive, in one offer or two
    for (int i = 0; i < 2; ++i) {
      std::string sdp = b.WaitFor("subscribeOffer")["sdp"];
      if (sdp.find("a=sendonly") == std::string::npos) return true;
    }
    return false;
  };

  ASSERT_EQ(Code(Join(a, app, "c", "a")), 0);
  ASSERT_EQ(Code(a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}})), 0);
  subscribe("first");
  ASSERT_EQ(Code(a.Request("leave")), 0);
  ASSERT_TRUE(retired());
  ASSERT_EQ(Code(Join(a, app, "c", "a")), 0);
  ASSERT_EQ(Code(a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}})), 0);
  subscribe("after rejoin");
  ASSERT_EQ(Code(a.Request("unpublish", {{"tracks", {"audio", "camera"}}})), 0);
  ASSERT_TRUE(retired());
  ASSERT_EQ(Code(a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}})), 0);
  subscribe("after republish");
  EXPECT_EQ(seen.size(), 6u);  // three rounds of audio and video (the offer has no RTX)
}

// Sum of a Prometheus counter over its label sets; -1 when /metrics lacks it.
double MetricSum(int port, const std::string& name) {
  std::string text = HttpRequest(port, "GET", "/metrics").body;
  double sum = -1;
  size_t pos = 0;
  while ((pos = text.find("\n" + name, pos)) != std::string::npos) {
    pos += 1;
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    sum = std::max(sum, 0.0) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Media worker loops wake at most once per 20 ms tick (plus a few wake-ups for work
// posted to them), whether they have transports or not. A loop that polls with a zero
// timeout in the last millisecond before each tick (a timeout rounded down to whole
// milliseconds) wakes hundreds of times a second and fails this. A count bound over
// the measured interval, not a timing assertion.
TEST(SignalMedia, IdleMediaWorkersWakeNoMoreThanTheirTickRate) {
  constexpr double kTickMs = 20, kSlack = 10;
  ServerProcess server({"--media-workers", "2"});
  auto bound = [&](std::chrono::steady_clock::duration d) {
    return 2 * (std::chrono::duration<double, std::milli>(d).count() / kTickMs + kSlack);  // two workers
  };
  auto wakeups_over = [&](std::chrono::milliseconds wait) {
    double before = MetricSum(server.port(), "parley_media_worker_wakeups_total");
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(wait);
    double after = MetricSum(server.port(), "parley_media_worker_wakeups_total");
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(before, 0) << "parley_media_worker_wakeups_total is missing from /metrics";
    return std::make_pair(after - before, bound(elapsed));
  };
  // No transports at all.
  auto [idle, idle_bound] = wakeups_over(1000ms);
  EXPECT_LE(idle, idle_bound);
  // A channel with a publish transport waiting for its client (it never connects).
  TestApp app = CreateApp(server);
  WsClient a(server.port());
  ASSERT_EQ(Code(Join(a, app, "c", "a")), 0);
  ASSERT_EQ(Code(a.Request("publish", {{"tracks", {"audio", "camera"}}, {"sdp", BrowserOffer()}})), 0);
  auto [busy, busy_bound] = wakeups_over(1000ms);
  EXPECT_LE(busy, busy_bound);
  EXPECT_GE(MetricSum(server.port(), "parley_media_worker_exceptions_total"), 0);
}

// The UDP port of the host candidate in a publish answer's SDP (0 if it has none).
int MediaPort(const json& publish_reply) {
  std::string sdp = publish_reply["data"]["sdp"];
  auto c = sdp.find("typ host");
  if (c == std::string::npos || c < 2) return 0;
  auto start = sdp.rfind(' ', c - 2);
  return std::atoi(sdp.substr(start + 1, c - start - 2).c_str());
}

TEST(SignalMedia, ChannelsAreSpreadOverMediaWorkers) {
  ServerProcess server({"--media-workers", "2"});
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(a, app, "one", "a")), 0);
  ASSERT_EQ(Code(Join(b, app, "two", "b")), 0);
  auto pa = a.Request("publish", {{"tracks", {"audio"}}, {"sdp", BrowserOffer()}});
  auto pb = b.Request("publish", {{"tracks", {"audio"}}, {"sdp", BrowserOffer()}});
  EXPECT_NE(MediaPort(pa), MediaPort(pb));  // each worker has its own UDP port
  auto r = HttpRequest(server.port(), "GET", "/v1/admin/channels", "", server.admin_key());
  std::set<int> workers;
  json listed = json::parse(r.body);
  for (auto& ch : listed["channels"]) workers.insert(ch["mediaWorker"].get<int>());
  EXPECT_EQ(workers, (std::set<int>{0, 1}));
}

// Datagrams a media worker refuses are counted per worker and reason in /metrics, so an
// operator can tell media that stopped from media that was refused. Media from an
// address ICE never validated is the commonest (a stale client, a port scan).
TEST(SignalMedia, MetricsCountDroppedDatagramsPerWorkerAndReason) {
  ServerProcess server({"--media-workers", "1"});
  std::string text = HttpRequest(server.port(), "GET", "/metrics").body;
  for (const char* reason : {"unvalidated-address", "unknown-ufrag", "srtp-rejected", "send-buffer-full"})
    EXPECT_NE(text.find(std::string("parley_media_dropped_total{worker=\"0\",reason=\"") + reason + "\"} 0"),
              std::string::npos)
        << reason;
  TestApp app = CreateApp(server);
  WsClient a(server.port());
  ASSERT_EQ(Code(Join(a, app, "c", "a")), 0);
  json answer = a.Request("publish", {{"tracks", {"audio"}}, {"sdp", BrowserOffer()}});
  ASSERT_EQ(Code(answer), 0);
  int media_port = MediaPort(answer);
  ASSERT_GT(media_port, 0);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(media_port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const uint8_t srtp_like[40] = {0x80, 111, 0, 1};
  for (int i = 0; i < 3; ++i)
    sendto(fd, srtp_like, sizeof srtp_like, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  close(fd);
  const std::string counted = "parley_media_dropped_total{worker=\"0\",reason=\"unvalidated-address\"} 3";
  for (int i = 0; i < 100 && text.find(counted) == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
    text = HttpRequest(server.port(), "GET", "/metrics").body;
  }
  EXPECT_NE(text.find(counted), std::string::npos) << text;
}

// A connection silent for the missed heartbeats is closed, and its session is treated
// like a dropped connection: disconnected for the resume grace, then removed with the
// reason heartbeat-lost (a network outage must not end a call that can resume).
TEST(SignalTimers, SilentSessionIsClosedThenRemovedAfterTheGrace) {
  ServerProcess server({"--heartbeat-interval-ms", "100", "--heartbeat-misses", "3", "--resume-grace-ms", "600"});
  TestApp app = CreateApp(server);
  WsClient alive(server.port()), silent(server.port());
  ASSERT_EQ(Code(Join(alive, app, "c", "alive")), 0);
  ASSERT_EQ(Code(Join(silent, app, "c", "silent")), 0);
  alive.WaitFor("userOnline");
  json down, off;
  for (int i = 0; i < 60 && off.is_null(); ++i) {  // keep `alive` pinging while `silent` says nothing
    EXPECT_EQ(Code(alive.Request("ping")), 0);
    for (auto& m : alive.pending()) {
      if (m.value("type", "") == "userNetwork" && down.is_null()) down = m;
      if (m.value("type", "") == "userOffline") off = m;
    }
    alive.pending().clear();
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(down.is_null()) << "the others first see the silent user's network as disconnected";
  EXPECT_EQ(down["userId"], "silent");
  EXPECT_EQ(down["state"], "disconnected");
  EXPECT_EQ(down["code"], C(Errc::kRemoteNetworkDisconnected));
  ASSERT_FALSE(off.is_null());
  EXPECT_EQ(off["userId"], "silent");
  EXPECT_EQ(off["reason"], "heartbeat-lost");
  // The silent client was disconnected, not told it was removed: it may still resume.
  EXPECT_TRUE(silent.Closed());
}

TEST(SignalTimers, ASilentClientThatComesBackResumesItsSession) {
  ServerProcess server({"--heartbeat-interval-ms", "100", "--heartbeat-misses", "3", "--resume-grace-ms", "5000"});
  TestApp app = CreateApp(server);
  WsClient peer(server.port()), silent(server.port());
  ASSERT_EQ(Code(Join(peer, app, "c", "peer")), 0);
  auto j = Join(silent, app, "c", "silent");
  ASSERT_EQ(Code(j), 0);
  ASSERT_EQ(Code(silent.Request("publish", {{"tracks", {"audio"}}})), 0);
  std::string token = j["data"]["resumeToken"];
  json down;
  for (int i = 0; i < 60 && down.is_null(); ++i) {
    EXPECT_EQ(Code(peer.Request("ping")), 0);
    for (auto& m : peer.pending())
      if (m.value("type", "") == "userNetwork") down = m;
    peer.pending().clear();
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(down.is_null());
  EXPECT_EQ(down["state"], "disconnected");
  EXPECT_TRUE(silent.Closed());
  WsClient back(server.port());
  auto r = back.Request("resume", {{"resumeToken", token}});
  ASSERT_EQ(Code(r), 0) << r;
  auto up = peer.WaitFor("userNetwork");
  EXPECT_EQ(up["state"], "connected");
  // Still in the channel with what it published: nobody saw it go.
  auto users = peer.Request("listUsers");
  ASSERT_EQ(Code(users), 0) << users;
  bool found = false;
  for (auto& u : users["data"]["users"])
    if (u.value("userId", "") == "silent") found = true;
  EXPECT_TRUE(found) << users;
  for (auto& m : peer.pending()) EXPECT_NE(m.value("type", ""), "userOffline") << m;
}

TEST(SignalTimers, ResumeWithinGraceKeepsTheUserInTheChannel) {
  ServerProcess server({"--resume-grace-ms", "1500"});
  TestApp app = CreateApp(server);
  WsClient peer(server.port());
  ASSERT_EQ(Code(Join(peer, app, "c", "peer")), 0);
  std::string token;
  {
    WsClient blip(server.port());
    auto j = Join(blip, app, "c", "blip");
    ASSERT_EQ(Code(j), 0);
    token = j["data"]["resumeToken"];
    peer.WaitFor("userOnline");
    blip.Drop();
  }
  auto down = peer.WaitFor("userNetwork");
  EXPECT_EQ(down["state"], "disconnected");
  EXPECT_EQ(down["code"], C(Errc::kRemoteNetworkDisconnected));
  WsClient back(server.port());
  auto r = back.Request("resume", {{"resumeToken", token}});
  ASSERT_EQ(Code(r), 0) << r;
  EXPECT_EQ(r["data"]["users"][0]["userId"], "peer");
  auto up = peer.WaitFor("userNetwork");
  EXPECT_EQ(up["state"], "connected");
  EXPECT_EQ(up["code"], C(Errc::kRemoteNetworkConnected));
  EXPECT_FALSE(peer.Receives("userOffline", 1800ms)) << "grace timer must be cancelled by the resume";
  EXPECT_EQ(Code(back.Request("publish", {{"tracks", {"audio"}}})), 0);
}

TEST(SignalTimers, ResumeAfterGraceIsRefused) {
  ServerProcess server({"--resume-grace-ms", "200"});
  TestApp app = CreateApp(server);
  WsClient peer(server.port());
  ASSERT_EQ(Code(Join(peer, app, "c", "peer")), 0);
  WsClient blip(server.port());
  auto j = Join(blip, app, "c", "blip");
  std::string token = j["data"]["resumeToken"];
  blip.Drop();
  auto off = peer.WaitFor("userOffline");
  EXPECT_EQ(off["reason"], "connection-lost");
  WsClient late(server.port());
  EXPECT_EQ(Code(late.Request("resume", {{"resumeToken", token}})), C(Errc::kSessionRemoved));
}

TEST(SignalTimers, UsageIsMeteredPerUserSecondAndQuotaMakesTheAppOverdue) {
  ServerProcess server({"--usage-flush-ms", "200"});
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(a, app, "metered", "a")), 0);
  ASSERT_EQ(Code(Join(b, app, "metered", "b")), 0);
  std::this_thread::sleep_for(1600ms);
  ASSERT_EQ(Code(a.Request("leave")), 0);
  ASSERT_EQ(Code(b.Request("leave")), 0);
  std::this_thread::sleep_for(400ms);  // one more flush
  auto shown = json::parse(HttpRequest(server.port(), "GET", "/v1/admin/apps/" + app.id, "", server.admin_key()).body);
  int64_t used = shown["usedSeconds"];
  EXPECT_GE(used, 3) << "two users for ~1.6 s each";
  EXPECT_LE(used, 4);
  EXPECT_EQ(shown["overdue"], false);
  // A quota of one minute is not exhausted yet; zero is.
  ASSERT_EQ(
      HttpRequest(server.port(), "PUT", "/v1/admin/apps/" + app.id + "/quota", R"({"minutes":1})", server.admin_key())
          .status,
      200);
  EXPECT_EQ(Code(Join(a, app, "metered", "a")), 0);
  ASSERT_EQ(Code(a.Request("leave")), 0);
  ASSERT_EQ(
      HttpRequest(server.port(), "PUT", "/v1/admin/apps/" + app.id + "/quota", R"({"minutes":0})", server.admin_key())
          .status,
      200);
  EXPECT_EQ(Code(Join(a, app, "metered", "a")), C(Errc::kChannelOverdue));
}

TEST(SignalTimers, ChannelOlderThanMaxAgeRefusesJoins) {
  ServerProcess server({"--channel-max-age", "1"});
  TestApp app = CreateApp(server);
  WsClient first(server.port()), late(server.port());
  ASSERT_EQ(Code(Join(first, app, "old", "first")), 0);
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(Code(first.Request("ping")), 0);
  EXPECT_EQ(Code(Join(late, app, "old", "late")), C(Errc::kChannelExpired));
}

TEST_F(SignalTest, AdminApiNeedsTheAdminKey) {
  auto none = HttpRequest(server_.port(), "GET", "/v1/admin/apps");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["code"], C(Errc::kAdminUnauthorized));
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/v1/admin/apps", "", "wrong").status, 401);
  // A user's token is not an admin key.
  std::string user_token = Auth(app_, "c", "u")["token"];
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/v1/admin/apps", "", user_token).status, 401);
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/v1/admin/channels", "", app_.key).status, 401);
  EXPECT_EQ(HttpRequest(server_.port(), "POST", "/v1/admin/apps", "{}", "").status, 401);
}

TEST_F(SignalTest, AdminAppLifecycle) {
  int port = server_.port();
  const std::string& k = server_.admin_key();
  auto list = json::parse(HttpRequest(port, "GET", "/v1/admin/apps", "", k).body);
  ASSERT_EQ(list["apps"].size(), 1u);
  auto show = HttpRequest(port, "GET", "/v1/admin/apps/" + app_.id, "", k);
  ASSERT_EQ(show.status, 200);
  EXPECT_EQ(json::parse(show.body)["appKey"], app_.key);
  auto rotated = HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/rotate-key", "", k);
  ASSERT_EQ(rotated.status, 200);
  std::string new_key = json::parse(rotated.body)["appKey"];
  EXPECT_NE(new_key, app_.key);
  WsClient ws(port);
  EXPECT_EQ(Code(Join(ws, app_, "c", "u")), C(Errc::kTokenInvalid)) << "the old key's tokens stop working";
  EXPECT_EQ(Code(Join(ws, TestApp{app_.id, new_key}, "c", "u")), 0);
  // Minted tokens join.
  auto minted = HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/tokens",
                            R"({"channelId":"c","userId":"minted","ttlSeconds":60})", k);
  ASSERT_EQ(minted.status, 200) << minted.body;
  WsClient ws2(port);
  EXPECT_EQ(Code(ws2.Request("join", {{"token", json::parse(minted.body)["token"]}})), 0);
  EXPECT_EQ(
      HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/tokens", R"({"channelId":"bad id","userId":"u"})", k)
          .status,
      400);
  // Bad requests.
  EXPECT_EQ(HttpRequest(port, "PUT", "/v1/admin/apps/" + app_.id + "/quota", R"({"minutes":-1})", k).status, 400);
  EXPECT_EQ(HttpRequest(port, "PUT", "/v1/admin/apps/" + app_.id + "/quota", "not json", k).status, 400);
  EXPECT_EQ(HttpRequest(port, "GET", "/v1/admin/apps/nope", "", k).status, 404);
  EXPECT_EQ(HttpRequest(port, "GET", "/v1/admin/teapot", "", k).status, 404);
  // Disabling removes the app's users.
  ASSERT_EQ(HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/disable", "", k).status, 200);
  EXPECT_EQ(ws.WaitFor("sessionRemoved")["reason"], "app-disabled");
  // Delete.
  ASSERT_EQ(HttpRequest(port, "DELETE", "/v1/admin/apps/" + app_.id, "", k).status, 200);
  EXPECT_EQ(HttpRequest(port, "GET", "/v1/admin/apps/" + app_.id, "", k).status, 404);
  WsClient ws3(port);
  EXPECT_EQ(Code(Join(ws3, TestApp{app_.id, new_key}, "c", "u")), C(Errc::kAppIdNotExist));
}

TEST_F(SignalTest, AdminListsKicksAndClosesChannels) {
  int port = server_.port();
  const std::string& k = server_.admin_key();
  WsClient a(port), b(port), c(port);
  ASSERT_EQ(Code(Join(a, app_, "room", "a")), 0);
  ASSERT_EQ(Code(Join(b, app_, "room", "b")), 0);
  ASSERT_EQ(Code(Join(c, app_, "room", "c")), 0);
  auto chans = json::parse(HttpRequest(port, "GET", "/v1/admin/apps/" + app_.id + "/channels", "", k).body);
  ASSERT_EQ(chans["channels"].size(), 1u);
  EXPECT_EQ(chans["channels"][0]["users"].size(), 3u);
  ASSERT_EQ(HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/channels/room/users/b/kick", "", k).status, 200);
  auto kicked = b.WaitFor("sessionRemoved");
  EXPECT_EQ(kicked["code"], C(Errc::kSessionRemoved));
  EXPECT_EQ(kicked["reason"], "kicked");
  EXPECT_TRUE(b.Closed());
  json off;
  do off = a.WaitFor("userOffline");
  while (off["userId"] != "b");
  EXPECT_EQ(off["reason"], "kicked");
  EXPECT_EQ(HttpRequest(port, "POST", "/v1/admin/apps/" + app_.id + "/channels/room/users/b/kick", "", k).status, 404);
  ASSERT_EQ(HttpRequest(port, "DELETE", "/v1/admin/apps/" + app_.id + "/channels/room", "", k).status, 200);
  EXPECT_EQ(a.WaitFor("sessionRemoved")["reason"], "channel-closed");
  EXPECT_EQ(c.WaitFor("sessionRemoved")["reason"], "channel-closed");
  auto after = json::parse(HttpRequest(port, "GET", "/v1/admin/channels", "", k).body);
  EXPECT_TRUE(after["channels"].empty());
}

TEST(SignalDurability, AppsSurviveKill9) {
  char tmpl[] = "/tmp/parley-durable-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::vector<json> before;
  {
    ServerProcess server({}, dir);
    for (int i = 0; i < 5; ++i) CreateApp(server, "app" + std::to_string(i));
    auto list = json::parse(HttpRequest(server.port(), "GET", "/v1/admin/apps", "", server.admin_key()).body);
    std::string first = list["apps"][0]["appId"], second = list["apps"][1]["appId"];
    HttpRequest(server.port(), "POST", "/v1/admin/apps/" + first + "/disable", "", server.admin_key());
    HttpRequest(server.port(), "PUT", "/v1/admin/apps/" + second + "/quota", R"({"minutes":42})", server.admin_key());
    HttpRequest(server.port(), "POST", "/v1/admin/apps/" + second + "/rotate-key", "", server.admin_key());
    before = json::parse(HttpRequest(server.port(), "GET", "/v1/admin/apps", "", server.admin_key()).body)["apps"];
    server.Kill9();  // no shutdown path runs
  }
  {
    ServerProcess server({}, dir);
    auto after = json::parse(HttpRequest(server.port(), "GET", "/v1/admin/apps", "", server.admin_key()).body)["apps"];
    ASSERT_EQ(after.size(), 5u);
    EXPECT_EQ(after, before);
    EXPECT_EQ(after[0]["enabled"], false);
    EXPECT_EQ(after[1]["quotaMinutes"], 42);
  }
  std::filesystem::remove_all(dir);
}

TEST(SignalDurability, AdminKeyIsCreatedOncePrintedAndStoredHashed) {
  char tmpl[] = "/tmp/parley-key-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  auto first = test::RunCommand({PARLEYD_PATH, "--data", dir, "--port", "0", "--help"});
  EXPECT_EQ(first.status, 0);
  EXPECT_NE(first.out.find("--heartbeat-interval-ms"), std::string::npos);
  // Start without --admin-key: it prints a key once.
  std::string port_file = dir + "/port";
  pid_t pid = fork();
  if (pid == 0) {
    freopen((dir + "/out").c_str(), "w", stdout);
    execl(PARLEYD_PATH, PARLEYD_PATH, "--data", dir.c_str(), "--port", "0", "--port-file", port_file.c_str(),
          "--log-level", "warn", nullptr);
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 300 && !port; ++i) {
    std::ifstream in(port_file);
    in >> port;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(port, 0);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::ifstream out(dir + "/out");
  std::string line;
  std::getline(out, line);
  auto pos = line.find(": ");
  ASSERT_NE(pos, std::string::npos) << line;
  std::string key = line.substr(pos + 2);
  EXPECT_EQ(key.size(), 48u);
  // The database holds only its hash.
  auto dump = test::RunCommand({"/bin/grep", "-c", key, dir + "/parley.db"});
  EXPECT_NE(dump.status, 0) << "the admin key must not be stored in clear";
  // And it works after a restart, without being printed again.
  std::filesystem::remove(port_file);
  {
    ServerProcess again({"--admin-key", key}, dir);
    EXPECT_EQ(again.admin_key(), key);
    EXPECT_EQ(HttpRequest(again.port(), "GET", "/v1/admin/apps", "", key).status, 200);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(SignalTest, MetricsAndStaticFiles) {
  WsClient ws(server_.port());
  ASSERT_EQ(Code(Join(ws, app_, "c", "u")), 0);
  auto metrics = HttpRequest(server_.port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("parley_sessions 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("parley_joins_total{code=\"0x00000000\"} 1"), std::string::npos);
  auto js = HttpRequest(server_.port(), "GET", "/sdk/errors.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_NE(js.body.find("INVALID_AUTH_INFO: 16974081"), std::string::npos);
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/sdk/../../etc/passwd").status, 404);
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/nope.html").status, 404);
  EXPECT_EQ(HttpRequest(server_.port(), "GET", "/v1/signal").status, 426);
}

TEST(SignalConfig, YamlFileSetsOptionsAndFlagsWin) {
  char tmpl[] = "/tmp/parley-cfg-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string file = std::string(tmpl) + "/parley.yaml";
  std::ofstream(file) << "heartbeat-interval-ms: 750\nresume-grace-ms: 1234\n";
  {
    ServerProcess server({"--config", file, "--resume-grace-ms", "999"});
    WsClient ws(server.port());
    auto hello = ws.Request("hello");
    EXPECT_EQ(hello["data"]["heartbeatIntervalMs"], 750);
    EXPECT_EQ(hello["data"]["resumeGraceMs"], 999);
  }
  std::ofstream(file) << "no-such-option: 1\n";
  auto r = test::RunCommand({PARLEYD_PATH, "--config", file, "--port", "0", "--data", std::string(tmpl) + "/d"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
  // A list where the flag may be repeated (each item checked), a scalar elsewhere.
  std::ofstream(file) << "turn-url: [\"turn:10.0.0.1:3478?transport=udp\", \"turn:bad host\"]\n"
                         "turn-secret: a-secret-of-16-chars\n";
  r = test::RunCommand({PARLEYD_PATH, "--config", file, "--port", "0", "--data", std::string(tmpl) + "/d"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("turn:bad host"), std::string::npos) << r.err;
  std::ofstream(file) << "resume-grace-ms: [1, 2]\n";
  r = test::RunCommand({PARLEYD_PATH, "--config", file, "--port", "0", "--data", std::string(tmpl) + "/d"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("must be a scalar"), std::string::npos) << r.err;
  std::filesystem::remove_all(tmpl);
}

TEST(SignalTls, ServesHttpsAndWssWithGivenCertificate) {
  char tmpl[] = "/tmp/parley-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  auto gen = test::RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                               "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"});
  ASSERT_EQ(gen.status, 0) << gen.err;
  {
    ServerProcess server({"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"});
    auto r =
        test::RunCommand({"/usr/bin/curl", "-sk", "https://127.0.0.1:" + std::to_string(server.port()) + "/healthz"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, R"({"status":"ok"})");
    auto plain = test::RunCommand(
        {"/usr/bin/curl", "-s", "-m", "3", "http://127.0.0.1:" + std::to_string(server.port()) + "/healthz"});
    EXPECT_NE(plain.out, R"({"status":"ok"})") << "plain HTTP must not be served on a TLS port";
  }
  {
    // One port (--one-port): TLS is told apart from ICE-TCP by its first byte and served as before.
    ServerProcess server({"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem", "--one-port"});
    auto r =
        test::RunCommand({"/usr/bin/curl", "-sk", "https://127.0.0.1:" + std::to_string(server.port()) + "/healthz"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, R"({"status":"ok"})");
  }
  auto bad = test::RunCommand({PARLEYD_PATH, "--tls-cert", dir + "/cert.pem", "--port", "0", "--data", dir + "/d"});
  EXPECT_EQ(bad.status, 1);
  std::filesystem::remove_all(dir);
}

// An ICE check framed as RFC 4571 on a new TCP connection to 127.0.0.1:`port`; the
// first frame that comes back within 2 s (empty if none, or the connection closed).
std::vector<uint8_t> CheckOverTcp(int port, const std::string& user, const std::string& pwd) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  std::array<uint8_t, 12> tx{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
  std::vector<uint8_t> check(256);
  check.resize(sfu::WriteStunBindingRequest(check, tx, user, pwd, 100, 42, true));
  std::vector<uint8_t> framed(2 + check.size());
  framed[0] = static_cast<uint8_t>(check.size() >> 8);
  framed[1] = static_cast<uint8_t>(check.size());
  std::copy(check.begin(), check.end(), framed.begin() + 2);
  (void)send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
  std::vector<uint8_t> in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    uint8_t b[2048];
    ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) break;
    in.insert(in.end(), b, b + n);
    if (in.size() >= 2 && in.size() >= 2u + (static_cast<size_t>(in[0]) << 8 | in[1])) {
      close(fd);
      return std::vector<uint8_t>(in.begin() + 2, in.begin() + 2 + (static_cast<long>(in[0]) << 8 | in[1]));
    }
  }
  close(fd);
  return {};
}

// --one-port: the answer's ICE-TCP candidate is the signalling port, where an ICE check
// in an RFC 4571 frame is answered by the media worker of its transport, while HTTP and
// WebSocket go on as before; a frame naming no worker of ours is refused.
TEST(SignalMedia, InOnePortModeTheSignallingPortAnswersIceChecks) {
  ServerProcess server({"--one-port", "--media-workers", "2"});
  TestApp app = CreateApp(server);
  WsClient a(server.port()), b(server.port());
  ASSERT_EQ(Code(Join(a, app, "one", "a")), 0);
  ASSERT_EQ(Code(Join(b, app, "two", "b")), 0);  // the second channel goes to the other worker
  for (WsClient* ws : {&a, &b}) {
    auto pub = ws->Request("publish", {{"tracks", {"audio"}}, {"sdp", BrowserOffer()}});
    ASSERT_EQ(Code(pub), 0) << pub.dump();
    std::string sdp = pub["data"]["sdp"];
    std::smatch ufrag, pwd, tcp;
    ASSERT_TRUE(std::regex_search(sdp, ufrag, std::regex("a=ice-ufrag:(\\S+)")));
    ASSERT_TRUE(std::regex_search(sdp, pwd, std::regex("a=ice-pwd:(\\S+)")));
    ASSERT_TRUE(std::regex_search(sdp, tcp, std::regex(" 1 tcp \\d+ \\S+ (\\d+) typ host tcptype passive")));
    EXPECT_EQ(std::stoi(tcp[1]), server.port());
    auto answer = CheckOverTcp(server.port(), std::string(ufrag[1]) + ":cl1e", pwd[1]);
    ASSERT_FALSE(answer.empty()) << "no answer to the check";
    auto m = sfu::ParseStun(answer);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, sfu::kStunBindingSuccess);
    EXPECT_TRUE(sfu::VerifyStunIntegrity(*m, answer, std::string(pwd[1])));
  }
  EXPECT_TRUE(CheckOverTcp(server.port(), "zz-not-ours:cl1e", "whatever").empty());
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/healthz").status, 200);
  EXPECT_GE(MetricSum(server.port(), "parley_one_port_connections_total{kind=\"media\"}"), 2);
  EXPECT_GE(MetricSum(server.port(), "parley_one_port_connections_total{kind=\"refused\"}"), 1);
}

}  // namespace
}  // namespace parley
