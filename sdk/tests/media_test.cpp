// The engine's media features end to end, each through a real parleyd on 127.0.0.1
// and real GStreamer pipelines: external frames and the bounded buffer, media files
// (pause, resume, seek, progress), mute, recording read back by gst-discoverer,
// screen sharing and window rendering under a real X server (Xvfb), devices, and
// the codes for renderers, speakers, plugins and states.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "engine_support.hpp"
#include "impl/track_ids.hpp"
#include "parley/proto/errc.hpp"
#include "pulse_server.hpp"
#include "tcp_proxy.hpp"
#include "x_server.hpp"

// Last: Xlib's macros (Status, None, Bool) would clash with the headers above.
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace parley {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

EngineConfig Silent(const test::ServerProcess& s) {
  EngineConfig c = Config(s, "null");
  c.video_source = "null";
  return c;
}

TEST(Media, ExternalAudioAndVideoArriveAndPushingFasterThanRealTimeIsRefused) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig ecfg = Config(server, "external");
  ecfg.video_source = "external";
  RtcEngine* e = RtcEngine::Create(ecfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pe, pb;
  e->SetEngineEventListener(&pe);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  std::vector<int16_t> pcm(320);  // 20 ms mono at 16 kHz
  EXPECT_EQ(e->PushExternalAudioFrame(pcm.data(), pcm.size(), 16000, 1), Code(Errc::kPublishStreamNotExist));
  EXPECT_EQ(e->PushExternalAudioFrame(pcm.data(), pcm.size(), 16000, 3), Code(Errc::kPublishConfigInvalid));
  EXPECT_EQ(e->PushExternalAudioFrame(nullptr, 10, 16000, 1), Code(Errc::kPublishConfigInvalid));
  ASSERT_EQ(b->JoinChannel(Auth(app, "ext", "bob"), "Bob"), 0);
  ASSERT_EQ(e->JoinChannel(Auth(app, "ext", "eve"), "Eve"), 0);
  ASSERT_TRUE(pe.WaitFor([&] { return pe.published_tracks.size() == 2; }, 10s));

  // Real time: 20 ms of a 700 Hz tone every 20 ms (16 kHz mono, resampled by the
  // engine), a 320x240 frame every 66 ms.
  std::vector<uint8_t> frame(320 * 240 * 3 / 2, 128);
  double phase = 0;
  int full = 0;
  auto start = std::chrono::steady_clock::now();
  for (int tick = 0; tick < 200; ++tick) {
    for (auto& s : pcm) {
      s = static_cast<int16_t>(8000 * std::sin(phase));
      phase += 2 * M_PI * 700 / 16000;
    }
    int32_t r = e->PushExternalAudioFrame(pcm.data(), pcm.size(), 16000, 1);
    if (r == Code(Errc::kExternalAudioBufferFull)) ++full;
    if (tick % 3 == 0) {
      std::fill(frame.begin(), frame.begin() + 320 * 240, static_cast<uint8_t>(40 + tick % 150));
      VideoFrame f;
      f.width = 320;
      f.height = 240;
      f.data = frame.data();
      f.size = frame.size();
      EXPECT_EQ(e->PushExternalVideoFrame(f), 0);
    }
    std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * (tick + 1)));
  }
  EXPECT_EQ(full, 0) << "real-time pushes were refused";
  EXPECT_TRUE(pb.WaitFor([&] { return pb.frames["eve"] >= 20 && pb.audio["eve"].samples > 48000; }, 10s))
      << pb.frames["eve"] << " frames, " << pb.audio["eve"].samples << " samples";
  EXPECT_EQ(pb.Locked([&] { return pb.width["eve"]; }), 320);
  EXPECT_NEAR(pb.Frequency("eve"), 700, 50);

  // Faster than real time: 40 ms at once with no pause fills the 200 ms buffer.
  std::vector<int16_t> burst(640, 1000);
  int accepted = 0;
  int32_t last = 0;
  for (int i = 0; i < 50 && last == 0; ++i) {
    last = e->PushExternalAudioFrame(burst.data(), burst.size(), 16000, 1);
    if (last == 0) ++accepted;
  }
  EXPECT_EQ(last, Code(Errc::kExternalAudioBufferFull));
  EXPECT_GE(accepted, 4);
  EXPECT_LE(accepted, 8);
  // After waiting, pushing works again.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(e->PushExternalAudioFrame(burst.data(), burst.size(), 16000, 1), 0);
  RtcEngine::Destroy(e);
  RtcEngine::Destroy(b);
}

