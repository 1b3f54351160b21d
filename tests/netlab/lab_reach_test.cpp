// Reaching the server from networks that block UDP, through the network lab: a real
// firewall (nftables, inside the client namespace the test creates) drops every UDP
// packet the clients send or receive, and two native clients (the real `parley join`)
// still call each other through parleyd, over ICE-TCP (RFC 6544): the server's passive
// TCP candidate on the media port, libnice's active one. The firewall's own counters
// show that UDP was tried and dropped. Assertions are about what arrives. (The rules
// drop in the output hook, as a host firewall does: a check sent over UDP fails at
// once. A silent drop further away is slower for libnice: docs/deploy.md.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "child_process.hpp"
#include "lab_env.hpp"
#include "run_command.hpp"
#include "server_process.hpp"

namespace parley::netlab {
namespace {

using nlohmann::json;

class Reach : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() == 0) entered_ = LabEnvironment::Enter();
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (the network lab)";
    ASSERT_EQ(entered_, "");
    if (access(LabEnvironment::Which("nft").c_str(), X_OK) != 0) GTEST_SKIP() << "nft is not installed (scripts/setup)";
  }
  // Starts the lab, then blocks every UDP packet, either way, in the clients'
  // namespace: what an office or hotel network that lets only TCP out does.
  void StartBehindUdpBlock(std::vector<std::string> server_flags = {}) {
    ASSERT_EQ(lab_.Start(std::move(server_flags)), "");
    auto set = Nft({"-f", "-"}, R"(table inet reach {
  chain output { type filter hook output priority 0; policy accept; meta l4proto udp counter drop; }
  chain input { type filter hook input priority 0; policy accept; meta l4proto udp counter drop; }
})");
    // A kernel without nf_tables (or a sandbox that forbids it) cannot run these tests.
    if (set.status != 0) GTEST_SKIP() << "nft cannot set rules here: " << set.err;
  }
  // Starts a real TURN server (coturn) on the server's side of the link, 10.77.0.1:3478
  // over UDP and TCP, checking parleyd's time-limited credentials with kTurnSecret, and
  // waits until it accepts connections (the test is skipped without coturn).
  void StartTurn() {
    const std::string turnserver = LabEnvironment::Which("turnserver");
    if (access(turnserver.c_str(), X_OK) != 0) GTEST_SKIP() << "coturn is not installed (scripts/setup)";
    turn_dir_ = ::testing::TempDir() + "turn-" + std::to_string(getpid());
    std::filesystem::create_directories(turn_dir_);
    turn_ = std::make_unique<test::ChildProcess>(std::vector<std::string>{turnserver,
                                                                          "-n",
                                                                          "--listening-ip",
                                                                          LabEnvironment::kServerAddress,
                                                                          "--listening-port",
                                                                          "3478",
                                                                          "--relay-ip",
                                                                          LabEnvironment::kServerAddress,
                                                                          "--min-port",
                                                                          "49160",
                                                                          "--max-port",
                                                                          "49260",
                                                                          "--use-auth-secret",
                                                                          "--static-auth-secret",
                                                                          kTurnSecret,
                                                                          "--realm",
                                                                          "parley.test",
                                                                          "--no-tls",
                                                                          "--no-dtls",
                                                                          "--no-cli",
                                                                          "--no-multicast-peers",
                                                                          "--log-file",
                                                                          "stdout",
                                                                          "--simple-log",
                                                                          "--pidfile",
                                                                          turn_dir_ + "/turn.pid",
                                                                          "--userdb",
                                                                          turn_dir_ + "/turndb"});
    for (int i = 0; i < 100; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(3478);
      inet_pton(AF_INET, LabEnvironment::kServerAddress, &a.sin_addr);
      bool up = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(fd);
      if (up) return;
      if (!turn_->Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "coturn did not start: " << turn_->Output();
  }
  // Two native clients, alice and bob, in `channel` for `seconds`, run side by side.
  std::pair<test::CommandResult, test::CommandResult> CallBothWays(const std::string& channel, int seconds) const {
    const std::vector<std::string> video = {"--width", "320", "--height", "240", "--fps", "15"};
    test::CommandResult alice, bob;
    std::thread ta([&] { alice = test::RunCommand(lab_.JoinArgs(channel, "alice", seconds, video)); });
    std::thread tb([&] { bob = test::RunCommand(lab_.JoinArgs(channel, "bob", seconds, video)); });
    ta.join();
    tb.join();
    return {alice, bob};
  }
  // `r` (a client's output) ended well, received the other's video and more than
  // `audio_ms` of its audio, and last said its media went over `transport`.
  static void ExpectReceived(const test::CommandResult& r, const std::string& other, int audio_ms,
                             const std::string& transport) {
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    auto stats = LabEnvironment::StatsEvents(r.out);
    ASSERT_FALSE(stats.empty()) << r.err << r.out;
    json got = stats.back()["received"].value(other, json::object());
    EXPECT_GT(got.value("videoFrames", 0), 30) << stats.back().dump() << r.err;
    EXPECT_GT(got.value("audioMs", 0), audio_ms) << stats.back().dump() << r.err;
    EXPECT_EQ(stats.back().value("transport", json()), transport) << stats.back().dump();
  }
  // Runs `nft` inside the client namespace with `script` on its standard input.
  test::CommandResult Nft(const std::vector<std::string>& args, const std::string& script = {}) const {
    std::vector<std::string> cmd = {LabEnvironment::Which("nft")};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return test::RunCommand(lab_.InClient(cmd), script);
  }
  // The packets the dropping rule (or the one commented `comment`) counted in `chain`
  // of the test's table `table`.
  int64_t Dropped(const std::string& chain, const std::string& table = "reach", const std::string& comment = "") const {
    auto r = Nft({"list", "chain", "inet", table, chain});
    std::smatch m;
    const std::regex counter(comment.empty()
                                 ? "counter packets ([0-9]+) bytes [0-9]+ drop"
                                 : "counter packets ([0-9]+) bytes [0-9]+ accept comment \"" + comment + "\"");
    if (!std::regex_search(r.out, m, counter)) return -1;
    return std::stoll(m[1]);
  }

  void TearDown() override {
    turn_.reset();  // killed before its files go
    if (!turn_dir_.empty()) std::filesystem::remove_all(turn_dir_);
  }
  static constexpr const char* kTurnSecret = "lab-turn-secret-0123456789";
  static inline std::string entered_ = "not entered";
  std::string turn_dir_;
  std::unique_ptr<test::ChildProcess> turn_;
  LabEnvironment lab_{PARLEY_NETEM, PARLEY_CLI};
};

TEST_F(Reach, ANativeCallCrossesAFirewallThatBlocksUdp) {
  StartBehindUdpBlock();
  if (IsSkipped() || HasFatalFailure()) return;
  auto [alice, bob] = CallBothWays("reach", 12);
  // Media both ways, and each client says how: over ICE-TCP.
  ExpectReceived(alice, "bob", 4000, "tcp");
  ExpectReceived(bob, "alice", 4000, "tcp");
  // UDP was tried (the ICE checks to the server's UDP candidate) and never got through.
  EXPECT_GT(Dropped("output"), 0);
}

// The same firewall and a server that offers no ICE-TCP: no path works, and the app is
// told so with the contract's media-connection code.
TEST_F(Reach, WithNoPathTheAppIsToldWhy) {
  StartBehindUdpBlock({"--no-ice-tcp"});
  if (IsSkipped() || HasFatalFailure()) return;
  auto r = test::RunCommand(lab_.JoinArgs("reach", "alice", 14));
  auto errors = LabEnvironment::Events(r.out, "error");
  ASSERT_FALSE(errors.empty()) << r.out << r.err;
  EXPECT_EQ(errors[0].value("hex", ""), "0x01050201") << r.out;
  // The message names the likely cause, not just the failure.
  EXPECT_NE(errors[0].value("message", "").find("firewall"), std::string::npos) << r.out;
  EXPECT_GT(Dropped("output"), 0);
}

// UDP dropped silently on the way back (the clients' checks leave, the answers never
// arrive: what a network firewall that drops UDP does, seen from the client). libnice
// waits for such a UDP pair to time out (about a minute) before it nominates the ICE-TCP
// pair that works, so the first connections fail the server's connect bound; the SDK
// then tries TCP only, and the call goes on over ICE-TCP.
TEST_F(Reach, WhereUdpIsDroppedSilentlyTheNativeSdkFallsBackToTcp) {
  ASSERT_EQ(lab_.Start({"--media-connect-timeout-ms", "3000"}), "");
  auto set = Nft({"-f", "-"}, R"(table inet reach {
  chain input { type filter hook input priority 0; policy accept; meta l4proto udp counter drop; }
})");
  if (set.status != 0) GTEST_SKIP() << "nft cannot set rules here: " << set.err;
  auto [alice, bob] = CallBothWays("silent", 16);
  for (auto [r, other] : {std::pair{&alice, "bob"}, std::pair{&bob, "alice"}}) {
    // The first connections failed, and the app was told so ...
    auto errors = LabEnvironment::Events(r->out, "error");
    EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const json& e) {
      return e.value("hex", "") == "0x01050201";
    })) << r->out;
    // ... then the call went on over ICE-TCP.
    ExpectReceived(*r, other, 2000, "tcp");
    for (const auto& st : LabEnvironment::StatsEvents(r->out))  // when media began to arrive (a number, not asserted)
      if (st["received"].value(other, json::object()).value("videoFrames", 0) > 0) {
        std::cout << "# " << other << "'s video arrived by t=" << st.value("t", 0.0) << " s (over "
                  << st.value("transport", json()).dump() << ")\n";
        break;
      }
  }
  EXPECT_GT(Dropped("input"), 0) << "the answers to UDP checks were dropped";
}

