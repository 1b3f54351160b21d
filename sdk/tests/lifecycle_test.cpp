// The engine's lifecycle and threads: Destroy from a listener callback, the H5 mode
// after the last engine is gone, roles changed while other threads call in, and the
// server's kick reaching the kicked engine as "kicked" every time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"
#include "tcp_proxy.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

EngineConfig Quiet(const test::ServerProcess& s) {
  EngineConfig c = Config(s, "null");
  c.video_source = "null";
  c.auto_publish = false;
  return c;
}

/// The users of a live channel as the admin API lists them (empty when it is gone).
json ChannelUsers(const test::ServerProcess& s, const App& app, const std::string& channel) {
  auto r = test::HttpRequest(s.port(), "GET", "/v1/admin/apps/" + app.id + "/channels", "", s.admin_key());
  for (const auto& ch : json::parse(r.body).value("channels", json::array()))
    if (ch.value("channelId", "") == channel) return ch["users"];
  return json::array();
}

/// Polls `pred` every 10 ms for up to `timeout`.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(SdkLog, AnEngineLeavesTheHostsDefaultLoggerAndLevelAlone) {
  // What `parley demo` does: the host sets up spdlog, then creates engines whose
  // config asks for another level (and a log file).
  auto host = std::make_shared<spdlog::logger>("host");
  spdlog::set_default_logger(host);
  spdlog::set_level(spdlog::level::info);
  EngineConfig c;
  c.server_url = "ws://127.0.0.1:9/v1/signal";  // never contacted
  c.log_level = "debug";
  c.log_dir = ::testing::TempDir() + "parley-engine-log";
  RtcEngine* e = RtcEngine::Create(c);
  ASSERT_NE(e, nullptr);
  RtcEngine::Destroy(e);
  EXPECT_EQ(spdlog::default_logger().get(), host.get());
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
  EXPECT_EQ(host->level(), spdlog::level::info);
}

TEST(EngineLifecycle, H5ModeCanBeSetAgainOnceTheLastEngineIsDestroyed) {
  EXPECT_TRUE(RtcEngine::IsH5CompatibleMode());  // the default: browsers can join any channel
  EngineConfig c;
  c.server_url = "ws://127.0.0.1:9/v1/signal";  // never contacted
  RtcEngine* a = RtcEngine::Create(c);
  RtcEngine* b = RtcEngine::Create(c);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(false), Code(Errc::kH5CompatibleModeConfig));
  RtcEngine::Destroy(a);
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(false), Code(Errc::kH5CompatibleModeConfig));  // b lives
  RtcEngine::Destroy(b);
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(false), 0);
  EXPECT_FALSE(RtcEngine::IsH5CompatibleMode());
  RtcEngine* d = RtcEngine::Create(c);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(true), Code(Errc::kH5CompatibleModeConfig));
  EXPECT_FALSE(RtcEngine::IsH5CompatibleMode());
  RtcEngine::Destroy(d);
  EXPECT_EQ(RtcEngine::SetH5CompatibleMode(true), 0);
  EXPECT_TRUE(RtcEngine::IsH5CompatibleMode());
}

// Destroys its engine from inside OnJoinChannelResult (on the engine thread) and
// counts every callback that arrives after that.
class DestroyingProbe : public Probe {
 public:
  void OnJoinChannelResult(int32_t result, const std::string& ch, const std::string& u, int ms) override {
    Late();
    Probe::OnJoinChannelResult(result, ch, u, ms);
    if (result != 0) return;
    RtcEngine::Destroy(engine);
    destroyed = true;
  }
  void OnConnectionStatusChanged(ConnectionStatus s) override {
    Late();
    Probe::OnConnectionStatusChanged(s);
  }
  void OnLeaveChannelResult(int32_t r) override {
    Late();
    Probe::OnLeaveChannelResult(r);
  }
  void OnOccurError(int32_t code, const std::string& m) override {
    Late();
    Probe::OnOccurError(code, m);
  }
  void OnBye(const std::string& reason) override {
    Late();
    Probe::OnBye(reason);
  }
  RtcEngine* engine = nullptr;
  std::atomic<bool> destroyed{false};
  std::atomic<int> late{0};

 private:
  void Late() {
    if (destroyed) ++late;
  }
};