TEST(Media, AMediaFilePausesResumesSeeksAndReportsProgress) {
  std::string path = test::MakeTestWebm("progress", 3, 550);
  ASSERT_FALSE(path.empty());
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig fcfg = Config(server, "file:" + path);
  fcfg.video_source = "file:" + path;
  RtcEngine* f = RtcEngine::Create(fcfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pf, pb;
  f->SetEngineEventListener(&pf);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  EXPECT_EQ(f->PauseMediaFile(), Code(Errc::kPublishStreamNotExist));  // nothing published yet
  ASSERT_EQ(b->JoinChannel(Auth(app, "film", "bob"), "Bob"), 0);
  ASSERT_EQ(f->JoinChannel(Auth(app, "film", "film"), "Film"), 0);
  ASSERT_TRUE(pf.WaitFor([&] { return !pf.file_states.empty() && pf.progress.size() >= 2; }, 10s));
  {
    std::lock_guard<std::mutex> lock(pf.mu);
    EXPECT_EQ(pf.file_states[0], MediaFileState::kPlaying);
    EXPECT_NEAR(static_cast<double>(pf.progress.back().second), 3000, 200);
  }
  ASSERT_TRUE(pb.WaitFor([&] { return pb.frames["film"] >= 10; }, 10s));
  // Paused: the state says so, the position stops, and the receiver still gets
  // pictures (the last frame repeated) and silence.
  ASSERT_EQ(f->PauseMediaFile(), 0);
  ASSERT_TRUE(pf.WaitFor([&] { return pf.file_states.back() == MediaFileState::kPaused; }, 5s));
  size_t reports = 0;
  {
    std::lock_guard<std::mutex> l1(pf.mu);
    reports = pf.progress.size();
  }
  // The first position reported after the pause is where it stays.
  ASSERT_TRUE(pf.WaitFor([&] { return pf.progress.size() > reports; }, 2s));
  int64_t paused_at = 0;
  int frames_before = 0;
  {
    std::lock_guard<std::mutex> l1(pf.mu);
    paused_at = pf.progress.back().first;
  }
  {
    std::lock_guard<std::mutex> l2(pb.mu);
    frames_before = pb.frames["film"];
    pb.peak["film"] = 0;
  }
  std::this_thread::sleep_for(1500ms);
  {
    std::lock_guard<std::mutex> l1(pf.mu);
    EXPECT_NEAR(static_cast<double>(pf.progress.back().first), static_cast<double>(paused_at), 100);
  }
  {
    std::lock_guard<std::mutex> l2(pb.mu);
    EXPECT_GT(pb.frames["film"], frames_before + 2) << "no still pictures while paused";
    EXPECT_LT(pb.peak["film"], 500) << "not silent while paused";
  }
  // Resumed, it plays to the end; a seek brings it back to playing from there.
  ASSERT_EQ(f->ResumeMediaFile(), 0);
  ASSERT_TRUE(pf.WaitFor([&] { return pf.file_states.back() == MediaFileState::kEnded; }, 10s));
  ASSERT_EQ(f->SeekMediaFile(1000), 0);
  ASSERT_TRUE(pf.WaitFor([&] { return pf.file_states.back() == MediaFileState::kPlaying; }, 5s));
  std::this_thread::sleep_for(1200ms);
  {
    std::lock_guard<std::mutex> l1(pf.mu);
    EXPECT_GT(pf.progress.back().first, 1000);
    EXPECT_LE(pf.progress.back().first, 3100);
  }
  EXPECT_EQ(f->SeekMediaFile(-5), Code(Errc::kPublishConfigInvalid));
  RtcEngine::Destroy(f);
  RtcEngine::Destroy(b);
  fs::remove(path);
}

TEST(Media, MutedTracksSendSilenceAndBlackAndTheOthersAreTold) {
  test::ServerProcess server;
  App app = CreateApp(server);
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone:440"));
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pa, pb;
  a->SetEngineEventListener(&pa);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "mute", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "mute", "alice"), "Alice"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] >= 10 && pb.peak["alice"] > 1000; }, 15s));
  ASSERT_EQ(a->MuteLocalMic(true), 0);
  ASSERT_EQ(a->MuteLocalCamera(true), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.muted_tracks["alice/0"] && pb.muted_tracks["alice/1"]; }, 5s));
  std::this_thread::sleep_for(800ms);
  int frames = 0;
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    pb.peak["alice"] = 0;
    frames = pb.frames["alice"];
  }
  std::this_thread::sleep_for(1000ms);
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    EXPECT_LT(pb.peak["alice"], 300) << "muted audio is not silent";
    EXPECT_GT(pb.frames["alice"], frames + 5) << "a muted camera still sends frames";
    EXPECT_NEAR(pb.luma_mean["alice"], 16, 6) << "muted video is not black";
  }
  ASSERT_EQ(a->MuteLocalMic(false), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.peak["alice"] > 1000; }, 5s));
  EXPECT_TRUE(pb.WaitFor([&] { return !pb.muted_tracks["alice/0"]; }, 5s));
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

