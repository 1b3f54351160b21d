// The accompaniment with real media: a WAV tone mixed into what Alice publishes, as
// Bob hears it (its level and frequency), through pause, volume, stop, loops and the
// end; replacing the microphone; played through the local playout into a PulseAudio
// null sink, before any call, where a microphone check on its monitor hears it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "engine_support.hpp"
#include "pulse_server.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;
using State = AudioAccompanyState;

TEST(Accompaniment, IsMixedIntoThePublishedMicrophoneAndObeysItsControls) {
  const std::string wav = test::MakeTestWav("accompany", 4, 1000);
  ASSERT_FALSE(wav.empty());
  AudioPair pair("test:silence");
  ASSERT_TRUE(pair.alice && pair.bob);
  Engine &alice = pair.alice, &bob = pair.bob;
  Probe &pa = pair.pa, &pb = pair.pb;
  // Refused at once: a bad config, a file that is not there, controls with nothing playing.
  AudioAccompanyConfig bad;
  bad.loop_cycles = 0;
  EXPECT_EQ(alice->StartAudioAccompany(wav, bad), Code(Errc::kPublishConfigInvalid));
  bad = {};
  bad.publish_volume = 101;
  EXPECT_EQ(alice->StartAudioAccompany(wav, bad), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(alice->StartAudioAccompany("/nonexistent/song.wav", {}), Code(Errc::kMediaFileOpenFailed));
  EXPECT_EQ(alice->PauseAudioAccompany(), Code(Errc::kInvalidState));
  EXPECT_EQ(alice->SetAudioAccompanyVolume(50), Code(Errc::kInvalidState));
  EXPECT_EQ(alice->GetAudioAccompanyDuration(), -1);

  ASSERT_TRUE(pair.Join("karaoke"));
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 9600; }, 20s)) << "no audio from alice";
  pb.Listen("alice", 1500ms);
  const double before = pb.LevelDb("alice");

  AudioAccompanyConfig config;
  config.local_play = false;
  config.loop_cycles = -1;
  ASSERT_EQ(alice->StartAudioAccompany(wav, config), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kStarted); }, 10s));
  std::this_thread::sleep_for(500ms);
  pb.Listen("alice", 1500ms);
  const double playing = pb.LevelDb("alice");
  const double freq = pb.Frequency("alice");
  const int64_t duration = alice->GetAudioAccompanyDuration();
  const int64_t position = alice->GetAudioAccompanyCurrentPosition();

  ASSERT_EQ(alice->SetAudioAccompanyPublishVolume(0), 0);
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double volume_zero = pb.LevelDb("alice");
  ASSERT_EQ(alice->SetAudioAccompanyPublishVolume(100), 0);

  ASSERT_EQ(alice->PauseAudioAccompany(), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kPaused); }, 5s));
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double paused = pb.LevelDb("alice");
  const int64_t paused_at = alice->GetAudioAccompanyCurrentPosition();
  std::this_thread::sleep_for(500ms);
  const int64_t still_at = alice->GetAudioAccompanyCurrentPosition();
  ASSERT_EQ(alice->ResumeAudioAccompany(), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kResumed); }, 5s));
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double resumed = pb.LevelDb("alice");

  ASSERT_EQ(alice->StopAudioAccompany(), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kStopped); }, 5s));
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double stopped = pb.LevelDb("alice");
  EXPECT_EQ(alice->ResumeAudioAccompany(), Code(Errc::kInvalidState));
  std::printf(
      "accompaniment at bob: %.1f dBFS before, %.1f playing (%.0f Hz), %.1f at volume 0, %.1f paused, %.1f "
      "resumed, %.1f stopped; duration %lld ms, position %lld, paused at %lld then %lld\n",
      before, playing, freq, volume_zero, paused, resumed, stopped, static_cast<long long>(duration),
      static_cast<long long>(position), static_cast<long long>(paused_at), static_cast<long long>(still_at));
  EXPECT_LT(before, -50);
  EXPECT_GT(playing, -20) << "the file is not in what alice publishes";
  EXPECT_NEAR(freq, 1000, 60);
  EXPECT_NEAR(static_cast<double>(duration), 4000, 100);
  EXPECT_GT(position, 0);
  EXPECT_LT(volume_zero, -50);
  EXPECT_LT(paused, -50);
  EXPECT_LE(std::llabs(paused_at - still_at), 50) << "a paused file does not move on";
  EXPECT_GT(resumed, -20);
  EXPECT_LT(stopped, -50);
  EXPECT_FALSE(pa.Locked([&] { return pa.HasError(Code(Errc::kMediaFileOpenFailed)); }));
  alice.reset();
  bob.reset();
  std::remove(wav.c_str());
}

