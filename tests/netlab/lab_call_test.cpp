// Calls through the network lab: two native clients (the real `parley join`) in their
// own network namespace reach a real parleyd only through parley-netem's emulated
// link, so media and signalling meet real loss and cuts. The test process moves itself
// into a fresh network namespace first: nothing here can reach any other address.
// Assertions are about what arrives, never about timings.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lab_env.hpp"
#include "run_command.hpp"

namespace parley::netlab {
namespace {

using nlohmann::json;

class Lab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Only root can make namespaces and TUN devices; CI runs the tests as root.
    if (geteuid() == 0) entered_ = LabEnvironment::Enter();
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (the network lab)";
    ASSERT_EQ(entered_, "");
    ASSERT_EQ(lab_.Start(), "");
  }

  // Two clients call each other for `seconds`; `during` runs meanwhile on this thread.
  template <typename F>
  void Call(int seconds, F during) {
    std::thread ta([&] { alice_ = test::RunCommand(Args("alice", seconds)); });
    std::thread tb([&] { bob_ = test::RunCommand(Args("bob", seconds)); });
    during();
    ta.join();
    tb.join();
  }
  std::vector<std::string> Args(const std::string& user, int seconds) const {
    return lab_.JoinArgs("lab", user, seconds, {"--width", "320", "--height", "240", "--fps", "15"});
  }
  void ExpectMediaBackAfterOutage(int outage_ms);

  static inline std::string entered_ = "not entered";
  LabEnvironment lab_{PARLEY_NETEM, PARLEY_CLI};
  test::CommandResult alice_, bob_;
};

