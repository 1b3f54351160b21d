// Two real engines in one process join a real parleyd on 127.0.0.1 with GStreamer test
// sources, publish, subscribe to each other, and each receives the other's video
// (frames counted, resolution checked) and audio (the other's test-tone frequency
// measured). Plus the codes the engine raises before any network I/O.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <unistd.h>

#include "black_hole.hpp"
#include "engine_support.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

TEST(Engine, TwoEnginesSeeAndHearEachOtherThroughParleyd) {
  test::ServerProcess server;
  App app = CreateApp(server);
  Probe pa, pb;
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone:440"));
  ASSERT_NE(a, nullptr) << RtcEngine::LastCreateError();
  RtcEngine* b = RtcEngine::Create(Config(server, "test:tone:1000"));
  ASSERT_NE(b, nullptr);
  for (auto [e, p] : {std::pair{a, &pa}, std::pair{b, &pb}}) {
    e->SetEngineEventListener(p);
    e->SetMediaFrameObserver(p);
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(a->JoinChannel(Auth(app, "room", "alice"), "Alice"), 0);
  ASSERT_EQ(b->JoinChannel(Auth(app, "room", "bob"), "Bob"), 0);
  ASSERT_TRUE(pa.WaitFor([&] { return pa.join_result == 0; }, 5s)) << pa.join_result;
  ASSERT_TRUE(pb.WaitFor([&] { return pb.join_result == 0; }, 5s)) << pb.join_result;
  EXPECT_TRUE(a->IsInCall());
  // Each decodes the other's video at the configured size, for a while.
  for (auto [p, other] : {std::pair{&pa, "bob"}, std::pair{&pb, "alice"}}) {
    bool ok = p->WaitFor([&] { return p->frames[other] >= 30; }, 20s);
    std::lock_guard<std::mutex> lock(p->mu);
    EXPECT_TRUE(ok) << "frames from " << other << ": " << p->frames[other] << " errors: " << p->errors.size()
                    << (p->errors.empty() ? "" : " first: " + p->errors[0].second);
    EXPECT_EQ(p->width[other], 320);
    EXPECT_EQ(p->height[other], 240);
    EXPECT_TRUE(p->tracks[other].count(TrackKind::kCamera));
    EXPECT_TRUE(p->tracks[other].count(TrackKind::kAudio));
    if (p->first_frame_at.count(other))
      std::printf("first frame from %s after %lld ms (join %d ms)\n", other,
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(p->first_frame_at[other] - t0).count()),
                  p->join_ms);
  }
  // Each hears the other's tone: alice 440 Hz, bob 1000 Hz.
  ASSERT_TRUE(pa.WaitFor([&] { return pa.audio["bob"].samples > 48000; }, 10s));
  ASSERT_TRUE(pb.WaitFor([&] { return pb.audio["alice"].samples > 48000; }, 10s));
  EXPECT_NEAR(pa.Frequency("bob"), 1000, 60);
  EXPECT_NEAR(pb.Frequency("alice"), 440, 30);
  EXPECT_GT(pa.Locked([&] { return pa.peak["bob"]; }), 1000);
  EXPECT_EQ(a->GetOnlineRemoteUsers().size(), 1u);
  // Statistics every heartbeat: media flows both ways at the decoded size.
  ASSERT_TRUE(pa.WaitFor([&] { return pa.stats.size() >= 2 && pa.stats.back().video_fps > 0; }, 10s));
  {
    std::lock_guard<std::mutex> lock(pa.mu);
    const EngineStats& st = pa.stats.back();
    std::printf("stats: send %d kbps, receive %d kbps, loss %.3f, rtt %d ms, jitter %d ms, %d fps %dx%d, quality %d\n",
                st.send_kbps, st.receive_kbps, st.loss_rate, st.rtt_ms, st.jitter_ms, st.video_fps, st.width, st.height,
                st.quality);
    EXPECT_GT(st.send_kbps, 20);
    EXPECT_GT(st.receive_kbps, 20);
    EXPECT_EQ(st.width, 320);
    EXPECT_LT(st.loss_rate, 0.5);
  }
  // Network quality: each measures its own, and hears the other's through the server.
  for (auto [p, other] : {std::pair{&pa, "bob"}, std::pair{&pb, "alice"}}) {
    auto measured = [](std::pair<int, int> q) {
      return q.first >= 0 && q.first <= 4 && q.second >= 0 && q.second <= 4;  // graded, not down or unknown
    };
    EXPECT_TRUE(p->WaitFor([&] { return p->quality.count("") && measured(p->quality[""]); }, 10s));
    EXPECT_TRUE(p->WaitFor([&] { return p->quality.count(other) && measured(p->quality[other]); }, 10s)) << other;
    std::lock_guard<std::mutex> lock(p->mu);
    std::printf("network quality: local %d/%d, %s %d/%d\n", p->quality[""].first, p->quality[""].second, other,
                p->quality[other].first, p->quality[other].second);
  }
  EXPECT_EQ(a->LeaveChannel(), 0);
  EXPECT_TRUE(pa.WaitFor([&] { return pa.left; }, 5s));
  EXPECT_FALSE(a->IsInCall());
  RtcEngine::Destroy(a);
  RtcEngine::Destroy(b);
}