TEST(EngineLifecycle, DestroyFromAListenerCallbackFinishesAfterTheCallbackReturns) {
  test::ServerProcess server;
  App app = CreateApp(server);
  DestroyingProbe p;
  p.engine = RtcEngine::Create(Quiet(server));
  ASSERT_NE(p.engine, nullptr);
  p.engine->SetEngineEventListener(&p);
  ASSERT_EQ(p.engine->JoinChannel(Auth(app, "selfdestroy", "sam"), "Sam"), 0);
  ASSERT_TRUE(Eventually([&] { return p.destroyed.load(); }, 10s));
  // The engine tears down on its own thread after the callback: it leaves the
  // channel, and once it is gone no engine is live (the H5 mode may be set again).
  EXPECT_TRUE(Eventually([&] { return ChannelUsers(server, app, "selfdestroy").empty(); }, 10s));
  EXPECT_TRUE(Eventually([&] { return RtcEngine::SetH5CompatibleMode(false) == 0; }, 10s));
  EXPECT_EQ(p.late.load(), 0) << "callbacks after Destroy returned";
}

// Role changes are answered on the engine thread while another thread keeps asking to
// publish (which reads the role); under TSan this must report no race.
TEST(EngineLifecycle, RoleRepliesAndPublishCallsOnOtherThreadsDoNotRace) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Quiet(server);
  cfg.profile = ChannelProfile::kInteractiveLive;
  cfg.role = ClientRole::kAudience;
  RtcEngine* e = RtcEngine::Create(cfg);
  Probe p;
  e->SetEngineEventListener(&p);
  ASSERT_EQ(e->JoinChannel(Auth(app, "roles", "ria"), "Ria"), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.join_result == 0; }, 10s));
  std::atomic<bool> stop{false};
  std::atomic<int> wrong_role{0}, other{0};
  std::thread caller([&] {
    while (!stop) {
      if (e->PublishLocalVideoStream(true) == Code(Errc::kPublishWrongRole))
        ++wrong_role;
      else
        ++other;
    }
  });
  EXPECT_TRUE(Eventually([&] { return wrong_role > 0; }, 10s));  // the caller runs
  for (int i = 0; i < 50; ++i) EXPECT_EQ(e->SetClientRole(ClientRole::kAudience), 0);
  // Requests are answered in order: once this one's error is in, every setRole
  // reply has run on the engine thread.
  EXPECT_EQ(e->SubscribeRemoteUser("nobody"), 0);
  EXPECT_TRUE(p.WaitFor([&] { return p.HasError(Code(Errc::kSubscribeRemoteStreamGone)); }, 10s));
  stop = true;
  caller.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(e->IsInCall());
  RtcEngine::Destroy(e);
}

// A role set while the join is in flight is what the server has once joined (the join
// request already carried the old one).
TEST(EngineLifecycle, ARoleSetWhileJoiningIsAppliedOnceJoined) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Quiet(server);
  cfg.profile = ChannelProfile::kInteractiveLive;
  cfg.role = ClientRole::kBroadcaster;
  cfg.audio_source = "test:tone";
  cfg.auto_publish = true;
  RtcEngine* e = RtcEngine::Create(cfg);
  Probe p;
  e->SetEngineEventListener(&p);
  ASSERT_EQ(e->JoinChannel(Auth(app, "late-role", "lea"), "Lea"), 0);
  EXPECT_EQ(e->SetClientRole(ClientRole::kAudience), 0);  // the join is still in flight
  ASSERT_TRUE(p.WaitFor([&] { return p.join_result == 0; }, 10s));
  EXPECT_TRUE(Eventually(
      [&] {
        json users = ChannelUsers(server, app, "late-role");
        return users.size() == 1 && users[0].value("role", "") == "audience";
      },
      10s))
      << ChannelUsers(server, app, "late-role").dump();
  // Sent after the setRole (which went out with the join's result): once its error is
  // in, the engine has the server's answer too.
  EXPECT_EQ(e->SubscribeRemoteUser("nobody"), 0);
  EXPECT_TRUE(p.WaitFor([&] { return p.HasError(Code(Errc::kSubscribeRemoteStreamGone)); }, 10s));
  EXPECT_EQ(e->PublishLocalAudioStream(true), Code(Errc::kPublishWrongRole));
  {
    std::lock_guard<std::mutex> lock(p.mu);
    EXPECT_TRUE(p.published_tracks.empty());  // an audience member does not auto-publish
  }
  RtcEngine::Destroy(e);
}

