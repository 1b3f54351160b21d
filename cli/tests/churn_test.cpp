// People coming and going must not cost the ones who stay: one real `parley join`
// stays in a channel while others join, are received and leave, one after another; the
// stayer's resident memory, open files and threads after the last visit are within a
// small bound of what they were after the first ten (the receive side of a departed
// participant is freed, not kept until the stayer leaves).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "run_command.hpp"
#include "server_process.hpp"

namespace parley {
namespace {

constexpr int kWarmVisits = 10;
constexpr int kVisits = 50;
// Measured on 2 cores between the 10th and the 50th visit: +28 MB and +160 threads
// (four per visit) while the receive side of a departed participant stayed, +6.7 MB
// (glibc's arenas and caches settling) and no thread once it was freed; the bound sits
// between.
constexpr long kMemoryBoundKb = 14 * 1024;

std::vector<std::string> JoinArgs(const test::ServerProcess& server, const nlohmann::json& app,
                                  const std::string& user) {
  return {PARLEY_CLI,  "join",       "--server",  "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal",
          "--app-id",  app["appId"], "--app-key", app["appKey"],
          "--channel", "churn",      "--user",    user,
          "--json",    "--width",    "320",       "--height",
          "240",       "--fps",      "15",        "--bitrate",
          "300"};
}

// The ids of the users the stayer decoded video from, by its stats events.
std::set<std::string> Decoded(const std::string& out) {
  std::set<std::string> ids;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "stats" || !j.contains("received")) continue;
    for (const auto& [id, r] : j["received"].items())
      if (r.value("videoFrames", 0) > 0) ids.insert(id);
  }
  return ids;
}

TEST(CliJoin, ParticipantsComingAndGoingCostTheStayerNoMemory) {
  test::ServerProcess server;
  auto created = test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"churn"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body);
  test::ChildProcess stayer(JoinArgs(server, app, "stayer"));
  for (int i = 0; i < 200 && stayer.Output().find("\"joined\"") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_NE(stayer.Output().find("\"joined\""), std::string::npos) << stayer.Output();

  test::ProcessUse warm, warm_server;
  for (int i = 1; i <= kVisits; ++i) {
    auto args = JoinArgs(server, app, "v" + std::to_string(i));
    args.insert(args.end(), {"--duration", "2.5"});
    auto r = test::RunCommand(args);
    ASSERT_EQ(r.status, 0) << "visit " << i << ": " << r.out << r.err;
    if (i == kWarmVisits) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      warm = test::UseOf(stayer.pid());
      warm_server = test::UseOf(server.pid());
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  test::ProcessUse last = test::UseOf(stayer.pid());
  test::ProcessUse last_server = test::UseOf(server.pid());
  ASSERT_TRUE(stayer.Running()) << stayer.Output();
  EXPECT_EQ(stayer.Interrupt(), 0) << stayer.Output();

  // The visits were received (a freed receive side would be no proof otherwise): a
  // visitor counts if one of the stayer's stats lines (one a second) shows its video.
  // With 1.5 s visits on a loaded two-core machine some visitors left before a line
  // caught their video (43 of 50 once in CI, 30 of 50 once beside the SDK's media
  // tests, all 50 alone; 20 of 50 once beside the network lab's calls, which it no
  // longer runs beside); visits now last 2.5 s, and four in five must show video.
  auto decoded = Decoded(stayer.Output());
  int received = 0;
  for (int i = 1; i <= kVisits; ++i) received += decoded.count("v" + std::to_string(i)) ? 1 : 0;
  std::printf("the stayer decoded video from %d of %d visitors\n", received, kVisits);
  EXPECT_GE(received, kVisits * 4 / 5) << "the stayer decoded video from " << received << " of " << kVisits
                                       << " visitors";

  std::printf("stayer after %d visits: %ld kB, %d fds, %d threads; after %d: %ld kB, %d fds, %d threads\n", kWarmVisits,
              warm.rss_kb, warm.fds, warm.threads, kVisits, last.rss_kb, last.fds, last.threads);
  std::printf("server after %d visits: %ld kB, %d fds; after %d: %ld kB, %d fds\n", kWarmVisits, warm_server.rss_kb,
              warm_server.fds, kVisits, last_server.rss_kb, last_server.fds);
  EXPECT_LT(last.rss_kb - warm.rss_kb, kMemoryBoundKb);
  EXPECT_LE(last.fds, warm.fds + 2);
  EXPECT_LE(last.threads, warm.threads + 4);
  EXPECT_LT(last_server.rss_kb - warm_server.rss_kb, 8 * 1024);
  EXPECT_LE(last_server.fds, warm_server.fds + 2);
}

}  // namespace
}  // namespace parley
