// Calls through the network lab: two native clients (the real `parley join`) in their
// own network namespace reach a real parleyd only through parley-netem's emulated
// link, so media and signalling meet real loss and cuts. The test process moves itself
// into a fresh network namespace first: nothing here can reach any other address.
// Assertions are about what arrives, never about timings.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "run_command.hpp"
#include "server_process.hpp"

extern char** environ;

namespace parley {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path = "/dev/null") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

// RunCommand does not search PATH; ip and nsenter live in sbin or bin.
std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (access((dir + name).c_str(), X_OK) == 0) return dir + name;
  return name;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lab: a client-side namespace (held by a sleeping process) joined to this one by
// parley-netem, and a parleyd listening on both loopback and the link.
class Lab : public ::testing::Test {
  friend void ExpectMediaBackAfterOutage(Lab& lab, int outage_ms);

 protected:
  static void SetUpTestSuite() {
    // Only root can make namespaces and TUN devices; CI runs the tests as root.
    if (geteuid() != 0) return;
    root_ = true;
    ready_ = unshare(CLONE_NEWNET) == 0 && test::RunCommand({Which("ip"), "link", "set", "lo", "up"}).status == 0;
  }

  void SetUp() override {
    if (!root_) GTEST_SKIP() << "needs root to create network namespaces (the network lab)";
    ASSERT_TRUE(ready_) << "could not make a network namespace with loopback up";
    dir_ = fs::temp_directory_path() / ("parley-lab-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    sleeper_ = Spawn({"unshare", "-n", "sleep", "600"});
    ASSERT_GT(sleeper_, 0);
    // The sleeper is in its namespace once /proc shows a different one.
    for (int i = 0; i < 200 && fs::read_symlink("/proc/" + std::to_string(sleeper_) + "/ns/net") ==
                                   fs::read_symlink("/proc/self/ns/net");
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    control_ = (dir_ / "netem.sock").string();
    netem_out_ = (dir_ / "netem.out").string();
    netem_ = Spawn({PARLEY_NETEM, "link", "--client-pid", std::to_string(sleeper_), "--control", control_, "--name",
                    "plt" + std::to_string(getpid() % 10000)},
                   netem_out_);
    ASSERT_GT(netem_, 0);
    for (int i = 0; i < 300 && Slurp(netem_out_).find("\"ready\"") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_NE(Slurp(netem_out_).find("\"ready\""), std::string::npos) << Slurp(netem_out_);
    server_ = std::make_unique<test::ServerProcess>(
        std::vector<std::string>{"--listen", "0.0.0.0", "--media-address", "10.77.0.1"});
    auto created =
        test::HttpRequest(server_->port(), "POST", "/v1/admin/apps", R"({"name":"lab"})", server_->admin_key());
    app_ = json::parse(created.body);
  }

  void TearDown() override {
    server_.reset();
    Stop(netem_);
    Stop(sleeper_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Ctl(const std::string& command) {
    std::vector<std::string> args = {PARLEY_NETEM, "ctl", control_};
    std::istringstream words(command);
    for (std::string w; words >> w;) args.push_back(w);
    return test::RunCommand(args).out;
  }

  // `parley join` run inside the client namespace, through the link.
  std::vector<std::string> JoinArgs(const std::string& user, int seconds) {
    return {Which("nsenter"),
            "-t",
            std::to_string(sleeper_),
            "-n",
            PARLEY_CLI,
            "join",
            "--server",
            "http://10.77.0.1:" + std::to_string(server_->port()),
            "--app-id",
            app_["appId"],
            "--app-key",
            app_["appKey"],
            "--channel",
            "lab",
            "--user",
            user,
            "--duration",
            std::to_string(seconds),
            "--json",
            "--width",
            "320",
            "--height",
            "240",
            "--fps",
            "15",
            "--ice-address",
            "10.77.0.2"};
  }

  // Every stats event of one client's output.
  static std::vector<json> Stats(const std::string& out) {
    std::vector<json> stats;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("event", "") == "stats") stats.push_back(j);
    }
    return stats;
  }

  static inline bool root_ = false, ready_ = false;
  fs::path dir_;
  pid_t sleeper_ = -1, netem_ = -1;
  std::string control_, netem_out_;
  std::unique_ptr<test::ServerProcess> server_;
  json app_;
};

TEST_F(Lab, ACallThroughTenPercentLossBothWaysKeepsAudioAndVideoFlowing) {
  ASSERT_EQ(Ctl("profile lossy-10"), "ok\n");
  test::CommandResult a, b;
  std::thread ta([&] { a = test::RunCommand(JoinArgs("alice", 10)); });
  std::thread tb([&] { b = test::RunCommand(JoinArgs("bob", 10)); });
  ta.join();
  tb.join();
  for (auto [r, other] : {std::pair{&a, "bob"}, std::pair{&b, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = Stats(r->out);
    ASSERT_FALSE(stats.empty()) << r->out;
    auto got = stats.back()["received"][other];
    EXPECT_GT(got.value("videoFrames", 0), 15) << stats.back().dump();
    EXPECT_GT(got.value("audioMs", 0), 1000) << stats.back().dump();
  }
  // The link really lost packets both ways: what was measured was a lossy call.
  auto link = json::parse(Ctl("stats"));
  EXPECT_GT(link["uplink"]["lostRandom"].get<int>(), 50) << link.dump();
  EXPECT_GT(link["downlink"]["lostRandom"].get<int>(), 50) << link.dump();
  EXPECT_EQ(link["uplinkSpec"], "loss=10%");
}

// Cuts the link for `outage_ms` once both are in the call and sending, then lets it
// heal; both calls must go on by themselves, with media flowing again at the end.
void ExpectMediaBackAfterOutage(Lab& lab, int outage_ms);

TEST_F(Lab, MediaComesBackByItselfAfterATwoSecondOutage) {
  ExpectMediaBackAfterOutage(*this, 2000);
}

// The goal of the real-networks work: a 5 s cut must not end the call. Today it does:
// the server removes a session after three missed 2 s heartbeats (heartbeat-lost,
// 0x02010105), and TCP's retransmission backoff delivers the first ping after the cut
// only later than that. Run it with --gtest_also_run_disabled_tests.
TEST_F(Lab, DISABLED_MediaComesBackByItselfAfterAFiveSecondOutage) {
  ExpectMediaBackAfterOutage(*this, 5000);
}

void ExpectMediaBackAfterOutage(Lab& lab, int outage_ms) {
  test::CommandResult a, b;
  std::thread ta([&] { a = test::RunCommand(lab.JoinArgs("alice", 20)); });
  std::thread tb([&] { b = test::RunCommand(lab.JoinArgs("bob", 20)); });
  std::this_thread::sleep_for(std::chrono::seconds(7));
  EXPECT_EQ(lab.Ctl("outage " + std::to_string(outage_ms)), "ok\n");
  ta.join();
  tb.join();
  auto link = json::parse(lab.Ctl("stats"));
  EXPECT_GT(link["uplink"]["lostOutage"].get<int>(), 0) << link.dump();
  EXPECT_GT(link["downlink"]["lostOutage"].get<int>(), 0) << link.dump();
  for (auto [r, other] : {std::pair{&a, "bob"}, std::pair{&b, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = Lab::Stats(r->out);
    ASSERT_GE(stats.size(), 10u) << r->out;
    // Frames and audio counted over the last 4 s (well after the cut healed) grew.
    json late = stats[stats.size() - 5]["received"].value(other, json::object());
    json last = stats.back()["received"].value(other, json::object());
    EXPECT_GT(last.value("videoFrames", 0), late.value("videoFrames", 0) + 10) << r->out;
    EXPECT_GT(last.value("audioMs", 0), late.value("audioMs", 0) + 1000) << r->out;
  }
}

}  // namespace
}  // namespace parley