// The SFU's drops for `reason` (/metrics), summed over its media workers; -1 when
// /metrics does not list the reason.
int64_t MediaDrops(const test::ServerProcess& server, const std::string& reason) {
  std::string body = test::HttpRequest(server.port(), "GET", "/metrics").body;
  std::string key = "reason=\"" + reason + "\"} ";
  int64_t sum = -1;
  for (size_t at = body.find(key); at != std::string::npos; at = body.find(key, at + 1))
    sum = std::max<int64_t>(sum, 0) + std::stoll(body.substr(at + key.size()));
  return sum;
}

// libparley sends its audio in RED (RFC 2198) with a redundant block, the SFU accepts
// every packet's blocks as well-formed Opus and forwards them, and the subscriber, whose
// answer took RED too, decodes the tone whole.
TEST(Media, NativeAudioGoesInRedAndIsHeardWhole) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "test:tone:880");
  acfg.video_source = "null";
  RtcEngine* a = RtcEngine::Create(acfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pb;
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "red", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "red", "alice"), "Alice"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 96000; }, 15s));
  EXPECT_NEAR(pb.Frequency("alice"), 880, 60);
  auto r = test::HttpRequest(server.port(), "GET", "/v1/admin/apps/" + app.id + "/channels", "", server.admin_key());
  uint64_t rtp = 0, red = 0;
  for (const auto& ch : json::parse(r.body).value("channels", json::array()))
    for (const auto& u : ch.value("users", json::array()))
      if (u.value("userId", "") == "alice" && u.contains("media")) {
        rtp = u["media"].value("rtpPackets", uint64_t{0});
        red = u["media"].value("redPackets", uint64_t{0});
      }
  EXPECT_GT(red, 50u) << r.body;
  EXPECT_LE(red, rtp);
  EXPECT_EQ(MediaDrops(server, "malformed-payload"), 0);
  EXPECT_EQ(MediaDrops(server, "bad-payload-type"), 0);
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

// A native publisher's audio carries its level (RFC 6464) through RED, so the SFU
// names it the active speaker, and never the one who publishes silence; a third
// participant is told.
TEST(Media, ANativePublisherBecomesTheActiveSpeaker) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "test:tone:600");
  acfg.video_source = "null";
  RtcEngine* a = RtcEngine::Create(acfg);
  EngineConfig qcfg = Config(server, "test:silence");
  qcfg.video_source = "null";
  RtcEngine* q = RtcEngine::Create(qcfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pb;
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "speak", "bob"), "Bob"), 0);
  ASSERT_EQ(q->JoinChannel(Auth(app, "speak", "quiet"), "Quiet"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "speak", "alice"), "Alice"), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return !pb.speakers.empty(); }, 15s));
  // Volume indication: alice hears herself (the local entry) and the others: loud
  // alice first at bob's, quiet at 0.
  Probe pa;
  a->SetEngineEventListener(&pa);
  EXPECT_EQ(a->EnableAudioVolumeIndication(50, 0), static_cast<int32_t>(Errc::kInvalidField));
  EXPECT_EQ(a->EnableAudioVolumeIndication(300, 10), static_cast<int32_t>(Errc::kInvalidField));
  ASSERT_EQ(a->EnableAudioVolumeIndication(300, 0), 0);
  ASSERT_EQ(b->EnableAudioVolumeIndication(300, 3), 0);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.volumes.size() >= 4; }, 10s));
  EXPECT_TRUE(pb.WaitFor([&] { return pb.volumes.size() >= 4; }, 10s));
  std::this_thread::sleep_for(4s);  // the speaker is decided every tick: it stays alice
  EXPECT_EQ(pb.Locked([&] { return pb.speakers; }), std::vector<std::string>{"alice"});
  auto at_bob = pb.Locked([&] { return pb.volumes.back(); });
  auto at_alice = pa.Locked([&] { return pa.volumes.back(); });
  std::string seen;
  for (const auto& v : at_bob) seen += (v.user_id.empty() ? "(me)" : v.user_id) + "=" + std::to_string(v.volume) + " ";
  std::printf("bob's volume indication: %s\n", seen.c_str());
  ASSERT_GE(at_bob.size(), 2U) << seen;
  EXPECT_EQ(at_bob[0].user_id, "alice") << seen;
  EXPECT_GT(at_bob[0].volume, 60) << seen;
  for (const auto& v : at_bob) {
    EXPECT_FALSE(v.user_id.empty()) << "bob publishes no audio: no local entry; " << seen;
    if (v.user_id == "quiet") {
      EXPECT_EQ(v.volume, 0) << seen;
    }
  }
  ASSERT_FALSE(at_alice.empty());
  EXPECT_EQ(at_alice[0].user_id, "") << "alice's own microphone first";
  EXPECT_GT(at_alice[0].volume, 60);
  ASSERT_EQ(a->EnableAudioVolumeIndication(0, 0), 0);
  EXPECT_EQ(MediaDrops(server, "malformed-payload"), 0);
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(q);
  RtcEngine::Destroy(b);
}