// Two cycles of a one-second file in place of a 440 Hz microphone: the file is heard,
// then it ends (told once), and the microphone is back. A file with no audio fails.
TEST(Accompaniment, LoopsReplaceTheMicrophoneAndEnd) {
  const std::string wav = test::MakeTestWav("accompany-loop", 1, 1000);
  const std::string video = test::MakeTestWebm("accompany-video", 1, 500);
  ASSERT_FALSE(wav.empty());
  AudioPair pair("test:tone:440");
  ASSERT_TRUE(pair.alice && pair.bob);
  Engine &alice = pair.alice, &bob = pair.bob;
  Probe &pa = pair.pa, &pb = pair.pb;
  ASSERT_TRUE(pair.Join("loops"));
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 9600; }, 20s)) << "no audio from alice";
  pb.Listen("alice", 1000ms);
  const double mic = pb.Frequency("alice");

  AudioAccompanyConfig config;
  config.local_play = false;
  config.replace_mic = true;
  config.loop_cycles = 2;
  ASSERT_EQ(alice->StartAudioAccompany(wav, config), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kStarted); }, 10s));
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double replaced = pb.Frequency("alice");
  const bool second_cycle = pa.Locked([&] { return pa.AccompanyIs(State::kStarted); });
  ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kEnded); }, 10s)) << "the file did not end";
  std::this_thread::sleep_for(300ms);
  pb.Listen("alice", 1000ms);
  const double after = pb.Frequency("alice");
  const size_t states = pa.Locked([&] { return pa.accompany.size(); });
  std::printf("alice's audio at bob: %.0f Hz, %.0f Hz with the file in its place, %.0f Hz after it ended\n", mic,
              replaced, after);
  EXPECT_NEAR(mic, 440, 40);
  EXPECT_NEAR(replaced, 1000, 60) << "the microphone was not replaced";
  EXPECT_TRUE(second_cycle) << "it ended before its second cycle";
  EXPECT_EQ(states, 2u) << "started, ended";
  EXPECT_NEAR(after, 440, 40) << "the microphone did not come back";

  if (!video.empty()) {  // audio of a video file plays; a file that is not media fails
    pa.Locked([&] { pa.accompany.clear(); });
    ASSERT_EQ(alice->StartAudioAccompany(video, config), 0);
    ASSERT_TRUE(pa.WaitFor([&] { return pa.AccompanyIs(State::kStarted); }, 10s));
  }
  ASSERT_EQ(alice->StartAudioAccompany(C_ABI_CLIENT, config), 0);  // a program, not media
  // The state, then the error.
  ASSERT_TRUE(
      pa.WaitFor([&] { return pa.AccompanyIs(State::kFailed) && pa.HasError(Code(Errc::kMediaFileOpenFailed)); }, 10s));
  EXPECT_EQ(pa.Locked([&] { return pa.accompany.back().second; }), Code(Errc::kMediaFileOpenFailed));
  alice.reset();
  bob.reset();
  std::remove(wav.c_str());
  if (!video.empty()) std::remove(video.c_str());
}

// Local play before any call: the file plays through the playout into a null sink,
// whose monitor the microphone check hears; its playout volume takes it away.
TEST(Accompaniment, PlaysLocallyBeforeAnyCall) {
  const std::string wav = test::MakeTestWav("accompany-local", 5, 1000);
  ASSERT_FALSE(wav.empty());
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  test::ServerProcess server;
  EngineConfig cfg = Config(server, "test:silence");
  cfg.audio_playout = "device:parley_sink";
  Probe p;
  Engine engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  ASSERT_TRUE(engine);
  engine->SetEngineEventListener(&p);
  ASSERT_EQ(engine->StartAudioCaptureTest("device:parley_sink.monitor"), 0);
  const int quiet = p.LoudestTestLevel(4);
  ASSERT_EQ(engine->StartAudioAccompany(wav, {}), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.AccompanyIs(State::kStarted); }, 10s));
  std::this_thread::sleep_for(500ms);
  const int playing = p.LoudestTestLevel(4);
  ASSERT_EQ(engine->SetAudioAccompanyPlayoutVolume(0), 0);
  std::this_thread::sleep_for(500ms);
  const int silenced = p.LoudestTestLevel(4);
  ASSERT_EQ(engine->StopAudioCaptureTest(), 0);
  std::printf("the null sink's monitor: %d quiet, %d with the file, %d at playout volume 0\n", quiet, playing,
              silenced);
  EXPECT_LT(quiet, 20);
  EXPECT_GT(playing, 150) << "the file did not play locally";
  EXPECT_LT(silenced, 20);
  engine.reset();
  std::remove(wav.c_str());
}

}  // namespace
}  // namespace parley