TEST_F(Lab, ACallThroughTenPercentLossBothWaysKeepsAudioAndVideoFlowing) {
  // The loss starts once the call is set up: a lost DTLS handshake packet waits a
  // second or more for its retransmission, and this test is about media, not setup.
  Call(12, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(lab_.Ctl("profile lossy-10"), "ok\n");
  });
  for (auto [r, other] : {std::pair{&alice_, "bob"}, std::pair{&bob_, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = LabEnvironment::StatsEvents(r->out);
    ASSERT_FALSE(stats.empty()) << r->out;
    json got = stats.back()["received"].value(other, json::object());
    EXPECT_GT(got.value("videoFrames", 0), 15) << stats.back().dump();
    EXPECT_GT(got.value("audioMs", 0), 1000) << stats.back().dump();
    EXPECT_EQ(stats.back().value("transport", json()), "udp") << stats.back().dump();  // UDP when it gets through
  }
  // The link really lost packets both ways: what was measured was a lossy call.
  auto link = json::parse(lab_.Ctl("stats"));
  EXPECT_GT(link["uplink"]["lostRandom"].get<int>(), 50) << link.dump();
  EXPECT_GT(link["downlink"]["lostRandom"].get<int>(), 50) << link.dump();
  EXPECT_EQ(link["uplinkSpec"], "loss=10%");
}

// After an 18 s call with `profile` on the link from the 4th second (after the setup,
// as above), audio kept coming through the impaired part: over the last 8 s each client
// decoded at least `min_audio_share` of that time from the other, and video frames
// still arrived.
void ExpectAudioFlowsThrough(const std::string& profile, double min_audio_share, test::CommandResult& alice,
                             test::CommandResult& bob) {
  for (auto [r, other] : {std::pair{&alice, "bob"}, std::pair{&bob, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = LabEnvironment::StatsEvents(r->out);
    ASSERT_GE(stats.size(), 14u) << r->out;
    json before = stats[stats.size() - 9]["received"].value(other, json::object());
    json last = stats.back()["received"].value(other, json::object());
    EXPECT_GE(last.value("audioMs", 0) - before.value("audioMs", 0), static_cast<int>(8000 * min_audio_share))
        << profile << ": " << last.dump();
    EXPECT_GT(last.value("videoFrames", 0), before.value("videoFrames", 0)) << profile << ": " << last.dump();
  }
}

TEST_F(Lab, AThreeHundredKbitCapDoesNotStopTheAudio) {
  Call(18, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(lab_.Ctl("profile cap-300k"), "ok\n");
  });
  ExpectAudioFlowsThrough("cap-300k", 0.9, alice_, bob_);
  auto link = json::parse(lab_.Ctl("stats"));
  EXPECT_NE(link["uplinkSpec"].get<std::string>().find("rate"), std::string::npos) << link.dump();
}

TEST_F(Lab, ThirtyPercentLossBothWaysKeepsAudioFlowingAndIsReportedAsABadNetwork) {
  Call(18, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(lab_.Ctl("profile lossy-30"), "ok\n");
  });
  ExpectAudioFlowsThrough("lossy-30", 0.5, alice_, bob_);
  auto link = json::parse(lab_.Ctl("stats"));
  EXPECT_GT(link["downlink"]["lostRandom"].get<int>(), 200) << link.dump();
  // Each client saw its own network turn bad (3 or worse, short of "down") in at least
  // one direction, warned once, and heard the other's quality through the server. A
  // direction that is "down" (5) for a moment does not hide the other's band.
  for (auto [r, other] : {std::pair{&alice_, "bob"}, std::pair{&bob_, "alice"}}) {
    int worst_local = -1, remote_reports = 0;
    auto measured = [](int band) { return band >= 0 && band < 5 ? band : -1; };
    for (const json& q : LabEnvironment::Events(r->out, "networkQuality")) {
      int worst = std::max(measured(q.value("up", 6)), measured(q.value("down", 6)));
      if (q.value("userId", "x").empty()) worst_local = std::max(worst_local, worst);
      if (q.value("userId", "") == other) ++remote_reports;
    }
    EXPECT_GE(worst_local, 3) << r->out;
    EXPECT_GE(remote_reports, 1) << r->out;
    EXPECT_NE(r->out.find("\"0x00000101\""), std::string::npos) << r->out;
    // Its jitter buffers waited 200 ms while the network was clean, then 400 ms to let
    // the repairs through (core/playout_delay.hpp).
    auto stats = LabEnvironment::StatsEvents(r->out);
    int first = 0;
    for (const json& st : stats)
      if ((first = st.value("jitterBufferMs", 0)) > 0) break;
    EXPECT_EQ(first, 200) << r->out;
    // The last interval with a jitter buffer (a report after the other one left has none).
    int last = 0;
    for (const json& st : stats)
      if (int ms = st.value("jitterBufferMs", 0); ms > 0) last = ms;
    EXPECT_EQ(last, 400) << r->out;
  }
}

// Cuts the link for `outage_ms` once both are in the call and sending, then lets it
// heal; both calls must go on by themselves, with media flowing again at the end.
void Lab::ExpectMediaBackAfterOutage(int outage_ms) {
  Call(20, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(7));
    EXPECT_EQ(lab_.Ctl("outage " + std::to_string(outage_ms)), "ok\n");
  });
  auto link = json::parse(lab_.Ctl("stats"));
  EXPECT_GT(link["uplink"]["lostOutage"].get<int>(), 0) << link.dump();
  EXPECT_GT(link["downlink"]["lostOutage"].get<int>(), 0) << link.dump();
  for (auto [r, other] : {std::pair{&alice_, "bob"}, std::pair{&bob_, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = LabEnvironment::StatsEvents(r->out);
    ASSERT_GE(stats.size(), 10u) << r->out;
    // Frames and audio counted over the last 4 s (well after the cut healed) grew.
    json late = stats[stats.size() - 5]["received"].value(other, json::object());
    json last = stats.back()["received"].value(other, json::object());
    EXPECT_GT(last.value("videoFrames", 0), late.value("videoFrames", 0) + 10) << r->out;
    EXPECT_GT(last.value("audioMs", 0), late.value("audioMs", 0) + 1000) << r->out;
    // The cut froze the video at least once, and the receiver saw it.
    EXPECT_GE(last.value("freezes", 0), 1) << last.dump();
    // Nobody was removed, and a signalling connection the cut closed came back.
    EXPECT_EQ(r->out.find("0x02010105"), std::string::npos) << r->out;
    size_t lost = r->out.find("\"0x00000103\"");
    if (lost != std::string::npos) {
      EXPECT_NE(r->out.find("\"0x00000105\"", lost), std::string::npos) << r->out;
    }
  }
}

TEST_F(Lab, MediaComesBackByItselfAfterATwoSecondOutage) {
  ExpectMediaBackAfterOutage(2000);
}

// Longer than the server's three missed 2 s heartbeats: TCP delivers the pings sent
// during the cut only after its retransmission backoff, by which time the server has
// closed the silent connection. The session waits out the resume grace instead of
// ending, and both clients resume it by themselves.
TEST_F(Lab, MediaComesBackByItselfAfterAFiveSecondOutage) {
  ExpectMediaBackAfterOutage(5000);
}

// Longer than the reconnection budget (10 s) and the server's resume grace (10 s): the
// cut ends with 0x01050202 in each client, which then exits with a failure (1), never
// a silent hang. Heartbeats unanswered for three intervals (6 s) make each client drop
// its link and start reconnecting, so it is the budget that ends the call, while the
// link is still cut (TCP alone would have held the dead connection until well after
// the cut healed).
TEST_F(Lab, AnOutageLongerThanTheReconnectionBudgetEndsWith0x01050202) {
  const int seconds = 60, cut_at = 5, cut_for = 35;
  auto start = std::chrono::steady_clock::now();
  Call(seconds, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(cut_at));
    EXPECT_EQ(lab_.Ctl("outage " + std::to_string(cut_for * 1000)), "ok\n");
  });
  auto took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, cut_at + cut_for) << "a client did not give up while the link was cut";
  for (auto* r : {&alice_, &bob_}) {
    EXPECT_EQ(r->status, 1) << r->err << r->out;
    EXPECT_NE(r->out.find("\"hex\":\"0x01050202\""), std::string::npos) << r->out;
    EXPECT_NE(r->err.find("error 0x01050202 (17105410)"), std::string::npos) << r->err;
    EXPECT_NE(r->err.find("reconnection failed"), std::string::npos) << r->err;
  }
}