TEST(Media, ReceivedStreamsAreRecordedToFilesGstDiscovererReadsBack) {
  test::ServerProcess server;
  App app = CreateApp(server);
  fs::path dir = fs::temp_directory_path() / ("parley-rec-" + std::to_string(getpid()));
  fs::remove_all(dir);
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone:440"));
  EngineConfig hcfg = Config(server, "null");
  hcfg.video.codec = VideoCodec::kH264;
  RtcEngine* h = RtcEngine::Create(hcfg);
  EngineConfig rcfg = Silent(server);
  rcfg.record_dir = dir.string();
  RtcEngine* r = RtcEngine::Create(rcfg);
  Probe pr;
  r->SetEngineEventListener(&pr);
  r->SetMediaFrameObserver(&pr);
  ASSERT_EQ(r->JoinChannel(Auth(app, "rec", "rita"), "Rita"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "rec", "alice"), "Alice"), 0);
  ASSERT_EQ(h->JoinChannel(Auth(app, "rec", "hugo"), "Hugo"), 0);
  ASSERT_TRUE(pr.WaitFor([&] { return pr.frames["alice"] >= 5 && pr.frames["hugo"] >= 5; }, 15s));
  std::this_thread::sleep_for(3s);
  // GStreamer's Opus, VP8 and H.264 payloads all pass the SFU's payload checks.
  EXPECT_EQ(MediaDrops(server, "malformed-payload"), 0);
  EXPECT_EQ(MediaDrops(server, "bad-payload-type"), 0);
  RtcEngine::Destroy(r);  // ends the call: the files are finished
  {
    std::lock_guard<std::mutex> lock(pr.mu);
    EXPECT_EQ(pr.recordings.size(), 3u);
  }
  for (const char* name : {"alice-audio.ogg", "alice-camera.webm", "hugo-camera.mkv"}) {
    fs::path file = dir / name;
    ASSERT_TRUE(fs::exists(file)) << file;
    double seconds = test::DiscoverSeconds(file.string());
    std::printf("%s: %.2f s, %lld bytes\n", name, seconds, static_cast<long long>(fs::file_size(file)));
    EXPECT_GT(seconds, 2.5) << name;
    EXPECT_LT(seconds, 6.0) << name;
  }
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(h);
  fs::remove_all(dir);
}

TEST(Media, TheScreenIsSharedAndRemoteVideoRendersIntoAnXWindow) {
  XServer x;
  ASSERT_NE(x.display(), nullptr) << "Xvfb did not start";
  ScopedEnv display("DISPLAY", x.name());
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "test:tone");
  acfg.video_source = "test:bars";  // many colours in the window
  RtcEngine* a = RtcEngine::Create(acfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pa, pb;
  a->SetEngineEventListener(&pa);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ScreenShareConfig sc;
  sc.display = x.name();
  sc.width = 640;
  sc.height = 360;
  sc.fps = 10;
  EXPECT_EQ(a->StartScreenShare(sc), Code(Errc::kNotInChannel));
  Window win = x.CreateWindow(320, 240);
  EXPECT_EQ(x.Colours(win, 320, 240), 1u);  // blank before anything renders
  ASSERT_EQ(b->SetRemoteVideoCanvas("alice", TrackKind::kCamera, win), 0);
  ASSERT_EQ(b->JoinChannel(Auth(app, "screen", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "screen", "alice"), "Alice"), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.join_result == 0; }, 5s));
  ScreenShareConfig bad = sc;
  bad.fps = 0;
  EXPECT_EQ(a->StartScreenShare(bad), Code(Errc::kPublishConfigInvalid));
  ASSERT_EQ(a->StartScreenShare(sc), 0);
  EXPECT_EQ(a->StartScreenShare(sc), Code(Errc::kAlreadyPublishingScreen));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.published_tracks.count(TrackKind::kScreen) > 0; }, 10s));
  EXPECT_TRUE(pb.WaitFor([&] { return pb.tracks["alice"].count(TrackKind::kScreen) > 0; }, 10s));
  EXPECT_TRUE(pb.WaitFor([&] { return pb.screen_frames["alice"] >= 10 && pb.frames["alice"] >= 10; }, 15s))
      << pb.screen_frames["alice"] << " screen frames, " << pb.frames["alice"] << " camera frames";
  // At the configured size (on a loaded machine the sender may lower it for a while
  // and restore it: the size it settles at is what counts).
  EXPECT_TRUE(pb.WaitFor([&] { return pb.screen_width["alice"] == 640; }, 15s))
      << pb.Locked([&] { return pb.screen_width["alice"]; });
  // The camera's test pattern is in the window now (once a frame has been drawn).
  size_t colours = 0;
  for (int i = 0; i < 50 && colours <= 3; ++i) {
    std::this_thread::sleep_for(100ms);
    colours = x.Colours(win, 320, 240);
  }
  std::printf("window shows %zu colours\n", colours);
  EXPECT_GT(colours, 3u);
  // Alice's own camera in a preview window.
  Window preview = x.CreateWindow(320, 240);
  ASSERT_EQ(a->SetLocalVideoCanvas(preview), 0);
  std::this_thread::sleep_for(800ms);
  size_t preview_colours = x.Colours(preview, 320, 240);
  std::printf("preview shows %zu colours\n", preview_colours);
  EXPECT_GT(preview_colours, 3u);
  ASSERT_EQ(a->SetLocalVideoCanvas(0), 0);
  ASSERT_EQ(a->StopScreenShare(), 0);
  EXPECT_TRUE(pa.WaitFor([&] { return !pa.published_tracks.count(TrackKind::kScreen); }, 5s));
  EXPECT_EQ(a->StopScreenShare(), Code(Errc::kNotPublishing));
  RtcEngine::Destroy(b);
  RtcEngine::Destroy(a);
  XDestroyWindow(x.display(), win);
}

