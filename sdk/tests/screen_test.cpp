// Screen share choices on a private X server: the screens and named windows listed
// with where they are; a region of the screen shared (a white window there makes the
// received picture white, the whole screen is not); what the speakers play (a
// PulseAudio null sink's monitor) mixed into the published audio while sharing. And
// the camera's preview in a window before joining, while published and after.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "engine_support.hpp"
#include "pulse_server.hpp"
#include "x_server.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

TEST(Screen, SourcesAreListedWithWhereTheyAre) {
  EXPECT_TRUE(RtcEngine::EnumerateScreenShareSources(":77").empty()) << "no X server there";
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  Window named = x.CreateWindow(320, 240, "Parley slides", 100, 60);
  x.CreateWindow(200, 100);  // no name: not offered
  std::vector<ScreenSourceInfo> sources = RtcEngine::EnumerateScreenShareSources(x.name());
  for (const auto& s : sources)
    std::printf("%s %llu \"%s\" at %d,%d %dx%d\n", s.kind == ScreenSourceKind::kScreen ? "screen" : "window",
                static_cast<unsigned long long>(s.id), s.title.c_str(), s.x, s.y, s.width, s.height);
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].kind, ScreenSourceKind::kScreen);
  EXPECT_EQ(sources[0].id, 0u);
  EXPECT_EQ(sources[0].width, 1280);
  EXPECT_EQ(sources[0].height, 720);
  EXPECT_EQ(sources[1].kind, ScreenSourceKind::kWindow);
  EXPECT_EQ(sources[1].id, named);
  EXPECT_EQ(sources[1].title, "Parley slides");
  EXPECT_EQ(sources[1].x, 100);
  EXPECT_EQ(sources[1].y, 60);
  EXPECT_EQ(sources[1].width, 320);
  EXPECT_EQ(sources[1].height, 240);
  ScopedEnv display("DISPLAY", x.name());
  EXPECT_EQ(RtcEngine::EnumerateScreenShareSources().size(), 2u) << "$DISPLAY by default";
}

// The mean luma of what Bob receives of Alice's screen once `config` is shared.
struct Shared {
  int luma = -1, width = 0;
};
Shared ShareAndLook(RtcEngine& alice, Probe& pa, Probe& pb, const ScreenShareConfig& config) {
  Shared out;
  if (alice.StartScreenShare(config) != 0) return out;
  pb.Locked([&] { pb.screen_frames["alice"] = 0; });
  if (!pb.WaitFor([&] { return pb.screen_frames["alice"] >= 10; }, 15s)) return out;
  std::this_thread::sleep_for(500ms);  // a few frames past the first keyframes
  out = pb.Locked([&] { return Shared{pb.screen_luma["alice"], pb.screen_width["alice"]}; });
  alice.StopScreenShare();
  pa.WaitFor([&] { return !pa.published_tracks.count(TrackKind::kScreen); }, 5s);
  return out;
}

TEST(Screen, ARegionIsShared) {
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  x.CreateWindow(320, 240, "white", 200, 100, 0xffffff);
  AudioPair pair("test:silence");
  ASSERT_TRUE(pair.alice && pair.bob);
  Engine& alice = pair.alice;
  Probe &pa = pair.pa, &pb = pair.pb;
  ASSERT_TRUE(pair.Join("region"));
  ASSERT_TRUE(pa.WaitFor([&] { return pa.join_result == 0; }, 10s));
  ASSERT_TRUE(pb.WaitFor([&] { return pb.join_result == 0; }, 10s));
  ScreenShareConfig sc;
  sc.display = x.name();
  sc.width = 320;
  sc.height = 240;
  sc.fps = 10;
  ScreenShareConfig bad = sc;
  bad.region_width = 15;  // odd, and under 16
  bad.region_height = 100;
  EXPECT_EQ(alice->StartScreenShare(bad), Code(Errc::kPublishConfigInvalid));
  bad = sc;
  bad.share_audio = true;
  bad.audio_source = "parley_sink.monitor";  // not a device id
  EXPECT_EQ(alice->StartScreenShare(bad), Code(Errc::kPublishConfigInvalid));
  const Shared whole = ShareAndLook(*alice, pa, pb, sc);
  sc.region_x = 200;
  sc.region_y = 100;
  sc.region_width = 320;
  sc.region_height = 240;
  const Shared region = ShareAndLook(*alice, pa, pb, sc);
  std::printf("bob sees alice's screen at luma %d (whole screen, %d wide), %d (the white window's region, %d wide)\n",
              whole.luma, whole.width, region.luma, region.width);
  ASSERT_GE(whole.luma, 0) << "the whole screen was not received";
  ASSERT_GE(region.luma, 0) << "the region was not received";
  EXPECT_GT(region.luma, 200) << "the region is the white window";
  EXPECT_LT(whole.luma, region.luma - 40);
  EXPECT_EQ(region.width, 320);
}