// A CPU quota on one process, as a phone that throttles or a machine busy with other
// work imposes: a cgroup of its own (v1 cpu controller, or v2 cpu.max) that lets it
// run `percent` % of one CPU. Empty `error` when it took.
class CpuQuota {
 public:
  CpuQuota(pid_t pid, int percent) : pid_(pid) {
    namespace fs = std::filesystem;
    const std::string name = "parley-lab-" + std::to_string(getpid());
    if (fs::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
      dir_ = "/sys/fs/cgroup/cpu/" + name;
      parent_ = "/sys/fs/cgroup/cpu";
      v2_ = false;
    } else if (fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
      dir_ = "/sys/fs/cgroup/" + name;
      parent_ = "/sys/fs/cgroup";
      v2_ = true;
      Write(parent_ + "/cgroup.subtree_control", "+cpu");
    } else {
      error = "no cgroup cpu controller mounted";
      return;
    }
    std::error_code ec;
    fs::create_directory(dir_, ec);
    if (ec) {
      error = "cannot create " + dir_ + ": " + ec.message();
      return;
    }
    bool ok = v2_ ? Write(dir_ + "/cpu.max", std::to_string(percent * 1000) + " 100000")
                  : Write(dir_ + "/cpu.cfs_period_us", "100000") &&
                        Write(dir_ + "/cpu.cfs_quota_us", std::to_string(percent * 1000));
    if (!ok || !Write(dir_ + "/cgroup.procs", std::to_string(pid_))) error = "cannot set a CPU quota in " + dir_;
  }
  void Lift() { v2_ ? Write(dir_ + "/cpu.max", "max 100000") : Write(dir_ + "/cpu.cfs_quota_us", "-1"); }
  ~CpuQuota() {
    if (dir_.empty()) return;
    Lift();
    if (kill(pid_, 0) == 0) Write(parent_ + "/cgroup.procs", std::to_string(pid_));
    std::error_code ec;
    std::filesystem::remove(dir_, ec);
  }
  std::string error;

 private:
  static bool Write(const std::string& path, const std::string& value) {
    std::ofstream f(path);
    f << value;
    f.flush();
    return static_cast<bool>(f);
  }
  pid_t pid_;
  std::string dir_, parent_;
  bool v2_ = false;
};

// The process running `parley join` for `user` in `channel` (0: none).
pid_t FindClient(const std::string& channel, const std::string& user) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream f(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(" join ") != std::string::npos && cmd.find("--channel " + channel + " ") != std::string::npos &&
        cmd.find("--user " + user + " ") != std::string::npos && cmd.find("nsenter") == std::string::npos)
      return static_cast<pid_t>(std::atoi(e.path().filename().c_str()));
  }
  return 0;
}

