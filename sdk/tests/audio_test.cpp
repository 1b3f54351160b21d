// Audio profiles end to end (stereo and mono as sent), and audio through real devices: a private PulseAudio server
// whose null sink is the speaker and whose monitor is the microphone, so that everything played is captured again at
// full strength — the worst echo a call can have. Bob sends a tone; Alice plays it and her microphone hears it; Bob
// measures how loud his own tone comes back in Alice's audio.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>
#include <tuple>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"
#include "pulse_server.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

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
  pb.Listen("alice", std::chrono::seconds(seconds));
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

// A stereo profile carries two channels end to end: Eve pushes a tone in the left
// channel and silence in the right, Bob decodes two channels and the right one stays
// silent; Mona, on the default (mono) profile, arrives in one channel. A new profile
// during the call publishes the audio again and it keeps arriving.
TEST(Audio, AStereoProfileArrivesInTwoChannelsAndTheDefaultInOne) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig ecfg = Config(server, "external");
  ecfg.video_source = "null";
  ecfg.audio = {AudioProfile::kStereoHighQuality, AudioScenario::kMusic};
  EngineConfig mcfg = Config(server, "test:tone:660");
  mcfg.video_source = "null";
  EngineConfig bcfg = Config(server, "null");
  bcfg.video_source = "null";
  EngineConfig bad = bcfg;
  bad.audio.profile = static_cast<AudioProfile>(6);
  EXPECT_EQ(RtcEngine::Create(bad), nullptr);
  EXPECT_EQ(RtcEngine::LastCreateError(), Code(Errc::kPublishConfigInvalid));
  Probe pe, pm, pb;
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> eve(RtcEngine::Create(ecfg), &RtcEngine::Destroy);
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> mona(RtcEngine::Create(mcfg), &RtcEngine::Destroy);
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> bob(RtcEngine::Create(bcfg), &RtcEngine::Destroy);
  ASSERT_TRUE(eve && mona && bob);
  eve->SetEngineEventListener(&pe);
  mona->SetEngineEventListener(&pm);
  bob->SetEngineEventListener(&pb);
  bob->SetMediaFrameObserver(&pb);
  EXPECT_EQ(eve->SetAudioProfile(static_cast<AudioProfile>(9), AudioScenario::kSpeech),
            Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(eve->SetAudioProfile(AudioProfile::kLowQuality, static_cast<AudioScenario>(2)),
            Code(Errc::kPublishConfigInvalid));
  ASSERT_EQ(bob->JoinChannel(Auth(app, "stereo", "bob"), "Bob"), 0);
  ASSERT_EQ(eve->JoinChannel(Auth(app, "stereo", "eve"), "Eve"), 0);
  ASSERT_EQ(mona->JoinChannel(Auth(app, "stereo", "mona"), "Mona"), 0);
  ASSERT_TRUE(pe.WaitFor([&] { return pe.published_tracks.count(TrackKind::kAudio) > 0; }, 10s));

  // Real time, 20 ms at a time: 700 Hz on the left, nothing on the right.
  std::atomic<bool> pushing{true};
  std::thread pusher([&] {
    std::vector<int16_t> pcm(960 * 2);
    double phase = 0;
    auto next = std::chrono::steady_clock::now();
    while (pushing) {
      for (size_t i = 0; i < 960; ++i) {
        pcm[i * 2] = static_cast<int16_t>(8000 * std::sin(phase));
        pcm[i * 2 + 1] = 0;
        phase += 2 * M_PI * 700 / 48000;
      }
      eve->PushExternalAudioFrame(pcm.data(), 960, 48000, 2);
      next += 20ms;
      std::this_thread::sleep_until(next);
    }
  });
  const bool arrived =
      pb.WaitFor([&] { return pb.audio["eve"].samples > 96000 && pb.audio["mona"].samples > 48000; }, 20s);
  auto [eve_channels, left, right, mona_channels] = pb.Locked([&] {
    const auto& e = pb.audio["eve"];
    return std::tuple{e.channels, e.energy, e.right_energy, pb.audio["mona"].channels};
  });
  const double separation = 10 * std::log10((left + 1) / (right + 1));
  // The profile changes during the call: the audio is published again and goes on.
  ASSERT_EQ(eve->SetAudioProfile(AudioProfile::kLowQuality, AudioScenario::kSpeech), 0);
  std::this_thread::sleep_for(1s);
  pb.Locked([&] { return pb.audio["eve"] = {}; });
  const bool again = pb.WaitFor([&] { return pb.audio["eve"].samples > 48000; }, 15s);
  pushing = false;
  pusher.join();
  std::printf("eve (stereo): %d channels, right %.1f dB below left; mona (default): %d channel(s)\n", eve_channels,
              separation, mona_channels);
  EXPECT_TRUE(arrived) << pb.audio["eve"].samples << " samples from eve, " << pb.audio["mona"].samples << " from mona";
  EXPECT_EQ(eve_channels, 2);
  EXPECT_GT(separation, 30) << "the right channel carries the left's tone";
  EXPECT_EQ(mona_channels, 1);
  EXPECT_TRUE(again) << "no audio from eve after the new profile";
  EXPECT_NEAR(pb.Frequency("eve"), 700, 60);
  EXPECT_TRUE(pe.errors.empty()) << pe.errors.front().second;
  eve.reset();  // before the probes
  mona.reset();
  bob.reset();
}

}  // namespace
}  // namespace parley
