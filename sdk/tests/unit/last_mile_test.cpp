// The last-mile probe's client without a server: the verdict from what was measured
// (pure), and the probe against a scripted signalling link and a UDP port that never
// answers (time is real but short: the probe's timing is shortened).
#include "probe/last_mile.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <optional>

#include "fake_signal.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk {
namespace {

LastMileMeasured Clean() {
  LastMileMeasured m;
  m.idle_rtts_us = {2000, 3000, 2500};
  m.rtts_us = {2000, 3000, 2500, 40000};
  m.up_asked = m.down_asked = true;
  m.up_expected_kbps = m.down_expected_kbps = 1000;
  m.up_packet_bytes = 1000;
  m.up_sent = 250;
  m.up_received = 250;
  m.up_bytes = 250'000;
  m.up_span_us = 1'992'000;  // 249 packets after the first, 8 ms apart
  m.up_jitter_us = 300;
  m.down_expected = 250;
  m.down_received = 250;
  m.down_bytes = 250'000;
  m.down_first_bytes = 1000;
  m.down_span_us = 1'992'000;
  m.down_jitter_us = 1200;
  return m;
}

TEST(LastMileVerdict, ACleanPathIsExcellentWithWhatWasMeasured) {
  auto v = LastMileVerdict(Clean());
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.result.state, LastMileProbeState::kComplete);
  EXPECT_EQ(v.result.rtt_ms, 3);  // the idle echoes' median: data in flight does not count
  EXPECT_EQ(v.result.uplink.available_bandwidth_kbps, 1000);
  EXPECT_EQ(v.result.uplink.packet_loss_percent, 0);
  EXPECT_EQ(v.result.downlink.available_bandwidth_kbps, 1000);
  EXPECT_EQ(v.result.downlink.jitter_ms, 1);
  EXPECT_EQ(v.quality, NetworkQuality::kExcellent);
}

TEST(LastMileVerdict, LossAndAStarvedDownlinkMakeItWorse) {
  auto lossy = Clean();
  lossy.up_received = 200;  // 20 % of the uplink lost
  lossy.up_bytes = 200'000;
  auto v = LastMileVerdict(lossy);
  EXPECT_EQ(v.result.uplink.packet_loss_percent, 20);
  EXPECT_GE(static_cast<int>(v.quality), static_cast<int>(NetworkQuality::kBad));
  auto starved = Clean();
  starved.down_span_us = 6'000'000;  // a third of what was asked got through
  v = LastMileVerdict(starved);
  EXPECT_EQ(v.result.downlink.available_bandwidth_kbps, 332);
  EXPECT_GE(static_cast<int>(v.quality), static_cast<int>(NetworkQuality::kBad));
}

TEST(LastMileVerdict, AMissingDirectionIsIncompleteAndNoEchoIsAFailure) {
  auto no_down = Clean();
  no_down.down_received = no_down.down_expected = no_down.down_bytes = 0;
  auto v = LastMileVerdict(no_down);
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.result.state, LastMileProbeState::kIncomplete);
  EXPECT_EQ(v.quality, NetworkQuality::kDown);
  auto up_only = Clean();
  up_only.down_asked = false;
  v = LastMileVerdict(up_only);
  EXPECT_EQ(v.result.state, LastMileProbeState::kComplete);
  EXPECT_EQ(v.result.downlink.available_bandwidth_kbps, 0);
  LastMileMeasured silent;
  silent.up_asked = true;
  v = LastMileVerdict(silent);
  EXPECT_EQ(v.code, static_cast<int32_t>(Errc::kLastMileProbeFailed));
}

TEST(LastMileConfig, RatesAndDirectionsAreChecked) {
  EXPECT_TRUE(ValidLastMileConfig({}));
  EXPECT_FALSE(ValidLastMileConfig({false, false, 1000, 1000}));
  EXPECT_FALSE(ValidLastMileConfig({true, true, 99, 1000}));
  EXPECT_FALSE(ValidLastMileConfig({true, true, 1000, 10001}));
  EXPECT_TRUE(ValidLastMileConfig({true, false, 1000, 0}));  // an unprobed direction's rate is not read
}

class LastMileClient : public ::testing::Test {
 protected:
  LastMileTiming Short() {
    LastMileTiming t;
    t.no_answer = std::chrono::milliseconds(300);
    return t;
  }
  std::unique_ptr<LastMileProbe> Make(LastMileProbeConfig config = {}) {
    return std::make_unique<LastMileProbe>(
        io_, fake_.Make([](const nlohmann::json&) {}, [](const std::string&) {}), "ws://127.0.0.1:1/v1/signal",
        proto::JoinCredentials{"a.b.c", std::nullopt}, config, [this](const LastMileOutcome& o) { outcome_ = o; },
        Short());
  }
  void Poll() {
    io_.restart();  // a loop that ran out of work stops
    io_.poll();
  }
  void RunUntilDone() {
    for (int i = 0; i < 300 && !outcome_; ++i) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(10));
    }
  }

  boost::asio::io_context io_;
  testing::FakeSignal fake_{io_};
  std::optional<LastMileOutcome> outcome_;
};

TEST_F(LastMileClient, AsksWithTheCredentialsAndRatesAndPassesARefusalOn) {
  auto probe = Make({true, false, 2500, 1000});
  probe->Start();
  Poll();
  auto sent = fake_.Sent("lastMileProbe");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]->fields["token"], "a.b.c");
  EXPECT_EQ(sent[0]->fields["uplinkKbps"], 2500);
  EXPECT_EQ(sent[0]->fields["downlinkKbps"], 0);
  EXPECT_EQ(sent[0]->timeout_code, Errc::kTimeoutLastMileProbe);
  fake_.Answer("lastMileProbe", static_cast<int32_t>(Errc::kServerBusy), nullptr, "busy");
  RunUntilDone();
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->code, static_cast<int32_t>(Errc::kServerBusy));
}

TEST_F(LastMileClient, AServerWhoseUdpNeverAnswersIsAProbeFailure) {
  int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // bound, never read
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  auto probe = Make();
  probe->Start();
  Poll();
  fake_.Answer("lastMileProbe", 0,
               {{"cookie", std::string(32, 'a')}, {"address", "127.0.0.1"}, {"port", ntohs(a.sin_port)}});
  RunUntilDone();
  close(silent);
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->code, static_cast<int32_t>(Errc::kLastMileProbeFailed));
  EXPECT_EQ(outcome_->result.state, LastMileProbeState::kUnavailable);
}

TEST_F(LastMileClient, AReplyWithoutWhereToProbeIsMalformed) {
  auto probe = Make();
  probe->Start();
  Poll();
  fake_.Answer("lastMileProbe", 0, {{"cookie", "zz"}, {"address", "127.0.0.1"}, {"port", 9}});
  RunUntilDone();
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->code, static_cast<int32_t>(Errc::kMalformedMessage));
}

TEST_F(LastMileClient, DestroyedItTellsNothing) {
  auto probe = Make();
  probe->Start();
  Poll();
  fake_.Answer("lastMileProbe", static_cast<int32_t>(Errc::kServerBusy));
  probe.reset();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(outcome_);
}

}  // namespace
}  // namespace parley::sdk