TEST(Media, RendererAndSpeakerThatCannotOpenRaiseTheirCodes) {
  ScopedEnv display("DISPLAY", ":77");  // no X server there
  ScopedEnv pulse("PULSE_SERVER", "unix:/nonexistent/pulse");
  test::ServerProcess server;
  App app = CreateApp(server);
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone"));
  EngineConfig bcfg = Silent(server);
  bcfg.audio_playout = "device:parley-no-such-sink";
  RtcEngine* b = RtcEngine::Create(bcfg);
  Probe pb;
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->SetRemoteVideoCanvas("alice", TrackKind::kCamera, 0x1234), 0);
  EXPECT_EQ(b->SetRemoteVideoCanvas("alice", TrackKind::kAudio, 0x1234), Code(Errc::kSubscribeConfigInvalid));
  ASSERT_EQ(b->JoinChannel(Auth(app, "nodev", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "nodev", "alice"), "Alice"), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] >= 10; }, 15s)) << "the call does not go on";
  EXPECT_TRUE(pb.WaitFor([&] { return pb.HasError(Code(Errc::kRenderOpenFailed)); }, 1s));
  EXPECT_TRUE(pb.WaitFor([&] { return pb.HasError(Code(Errc::kAudioPlayDeviceOpenFailed)); }, 1s));
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

TEST(Media, DevicesAreListedWithTheSyntheticSources) {
  auto has = [](const std::vector<DeviceInfo>& v, const std::string& id) {
    return std::any_of(v.begin(), v.end(), [&](const DeviceInfo& d) { return d.id == id; });
  };
  auto mics = RtcEngine::EnumerateDevices(DeviceKind::kMicrophone);
  auto cams = RtcEngine::EnumerateDevices(DeviceKind::kCamera);
  auto speakers = RtcEngine::EnumerateDevices(DeviceKind::kSpeaker);
  EXPECT_TRUE(has(mics, "test:tone"));
  EXPECT_TRUE(has(mics, "external"));
  EXPECT_TRUE(has(cams, "test:pattern"));
  EXPECT_TRUE(has(speakers, "null"));
  for (const auto* list : {&mics, &cams, &speakers})
    for (const auto& d : *list) {
      EXPECT_FALSE(d.id.empty());
      EXPECT_FALSE(d.name.empty());
    }
}