TEST(Engine, RejectsBadCallsWithTheirCodesBeforeAnyNetworkIo) {
  EngineConfig c;
  c.server_url = "ws://127.0.0.1:9/v1/signal";  // nothing listens: no call below may reach it
  RtcEngine* e = RtcEngine::Create(c);
  ASSERT_NE(e, nullptr);
  AuthInfo a;
  a.app_id = "app";
  a.channel_id = "c";
  a.user_id = "u";
  a.nonce = "n";
  a.token = "t";
  a.timestamp = 0;
  EXPECT_EQ(e->JoinChannel(a, "x"), static_cast<int32_t>(Errc::kInvalidAuthInfo));
  a.timestamp = 10;
  a.app_id.clear();
  EXPECT_EQ(e->JoinChannel(a, "x"), static_cast<int32_t>(Errc::kInvalidAuthInfo));
  EXPECT_EQ(e->JoinChannel("", "c", "u", "x"), static_cast<int32_t>(Errc::kInvalidAuthInfo));
  // A token that cannot be parsed, or that names another channel, gets the server's codes.
  EXPECT_EQ(e->JoinChannel("not a token", "c", "u", "x"), static_cast<int32_t>(Errc::kMalformedToken));
  EXPECT_EQ(e->JoinChannel("a.b.c", "c", "u", "x"), static_cast<int32_t>(Errc::kMalformedToken));
  std::string other = MintAccessToken({"app", "elsewhere", "u", "", "", 4102444800, 1}, "key");
  EXPECT_EQ(e->JoinChannel(other, "c", "u", "x"), static_cast<int32_t>(Errc::kTokenInvalid));
  EXPECT_EQ(e->LeaveChannel(), static_cast<int32_t>(Errc::kNotInChannel));
  EXPECT_EQ(e->PublishLocalVideoStream(true), static_cast<int32_t>(Errc::kNotInChannel));
  VideoEncoderConfig bad;
  bad.width = 7;
  EXPECT_EQ(e->SetVideoEncoderConfiguration(bad), static_cast<int32_t>(Errc::kPublishConfigInvalid));
  EXPECT_EQ(e->SubscribeRemoteUser(""), static_cast<int32_t>(Errc::kSubscribeConfigInvalid));
  // H5-compatible mode (on by default) is fixed once an engine exists.
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(false), static_cast<int32_t>(Errc::kH5CompatibleModeConfig));
  EXPECT_TRUE(RtcEngine::IsH5CompatibleMode());
  RtcEngine::Destroy(e);
}

TEST(Engine, JoinFailuresArriveWithTheServersCode) {
  test::ServerProcess server;
  App app = CreateApp(server);
  Probe p;
  RtcEngine* e = RtcEngine::Create(Config(server, "test:tone"));
  e->SetEngineEventListener(&p);
  AuthInfo a = Auth(app, "room", "carol");
  a.token = MintAccessToken({app.id, "room", "carol", a.nonce, "", a.timestamp, 0}, "wrong-key-wrong-key-wrong-key-00");
  ASSERT_EQ(e->JoinChannel(a, "Carol"), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.join_result != -1; }, 5s));
  EXPECT_EQ(p.join_result, static_cast<int32_t>(Errc::kTokenInvalid));
  EXPECT_FALSE(e->IsInCall());
  RtcEngine::Destroy(e);
}

// Signalling runs on the engine's loop with async I/O: a server that never answers
// the SYN fails the join at the request timeout (not after the kernel's SYN retries),
// and the engine thread is free meanwhile, so a destroy does not wait for the connect.
TEST(Engine, JoinToABlackHoledServerFailsWithinTheRequestTimeout) {
  test::BlackHoleListener hole(0);
  ASSERT_TRUE(hole.FillAcceptQueue());
  std::string token = MintAccessToken({"app", "c", "u", "", "", 4102444800, 1}, "key");
  EngineConfig c;
  c.server_url = hole.url();
  c.request_timeout_ms = 500;
  Probe p;
  RtcEngine* e = RtcEngine::Create(c);
  ASSERT_NE(e, nullptr);
  e->SetEngineEventListener(&p);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(e->JoinChannel(token, "c", "u", "x"), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.join_result != -1; }, 5s));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(p.join_result, static_cast<int32_t>(Errc::kSignalRequestError));
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 1000ms);
  EXPECT_FALSE(e->IsInCall());
  RtcEngine::Destroy(e);

  c.request_timeout_ms = 20000;
  Probe q;
  e = RtcEngine::Create(c);
  ASSERT_NE(e, nullptr);
  e->SetEngineEventListener(&q);
  ASSERT_EQ(e->JoinChannel(token, "c", "u", "x"), 0);
  ASSERT_TRUE(q.WaitFor([&] { return q.HasStatus(ConnectionStatus::kConnecting); }, 5s));
  auto t1 = std::chrono::steady_clock::now();
  RtcEngine::Destroy(e);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 2s);
}