// What the speakers play — the speaker check's tone into the null sink — is heard in
// Alice's audio while she shares her screen with its sound, and not before or after.
TEST(Screen, WhatTheSpeakersPlayIsSharedWithTheScreen) {
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  AudioPair pair("test:silence", "device:parley_sink");
  ASSERT_TRUE(pair.alice && pair.bob);
  Engine &alice = pair.alice, &bob = pair.bob;
  Probe &pa = pair.pa, &pb = pair.pb;
  ASSERT_TRUE(pair.Join("sound"));
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 9600; }, 20s)) << "no audio from alice";
  ASSERT_EQ(alice->StartAudioPlayoutTest(""), 0);  // a 440 Hz tone into the null sink
  pb.Listen("alice", 1000ms);
  const double before = pb.LevelDb("alice");
  ScreenShareConfig sc;
  sc.display = x.name();
  sc.width = 320;
  sc.height = 240;
  sc.share_audio = true;  // the default output's monitor: the null sink is the only one
  ASSERT_EQ(alice->StartScreenShare(sc), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.published_tracks.count(TrackKind::kScreen) > 0; }, 10s));
  std::this_thread::sleep_for(700ms);
  pb.Listen("alice", 1500ms);
  const double sharing = pb.LevelDb("alice");
  const double freq = pb.Frequency("alice");
  ASSERT_EQ(alice->StopScreenShare(), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return !pa.published_tracks.count(TrackKind::kScreen); }, 10s));
  std::this_thread::sleep_for(700ms);
  pb.Listen("alice", 1000ms);
  const double after = pb.LevelDb("alice");
  std::printf("alice's audio at bob: %.1f dBFS before sharing, %.1f sharing with sound (%.0f Hz), %.1f after\n", before,
              sharing, freq, after);
  EXPECT_LT(before, -50);
  EXPECT_GT(sharing, -30) << "the speakers' sound is not in alice's audio";
  EXPECT_NEAR(freq, 440, 40);
  EXPECT_LT(after, -50);
  EXPECT_FALSE(pa.Locked([&] { return pa.HasError(Code(Errc::kAudioRecordError)); }));
  alice.reset();
  bob.reset();
}

TEST(Screen, TheCameraPreviewShowsBeforeJoiningWhilePublishedAndAfter) {
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  ScopedEnv display("DISPLAY", x.name());
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Config(server, "test:silence");
  cfg.video_source = "test:bars";  // many colours
  Probe p;
  Engine engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  ASSERT_TRUE(engine);
  engine->SetEngineEventListener(&p);
  Window win = x.CreateWindow(320, 240);
  const size_t blank = x.Colours(win, 320, 240);
  ASSERT_EQ(engine->SetLocalVideoCanvas(win), 0);
  ASSERT_EQ(engine->StartPreview(), 0);
  std::this_thread::sleep_for(1s);
  const size_t before = x.Colours(win, 320, 240);
  ASSERT_EQ(engine->JoinChannel(Auth(app, "preview", "alice"), "Alice"), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.published_tracks.count(TrackKind::kCamera) > 0; }, 10s));
  // The publish pipeline shows what it sends in the same window (the standalone
  // preview has let the camera go: no error).
  std::this_thread::sleep_for(1s);
  const size_t published = x.Colours(win, 320, 240);
  ASSERT_EQ(engine->LeaveChannel(), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.left; }, 10s));
  std::this_thread::sleep_for(1s);
  const size_t after = x.Colours(win, 320, 240);
  std::printf("the preview window shows %zu colours blank, %zu before joining, %zu published, %zu after\n", blank,
              before, published, after);
  EXPECT_EQ(blank, 1u);
  EXPECT_GT(before, 3u) << "no preview before joining";
  EXPECT_GT(published, 3u) << "the window did not show what was published";
  EXPECT_GT(after, 3u) << "the preview did not come back after leaving";
  EXPECT_FALSE(p.Locked([&] { return !p.errors.empty(); }));
  engine.reset();
  XDestroyWindow(x.display(), win);
}

}  // namespace
}  // namespace parley