// Real devices end to end: bob's 880 Hz tone plays on alice's speaker, alice's
// microphone (the speaker's monitor) captures it and publishes it, bob hears it back.
TEST(Media, RealAudioDevicesAreListedAndCarryTheCall) {
  PulseServer pulse;
  ASSERT_TRUE(pulse.up()) << "pulseaudio did not start";
  ScopedEnv server_env("PULSE_SERVER", pulse.address());
  auto has = [](const std::vector<DeviceInfo>& v, const std::string& id) {
    return std::any_of(v.begin(), v.end(), [&](const DeviceInfo& d) { return d.id == id; });
  };
  EXPECT_TRUE(has(RtcEngine::EnumerateDevices(DeviceKind::kSpeaker), "parley_sink"));
  EXPECT_TRUE(has(RtcEngine::EnumerateDevices(DeviceKind::kMicrophone), "parley_sink.monitor"));
  test::ServerProcess server;
  App app = CreateApp(server);
  // A device id the system does not have: "not found", the call goes on.
  EngineConfig ncfg = Silent(server);
  ncfg.audio_source = "device:parley-no-such-mic";
  ncfg.audio_playout = "device:parley-no-such-sink";
  ncfg.video_source = "test:pattern";
  RtcEngine* n = RtcEngine::Create(ncfg);
  Probe pn;
  n->SetEngineEventListener(&pn);
  RtcEngine* c = RtcEngine::Create(Config(server, "test:tone"));
  ASSERT_EQ(c->JoinChannel(Auth(app, "devices2", "carl"), "Carl"), 0);
  ASSERT_EQ(n->JoinChannel(Auth(app, "devices2", "nina"), "Nina"), 0);
  EXPECT_TRUE(pn.WaitFor([&] { return pn.HasError(Code(Errc::kAudioRecordDeviceNotFound)); }, 10s));
  EXPECT_TRUE(pn.WaitFor([&] { return pn.HasError(Code(Errc::kAudioPlayDeviceNotFound)); }, 10s));
  EXPECT_TRUE(pn.WaitFor([&] { return pn.published_tracks.count(TrackKind::kCamera) > 0; }, 10s));
  RtcEngine::Destroy(n);
  RtcEngine::Destroy(c);

  EngineConfig acfg = Silent(server);
  acfg.audio_source = "device:parley_sink.monitor";
  acfg.audio_playout = "device:parley_sink";
  acfg.video_source = "test:pattern";
  acfg.audio_processing = {false, false, false};  // the echo is the point here (audio_test.cpp)
  RtcEngine* a = RtcEngine::Create(acfg);
  RtcEngine* b = RtcEngine::Create(Config(server, "test:tone:880"));
  Probe pa, pb;
  a->SetEngineEventListener(&pa);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(a->JoinChannel(Auth(app, "devices", "alice"), "Alice"), 0);
  ASSERT_EQ(b->JoinChannel(Auth(app, "devices", "bob"), "Bob"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 96000 && pb.peak["alice"] > 1000; }, 20s))
      << pb.audio["alice"].samples << " samples, peak " << pb.peak["alice"];
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    pb.audio["alice"] = {};  // measure from here, where the loop carries sound
  }
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 48000; }, 5s));
  EXPECT_NEAR(pb.Frequency("alice"), 880, 60);
  // The devices disappear mid-call: their runtime codes, and the call goes on with
  // the camera.
  pulse.Kill();
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasError(Code(Errc::kAudioRecordError)); }, 10s));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasError(Code(Errc::kAudioPlayError)); }, 10s));
  int frames = 0;
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    frames = pb.frames["alice"];
  }
  EXPECT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] > frames + 15; }, 5s))
      << "the camera stopped too: " << frames << " -> " << pb.frames["alice"];
  EXPECT_TRUE(a->IsInCall());
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

// The signalling link drops (a TCP proxy in the way is cut): the engine reconnects and
// resumes while media keeps flowing, catches up on what it missed, and gives up with
// 0x01050202 (reconnection failed) when the server has dropped the session.
TEST(Media, TheEngineResumesItsSessionWhenTheSignallingLinkDrops) {
  test::ServerProcess server({"--resume-grace-ms", "2000"});
  App app = CreateApp(server);
  test::TcpProxy proxy(server.port());
  EngineConfig acfg = Config(server, "test:tone:440");
  acfg.server_url = "ws://127.0.0.1:" + std::to_string(proxy.port()) + "/v1/signal";
  acfg.reconnect_timeout_ms = 6000;
  RtcEngine* a = RtcEngine::Create(acfg);
  RtcEngine* b = RtcEngine::Create(Silent(server));
  Probe pa, pb;
  a->SetEngineEventListener(&pa);
  a->SetMediaFrameObserver(&pa);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "resume", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "resume", "alice"), "Alice"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] >= 10; }, 15s));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasStatus(ConnectionStatus::kConnected); }, 1s));

  // 1. A short drop: reconnecting, then connected again; the video never stopped.
  proxy.Cut();
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasWarning(Code(Errc::kLocalNetworkDisconnected)); }, 5s));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasWarning(Code(Errc::kLocalNetworkConnected)); }, 5s));
  {
    std::lock_guard<std::mutex> lock(pa.mu);
    EXPECT_EQ(pa.statuses.back(), ConnectionStatus::kConnected);
    EXPECT_TRUE(pa.HasStatus(ConnectionStatus::kReconnecting));
  }
  EXPECT_TRUE(a->IsInCall());

  // 2. A longer drop while carol joins and publishes: after the resume alice knows
  // carol and receives her media.
  proxy.SetRefusing(true);
  proxy.Cut();
  int frames_at_cut = 0;
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    frames_at_cut = pb.frames["alice"];
  }
  RtcEngine* c = RtcEngine::Create(Config(server, "test:tone:1000"));
  Probe pc;
  c->SetEngineEventListener(&pc);
  ASSERT_EQ(c->JoinChannel(Auth(app, "resume", "carol"), "Carol"), 0);
  ASSERT_TRUE(pc.WaitFor([&] { return pc.published_tracks.size() == 2; }, 10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(pb.Locked([&] { return pb.frames["alice"]; }), frames_at_cut + 5)
      << "media stopped with the signalling link";
  proxy.SetRefusing(false);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.online.count("carol") > 0; }, 8s));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.frames["carol"] >= 10; }, 10s)) << pa.frames["carol"];
  RtcEngine::Destroy(c);

  // 3. A drop longer than the server's grace (2 s): the session is gone.
  proxy.SetRefusing(true);
  proxy.Cut();
  std::this_thread::sleep_for(3000ms);
  proxy.SetRefusing(false);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasError(Code(Errc::kMediaConnectionReconnectFailed)); }, 8s));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.statuses.back() == ConnectionStatus::kDisconnected; }, 2s));
  EXPECT_FALSE(a->IsInCall());
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