TEST(Engine, APureCClientJoinsAndReceivesThroughTheCAbi) {
  test::ServerProcess server;
  App app = CreateApp(server);
  Probe pa;
  RtcEngine* a = RtcEngine::Create(Config(server, "test:tone:440"));
  ASSERT_NE(a, nullptr);
  a->SetEngineEventListener(&pa);
  a->SetMediaFrameObserver(&pa);
  ASSERT_EQ(a->EnableDataMessages(true), 0);
  ASSERT_EQ(a->JoinChannel(Auth(app, "cabi", "alice"), "Alice"), 0);
  AuthInfo bob = Auth(app, "cabi", "cbob");
  auto client = std::async(std::launch::async, [&] {
    return test::RunCommand(
        {C_ABI_CLIENT, "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal", bob.token, "20"});
  });
  // Alice pings the C client over data until it is done (refused until it is there).
  DataMessageOptions text;
  text.text = true;
  while (client.wait_for(200ms) != std::future_status::ready) (void)a->SendDataMessage("cbob", "ping", 4, text);
  auto r = client.get();
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  pa.Locked([&] {
    // Two streams: one's message may overtake the other's.
    std::multiset<std::string> got(pa.data_messages.begin(), pa.data_messages.end());
    EXPECT_EQ(got,
              (std::multiset<std::string>{"cbob hello over data text", "cbob \x01\x02 bytes unreliable unordered"}));
    EXPECT_EQ(pa.data_states.front(), DataChannelState::kConnecting);
  });
  EXPECT_NE(r.out.find("ok (sdk"), std::string::npos) << r.out;
  // And the C client's media reached the C++ engine: the 500 Hz tone it chose with
  // parley_engine_set_recording_device before joining (its config says 660 Hz).
  EXPECT_TRUE(pa.WaitFor([&] { return pa.frames["cbob"] > 5; }, 1s)) << pa.frames["cbob"];
  EXPECT_NEAR(pa.Frequency("cbob"), 500, 40);
  RtcEngine::Destroy(a);
}

TEST(Engine, SourcesThatCannotOpenRaiseTheirCodes) {
  test::ServerProcess server;
  App app = CreateApp(server);
  struct Case {
    std::string audio, video;
    Errc code;
  };
  for (const Case& c : {Case{"test:tone", "device:/dev/video9", Errc::kCameraOpenFailed},
                        Case{"file:/nonexistent/talk.ogg", "null", Errc::kMediaFileOpenFailed}}) {
    Probe p;
    EngineConfig cfg = Config(server, c.audio);
    cfg.video_source = c.video;
    RtcEngine* e = RtcEngine::Create(cfg);
    e->SetEngineEventListener(&p);
    ASSERT_EQ(e->JoinChannel(Auth(app, "devices", "dora"), "Dora"), 0);
    bool raised = p.WaitFor(
        [&] {
          for (auto& [code, m] : p.errors)
            if (code == static_cast<int32_t>(c.code)) return true;
          return false;
        },
        10s);
    EXPECT_TRUE(raised) << c.video << " " << c.audio << ": " << (p.errors.empty() ? "no error" : p.errors[0].second);
    EXPECT_TRUE(e->IsInCall());  // the call goes on without that source
    RtcEngine::Destroy(e);
  }
}

TEST(Engine, PublishesAMediaFilesAudioAndVideo) {
  // A 4 s WebM (VP8 320x240 + Opus 550 Hz) made with GStreamer itself.
  std::string path = test::MakeTestWebm("file", 4, 550);
  ASSERT_FALSE(path.empty());
  test::ServerProcess server;
  App app = CreateApp(server);
  Probe pb;
  EngineConfig fcfg = Config(server, "file:" + path);
  fcfg.video_source = "file:" + path;
  RtcEngine* f = RtcEngine::Create(fcfg);
  EngineConfig bcfg = Config(server, "null");
  bcfg.video_source = "null";
  RtcEngine* b = RtcEngine::Create(bcfg);
  b->SetEngineEventListener(&pb);
  b->SetMediaFrameObserver(&pb);
  ASSERT_EQ(b->JoinChannel(Auth(app, "file", "bob"), "Bob"), 0);
  ASSERT_EQ(f->JoinChannel(Auth(app, "file", "film"), "Film"), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.frames["film"] >= 20 && pb.audio["film"].samples > 48000; }, 15s))
      << pb.frames["film"] << " frames, " << pb.audio["film"].samples << " samples";
  EXPECT_EQ(pb.Locked([&] { return pb.width["film"]; }), 320);
  EXPECT_NEAR(pb.Frequency("film"), 550, 40);
  RtcEngine::Destroy(f);
  RtcEngine::Destroy(b);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace parley
