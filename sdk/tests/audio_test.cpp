// Audio through real devices: a private PulseAudio server whose null sink is the
// speaker and whose monitor is the microphone, so that everything played is captured
// again at full strength — the worst echo a call can have. Bob sends a tone; Alice
// plays it and her microphone hears it; Bob measures how loud his own tone comes back
// in Alice's audio.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"
#include "pulse_server.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

int32_t Code(Errc e) {
  return static_cast<int32_t>(e);
}

struct Loop {
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> alice{nullptr, &RtcEngine::Destroy};
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> bob{nullptr, &RtcEngine::Destroy};
};

// Alice with the null sink as speaker and its monitor as microphone; Bob with a tone.
// Both join `channel`; the probe hears what Bob receives.
void StartLoop(Loop& loop, Probe& pa, Probe& pb, const test::ServerProcess& server, const App& app,
               const AudioProcessingConfig& processing, const std::string& channel) {
  EngineConfig acfg = Config(server, "null");
  acfg.audio_source = "device:parley_sink.monitor";
  acfg.audio_playout = "device:parley_sink";
  acfg.video_source = "null";
  acfg.audio_processing = processing;
  EngineConfig bcfg = Config(server, "test:tone:880");
  bcfg.video_source = "null";
  loop.alice.reset(RtcEngine::Create(acfg));
  loop.bob.reset(RtcEngine::Create(bcfg));
  ASSERT_TRUE(loop.alice && loop.bob);
  loop.alice->SetEngineEventListener(&pa);
  loop.bob->SetEngineEventListener(&pb);
  loop.bob->SetMediaFrameObserver(&pb);
  ASSERT_EQ(loop.alice->JoinChannel(Auth(app, channel, "alice"), "Alice"), 0);
  ASSERT_EQ(loop.bob->JoinChannel(Auth(app, channel, "bob"), "Bob"), 0);
  // Alice's audio arrives, then two seconds more: the loop is closed (and an echo
  // canceller has had time to learn it; what it cancels comes as silence, of which
  // Opus sends next to nothing).
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 4800; }, 20s)) << "no audio from alice";
  std::this_thread::sleep_for(2s);
}

// The level of Alice's audio at Bob over the next `seconds` (silence may come as
// little audio: Opus sends next to nothing through it).
double Measure(Probe& pb, int seconds) {
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    pb.audio["alice"] = {};
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  return pb.LevelDb("alice");
}

TEST(Audio, EchoCancellationKeepsTheFarEndOutOfTheMicrophone) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  test::ServerProcess server;
  App app = CreateApp(server);
  auto level = [&](const AudioProcessingConfig& processing, const std::string& channel) {
    Loop loop;
    Probe pa, pb;
    StartLoop(loop, pa, pb, server, app, processing, channel);
    double db = Measure(pb, 3);
    loop.alice.reset();  // before the probes
    loop.bob.reset();
    return db;
  };
  const double off = level({false, false, false}, "echo-off");
  const double aec = level({true, false, false}, "echo-aec");
  const double all = level({}, "echo-all");
  std::printf("bob's tone back from alice: %.1f dBFS unprocessed, %.1f with echo cancellation, %.1f with all 3A\n", off,
              aec, all);
  EXPECT_GT(off, -40) << "the loop does not carry the tone";
  EXPECT_LT(aec, off - 20) << "echo cancellation took out less than 20 dB";
  EXPECT_LT(all, off - 20) << "the default processing took out less than 20 dB";
}

// Alice's playout volume, per user and for everything, changes what her speaker plays
// (and so what her microphone hears back); her decoded audio stays as received.
TEST(Audio, PlayoutVolumeAndMuteChangeWhatTheSpeakerPlays) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  test::ServerProcess server;
  App app = CreateApp(server);
  Loop loop;
  Probe pa, pb;
  StartLoop(loop, pa, pb, server, app, {false, false, false}, "volume");
  RtcEngine& alice = *loop.alice;
  EXPECT_EQ(alice.SetRemoteAudioVolume("bob", 401), Code(Errc::kInvalidField));
  EXPECT_EQ(alice.SetPlayoutVolume(-1), Code(Errc::kInvalidField));
  EXPECT_EQ(alice.MuteRemoteAudioPlaying("", true), Code(Errc::kInvalidField));
  const double full = Measure(pb, 2);
  ASSERT_EQ(alice.SetRemoteAudioVolume("bob", 25), 0);  // -12 dB
  std::this_thread::sleep_for(300ms);
  const double quarter = Measure(pb, 2);
  ASSERT_EQ(alice.SetRemoteAudioVolume("bob", 100), 0);
  ASSERT_EQ(alice.MuteRemoteAudioPlaying("bob", true), 0);
  std::this_thread::sleep_for(300ms);
  const double muted = Measure(pb, 2);
  ASSERT_EQ(alice.MuteRemoteAudioPlaying("bob", false), 0);
  ASSERT_EQ(alice.SetPlayoutVolume(0), 0);
  std::this_thread::sleep_for(300ms);
  const double silent = Measure(pb, 2);
  ASSERT_EQ(alice.SetPlayoutVolume(100), 0);
  std::this_thread::sleep_for(300ms);
  const double back = Measure(pb, 2);
  std::printf("played back: %.1f dBFS full, %.1f at 25 %%, %.1f muted, %.1f playout 0, %.1f again\n", full, quarter,
              muted, silent, back);
  EXPECT_NEAR(quarter, full - 12, 4);
  EXPECT_LT(muted, full - 40);
  EXPECT_LT(silent, full - 40);
  EXPECT_NEAR(back, full, 3);
  loop.alice.reset();
  loop.bob.reset();
}

}  // namespace
}  // namespace parley