TEST(Media, TracksAreSubscribedOneByOne) {
  test::ServerProcess server;
  App app = CreateApp(server);
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone:440"));
  EngineConfig bcfg = Silent(server);
  bcfg.auto_subscribe = false;
  RtcEngine* b = RtcEngine::Create(bcfg);
  Probe pa, pb;
  // Destroyed before the probes they call, also when an assertion below returns early.
  auto destroy = [](RtcEngine* e) { RtcEngine::Destroy(e); };
  std::unique_ptr<RtcEngine, decltype(destroy)> guard_a(a, destroy), guard_b(b, destroy);
  a->SetEngineEventListener(&pa);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  EXPECT_EQ(b->SubscribeRemoteTracks("alice", {TrackKind::kAudio}), Code(Errc::kNotInChannel));
  ASSERT_EQ(b->JoinChannel(Auth(app, "pick", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "pick", "alice"), "Alice"), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.published_tracks.size() == 2; }, 10s));
  EXPECT_EQ(b->SubscribeRemoteTracks("alice", {}), Code(Errc::kSubscribeConfigInvalid));
  EXPECT_EQ(b->SubscribeRemoteTracks("alice", {TrackKind::kAudio, TrackKind::kAudio}),
            Code(Errc::kSubscribeConfigInvalid));
  // Audio only: sound, no pictures.
  ASSERT_EQ(b->SubscribeRemoteTracks("alice", {TrackKind::kAudio}), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 48000; }, 10s));
  EXPECT_EQ(pb.Locked([&] { return pb.frames["alice"]; }), 0);
  // Then the camera too.
  ASSERT_EQ(b->SubscribeRemoteTracks("alice", {TrackKind::kCamera}), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] >= 10; }, 20s));  // a renegotiation; slow on a busy machine
  // A track alice does not publish: the server's code.
  ASSERT_EQ(b->SubscribeRemoteTracks("alice", {TrackKind::kScreen}), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.HasError(Code(Errc::kSubscribeRemoteStreamGone)); }, 5s));
  // Audio off again: the samples stop growing, the pictures go on.
  ASSERT_EQ(b->UnsubscribeRemoteTracks("alice", {TrackKind::kAudio}), 0);
  std::this_thread::sleep_for(1s);
  size_t samples = 0;
  int frames = 0;
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    samples = pb.audio["alice"].samples;
    frames = pb.frames["alice"];
  }
  std::this_thread::sleep_for(1s);
  {
    std::lock_guard<std::mutex> lock(pb.mu);
    EXPECT_LT(pb.audio["alice"].samples, samples + 4800);
    EXPECT_GT(pb.frames["alice"], frames + 5);
  }
  guard_a.reset();
  guard_b.reset();
}

// ICE cannot succeed (the engine may only use ::1, the server's media is on
// 127.0.0.1): the media connection fails with 0x01050201 and the call stays up.
TEST(Media, AMediaConnectionThatCannotConnectRaises0x01050201) {
  test::ServerProcess server({"--media-connect-timeout-ms", "1500"});
  App app = CreateApp(server);
  EngineConfig cfg = Config(server, "test:tone");
  cfg.ice_addresses = {"::1"};
  RtcEngine* e = RtcEngine::Create(cfg);
  Probe p;
  e->SetEngineEventListener(&p);
  ASSERT_EQ(e->JoinChannel(Auth(app, "noice", "ivy"), "Ivy"), 0);
  EXPECT_TRUE(p.WaitFor([&] { return p.HasError(Code(Errc::kMediaConnectionCreateFailed)); }, 15s));
  EXPECT_TRUE(e->IsInCall());
  RtcEngine::Destroy(e);
}

