// Runs the real `parley` binary and checks its output and exit status.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "media_file.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"
#include "pulse_server.hpp"
#include "run_command.hpp"
#include "server_process.hpp"
#include "x_server.hpp"

namespace parley {
namespace {

using test::RunCommand;

test::CommandResult Parley(std::vector<std::string> args, const std::string& input = {}) {
  args.insert(args.begin(), PARLEY_CLI);
  return RunCommand(args, input);
}

// parley devices --check against a private PulseAudio server: the speaker's test tone
// comes back through the microphone (the null sink's monitor); with no speaker the
// microphone stays quiet; a microphone the system lacks fails with its code.
TEST(CliDevices, ACheckShowsTheMicrophoneHearingTheSpeaker) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv env("PULSE_SERVER", pulse.address());
  auto loudest = [&](const std::string& speaker) {
    auto r =
        Parley({"devices", "--check", "2", "--source", "device:parley_sink.monitor", "--speaker", speaker, "--json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    int max = -1, reports = 0;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "level") {
        max = std::max(max, j.value("volume", -1));
        ++reports;
      }
    }
    EXPECT_GE(reports, 5) << r.out;
    return max;
  };
  const int heard = loudest("device:parley_sink");
  const int quiet = loudest("null");
  std::printf("parley devices --check: loudest %d with the speaker's tone, %d without\n", heard, quiet);
  EXPECT_GT(heard, 150);
  EXPECT_LT(quiet, 20);
  auto shown = Parley({"devices", "--check", "1", "--source", "device:parley_sink.monitor"});
  EXPECT_EQ(shown.status, 0) << shown.err;
  EXPECT_NE(shown.out.find("microphone ####"), std::string::npos) << shown.out;
  auto missing = Parley({"devices", "--check", "1", "--source", "device:no-such-microphone", "--speaker", "null"});
  EXPECT_EQ(missing.status, 1) << missing.out;
  EXPECT_NE(missing.err.find("0x01040409"), std::string::npos) << missing.err;
}

// parley devices --screens on a private Xvfb: the screen and a named window, as text
// and as JSON; no display is an error. A --screen-region that is not X,Y,WxH is refused.
TEST(CliDevices, ScreensAndWindowsAreListed) {
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  const Window win = x.CreateWindow(400, 300, "Quarterly slides", 40, 30);
  auto text = Parley({"devices", "--screens", "--display", x.name()});
  EXPECT_EQ(text.status, 0) << text.err;
  std::printf("%s", text.out.c_str());
  EXPECT_NE(text.out.find("screen  0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1280x720"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Quarterly slides"), std::string::npos) << text.out;
  auto json = Parley({"devices", "--screens", "--display", x.name(), "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["screens"].size(), 2u) << json.out;
  EXPECT_EQ(j["screens"][1]["kind"], "window");
  EXPECT_EQ(j["screens"][1]["id"], static_cast<uint64_t>(win));
  EXPECT_EQ(j["screens"][1]["x"], 40);
  EXPECT_EQ(j["screens"][1]["width"], 400);
  auto none = Parley({"devices", "--screens", "--display", ":77"});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("no X display"), std::string::npos) << none.err;
  auto bad = Parley({"join", "--channel", "c", "--screen-region", "10,10,64"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("X,Y,WxH"), std::string::npos) << bad.err;
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

TEST(CliToken, LinkOpensTheMeetingPageAndEnvironmentGivesTheApp) {
  setenv("PARLEY_APP_ID", "abc", 1);
  setenv("PARLEY_APP_KEY", "abckey", 1);
  auto r =
      Parley({"token", "--channel", "c", "--user", "u", "--ttl", "1h", "--link", "--server", "http://127.0.0.1:7880/"});
  unsetenv("PARLEY_APP_ID");
  unsetenv("PARLEY_APP_KEY");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string prefix = "http://127.0.0.1:7880/demo/#token=";
  ASSERT_EQ(r.out.rfind(prefix, 0), 0u) << r.out;
  auto c = VerifyAccessToken(r.out.substr(prefix.size(), r.out.size() - prefix.size() - 1), "abckey", time(nullptr));
  ASSERT_TRUE(c.ok()) << r.out;
  EXPECT_EQ(c->app_id, "abc");
  auto missing = Parley({"token", "--channel", "c", "--user", "u", "--ttl", "1h"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("PARLEY_APP_ID"), std::string::npos) << missing.err;
}

TEST(CliToken, ClassicReferenceVector) {
  auto r = Parley({"token", "--app-id", "abc", "--app-key", "abckey", "--channel", "abcChannel", "--user", "abcUser",
                   "--timestamp", "1699423634", "--classic"});
  ASSERT_EQ(r.status, 0) << r.err;
  // Every field a classic client passes beside the hex token, its expiry included.
  EXPECT_NE(r.out.find("token      3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("timestamp  1699423634  (2023-11-08 06:07:14 UTC)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("channelId  abcChannel"), std::string::npos) << r.out;
  auto j = Parley({"token", "--app-id", "abc", "--app-key", "abckey", "--channel", "abcChannel", "--user", "abcUser",
                   "--timestamp", "1699423634", "--classic", "--json"});
  ASSERT_EQ(j.status, 0) << j.err;
  auto fields = nlohmann::json::parse(j.out);
  EXPECT_EQ(fields["token"], "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31");
  EXPECT_EQ(fields["expiresAt"], 1699423634);
  EXPECT_TRUE(DecodeSingleToken(fields["singleToken"].get<std::string>()).ok());
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

TEST(Cli, TyposGetDidYouMean) {
  auto command = Parley({"app", "creat"});
  EXPECT_EQ(command.status, 2);
  EXPECT_NE(command.err.find("parley app: 'creat' is not a parley app command. Did you mean 'create'?"),
            std::string::npos)
      << command.err;
  auto option = Parley({"app", "create", "--nmae", "x"});
  EXPECT_EQ(option.status, 2);
  EXPECT_NE(option.err.find("parley app create: unknown option '--nmae'. Did you mean '--name'?"), std::string::npos)
      << option.err;
  auto top = Parley({"tokne"});
  EXPECT_NE(top.err.find("Did you mean 'token'?"), std::string::npos) << top.err;
  auto missing = Parley({"app"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("a command is needed: create, classic-tokens, list"), std::string::npos) << missing.err;
  // A subcommand's help lists the shared options it accepts.
  auto help = Parley({"app", "create", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--server"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--admin-key"), std::string::npos) << help.out;
}

TEST(CliErrors, SearchTakesSeveralWordsAndSynonyms) {
  auto r = Parley({"errors", "--search", "token", "expired"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("0x0F050001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0x05040002"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("0x01040104"), std::string::npos) << r.out;
  auto zh = Parley({"errors", "--search", "摄像头"});
  ASSERT_EQ(zh.status, 0) << zh.err;
  EXPECT_NE(zh.out.find("kCameraOpenFailed"), std::string::npos) << zh.out;
}

}  // namespace
}  // namespace parley

namespace parley {
namespace {

TEST(CliApp, ManagesAppsThroughTheAdminApi) {
  test::ServerProcess server;
  std::string url = server.url();
  auto created =
      Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "create", "--name", "demo"});
  ASSERT_EQ(created.status, 0) << created.err;
  auto app = nlohmann::json::parse(created.out);
  std::string id = app["appId"];
  EXPECT_EQ(app["appKey"].get<std::string>().size(), 32u);
  EXPECT_EQ(app["name"], "demo");
  auto list = Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "list"});
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out)["apps"][0]["appId"], id);
  auto disabled = Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "disable", id});
  ASSERT_EQ(disabled.status, 0);
  EXPECT_EQ(nlohmann::json::parse(disabled.out)["enabled"], false);
  ASSERT_EQ(Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "enable", id}).status, 0);
  auto quota =
      Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "quota", id, "--minutes", "5"});
  ASSERT_EQ(quota.status, 0) << quota.err;
  EXPECT_EQ(nlohmann::json::parse(quota.out)["quotaMinutes"], 5);
  auto token = Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "token", id, "--channel",
                       "c", "--user", "u", "--ttl", "1h"});
  ASSERT_EQ(token.status, 0) << token.err;
  auto t = nlohmann::json::parse(token.out);
  EXPECT_EQ(t["format"], "access");
  auto claims = VerifyAccessToken(t["token"].get<std::string>(), app["appKey"].get<std::string>(), time(nullptr));
  EXPECT_TRUE(claims.ok());
  // Classic tokens only for apps that turn them on.
  auto classic_args =
      std::vector<std::string>{"app", "--json",    "--server", url,      "--admin-key", server.admin_key(), "token",
                               id,    "--channel", "c",        "--user", "u",           "--classic"};
  EXPECT_EQ(Parley(classic_args).status, 1);
  ASSERT_EQ(
      Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "classic-tokens", id, "on"}).status,
      0);
  auto classic = Parley(classic_args);
  ASSERT_EQ(classic.status, 0) << classic.err;
  auto ct = nlohmann::json::parse(classic.out);
  AuthInfo a{id, "c", "u", "", ct["timestamp"], ct["token"]};
  EXPECT_TRUE(VerifyToken(a, app["appKey"].get<std::string>(), time(nullptr)).ok());
  auto channels = Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "channels"});
  ASSERT_EQ(channels.status, 0);
  EXPECT_TRUE(nlohmann::json::parse(channels.out)["channels"].empty());
  auto kick = Parley({"app", "--json", "--server", url, "--admin-key", server.admin_key(), "kick", id, "c", "nobody"});
  EXPECT_EQ(kick.status, 1);
  EXPECT_NE(kick.err.find("0x0F030002"), std::string::npos) << kick.err;
}

