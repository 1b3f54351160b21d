// Devices during a call: a new microphone, camera or speaker takes over in the running
// pipelines (the publish connection goes on: the server's packet count for it keeps
// growing), and devices the system adds or removes are told, with a fallback to the
// system's default when the one in use goes. Real devices come from a private
// PulseAudio server: a null sink is a speaker, its monitor a microphone that hears it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "engine_support.hpp"
#include "pulse_server.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

// The server's count of RTP packets on `user`'s publish connection (a new connection
// starts again from zero).
int64_t PublishedPackets(const test::ServerProcess& server, const App& app, const std::string& channel,
                         const std::string& user) {
  auto r = test::HttpRequest(server.port(), "GET", "/v1/admin/apps/" + app.id + "/channels", "", server.admin_key());
  const json body = json::parse(r.body);
  for (const auto& c : body["channels"])
    if (c["channelId"] == channel)
      for (const auto& u : c["users"])
        if (u["userId"] == user && u.contains("media")) return u["media"]["rtpPackets"].get<int64_t>();
  return -1;
}

TEST(Devices, ATestSourceAndACameraChangeInPlaceDuringACall) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig bcfg = Config(server, "test:tone:440");
  EngineConfig acfg = Config(server, "null");
  acfg.video_source = "null";
  Probe pa, pb;  // before the engines, which call them until they go
  Engine alice(RtcEngine::Create(acfg), &RtcEngine::Destroy), bob(RtcEngine::Create(bcfg), &RtcEngine::Destroy);
  ASSERT_TRUE(alice && bob);
  alice->SetEngineEventListener(&pa);
  alice->SetMediaFrameObserver(&pa);
  bob->SetEngineEventListener(&pb);
  // The form of an id is checked at once.
  EXPECT_EQ(bob->SetRecordingDevice("test:pattern"), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(bob->SetRecordingDevice("test:tone:4x"), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(bob->SetCameraDevice("device:"), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(bob->SetPlayoutDevice("test:tone"), Code(Errc::kPublishConfigInvalid));
  ASSERT_EQ(alice->JoinChannel(Auth(app, "swap", "alice"), "Alice"), 0);
  ASSERT_EQ(bob->JoinChannel(Auth(app, "swap", "bob"), "Bob"), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.audio["bob"].samples > 48000 && pa.frames["bob"] > 15; }, 20s));
  pa.Listen("bob", 1500ms);
  const double before = pa.Frequency("bob");
  const int ball = pa.Locked([&] { return pa.luma_mean["bob"]; });
  const int64_t packets = PublishedPackets(server, app, "swap", "bob");

  ASSERT_EQ(bob->SetRecordingDevice("test:tone:880"), 0);
  ASSERT_EQ(bob->SetCameraDevice("test:bars"), 0);
  std::this_thread::sleep_for(500ms);
  pa.Listen("bob", 1500ms);
  const double after = pa.Frequency("bob");
  const int bars = pa.Locked([&] { return pa.luma_mean["bob"]; });
  const int64_t later = PublishedPackets(server, app, "swap", "bob");
  std::printf("bob's tone %.0f Hz then %.0f Hz; camera luma %d then %d; packets %lld then %lld\n", before, after, ball,
              bars, static_cast<long long>(packets), static_cast<long long>(later));
  EXPECT_NEAR(before, 440, 40);
  EXPECT_NEAR(after, 880, 60);
  EXPECT_LT(ball, 70) << "the moving ball is mostly black";
  EXPECT_GT(bars, 100) << "colour bars are bright";
  EXPECT_GT(later, packets + 50) << "the publish connection went on (a new one counts from zero)";
  pb.Locked([&] { EXPECT_TRUE(pb.errors.empty()) << pb.errors.front().second; });
  alice.reset();
  bob.reset();
}

// pactl against the private server; the module's index for `load-module`.
std::string Pactl(const PulseServer& pulse, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/pactl", "-s", pulse.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = test::RunCommand(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r.out;
}