// The same two engines limited to ::1 call each other once the server also has IPv6
// host candidates (--media-address6): its dual-stack media port takes them.
TEST(Media, ACallGoesOverIpv6WhenTheServerHasAnIpv6Address) {
  test::ServerProcess server({"--media-address6", "::1"});
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "test:tone:880");
  acfg.video_source = "null";
  acfg.ice_addresses = {"::1"};
  EngineConfig bcfg = Silent(server);
  bcfg.ice_addresses = {"::1"};
  RtcEngine* a = RtcEngine::Create(acfg);
  RtcEngine* b = RtcEngine::Create(bcfg);
  Probe pb;
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "six", "bob"), "Bob"), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "six", "alice"), "Alice"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 48000; }, 15s));
  EXPECT_NEAR(pb.Frequency("alice"), 880, 60);
  EXPECT_FALSE(pb.HasError(Code(Errc::kMediaConnectionCreateFailed)));
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

TEST(Media, SubscribeOfferTrackIdsAreRead) {
  auto ids = sdk::ParseTrackIds(
      "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\na=msid:al-ice al-ice-audio\r\n"
      "m=video 9 X 96\r\na=mid:1\r\na=msid:al-ice al-ice-screen\r\n"
      "m=video 0 X 96\r\na=mid:2\r\na=inactive\r\n"               // no msid: left out
      "m=video 9 X 96\r\na=mid:3\r\na=msid:bob carol-camera\r\n"  // not bob's id
      "m=video 9 X 96\r\na=mid:4\r\na=msid:bob bob-\r\n"          // no kind
      "m=video 9 X 96\r\na=msid:dan dan-camera\r\n");             // no mid
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids["0"].user_id, "al-ice");
  EXPECT_EQ(ids["0"].track, TrackKind::kAudio);
  EXPECT_EQ(ids["1"].track, TrackKind::kScreen);
}

TEST(Media, StateCodesComeFromTheSituation) {
  test::ServerProcess server;
  App app = CreateApp(server);
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone"));
  Probe pa;
  a->SetEngineEventListener(&pa);
  ASSERT_EQ(a->JoinChannel(Auth(app, "state", "alice"), "Alice"), 0);
  EXPECT_EQ(a->JoinChannel(Auth(app, "state", "alice"), "Alice"), Code(Errc::kAlreadyInChannel));
  ASSERT_TRUE(pa.WaitFor([&] { return pa.published_tracks.size() == 2; }, 10s));
  // Publishing what is published; becoming audience in a communication channel.
  EXPECT_EQ(a->PublishLocalAudioStream(true), 0);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasError(Code(Errc::kAlreadyPublishing)); }, 5s));
  EXPECT_EQ(a->SetClientRole(ClientRole::kAudience), 0);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.HasError(Code(Errc::kUpdateRoleFailed)); }, 5s));
  EXPECT_EQ(a->LeaveChannel(), 0);
  EXPECT_EQ(a->LeaveChannel(), Code(Errc::kAlreadyLeaving));
  EXPECT_TRUE(pa.WaitFor([&] { return pa.left; }, 5s));
  EXPECT_EQ(a->LeaveChannel(), Code(Errc::kNotInChannel));
  // An audience member of a live channel cannot publish.
  EngineConfig lcfg = Config(server, "test:tone");
  lcfg.profile = ChannelProfile::kInteractiveLive;
  lcfg.role = ClientRole::kAudience;
  RtcEngine* l = RtcEngine::Create(lcfg);
  Probe pl;
  l->SetEngineEventListener(&pl);
  ASSERT_EQ(l->JoinChannel(Auth(app, "live", "lena"), "Lena"), 0);
  ASSERT_TRUE(pl.WaitFor([&] { return pl.join_result == 0; }, 5s));
  EXPECT_EQ(l->PublishLocalVideoStream(true), Code(Errc::kPublishWrongRole));
  EXPECT_EQ(l->StartScreenShare(ScreenShareConfig{}), Code(Errc::kPublishWrongRole));
  RtcEngine::Destroy(l);
  RtcEngine::Destroy(a);
}

// The engine names a plugin missing from the GStreamer registry: a probe process
// runs with a plugin folder that lacks webrtcbin's plugin.
TEST(Media, AMissingPluginIsNamedWhenTheEngineIsCreated) {
  fs::path dir = fs::temp_directory_path() / ("parley-plugins-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "plugins");
  for (const auto& entry : fs::directory_iterator(GST_PLUGINS_DIR))
    if (entry.path().filename() != "libgstwebrtc.so")
      fs::create_symlink(entry.path(), dir / "plugins" / entry.path().filename());
  auto r =
      test::RunCommand({"/usr/bin/env", "GST_PLUGIN_SYSTEM_PATH_1_0=" + (dir / "plugins").string(),
                        "GST_PLUGIN_PATH_1_0=", "GST_REGISTRY_1_0=" + (dir / "registry.bin").string(), CREATE_PROBE});
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("0x01010103"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("webrtcbin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gstreamer1.0-plugins-bad"), std::string::npos) << r.out;
  // The same probe with the full registry creates an engine.
  auto ok = test::RunCommand({CREATE_PROBE});
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace parley
