// The engine's lifecycle and threads: the server's kick reaching the kicked engine as
// "kicked" every time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <thread>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

int32_t Code(Errc e) {
  return static_cast<int32_t>(e);
}

EngineConfig Quiet(const test::ServerProcess& s) {
  EngineConfig c = Config(s, "null");
  c.video_source = "null";
  c.auto_publish = false;
  return c;
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
// kick holds the engine thread until the server has closed the link, so the notice
// is read only after the close arrived.
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
      // The server closes after writing the notice; the engine's client has then read
      // both (its close reply is what the server waited for).
      EXPECT_TRUE(Eventually([&] { return OpenSignalConnections(server) == 0; }, 10s));
      std::this_thread::sleep_for(50ms);
      p.Release();
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

}  // namespace
}  // namespace parley