// Holds the engine thread inside OnOccurError while `hold` is set, so a test can make
// the signalling link close before the engine reads what arrived on it.
class HoldingProbe : public Probe {
 public:
  void OnOccurError(int32_t code, const std::string& m) override {
    Probe::OnOccurError(code, m);
    if (code != Code(Errc::kNotPublishing)) return;
    std::unique_lock<std::mutex> lock(hold_mu);
    held = true;
    hold_cv.notify_all();
    hold_cv.wait(lock, [&] { return !hold; });
    held = false;
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(hold_mu);
    hold = true;
  }
  void WaitHeld() {
    std::unique_lock<std::mutex> lock(hold_mu);
    hold_cv.wait(lock, [&] { return held; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(hold_mu);
      hold = false;
    }
    hold_cv.notify_all();
  }
  std::mutex hold_mu;
  std::condition_variable hold_cv;
  bool hold = false, held = false;
};

int OpenSignalConnections(const test::ServerProcess& s) {
  std::string body = test::HttpRequest(s.port(), "GET", "/metrics").body;
  auto at = body.find("\nparley_ws_connections ");
  return at == std::string::npos ? -1 : std::stoi(body.substr(at + 23));
}

// The admin API kicks a native engine 20 times. Every time the engine reports the
// server's "kicked" (sessionRemoved, 0x02010105) and never takes the close that
// follows for a dropped link (no reconnecting, no "connection-lost"). Every other
// kick holds the engine thread (which also runs the signalling client) while the
// server writes the notice and closes, so the notice and the close frame are both
// waiting when the engine reads again.
TEST(EngineLifecycle, AKickedEngineIsToldKickedEveryTime) {
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig cfg = Quiet(server);
  cfg.reconnect_timeout_ms = 5000;
  RtcEngine* e = RtcEngine::Create(cfg);
  std::deque<HoldingProbe> probes;  // one per round, alive until the engine is gone
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE("kick " + std::to_string(i));
    HoldingProbe& p = probes.emplace_back();
    e->SetEngineEventListener(&p);
    ASSERT_EQ(e->JoinChannel(Auth(app, "kicks", "kim"), "Kim"), 0);
    ASSERT_TRUE(p.WaitFor([&] { return p.join_result != -1; }, 10s));
    ASSERT_EQ(p.join_result, 0);
    bool held = i % 2 == 1;
    if (held) {
      p.Hold();
      ASSERT_EQ(e->PublishLocalAudioStream(false), 0);  // raises kNotPublishing: the hold
      p.WaitHeld();
    }
    auto r = test::HttpRequest(server.port(), "POST", "/v1/admin/apps/" + app.id + "/channels/kicks/users/kim/kick", "",
                               server.admin_key());
    ASSERT_EQ(r.status, 200) << r.body;
    if (held) {
      // The server writes the notice and then the close frame; the link closes once
      // the engine, released, answers that close.
      std::this_thread::sleep_for(200ms);
      p.Release();
      EXPECT_TRUE(Eventually([&] { return OpenSignalConnections(server) == 0; }, 10s));
    }
    ASSERT_TRUE(p.WaitFor([&] { return !p.bye.empty(); }, 10s));
    EXPECT_FALSE(e->IsInCall());
    std::lock_guard<std::mutex> lock(p.mu);
    EXPECT_EQ(p.bye, "kicked");
    EXPECT_TRUE(p.HasError(Code(Errc::kSessionRemoved)));
    EXPECT_FALSE(p.HasWarning(Code(Errc::kLocalNetworkDisconnected)));
    EXPECT_FALSE(p.HasStatus(ConnectionStatus::kReconnecting));
    EXPECT_EQ(p.statuses.back(), ConnectionStatus::kDisconnected);
  }
  RtcEngine::Destroy(e);
}

// Leaving does not hold the engine thread: while the leave waits for an answer that
// never comes (the link is stalled), work queued behind it runs at once, and the call
// ends within the leave's bound (its request times out after 2 s).
TEST(EngineLifecycle, ALeaveWaitingForTheServerDoesNotHoldTheEngineThread) {
  std::string path = test::MakeTestWebm("leave", 4, 550);
  ASSERT_FALSE(path.empty());
  test::ServerProcess server;
  App app = CreateApp(server);
  test::TcpProxy proxy(server.port());
  EngineConfig c = Config(server, "file:" + path);  // a file: PauseMediaFile posts work
  c.video_source = "null";
  c.server_url = "ws://127.0.0.1:" + std::to_string(proxy.port()) + "/v1/signal";
  RtcEngine* e = RtcEngine::Create(c);
  Probe p;
  e->SetEngineEventListener(&p);
  ASSERT_EQ(e->JoinChannel(Auth(app, "leave", "lea"), "Lea"), 0);
  ASSERT_TRUE(p.WaitFor([&] { return p.published_tracks.count(TrackKind::kAudio) > 0; }, 10s));
  proxy.SetStalled(true);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(e->LeaveChannel(), 0);
  ASSERT_EQ(e->PauseMediaFile(), 0);  // queued behind the leave; the file stopped with the media
  EXPECT_TRUE(p.WaitFor([&] { return p.HasError(Code(Errc::kPublishStreamNotExist)); }, 1s))
      << "work queued behind a leave waited for it";
  EXPECT_FALSE(p.Locked([&] { return p.left; }));
  EXPECT_TRUE(p.WaitFor([&] { return p.left; }, 4s));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 3500ms);
  EXPECT_FALSE(e->IsInCall());
  RtcEngine::Destroy(e);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace parley