// Alice's microphone hears her speaker (the null sink's monitor), so Bob hears his own
// tone back from her while both are on the same sink. A headset is plugged in: her
// speaker moves to it (her microphone hears nothing), then her microphone (the tone
// comes back). The headset is pulled: both fall back to the defaults, with the codes.
TEST(Devices, APluggedHeadsetIsUsedAndItsRemovalFallsBackToTheDefaults) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "device:parley_sink.monitor");
  acfg.audio_playout = "device:parley_sink";
  acfg.video_source = "null";
  acfg.audio_processing = {false, false, false};
  EngineConfig bcfg = Config(server, "test:tone:880");
  bcfg.video_source = "null";
  Probe pa, pb;  // before the engines, which call them until they go
  Engine alice(RtcEngine::Create(acfg), &RtcEngine::Destroy), bob(RtcEngine::Create(bcfg), &RtcEngine::Destroy);
  ASSERT_TRUE(alice && bob);
  alice->SetEngineEventListener(&pa);
  bob->SetEngineEventListener(&pb);
  bob->SetMediaFrameObserver(&pb);
  ASSERT_EQ(alice->JoinChannel(Auth(app, "plug", "alice"), "Alice"), 0);
  ASSERT_EQ(bob->JoinChannel(Auth(app, "plug", "bob"), "Bob"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 48000; }, 20s)) << "no audio from alice";
  std::this_thread::sleep_for(1s);
  pb.Listen("alice", 1500ms);
  const double looped = pb.LevelDb("alice");
  EXPECT_EQ(alice->SetRecordingDevice("device:no-such-microphone"), Code(Errc::kAudioRecordDeviceNotFound));
  EXPECT_EQ(alice->SetPlayoutDevice("device:no-such-speaker"), Code(Errc::kAudioPlayDeviceNotFound));

  const std::string module = Pactl(pulse, {"load-module", "module-null-sink", "sink_name=headset"});
  ASSERT_TRUE(pa.WaitFor(
      [&] {
        return pa.HasDevice("headset", DeviceState::kAdded) && pa.HasDevice("headset.monitor", DeviceState::kAdded);
      },
      10s))
      << "the headset was not announced";
  const int64_t packets = PublishedPackets(server, app, "plug", "alice");
  ASSERT_EQ(alice->SetPlayoutDevice("device:headset"), 0);
  std::this_thread::sleep_for(700ms);
  pb.Listen("alice", 1500ms);
  const double speaker_moved = pb.LevelDb("alice");
  ASSERT_EQ(alice->SetRecordingDevice("device:headset.monitor"), 0);
  std::this_thread::sleep_for(700ms);
  pb.Listen("alice", 1500ms);
  const double mic_moved = pb.LevelDb("alice");
  const double mic_freq = pb.Frequency("alice");
  const int64_t later = PublishedPackets(server, app, "plug", "alice");

  Pactl(pulse, {"unload-module", module});
  ASSERT_TRUE(pa.WaitFor(
      [&] {
        return pa.HasDevice("headset", DeviceState::kRemoved) && pa.HasError(Code(Errc::kAudioRecordDeviceNotFound)) &&
               pa.HasError(Code(Errc::kAudioPlayDeviceNotFound));
      },
      10s))
      << "the headset's removal was not told";
  std::this_thread::sleep_for(1s);
  pb.Listen("alice", 1500ms);
  const double fell_back = pb.LevelDb("alice");
  std::printf(
      "bob's tone back from alice: %.1f dBFS looped, %.1f speaker on the headset, %.1f microphone too "
      "(%.0f Hz), %.1f after the headset went; packets %lld then %lld\n",
      looped, speaker_moved, mic_moved, mic_freq, fell_back, static_cast<long long>(packets),
      static_cast<long long>(later));
  EXPECT_GT(looped, -40) << "the loop does not carry the tone";
  EXPECT_LT(speaker_moved, looped - 30) << "the speaker did not move to the headset";
  EXPECT_NEAR(mic_moved, looped, 6) << "the microphone did not move to the headset";
  EXPECT_NEAR(mic_freq, 880, 60);
  EXPECT_GT(later, packets + 50) << "the publish connection went on";
  EXPECT_NEAR(fell_back, looped, 6) << "the defaults did not take over";
  alice.reset();
  bob.reset();
}

// The device checks before joining: the speaker's test tone, played into the null sink,
// is what the microphone check hears from its monitor; silence before and after.
TEST(Devices, TheSpeakerCheckIsHeardByTheMicrophoneCheck) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  test::ServerProcess server;
  EngineConfig cfg = Config(server, "device:parley_sink.monitor");
  cfg.audio_playout = "device:parley_sink";
  Probe p;
  Engine engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  ASSERT_TRUE(engine);
  engine->SetEngineEventListener(&p);
  EXPECT_EQ(engine->StartAudioCaptureTest("auto"), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(engine->StartAudioPlayoutTest("test:tone"), Code(Errc::kPublishConfigInvalid));
  ASSERT_EQ(engine->StartAudioCaptureTest(""), 0);
  const int quiet = p.LoudestTestLevel(5);
  ASSERT_EQ(engine->StartAudioPlayoutTest(""), 0);
  std::this_thread::sleep_for(500ms);
  const int tone = p.LoudestTestLevel(5);
  ASSERT_EQ(engine->StopAudioPlayoutTest(), 0);
  std::this_thread::sleep_for(500ms);
  const int after = p.LoudestTestLevel(5);
  ASSERT_EQ(engine->StopAudioCaptureTest(), 0);
  std::this_thread::sleep_for(600ms);
  p.Locked([&] { p.test_levels.clear(); });
  std::this_thread::sleep_for(600ms);
  const size_t later = p.Locked([&] { return p.test_levels.size(); });
  // A microphone that is not a device of this system: its code, through the listener.
  ASSERT_EQ(engine->StartAudioCaptureTest("external"), 0);
  EXPECT_TRUE(p.WaitFor([&] { return p.HasError(Code(Errc::kPublishConfigInvalid)); }, 5s));
  std::printf("microphone check: %d quiet, %d with the speaker check's tone (-13.5 dBFS RMS: 198), %d after\n", quiet,
              tone, after);
  EXPECT_LT(quiet, 20);
  EXPECT_NEAR(tone, 198, 20);
  EXPECT_LT(after, 20);
  EXPECT_EQ(later, 0U) << "reports after the check stopped";
  engine.reset();
}

}  // namespace
}  // namespace parley