// A network that lets nothing through but TCP to the signalling port and to a TURN
// server (no UDP at all, no TCP to the media port): the clients get the relay and its
// credentials with their join, allocate through coturn over TCP, and the call goes
// through the relay (coturn to parleyd over UDP on the server's side).
TEST_F(Reach, ANativeCallGoesThroughATurnRelayWhenNothingElseGetsOut) {
  const std::string turn_url = std::string("turn:") + LabEnvironment::kServerAddress + ":3478?transport=tcp";
  StartBehindUdpBlock({"--turn-url", turn_url, "--turn-secret", kTurnSecret});
  if (IsSkipped() || HasFatalFailure()) return;
  StartTurn();  // on the server's side of the link, which is up now
  if (IsSkipped() || HasFatalFailure()) return;
  // And TCP only to the signalling port and the relay.
  auto tcp = Nft({"-f", "-"},
                 "table inet reach_tcp {\n  chain output { type filter hook output priority 0; policy accept; "
                 "tcp dport 3478 counter accept comment \"relayed\"; tcp dport != " +
                     std::to_string(lab_.server().port()) + " counter drop; }\n}\n");
  ASSERT_EQ(tcp.status, 0) << tcp.err;
  auto [alice, bob] = CallBothWays("relay", 12);
  // (webrtcbin 1.22 does not say over what the client reaches its relay.)
  ExpectReceived(alice, "bob", 4000, "relay");
  ExpectReceived(bob, "alice", 4000, "relay");
  // The direct ways were tried and dropped; coturn allocated relays.
  EXPECT_GT(Dropped("output"), 0);
  EXPECT_GT(Dropped("output", "reach_tcp"), 0) << "TCP to the media port was tried";
  EXPECT_GT(Dropped("output", "reach_tcp", "relayed"), 100) << "the media went to the relay";
}

