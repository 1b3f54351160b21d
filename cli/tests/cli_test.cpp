// Runs the real `parley` binary and checks its output and exit status.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "media_file.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"
#include "run_command.hpp"
#include "server_process.hpp"

namespace parley {
namespace {

using test::RunCommand;

test::CommandResult Parley(std::vector<std::string> args) {
  args.insert(args.begin(), PARLEY_CLI);
  return RunCommand(args);
}

TEST(CliErrors, LooksUpEveryForm) {
  for (const char* form :
       {"0x01030101", "0X01030101", "16974081", "kInvalidAuthInfo", "PARLEY_ERR_INVALID_AUTH_INFO"}) {
    auto r = Parley({"errors", form});
    ASSERT_EQ(r.status, 0) << form << r.err;
    EXPECT_NE(r.out.find("0x01030101  (16974081)  kInvalidAuthInfo / PARLEY_ERR_INVALID_AUTH_INFO"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("invalid parameter"), std::string::npos);
    EXPECT_NE(r.out.find("参数错误，AuthInfo中的字段为空或者timestamp<=0。"), std::string::npos);
    EXPECT_NE(r.out.find("检查AuthInfo字段是否完整。"), std::string::npos);
    EXPECT_NE(r.out.find("severity     error"), std::string::npos);
  }
}

TEST(CliErrors, NegativeAndUnsignedDecimal) {
  for (const char* form : {"-1", "4294967295", "0xFFFFFFFF"}) {
    auto r = Parley({"errors", form});
    ASSERT_EQ(r.status, 0) << form << r.err;
    EXPECT_NE(r.out.find("0xFFFFFFFF  (-1)  kDefaultWarning"), std::string::npos) << r.out;
  }
}

TEST(CliErrors, SeedMisprintShowsCanonicalCode) {
  auto r = Parley({"errors", "0x0104020"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("0x01040202  (17039874)  kRenderError"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("misprint"), std::string::npos);
}

TEST(CliErrors, UnknownCodeExitsTwo) {
  for (const char* bad : {"0x12345678", "banana", "99999999999"}) {
    auto r = Parley({"errors", bad});
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
}

TEST(CliErrors, Search) {
  auto r = Parley({"errors", "--search", "camera"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("0x01040104"), std::string::npos);
  EXPECT_NE(r.out.find("0x01040106"), std::string::npos);
  EXPECT_EQ(r.out.find("0x01030101"), std::string::npos);
  auto zh = Parley({"errors", "--search", "麦克风"});
  ASSERT_EQ(zh.status, 0);
  EXPECT_NE(zh.out.find("0x01040408"), std::string::npos);
  EXPECT_EQ(Parley({"errors", "--search", "qqqzzz"}).status, 1);
}

TEST(CliErrors, AllFormats) {
  auto json = Parley({"errors", "--all", "--format", "json"});
  ASSERT_EQ(json.status, 0);
  auto arr = nlohmann::json::parse(json.out);
  ASSERT_EQ(arr.size(), AllErrors().size());
  EXPECT_EQ(arr[1]["hex"], "0x01030101");
  EXPECT_EQ(arr[1]["decimal"], 16974081);
  EXPECT_EQ(arr[1]["causeZh"], "参数错误，AuthInfo中的字段为空或者timestamp<=0。");

  auto csv = Parley({"errors", "--all", "--format", "csv"});
  ASSERT_EQ(csv.status, 0);
  EXPECT_EQ(csv.out.rfind("hex,decimal,name,", 0), 0u);
  EXPECT_NE(csv.out.find("\"0x05040002\",84148226,\"kChannelOverdue\""), std::string::npos);

  auto md = Parley({"errors", "--all", "--format", "md"});
  ASSERT_EQ(md.status, 0);
  EXPECT_NE(md.out.find("| `0x02010205` | 33620485 | `kTokenInvalid` |"), std::string::npos);

  auto table = Parley({"errors", "--all"});
  ASSERT_EQ(table.status, 0);
  auto lines = static_cast<size_t>(std::count(table.out.begin(), table.out.end(), '\n'));
  EXPECT_EQ(lines, AllErrors().size() + 1);
}

TEST(CliErrors, NeedsExactlyOneMode) {
  EXPECT_EQ(Parley({"errors"}).status, 2);
  EXPECT_EQ(Parley({"errors", "--all", "--search", "x"}).status, 2);
  EXPECT_EQ(Parley({"errors", "--all", "--format", "xml"}).status, 2);
}

TEST(CliToken, AccessTokenByDefault) {
  auto r = Parley({"token", "--app-id", "abc", "--app-key", "abckey", "--channel", "abcChannel", "--user", "abcUser",
                   "--ttl", "1h", "--role", "audience"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto c = VerifyAccessToken(r.out.substr(0, r.out.size() - 1), "abckey", time(nullptr));
  ASSERT_TRUE(c.ok()) << c.error().What();
  EXPECT_EQ(c->channel_id, "abcChannel");
  EXPECT_EQ(c->user_id, "abcUser");
  EXPECT_EQ(c->role, "audience");
  EXPECT_NEAR(static_cast<double>(c->expires_at), static_cast<double>(time(nullptr) + 3600), 5);
}

TEST(CliToken, ClassicReferenceVector) {
  auto r = Parley({"token", "--app-id", "abc", "--app-key", "abckey", "--channel", "abcChannel", "--user", "abcUser",
                   "--timestamp", "1699423634", "--classic"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31\n");
}

TEST(CliToken, SingleParameterDecodes) {
  auto r = Parley({"token", "--app-id", "abc", "--app-key", "abckey", "--channel", "abcChannel", "--user", "abcUser",
                   "--timestamp", "1699423634", "--single"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto a = DecodeSingleToken(r.out.substr(0, r.out.size() - 1));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->token, "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31");
  EXPECT_EQ(a->timestamp, 1699423634);
}

TEST(CliToken, TtlSetsFutureExpiry) {
  auto r = Parley(
      {"token", "--app-id", "abc", "--app-key", "k", "--channel", "c", "--user", "u", "--ttl", "24h", "--single"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto a = DecodeSingleToken(r.out.substr(0, r.out.size() - 1));
  ASSERT_TRUE(a.ok());
  int64_t now = time(nullptr);
  EXPECT_GE(a->timestamp, now + 86400 - 5);
  EXPECT_LE(a->timestamp, now + 86400 + 5);
  EXPECT_TRUE(VerifyToken(*a, "k", now).ok());
}

TEST(CliToken, BadInputGivesCodes) {
  auto bad_channel =
      Parley({"token", "--app-id", "abc", "--app-key", "k", "--channel", "bad channel", "--user", "u", "--ttl", "1h"});
  EXPECT_EQ(bad_channel.status, 1);
  EXPECT_NE(bad_channel.err.find("0x0F020001"), std::string::npos) << bad_channel.err;
  auto zero_ts =
      Parley({"token", "--app-id", "abc", "--app-key", "k", "--channel", "c", "--user", "u", "--timestamp", "0"});
  EXPECT_EQ(zero_ts.status, 1);
  EXPECT_NE(zero_ts.err.find("0x01030101"), std::string::npos) << zero_ts.err;
  EXPECT_EQ(Parley({"token", "--app-id", "a", "--app-key", "k", "--channel", "c", "--user", "u"}).status, 2);
  EXPECT_EQ(Parley({"token", "--app-id", "a", "--app-key", "k", "--channel", "c", "--user", "u", "--ttl", "5x"}).status,
            2);
  EXPECT_EQ(Parley({"token", "--app-id", "a", "--app-key", "k", "--channel", "c", "--user", "u", "--ttl", "1h",
                    "--timestamp", "5"})
                .status,
            2);
}

TEST(Cli, VersionAndHelp) {
  auto v = Parley({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("parley ", 0), 0u);
  auto h = Parley({"--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("errors"), std::string::npos);
  EXPECT_NE(h.out.find("token"), std::string::npos);
  EXPECT_EQ(Parley({"errors", "--help"}).status, 0);
  EXPECT_EQ(Parley({"nosuchcommand"}).status, 2);
  EXPECT_EQ(Parley({}).status, 2);
}

}  // namespace
}  // namespace parley

namespace parley {
namespace {

TEST(CliApp, ManagesAppsThroughTheAdminApi) {
  test::ServerProcess server;
  std::string url = server.url();
  auto created = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "create", "--name", "demo"});
  ASSERT_EQ(created.status, 0) << created.err;
  auto app = nlohmann::json::parse(created.out);
  std::string id = app["appId"];
  EXPECT_EQ(app["appKey"].get<std::string>().size(), 32u);
  EXPECT_EQ(app["name"], "demo");
  auto list = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "list"});
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out)["apps"][0]["appId"], id);
  auto disabled = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "disable", id});
  ASSERT_EQ(disabled.status, 0);
  EXPECT_EQ(nlohmann::json::parse(disabled.out)["enabled"], false);
  ASSERT_EQ(Parley({"app", "--server", url, "--admin-key", server.admin_key(), "enable", id}).status, 0);
  auto quota = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "quota", id, "--minutes", "5"});
  ASSERT_EQ(quota.status, 0) << quota.err;
  EXPECT_EQ(nlohmann::json::parse(quota.out)["quotaMinutes"], 5);
  auto token = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "token", id, "--channel", "c",
                       "--user", "u", "--ttl", "1h"});
  ASSERT_EQ(token.status, 0) << token.err;
  auto t = nlohmann::json::parse(token.out);
  EXPECT_EQ(t["format"], "access");
  auto claims = VerifyAccessToken(t["token"].get<std::string>(), app["appKey"].get<std::string>(), time(nullptr));
  EXPECT_TRUE(claims.ok());
  // Classic tokens only for apps that turn them on.
  auto classic_args =
      std::vector<std::string>{"app",       "--server", url,      "--admin-key", server.admin_key(), "token", id,
                               "--channel", "c",        "--user", "u",           "--classic"};
  EXPECT_EQ(Parley(classic_args).status, 1);
  ASSERT_EQ(Parley({"app", "--server", url, "--admin-key", server.admin_key(), "classic-tokens", id, "on"}).status, 0);
  auto classic = Parley(classic_args);
  ASSERT_EQ(classic.status, 0) << classic.err;
  auto ct = nlohmann::json::parse(classic.out);
  AuthInfo a{id, "c", "u", "", ct["timestamp"], ct["token"]};
  EXPECT_TRUE(VerifyToken(a, app["appKey"].get<std::string>(), time(nullptr)).ok());
  auto channels = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "channels"});
  ASSERT_EQ(channels.status, 0);
  EXPECT_TRUE(nlohmann::json::parse(channels.out)["channels"].empty());
  auto kick = Parley({"app", "--server", url, "--admin-key", server.admin_key(), "kick", id, "c", "nobody"});
  EXPECT_EQ(kick.status, 1);
  EXPECT_NE(kick.err.find("0x0F030002"), std::string::npos) << kick.err;
}

TEST(CliApp, WrongAdminKeyAndUnreachableServer) {
  test::ServerProcess server;
  auto r = Parley({"app", "--server", server.url(), "--admin-key", "wrong", "list"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("0x0F030001"), std::string::npos) << r.err;
  auto down = Parley({"app", "--server", "http://127.0.0.1:1", "--admin-key", "k", "list"});
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(down.err.find("cannot reach"), std::string::npos) << down.err;
  EXPECT_EQ(Parley({"app", "--server", "ftp://x", "--admin-key", "k", "list"}).status, 1);
}

TEST(CliServe, ParleyServeIsParleyd) {
  auto help = Parley({"serve", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--admin-key"), std::string::npos);
  EXPECT_EQ(Parley({"serve", "--heartbeat-misses", "0", "--port", "0", "--data", "/tmp/parley-never"}).status, 1);
}

// ---- parley join: real clients (libparley + GStreamer) against a real parleyd ----

struct JoinEvents {
  std::vector<nlohmann::json> all;
  nlohmann::json last_stats;
  bool Has(const std::string& event) const {
    for (const auto& e : all)
      if (e.value("event", "") == event) return true;
    return false;
  }
};

JoinEvents ParseEvents(const std::string& out) {
  JoinEvents ev;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    auto j = nlohmann::json::parse(out.substr(pos, end - pos), nullptr, false);
    if (!j.is_discarded()) {
      if (j.value("event", "") == "stats") ev.last_stats = j;
      ev.all.push_back(j);
    }
    pos = end + 1;
  }
  return ev;
}

TEST(CliJoin, TwoClientsReceiveEachOthersMediaAndLeaveCleanly) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"join"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  auto run = [&](const std::string& user, test::CommandResult* out) {
    *out = Parley({"join",        "--server",   "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal",
                   "--app-id",    app["appId"], "--app-key",
                   app["appKey"], "--channel",  "cli",
                   "--user",      user,         "--duration",
                   "6",           "--json",     "--width",
                   "320",         "--height",   "240",
                   "--fps",       "15"});
  };
  test::CommandResult a, b;
  std::thread ta(run, "alice", &a), tb(run, "bob", &b);
  ta.join();
  tb.join();
  for (auto [r, other] : {std::pair{&a, "bob"}, std::pair{&b, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err;
    JoinEvents ev = ParseEvents(r->out);
    EXPECT_TRUE(ev.Has("joined")) << r->out;
    EXPECT_TRUE(ev.Has("left"));
    ASSERT_TRUE(ev.last_stats.contains("received")) << r->out;
    auto got = ev.last_stats["received"][other];
    EXPECT_GT(got.value("videoFrames", 0), 20) << r->out;
    EXPECT_EQ(got.value("width", 0), 320);
    EXPECT_EQ(got.value("height", 0), 240);
    EXPECT_GT(got.value("audioMs", 0), 1000);
    EXPECT_GT(ev.last_stats.value("sendKbps", 0), 0) << ev.last_stats.dump();
    EXPECT_GT(ev.last_stats.value("receiveKbps", 0), 0);
  }
}

TEST(CliJoin, WrongAppKeyPrintsTheCodeAndAdvice) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"join"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  auto r = Parley({"join", "--server", server.url(), "--app-id", app["appId"], "--app-key",
                   "0123456789abcdef0123456789abcdef", "--channel", "cli", "--user", "mallory", "--duration", "2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("0x02010205"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("advice:"), std::string::npos) << r.err;
  // A file source that does not exist: its code, and a non-zero exit.
  auto missing =
      Parley({"join", "--server", server.url(), "--app-id", app["appId"], "--app-key", app["appKey"], "--channel",
              "cli", "--user", "filer", "--source", "file:/nonexistent/clip.webm", "--duration", "5"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("0x01090003"), std::string::npos) << missing.err;
  // No token at all is a usage error.
  EXPECT_EQ(Parley({"join", "--server", server.url()}).status, 2);
}

TEST(CliJoin, AFileSourceShowsItsProgressAndTheOthersReceiveIt) {
  std::string path = test::MakeTestWebm("cli-file", 3, 440);
  ASSERT_FALSE(path.empty());
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"file"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  std::vector<std::string> common = {"join",      "--server",    server.url(), "--app-id", app["appId"],
                                     "--app-key", app["appKey"], "--channel",  "films"};
  test::CommandResult film, viewer;
  std::thread tf([&] {
    auto args = common;
    for (std::string a :
         {"--user", "projector", "--width", "320", "--height", "240", "--fps", "15", "--duration", "5", "--source"})
      args.push_back(a);
    args.push_back("file:" + path);
    film = Parley(args);  // text mode: the progress bar
  });
  std::thread tv([&] {
    auto args = common;
    for (const char* a : {"--user", "viewer", "--publish", "", "--duration", "5", "--json"}) args.push_back(a);
    viewer = Parley(args);
  });
  tf.join();
  tv.join();
  EXPECT_EQ(film.status, 0) << film.err;
  EXPECT_NE(film.out.find("media file playing"), std::string::npos) << film.out;
  EXPECT_NE(film.out.find("] 0:0"), std::string::npos) << film.out;  // [####----] 0:02 / 0:03
  EXPECT_NE(film.out.find("/ 0:03"), std::string::npos) << film.out;
  EXPECT_EQ(viewer.status, 0) << viewer.err;
  JoinEvents ev = ParseEvents(viewer.out);
  EXPECT_GT(ev.last_stats["received"]["projector"].value("videoFrames", 0), 10) << viewer.out;
  std::remove(path.c_str());
}

TEST(CliDemo, EveryParticipantReceivesAudioAndVideo) {
  std::string dir = "/tmp/parley-cli-rec-" + std::to_string(getpid());
  auto r = Parley(
      {"demo", "--duration", "5", "--json", "--width", "320", "--height", "240", "--fps", "15", "--record", dir});
  EXPECT_EQ(r.status, 0) << r.err;
  JoinEvents ev = ParseEvents(r.out);
  ASSERT_TRUE(ev.Has("started")) << r.out;
  // The browser link carries one access token for the guest.
  std::string url = ev.all.front().value("browserUrl", "");
  auto at = url.find("/demo/?token=");
  ASSERT_NE(at, std::string::npos) << url;
  std::string token = url.substr(at + 13, url.find('&', at) - at - 13);
  auto claims = DecodeAccessToken(token);
  ASSERT_TRUE(claims.ok()) << token;
  EXPECT_EQ(claims->user_id, "guest");
  const nlohmann::json* summary = nullptr;
  for (const auto& e : ev.all)
    if (e.value("event", "") == "summary") summary = &e;
  ASSERT_NE(summary, nullptr) << r.out;
  EXPECT_TRUE((*summary)["complete"].get<bool>());
  ASSERT_EQ((*summary)["participants"].size(), 2u);
  for (const auto& p : (*summary)["participants"]) {
    EXPECT_EQ(p["joinResult"], 0);
    for (auto& [from, got] : p["received"].items()) {
      EXPECT_GT(got["videoFrames"].get<int>(), 10) << from;
      EXPECT_EQ(got["resolution"], "320x240");
      EXPECT_GT(got["audioMs"].get<int>(), 1000);
    }
    // --record: what each participant received, in files gst-discoverer reads back
    // with about the call's length.
    ASSERT_EQ(p["recordings"].size(), 2u) << p.dump();
    for (const auto& file : p["recordings"]) {
      double seconds = test::DiscoverSeconds(file.get<std::string>());
      EXPECT_GT(seconds, 3.0) << file;
      EXPECT_LT(seconds, 6.5) << file;
    }
  }
  RunCommand({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace parley
