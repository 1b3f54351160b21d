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

#include <regex>
#include <string>
#include <thread>

#include "lab_env.hpp"
#include "run_command.hpp"

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
  // Runs `nft` inside the client namespace with `script` on its standard input.
  test::CommandResult Nft(const std::vector<std::string>& args, const std::string& script = {}) const {
    std::vector<std::string> cmd = {LabEnvironment::Which("nft")};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return test::RunCommand(lab_.InClient(cmd), script);
  }
  // The packets the rule counted in `chain` of the test's table.
  int64_t Dropped(const std::string& chain) const {
    auto r = Nft({"list", "chain", "inet", "reach", chain});
    std::smatch m;
    static const std::regex counter("counter packets ([0-9]+)");
    if (!std::regex_search(r.out, m, counter)) return -1;
    return std::stoll(m[1]);
  }

  static inline std::string entered_ = "not entered";
  LabEnvironment lab_{PARLEY_NETEM, PARLEY_CLI};
};

TEST_F(Reach, ANativeCallCrossesAFirewallThatBlocksUdp) {
  StartBehindUdpBlock();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::vector<std::string> video = {"--width", "320", "--height", "240", "--fps", "15"};
  test::CommandResult alice, bob;
  std::thread ta([&] { alice = test::RunCommand(lab_.JoinArgs("reach", "alice", 12, video)); });
  std::thread tb([&] { bob = test::RunCommand(lab_.JoinArgs("reach", "bob", 12, video)); });
  ta.join();
  tb.join();
  for (auto [r, other] : {std::pair{&alice, "bob"}, std::pair{&bob, "alice"}}) {
    EXPECT_EQ(r->status, 0) << r->err << r->out;
    auto stats = LabEnvironment::StatsEvents(r->out);
    ASSERT_FALSE(stats.empty()) << r->err << r->out;
    json got = stats.back()["received"].value(other, json::object());
    EXPECT_GT(got.value("videoFrames", 0), 30) << stats.back().dump() << r->err;
    EXPECT_GT(got.value("audioMs", 0), 4000) << stats.back().dump() << r->err;
    // And the client says how: over ICE-TCP.
    EXPECT_EQ(stats.back().value("transport", json()), "tcp") << stats.back().dump();
  }
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

}  // namespace
}  // namespace parley::netlab
