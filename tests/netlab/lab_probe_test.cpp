// The last-mile probe through the network lab: `parley doctor` in the client namespace
// probes the real parleyd across parley-netem's link, shaped one way at a time, and
// what it measures is what the link was told to be. The numbers are the probe's output
// (bandwidth, loss), checked against the link's settings with the slack a 2 s sample
// needs; no timing is asserted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "lab_env.hpp"
#include "run_command.hpp"

namespace parley::netlab {
namespace {

using nlohmann::json;

class LabProbe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() == 0) entered_ = LabEnvironment::Enter();
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (the network lab)";
    ASSERT_EQ(entered_, "");
    ASSERT_EQ(lab_.Start(), "");
  }
  // `parley doctor --json` with a probe of `up` and `down` kbit/s; its probe object.
  json Doctor(int up, int down) {
    auto r = test::RunCommand(
        lab_.CliArgs({"doctor", "--json", "--up", std::to_string(up), "--down", std::to_string(down)}));
    auto out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << r.out << r.err;
    EXPECT_TRUE(out.is_object() && out.contains("probe")) << r.out << r.err;
    if (!out.is_object() || !out.contains("probe")) return json::object();
    std::printf("the probe measured: %s\n", out["probe"].dump().c_str());  // for the test log
    return out["probe"];
  }

  static inline std::string entered_ = "not entered";
  LabEnvironment lab_{PARLEY_NETEM, PARLEY_CLI};
};

TEST_F(LabProbe, AnUplinkCapIsMeasuredAsTheUplinksBandwidth) {
  ASSERT_EQ(lab_.Ctl("uplink rate=600k"), "ok\n");
  json p = Doctor(1500, 1000);
  ASSERT_TRUE(p.contains("uplink"));
  // The cap lets 600 kbit/s of IP through; the probe counts its UDP payloads.
  const int up = p["uplink"]["bandwidthKbps"];
  EXPECT_GE(up, 450) << p.dump();
  EXPECT_LE(up, 650) << p.dump();
  EXPECT_GT(p["uplink"]["lossPercent"].get<int>(), 30) << "1500 asked, 600 carried: the rest is dropped";
  EXPECT_GE(p["downlink"]["bandwidthKbps"].get<int>(), 800) << p.dump();
  EXPECT_LE(p["downlink"]["lossPercent"].get<int>(), 2) << p.dump();
  EXPECT_GE(p["quality"].get<int>(), 2) << "a starved uplink is not a good network";
}

TEST_F(LabProbe, RandomLossOnTheDownlinkIsMeasuredAsItsLoss) {
  ASSERT_EQ(lab_.Ctl("downlink loss=10%"), "ok\n");
  json p = Doctor(1000, 2000);
  ASSERT_TRUE(p.contains("downlink"));
  const int loss = p["downlink"]["lossPercent"];
  EXPECT_GE(loss, 5) << p.dump();
  EXPECT_LE(loss, 16) << p.dump();
  EXPECT_LE(p["uplink"]["lossPercent"].get<int>(), 2) << p.dump();
}

}  // namespace
}  // namespace parley::netlab