// The sum of a metric's series in the server's /metrics ("" matches every label set).
double Metric(int port, const std::string& name, const std::string& labels = "") {
  double sum = 0;
  std::istringstream in(test::HttpRequest(port, "GET", "/metrics").body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// One port for everything (--one-port): nothing gets out but TCP to the signalling
// port. The server offers ICE-TCP on that very port, tells the clients' ICE-TCP
// connections from their HTTPS/WebSocket ones by their first bytes, and hands each to
// the worker its ufrag names; the call goes through the one port.
TEST_F(Reach, InOnePortModeMediaGoesThroughTheSignallingPort) {
  StartBehindUdpBlock({"--one-port", "--media-workers", "2"});
  if (IsSkipped() || HasFatalFailure()) return;
  const int port = lab_.server().port();
  auto tcp = Nft({"-f", "-"},
                 "table inet reach_tcp {\n  chain output { type filter hook output priority 0; policy accept; "
                 "tcp dport != " +
                     std::to_string(port) + " counter drop; }\n}\n");
  ASSERT_EQ(tcp.status, 0) << tcp.err;
  auto [alice, bob] = CallBothWays("oneport", 12);
  ExpectReceived(alice, "bob", 4000, "tcp");
  ExpectReceived(bob, "alice", 4000, "tcp");
  EXPECT_GT(Dropped("output"), 0) << "UDP was tried";
  // Each client's publish and subscribe connections came in through the signalling
  // port, beside its WebSocket.
  EXPECT_GE(Metric(port, "parley_one_port_connections_total", "kind=\"media\""), 4);
  EXPECT_GE(Metric(port, "parley_one_port_connections_total", "kind=\"signalling\""), 2);
}

// And UDP, where it is allowed, on one port for every worker: the firewall lets UDP out
// to that port only. Two workers, the channel's subscribers spread over both (the
// kernel picks which worker's socket a client's datagrams reach first; its check is
// passed to the worker of its transport, which then holds a socket connected to it).
TEST_F(Reach, InOnePortModeEveryWorkerTakesUdpOnTheOnePort) {
  constexpr int kMediaPort = 47600;
  ASSERT_EQ(lab_.Start({"--one-port", "--media-workers", "2", "--media-port", std::to_string(kMediaPort),
                        "--media-spread-at", "1"}),
            "");
  const int port = lab_.server().port();
  auto set = Nft({"-f", "-"},
                 "table inet reach {\n  chain output { type filter hook output priority 0; policy "
                 "accept; udp dport != " +
                     std::to_string(kMediaPort) + " counter drop; tcp dport != " + std::to_string(port) +
                     " counter drop; }\n}\n");
  if (set.status != 0) GTEST_SKIP() << "nft cannot set rules here: " << set.err;
  auto [alice, bob] = CallBothWays("oneudp", 12);
  ExpectReceived(alice, "bob", 4000, "udp");
  ExpectReceived(bob, "alice", 4000, "udp");
  std::cout << "# checks handed over between workers: " << Metric(port, "parley_media_checks_handed_over_total")
            << "\n";
}

}  // namespace
}  // namespace parley::netlab
