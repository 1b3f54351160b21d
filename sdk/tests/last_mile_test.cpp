// The last-mile probe end to end: an engine probes a real parleyd on loopback with the
// credentials a join would use; the server checks them, grants the probe and serves it
// on its media port. What loopback measures is a clean path: everything sent arrives.
// (Through a capped and a lossy link: tests/netlab/lab_probe_test.cpp.)
#include <gtest/gtest.h>

#include "engine_support.hpp"

namespace parley {
namespace {

class LastMileProbe : public Probe {
 public:
  void OnLastMileDetectResult(NetworkQuality q) override {
    Locked([&] { quality = q; });
  }
  void OnLastMileProbeResult(int32_t code, const LastMileProbeResult& r) override {
    Locked([&] {
      result_code = code;
      result = r;
      ++results;
    });
    cv.notify_all();
  }
  std::optional<NetworkQuality> quality;
  int32_t result_code = -1;
  LastMileProbeResult result;
  int results = 0;
};

TEST(LastMile, ProbesTheServersMediaPortWithTheJoinsCredentials) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Config(server, "null");
  cfg.video_source = "null";
  Engine engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  ASSERT_TRUE(engine);
  LastMileProbe probe;
  engine->SetEngineEventListener(&probe);

  EXPECT_EQ(engine->StartLastMileDetect(Auth(app, "room", "alice").token, {true, true, 0, 1000}),
            Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(engine->StopLastMileDetect(), Code(Errc::kInvalidState));
  LastMileProbeConfig config;
  config.expected_uplink_kbps = 1500;
  config.expected_downlink_kbps = 800;
  ASSERT_EQ(engine->StartLastMileDetect(Auth(app, "room", "alice"), config), 0);
  EXPECT_EQ(engine->StartLastMileDetect(Auth(app, "room", "alice"), config), Code(Errc::kInvalidState));
  ASSERT_TRUE(probe.WaitFor([&] { return probe.results > 0; }, std::chrono::seconds(20)));
  std::lock_guard<std::mutex> lock(probe.mu);
  EXPECT_EQ(probe.result_code, 0);
  EXPECT_EQ(probe.result.state, LastMileProbeState::kComplete);
  ASSERT_TRUE(probe.quality);
  EXPECT_LE(static_cast<int>(*probe.quality), static_cast<int>(NetworkQuality::kGood));
  // Loopback carries what is sent: the measured rates are the ones asked for.
  EXPECT_EQ(probe.result.uplink.packet_loss_percent, 0);
  EXPECT_EQ(probe.result.downlink.packet_loss_percent, 0);
  EXPECT_GE(probe.result.uplink.available_bandwidth_kbps, 1500 * 8 / 10);
  EXPECT_LE(probe.result.uplink.available_bandwidth_kbps, 1500 * 13 / 10);
  EXPECT_GE(probe.result.downlink.available_bandwidth_kbps, 800 * 8 / 10);
  EXPECT_LE(probe.result.downlink.available_bandwidth_kbps, 800 * 13 / 10);
  EXPECT_GE(probe.result.rtt_ms, 0);
}

TEST(LastMile, BadCredentialsAreTheServersRefusalAndTheEngineProbesAgain) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Config(server, "null");
  cfg.video_source = "null";
  Engine engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  ASSERT_TRUE(engine);
  LastMileProbe probe;
  engine->SetEngineEventListener(&probe);
  App wrong{app.id, "0123456789abcdef0123456789abcdef"};
  ASSERT_EQ(engine->StartLastMileDetect(Auth(wrong, "room", "alice").token), 0);
  ASSERT_TRUE(probe.WaitFor([&] { return probe.results > 0; }, std::chrono::seconds(20)));
  {
    std::lock_guard<std::mutex> lock(probe.mu);
    EXPECT_EQ(probe.result_code, Code(Errc::kTokenInvalid));
    EXPECT_FALSE(probe.quality) << "no verdict without a measurement";
  }
  // Over, so another may start; stopped early, it tells nothing.
  ASSERT_EQ(engine->StartLastMileDetect(Auth(app, "room", "alice").token), 0);
  EXPECT_EQ(engine->StopLastMileDetect(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::lock_guard<std::mutex> lock(probe.mu);
  EXPECT_EQ(probe.results, 1);
}

}  // namespace
}  // namespace parley