TEST(CliApp, OptionsAnywhereTablesAndAHiddenKey) {
  test::ServerProcess server;
  // Shared options before the command, after it, and from the environment.
  auto created = Parley({"app", "create", "--server", server.url(), "--admin-key", server.admin_key(), "--name", "t"});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_NE(created.out.find("Created app \"t\"."), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("AppKey          "), std::string::npos) << created.out;
  std::string id = created.out.substr(created.out.find("AppId") + 16, 16);
  auto exported =
      Parley({"app", "create", "--name", "e", "--export", "--server", server.url(), "--admin-key", server.admin_key()});
  ASSERT_EQ(exported.status, 0) << exported.err;
  EXPECT_EQ(exported.out.rfind("export PARLEY_APP_ID=", 0), 0u) << exported.out;
  EXPECT_NE(exported.out.find("\nexport PARLEY_APP_KEY="), std::string::npos) << exported.out;
  auto list = Parley({"--server", server.url(), "--admin-key", server.admin_key(), "app", "list"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(list.out.rfind("APP ID ", 0), 0u) << list.out;
  EXPECT_NE(list.out.find(id + "  t  "), std::string::npos) << list.out;
  setenv("PARLEY_SERVER", server.url().c_str(), 1);
  setenv("PARLEY_ADMIN_KEY", server.admin_key().c_str(), 1);
  auto shown = Parley({"app", "show", id});
  auto revealed = Parley({"app", "show", id, "--reveal-key", "--json"});
  auto hidden_json = Parley({"app", "show", id, "--json"});
  auto channels = Parley({"app", "channels"});
  unsetenv("PARLEY_SERVER");
  unsetenv("PARLEY_ADMIN_KEY");
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_NE(shown.out.find("(hidden: parley app show " + id + " --reveal-key)"), std::string::npos) << shown.out;
  ASSERT_EQ(revealed.status, 0) << revealed.err;
  std::string key = nlohmann::json::parse(revealed.out)["appKey"];
  EXPECT_EQ(key.size(), 32u);
  EXPECT_NE(created.out.find(key), std::string::npos);  // shown on creation
  EXPECT_EQ(shown.out.find(key), std::string::npos);
  EXPECT_EQ(hidden_json.out.find(key), std::string::npos) << hidden_json.out;
  EXPECT_EQ(channels.out, "No live channels.\n");
}

TEST(CliApp, WrongAdminKeyAndUnreachableServer) {
  test::ServerProcess server;
  auto r = Parley({"app", "--server", server.url(), "--admin-key", "wrong", "list"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("0x0F030001"), std::string::npos) << r.err;
  auto down = Parley({"app", "--server", "http://127.0.0.1:1", "--admin-key", "k", "list"});
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(down.err.find("cannot reach"), std::string::npos) << down.err;
  EXPECT_NE(down.err.find("is `parley serve` running at http://127.0.0.1:1?"), std::string::npos) << down.err;
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
    // The rates are per interval: the last one may follow the other's departure.
    int sending = 0, receiving = 0;
    for (const auto& e : ev.all) {
      if (e.value("event", "") != "stats") continue;
      auto positive = [&](const char* k) { return e.contains(k) && e[k].is_number() && e[k].get<double>() > 0; };
      sending += positive("sendKbps") ? 1 : 0;
      receiving += positive("receiveKbps") ? 1 : 0;
    }
    EXPECT_GT(sending, 0) << r->out;
    EXPECT_GT(receiving, 0) << r->out;
    // Where the time to the first picture went: each startup phase once, with its time
    // since the join began, in the order each chain of them must come in (the answer's
    // request and the connection's progress run side by side).
    std::map<std::string, int> ms;
    for (const auto& e : ev.all)
      if (e.value("event", "") == "phase") {
        EXPECT_FALSE(ms.count(e.value("phase", ""))) << "twice: " << e.dump();
        ms[e.value("phase", "")] = e.value("ms", -1);
      }
    for (const char* p : {"joined", "publishAnswered", "subscribeOffered", "subscribeAnswered", "iceConnected",
                          "dtlsConnected", "firstRtp", "firstFrame"})
      EXPECT_TRUE(ms.count(p)) << p << " missing: " << r->out;
    auto in_order = [&](std::vector<const char*> chain) {
      for (size_t i = 1; i < chain.size(); ++i)
        EXPECT_LE(ms[chain[i - 1]], ms[chain[i]]) << chain[i - 1] << " before " << chain[i] << ": " << r->out;
    };
    in_order({"joined", "subscribeOffered", "subscribeAnswered"});
    in_order({"joined", "publishAnswered"});
    in_order({"subscribeOffered", "iceConnected", "dtlsConnected", "firstRtp", "firstFrame"});
  }
}

// --message and --chat: what one client sends (once joined, and each line typed on
// its standard input; "@user" for one user) the other prints as message events.
TEST(CliJoin, MessagesFromOptionsAndStandardInputReachTheOther) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"chat"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  std::vector<std::string> common = {
      "join",        "--server",   "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal",
      "--app-id",    app["appId"], "--app-key",
      app["appKey"], "--channel",  "chat",
      "--publish",   "",           "--no-subscribe"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = common;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  test::CommandResult rx, tx;
  std::thread listener([&] { rx = Parley(with({"--user", "rx", "--duration", "6", "--json"})); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  tx =
      Parley(with({"--user", "tx", "--duration", "2", "--message", "first", "--message", "@rx just for you", "--chat"}),
             "typed line\n@rx typed for you\n\n@nobody lost\n");
  listener.join();
  EXPECT_EQ(tx.status, 0) << tx.out << tx.err;
  EXPECT_NE(tx.out.find("error 0x0F010005"), std::string::npos) << "no member called nobody: " << tx.out << tx.err;
  ASSERT_EQ(rx.status, 0) << rx.err;
  std::vector<std::string> got;
  for (const auto& e : ParseEvents(rx.out).all)
    if (e.value("event", "") == "message") {
      EXPECT_EQ(e.value("fromUserId", ""), "tx");
      got.push_back(e.value("data", "") + (e.value("direct", false) ? " (direct)" : ""));
    }
  EXPECT_EQ(got, (std::vector<std::string>{"first", "just for you (direct)", "typed line", "typed for you (direct)"}))
      << rx.out;
}

// A token minted here (--app-key) is minted again when the server says it expires
// soon, and the call goes on; a --token given on the command line cannot be renewed,
// so the server ends the session after the grace with 0x05040002 and the client exits 1.
TEST(CliJoin, AMintedTokenIsRenewedAndAGivenOneExpires) {
  test::ServerProcess server({"--token-grace-ms", "500"});
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"ttl"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  const std::string signal = "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal";
  auto renewed =
      Parley({"join", "--server", signal, "--app-id", app["appId"], "--app-key", app["appKey"], "--channel", "ttl",
              "--user", "minted", "--publish", "", "--token-ttl", "10", "--duration", "12", "--json"});
  EXPECT_EQ(renewed.status, 0) << renewed.out << renewed.err;
  JoinEvents ev = ParseEvents(renewed.out);
  EXPECT_TRUE(ev.Has("authInfoWillExpire")) << renewed.out;
  EXPECT_FALSE(ev.Has("authInfoExpired")) << "renewed before it expired: " << renewed.out;
  EXPECT_TRUE(ev.Has("left"));

  auto minted =
      test::HttpRequest(server.port(), "POST", "/v1/admin/apps/" + app["appId"].get<std::string>() + "/tokens",
                        R"({"channelId":"ttl","userId":"given","ttlSeconds":3})", server.admin_key());
  ASSERT_EQ(minted.status, 200) << minted.body;
  auto given = Parley({"join", "--server", signal, "--token", nlohmann::json::parse(minted.body)["token"], "--publish",
                       "", "--duration", "15"});
  EXPECT_EQ(given.status, 1) << given.out << given.err;
  EXPECT_NE(given.out.find("cannot renew"), std::string::npos) << given.out;
  EXPECT_NE(given.out.find("the server ends this session"), std::string::npos) << given.out;
  EXPECT_NE((given.out + given.err).find("0x05040002"), std::string::npos) << given.out << given.err;
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

TEST(CliJoin, EachCauseGetsItsOwnMessageAndCodeOnce) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"join"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  std::string id = app["appId"], key = app["appKey"];
  // The server from PARLEY_SERVER, the app from PARLEY_APP_ID / PARLEY_APP_KEY.
  setenv("PARLEY_SERVER", server.url().c_str(), 1);
  setenv("PARLEY_APP_ID", id.c_str(), 1);
  setenv("PARLEY_APP_KEY", key.c_str(), 1);
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  int64_t past = time(nullptr) - 30;
  std::string stale = MintAccessToken({id, "c", "late", "", "", past, past - 60}, key);
  auto expired = Parley({"join", "--token", stale, "--duration", "2"});
  EXPECT_EQ(expired.status, 1);
  EXPECT_EQ(count(expired.err, "0x05040002"), 1u) << expired.err;
  EXPECT_NE(expired.err.find("token expired at "), std::string::npos) << expired.err;
  EXPECT_NE(expired.err.find("cause 0x0F050001 (251985921) kTokenExpired"), std::string::npos) << expired.err;
  EXPECT_NE(expired.err.find("advice: Mint a new token"), std::string::npos) << expired.err;
  EXPECT_EQ(expired.err.find("could not join"), std::string::npos) << expired.err;
  // The same token in the browser gets the same code (web/tests/tokens.test.mjs).
  auto garbage = Parley({"join", "--token", "not-a-token", "--duration", "2"});
  EXPECT_EQ(garbage.status, 1);
  EXPECT_NE(garbage.err.find("0x0F020004"), std::string::npos) << garbage.err;
  test::HttpRequest(server.port(), "PUT", "/v1/admin/apps/" + id + "/quota", R"({"minutes":0})", server.admin_key());
  auto quota = Parley({"join", "--channel", "c", "--user", "u", "--duration", "2"});
  EXPECT_EQ(quota.status, 1);
  EXPECT_EQ(count(quota.err, "0x05040002"), 1u) << quota.err;
  EXPECT_NE(quota.err.find("cause 0x0F050002 (251985922) kQuotaExhausted"), std::string::npos) << quota.err;
  EXPECT_NE(quota.err.find("parley app quota"), std::string::npos) << quota.err;
  auto mismatch = Parley(
      {"join", "--app-key", "0123456789abcdef0123456789abcdef", "--channel", "c", "--user", "u", "--duration", "2"});
  EXPECT_NE(mismatch.err.find("cause 0x0F050003 (251985923) kTokenKeyMismatch"), std::string::npos) << mismatch.err;
  // Nobody listening: the hint names the server and how to start one.
  setenv("PARLEY_SERVER", "http://127.0.0.1:1", 1);
  auto refused = Parley({"join", "--channel", "c", "--user", "u", "--duration", "2"});
  unsetenv("PARLEY_SERVER");
  unsetenv("PARLEY_APP_ID");
  unsetenv("PARLEY_APP_KEY");
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("0x01020401"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("is `parley serve` running at http://127.0.0.1:1?"), std::string::npos) << refused.err;
}

TEST(CliJoin, StatsShowADashUntilMeasured) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"join"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  auto r = Parley({"join", "--server", server.url(), "--app-id", app["appId"], "--app-key", app["appKey"], "--channel",
                   "dash", "--user", "solo", "--duration", "5", "--width", "160", "--height", "120"});
  ASSERT_EQ(r.status, 0) << r.err;
  // The first report comes before any statistics: dashes, never "0 kbps" or "rtt -1".
  auto first = r.out.substr(r.out.find("   1.0s"));
  first = first.substr(0, first.find('\n'));
  EXPECT_NE(first.find("send — kbps"), std::string::npos) << first;
  EXPECT_NE(first.find("rtt —"), std::string::npos) << first;
  EXPECT_EQ(r.out.find("rtt -1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/5"), std::string::npos) << r.out;
  // Once measured, the network quality is a word (1 is the best).
  EXPECT_TRUE(r.out.find("network ▮▮▮▮ excellent") != std::string::npos ||
              r.out.find("network ▮▮▮▯ good") != std::string::npos)
      << r.out;
}

TEST(CliJoin, DegradationIsFluencyClarityOrBalanced) {
  auto help = Parley({"join", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--degradation"), std::string::npos) << help.out;
  // A word outside the three is refused while parsing, before any network.
  auto bad = Parley({"join", "--server", "http://127.0.0.1:9", "--token", "t", "--degradation", "sideways"});
  EXPECT_EQ(bad.status, 2) << bad.out << bad.err;
  EXPECT_NE((bad.out + bad.err).find("--degradation"), std::string::npos) << bad.err;
  // Each of the three joins and publishes.
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"join"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  for (const char* word : {"fluency", "clarity", "balanced"}) {
    SCOPED_TRACE(word);
    auto r = Parley({"join",        "--server",   server.url(),
                     "--app-id",    app["appId"], "--app-key",
                     app["appKey"], "--channel",  std::string("degrade-") + word,
                     "--user",      "solo",       "--duration",
                     "2",           "--width",    "160",
                     "--height",    "120",        "--degradation",
                     word,          "--json"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(ParseEvents(r.out).Has("joined")) << r.out;
  }
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

// --accompany: a one-second WAV played twice into a silent microphone; the states are
// printed as events, and the other side receives audio from the singer all along.
TEST(CliJoin, AnAccompanimentIsMixedIntoThePublishedAudio) {
  std::string wav = test::MakeTestWav("cli-accompany", 1, 660);
  ASSERT_FALSE(wav.empty());
  test::ServerProcess server;
  auto created =
      test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"karaoke"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  std::vector<std::string> common = {"join",      "--server",    server.url(), "--app-id", app["appId"],
                                     "--app-key", app["appKey"], "--channel",  "karaoke"};
  test::CommandResult singer, listener;
  std::thread ts([&] {
    auto args = common;
    for (const char* a : {"--user", "singer", "--publish", "audio", "--audio-source", "test:silence", "--duration", "5",
                          "--accompany-loops", "2", "--json", "--accompany"})
      args.push_back(a);
    args.push_back(wav);
    singer = Parley(args);
  });
  std::thread tl([&] {
    auto args = common;
    for (const char* a : {"--user", "listener", "--publish", "", "--duration", "5", "--json"}) args.push_back(a);
    listener = Parley(args);
  });
  ts.join();
  tl.join();
  EXPECT_EQ(singer.status, 0) << singer.err;
  JoinEvents ev = ParseEvents(singer.out);
  std::vector<std::string> states;
  for (const auto& e : ev.all)
    if (e.value("event", "") == "accompaniment") states.push_back(e.value("state", ""));
  EXPECT_EQ(states, (std::vector<std::string>{"started", "ended"})) << singer.out;
  JoinEvents heard = ParseEvents(listener.out);
  EXPECT_GT(heard.last_stats["received"]["singer"].value("audioMs", 0), 1000) << listener.out;
  auto bad = Parley({"join", "--channel", "c", "--accompany-loops", "0"});
  EXPECT_NE(bad.status, 0);
  std::remove(wav.c_str());
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
  // In the fragment: the token never reaches a server log or a Referer header.
  auto at = url.find("/demo/#token=");
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