// A device that cannot keep up (here: alice's process held to 5 % of a CPU for 8 s)
// says so with 0x01060101, lowers its video until it can, and once the load is gone
// gives the levels back and says so with 0x01060102. Bob sees smaller video from alice
// meanwhile, and video again at the end. (What was measured, in docs/network-lab.md.)
TEST_F(Lab, ADeviceThatCannotKeepUpLowersItsVideoAndSaysSoThenRestoresIt) {
  const std::vector<std::string> video = {"--width", "640", "--height", "360", "--fps", "30"};
  std::thread ta([&] { alice_ = test::RunCommand(lab_.JoinArgs("cpu", "alice", 36, video)); });
  std::thread tb([&] { bob_ = test::RunCommand(lab_.JoinArgs("cpu", "bob", 36, video)); });
  std::this_thread::sleep_for(std::chrono::seconds(6));
  pid_t alice = FindClient("cpu", "alice");
  {
    ASSERT_NE(alice, 0);
    CpuQuota quota(alice, 5);
    if (!quota.error.empty()) {
      ta.join();
      tb.join();
      GTEST_SKIP() << "cannot hold a process to a CPU quota here: " << quota.error;
    }
    std::this_thread::sleep_for(std::chrono::seconds(8));
  }  // lifted
  ta.join();
  tb.join();
  EXPECT_EQ(alice_.status, 0) << alice_.err << alice_.out;
  auto warnings = LabEnvironment::Events(alice_.out, "warning");
  std::vector<std::string> load;
  for (const auto& w : warnings)
    if (w.value("hex", "").rfind("0x010601", 0) == 0) load.push_back(w.value("hex", ""));
  EXPECT_EQ(load, (std::vector<std::string>{"0x01060101", "0x01060102"})) << alice_.out << alice_.err;
  // What bob received from alice: full size before, smaller while alice could not keep
  // up, and video still coming at the end.
  auto stats = LabEnvironment::StatsEvents(bob_.out);
  ASSERT_GE(stats.size(), 30u) << bob_.out;
  int before = 0, smallest = 1 << 30;
  for (const auto& st : stats) {
    json a = st["received"].value("alice", json::object());
    int width = a.value("width", 0);
    if (st.value("t", 0.0) < 5.5 && width) before = width;
    if (st.value("t", 0.0) > 6 && width) smallest = std::min(smallest, width);
  }
  EXPECT_EQ(before, 640) << bob_.out;
  EXPECT_LT(smallest, 640) << bob_.out;
  EXPECT_GT(stats.back()["received"].value("alice", json::object()).value("fps", 0), 5) << stats.back().dump();
}

// The control socket is an input surface: junk, an endless line and a silent client
// are each answered with an error, and the link keeps carrying packets meanwhile.
TEST_F(Lab, TheControlSocketAnswersJunkAndKeepsTheLinkUp) {
  auto send_raw = [&](const std::string& bytes, bool close_write) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, lab_.control_path().c_str(), lab_.control_path().size() + 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    if (!bytes.empty()) (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (close_write) shutdown(fd, SHUT_WR);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string reply;
    char buf[512];
    ssize_t n = 0;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
    close(fd);
    return reply;
  };
  EXPECT_EQ(send_raw(std::string(10000, 'x'), false).rfind("error: command longer", 0), 0u);
  EXPECT_EQ(send_raw(std::string("\x01\xff\x00uplink\n", 10), false).rfind("error", 0), 0u);
  EXPECT_EQ(send_raw("uplink loss=200%\n", false).rfind("error: loss=200%", 0), 0u);
  EXPECT_EQ(send_raw("outage 0\n", false).rfind("error", 0), 0u);
  EXPECT_EQ(send_raw("profile " + std::string(500, 'p') + "\n", false).rfind("error: unknown profile", 0), 0u);
  EXPECT_EQ(send_raw("", true), "error: no command\n");
  EXPECT_EQ(send_raw("", false), "error: no command\n");  // silent: answered after 2 s
  // Still configurable and still carrying: a short call works.
  EXPECT_EQ(lab_.Ctl("both delay=20ms"), "ok\n");
  Call(6, [] {});
  auto stats = LabEnvironment::StatsEvents(alice_.out);
  ASSERT_FALSE(stats.empty()) << alice_.out;
  EXPECT_GT(stats.back()["received"].value("bob", json::object()).value("audioMs", 0), 500) << alice_.out;
}

}  // namespace
}  // namespace parley::netlab
