// parley doctor, run as a person would: against a live parleyd (every check, the
// probe included) and against an address where no server listens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_command.hpp"
#include "server_process.hpp"

namespace parley {
namespace {

using nlohmann::json;

test::CommandResult Parley(std::vector<std::string> args) {
  args.insert(args.begin(), PARLEY_CLI);
  return test::RunCommand(args);
}

json CreateApp(const test::ServerProcess& server) {
  auto r = Parley(
      {"app", "--json", "--server", server.url(), "--admin-key", server.admin_key(), "create", "--name", "doctor"});
  EXPECT_EQ(r.status, 0) << r.err;
  return json::parse(r.out);
}

TEST(CliDoctor, ChecksEverythingAndExplainsWhatIsNotFine) {
  test::ServerProcess server;
  json app = CreateApp(server);
  auto r = Parley({"doctor", "--server", server.url(), "--app-id", app["appId"], "--app-key", app["appKey"]});
  // Warnings (this machine has no microphone, speaker or camera) do not fail it.
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  for (const char* section : {"media (GStreamer elements)", "devices", "server", "network (last-mile probe"})
    EXPECT_NE(r.out.find(section), std::string::npos) << section << "\n" << r.out;
  EXPECT_NE(r.out.find("/healthz answered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uplink: "), std::string::npos) << r.out;
  // A finding that is not fine names its code and the catalog's advice.
  if (r.out.find("warn  no camera") != std::string::npos) {
    EXPECT_NE(r.out.find("0x01040104 kCameraOpenFailed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("advice: "), std::string::npos) << r.out;
  }

  auto j = Parley({"doctor", "--json", "--server", server.url(), "--app-id", app["appId"], "--app-key", app["appKey"],
                   "--up", "800", "--down", "600"});
  ASSERT_EQ(j.status, 0) << j.err;
  auto out = json::parse(j.out);
  EXPECT_EQ(out["failures"], 0);
  ASSERT_TRUE(out.contains("probe")) << j.out;
  EXPECT_EQ(out["probe"]["state"], 1);
  EXPECT_EQ(out["probe"]["uplink"]["lossPercent"], 0);
  EXPECT_GE(out["probe"]["uplink"]["bandwidthKbps"].get<int>(), 640);
  EXPECT_GE(out["probe"]["downlink"]["bandwidthKbps"].get<int>(), 480);
  for (const auto& f : out["findings"]) {
    if (f["verdict"] != "ok") {
      EXPECT_TRUE(f.contains("code") || f["verdict"] == "skip") << f.dump();
    }
  }
}

TEST(CliDoctor, AServerThatDoesNotAnswerFailsAndSkipsTheProbe) {
  auto r = Parley({"doctor", "--json", "--server", "http://127.0.0.1:9", "--app-id", "a", "--app-key", "k"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  auto out = json::parse(r.out);
  bool server_failed = false, probe_skipped = false;
  for (const auto& f : out["findings"]) {
    if (f["area"] == "server" && f["verdict"] == "fail" && f["code"] == "0x01020401") server_failed = true;
    if (f["area"] == "network" && f["verdict"] == "skip") probe_skipped = true;
  }
  EXPECT_TRUE(server_failed) << r.out;
  EXPECT_TRUE(probe_skipped) << r.out;
}

TEST(CliDoctor, WithoutCredentialsTheProbeIsSkippedWithAHint) {
  test::ServerProcess server;
  auto r = Parley({"doctor", "--server", server.url()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("skip  no credentials: give --token, or --app-id and --app-key"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace parley
