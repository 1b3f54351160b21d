// The signalling client's bounds, against servers on 127.0.0.1 that never answer:
// one whose accept queue is full (the kernel drops further SYNs, as a black-holed
// address does), one that accepts TCP but never answers the WebSocket upgrade, and a
// WebSocket server that never answers a request. The client runs on the test's own
// io_context, as it runs on the engine's loop: its callbacks are posted there.
#include "signal_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../black_hole.hpp"

namespace parley::sdk {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// The loop the client runs on, run by the test's thread until what it waits for
/// happened or `bound` passed.
struct Loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::milliseconds bound) {
    auto deadline = Clock::now() + bound;
    while (!done() && Clock::now() < deadline) io.run_one_until(deadline);
    return done();
  }
};

using BlackHole = test::BlackHoleListener;

TEST(SignalClient, IceStaysOnLoopbackOnlyForALoopbackServer) {
  EXPECT_EQ(SignalUrlHost("ws://127.0.0.1:7880/v1/signal"), "127.0.0.1");
  EXPECT_EQ(SignalUrlHost("http://[::1]:7880"), "::1");
  EXPECT_EQ(SignalUrlHost("https://rtc.example.com/v1/signal"), "rtc.example.com");
  EXPECT_EQ(SignalUrlHost("10.77.0.1:80"), "10.77.0.1");
  for (const char* url :
       {"ws://127.0.0.1:7880/v1/signal", "http://localhost:7880", "ws://[::1]:1/", "ws://127.9.9.9:2"})
    EXPECT_EQ(DefaultIceAddresses(url), std::vector<std::string>{"127.0.0.1"}) << url;
  // Any other server: every address libnice finds (a loopback-only list would offer the
  // remote server nothing it can reach).
  for (const char* url :
       {"ws://10.77.0.1:7880/v1/signal", "https://rtc.example.com", "ws://128.0.0.1:1", "ws://[fe80::1]:1"})
    EXPECT_TRUE(DefaultIceAddresses(url).empty()) << url;
}

/// Connects `c` to `url` with `timeout` on `loop`: the result and how long it took.
std::pair<Status, Clock::duration> ConnectAndWait(Loop& loop, SignalClient& c, const std::string& url,
                                                  std::chrono::milliseconds timeout) {
  std::optional<Status> got;
  auto t0 = Clock::now();
  c.Connect(url, timeout, [&got](const Status& st) { got = st; });
  EXPECT_FALSE(got) << "the result is posted, never given inside Connect";
  EXPECT_TRUE(loop.RunUntil([&] { return got.has_value(); }, timeout + 5s));
  return {got.value_or(MakeError(Errc::kInternalError, "no result")), Clock::now() - t0};
}

TEST(SignalClient, ABlackHoledServerFailsAtTheTimeout) {
  BlackHole l(0);
  ASSERT_TRUE(l.FillAcceptQueue());
  Loop loop;
  SignalClient c(loop.io, nullptr, nullptr);
  auto [st, took] = ConnectAndWait(loop, c, l.url(), 300ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_NE(st.error().message.find("no answer within 300 ms"), std::string::npos) << st.error().message;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_FALSE(c.connected());
}

TEST(SignalClient, AnUpgradeThatNeverComesFailsAtTheTimeout) {
  BlackHole l(8);  // the kernel completes TCP handshakes; nobody reads the upgrade
  Loop loop;
  SignalClient c(loop.io, nullptr, nullptr);
  auto [st, took] = ConnectAndWait(loop, c, l.url(), 300ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_FALSE(c.connected());
}

TEST(SignalClient, ARefusedConnectionFailsAtOnceWithTheSystemsReason) {
  uint16_t port = 0;
  {
    BlackHole gone(1);
    port = gone.port();
  }  // closed: nothing listens there now
  Loop loop;
  SignalClient c(loop.io, nullptr, nullptr);
  auto [st, took] = ConnectAndWait(loop, c, "ws://127.0.0.1:" + std::to_string(port), 5000ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_NE(st.error().message.find("refused"), std::string::npos) << st.error().message;
  EXPECT_LT(took, 2000ms);
}

TEST(SignalClient, CloseDoesNotWaitForAConnectOnItsWay) {
  BlackHole l(0);
  ASSERT_TRUE(l.FillAcceptQueue());
  Loop loop;
  std::optional<Status> got;
  bool closed_called = false;
  SignalClient c(loop.io, nullptr, [&closed_called](const std::string&) { closed_called = true; });
  c.Connect(l.url(), 10s, [&got](const Status& st) { got = st; });
  auto t0 = Clock::now();
  c.Close();
  EXPECT_FALSE(got);
  ASSERT_TRUE(loop.RunUntil([&] { return got.has_value(); }, 2s));
  EXPECT_LT(Clock::now() - t0, 1s);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().code, Errc::kSignalRequestError);
  EXPECT_FALSE(c.connected());
  EXPECT_FALSE(closed_called) << "a close the client asked for is not reported";
}

/// A WebSocket server on 127.0.0.1 that completes the upgrade, then reads and never
/// answers; or, given `last_words`, sends them and closes (as parleyd ends a session:
/// sessionRemoved, then the close).
class SilentWebSocketServer {
 public:
  explicit SilentWebSocketServer(std::string last_words = "")
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), last_words_(std::move(last_words)) {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      ws_ = std::make_unique<beast::websocket::stream<tcp::socket>>(std::move(s));
      ws_->async_accept([this](beast::error_code ec2) {
        if (ec2) return;
        if (last_words_.empty()) return Read();
        ws_->text(true);
        ws_->async_write(asio::buffer(last_words_), [this](beast::error_code ec3, size_t) {
          if (!ec3) ws_->async_close(beast::websocket::close_code::normal, [](beast::error_code) {});
        });
      });
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SilentWebSocketServer() {
    io_.stop();
    thread_.join();
  }
  SilentWebSocketServer(const SilentWebSocketServer&) = delete;
  SilentWebSocketServer& operator=(const SilentWebSocketServer&) = delete;
  [[nodiscard]] std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  void Read() {
    ws_->async_read(buffer_, [this](beast::error_code ec, size_t) {
      buffer_.clear();
      if (!ec) Read();
    });
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<beast::websocket::stream<tcp::socket>> ws_;
  std::string last_words_;
  beast::flat_buffer buffer_;
  std::thread thread_;
};

/// A WebSocket server on 127.0.0.1 that leaves the first `ignored` connections'
/// upgrades unanswered (as if the request or the answer were lost on the way, and
/// every retransmission too) and answers the ones after them.
class LossyUpgradeServer {
 public:
  explicit LossyUpgradeServer(int ignored)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), ignored_(ignored) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LossyUpgradeServer() {
    io_.stop();
    thread_.join();
  }
  LossyUpgradeServer(const LossyUpgradeServer&) = delete;
  LossyUpgradeServer& operator=(const LossyUpgradeServer&) = delete;
  [[nodiscard]] std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  [[nodiscard]] int connections() const { return connections_.load(); }
  [[nodiscard]] int upgraded() const { return upgraded_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      if (connections_++ < ignored_) {
        silent_.push_back(std::move(s));
      } else {
        auto ws = std::make_shared<beast::websocket::stream<tcp::socket>>(std::move(s));
        ws->async_accept([this, ws](beast::error_code ec2) {
          if (!ec2) {
            ++upgraded_;
            open_.push_back(ws);
          }
        });
      }
      Accept();
    });
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  int ignored_;
  std::atomic<int> connections_{0}, upgraded_{0};
  std::vector<tcp::socket> silent_;
  std::vector<std::shared_ptr<beast::websocket::stream<tcp::socket>>> open_;
  std::thread thread_;
};

// The first two connections' upgrades are never answered: the client does not wait on
// them; a new connection every half second, the first to be answered is the one it keeps.
TEST(SignalClient, AnUnansweredUpgradeDoesNotHoldUpTheConnectWhileTheBoundLasts) {
  LossyUpgradeServer server(2);
  Loop loop;
  SignalClient c(loop.io, nullptr, nullptr);
  auto [st, took] = ConnectAndWait(loop, c, server.url(), 5000ms);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(c.connected());
  EXPECT_GE(server.connections(), 3);
  // The others are closed: a request goes over the one connection that was answered.
  std::printf("# connected after %lld ms over connection %d\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              server.connections());
  // The server counts an upgrade once its answer is written, which can be after the
  // client has read it.
  for (int i = 0; i < 200 && server.upgraded() < 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.upgraded(), 1);
}

TEST(SignalClient, RequestTimesOutWithItsCode) {
  SilentWebSocketServer server;
  Loop loop;
  SignalClient c(loop.io, nullptr, nullptr);
  ASSERT_TRUE(ConnectAndWait(loop, c, server.url(), 2000ms).first);
  EXPECT_TRUE(c.connected());
  std::optional<std::pair<int32_t, std::string>> got;
  auto t0 = Clock::now();
  c.Request("subscribe", {{"userId", "u"}}, Errc::kTimeoutSubscribe, 200ms,
            [&got](int32_t code, const std::string& m, const SignalClient::Json&) { got.emplace(code, m); });
  ASSERT_TRUE(loop.RunUntil([&] { return got.has_value(); }, 5s));
  auto took = Clock::now() - t0;
  EXPECT_EQ(got->first, static_cast<int32_t>(Errc::kTimeoutSubscribe));
  EXPECT_EQ(got->second, "subscribe timed out");
  EXPECT_GE(took, 200ms);
}

// The engine destroys the client from inside a reply (a failed join): callbacks are
// posted, so none runs inside the call that caused it and the client may go.
TEST(SignalClient, ACallbackMayDestroyTheClientAndTheOthersStillArrive) {
  SilentWebSocketServer server;
  Loop loop;
  auto c = std::make_unique<SignalClient>(loop.io, nullptr, nullptr);
  ASSERT_TRUE(ConnectAndWait(loop, *c, server.url(), 2000ms).first);
  std::vector<int32_t> codes;
  c->Request("ping", SignalClient::Json::object(), Errc::kHeartbeatTimeout, 50ms,
             [&](int32_t code, const std::string&, const SignalClient::Json&) {
               codes.push_back(code);
               c.reset();
             });
  c->Request("leave", SignalClient::Json::object(), Errc::kTimeoutLeave, 5s,
             [&](int32_t code, const std::string&, const SignalClient::Json&) { codes.push_back(code); });
  ASSERT_TRUE(loop.RunUntil([&] { return codes.size() == 2; }, 5s));
  EXPECT_EQ(codes[0], static_cast<int32_t>(Errc::kHeartbeatTimeout));
  EXPECT_EQ(codes[1], static_cast<int32_t>(Errc::kSignalRequestError));  // cut off by the destroy
  // Not connected: the refusal is posted too.
  SignalClient idle(loop.io, nullptr, nullptr);
  bool refused = false;
  idle.Request("ping", SignalClient::Json::object(), Errc::kHeartbeatTimeout, 1s,
               [&](int32_t code, const std::string&, const SignalClient::Json&) {
                 refused = code == static_cast<int32_t>(Errc::kSignalRequestError);
               });
  EXPECT_FALSE(refused);
  loop.io.poll();
  EXPECT_TRUE(refused);
}

// The call closes a link whose heartbeats went unanswered while a write may have
// completed with its handler still queued: the close must leave that write's buffer
// alive and its handler must not take another message off the queue (under ASan the
// old code freed the buffer twice).
TEST(SignalClient, CloseWithWritesInFlightCutsOffEveryRequestOnce) {
  for (int round = 0; round < 20; ++round) {
    SilentWebSocketServer server;  // it takes one connection
    Loop loop;
    SignalClient c(loop.io, nullptr, nullptr);
    ASSERT_TRUE(ConnectAndWait(loop, c, server.url(), 2000ms).first);
    std::vector<int32_t> codes;
    for (int i = 0; i < 3; ++i)
      c.Request("ping", SignalClient::Json::object(), Errc::kHeartbeatTimeout, 5s,
                [&](int32_t code, const std::string&, const SignalClient::Json&) { codes.push_back(code); });
    // Let the first write complete (its handler queued or run), then close.
    loop.io.poll_one();
    c.Close();
    ASSERT_TRUE(loop.RunUntil([&] { return codes.size() == 3; }, 5s));
    loop.io.poll();
    EXPECT_EQ(codes, std::vector<int32_t>(3, static_cast<int32_t>(Errc::kSignalRequestError)));
    EXPECT_FALSE(c.connected());
  }
}

// parleyd writes sessionRemoved and then closes: the engine must see the notice before
// the close, or it would take the close for a drop and try to resume.
TEST(SignalClient, ANotificationBeforeTheCloseIsDeliveredFirst) {
  SilentWebSocketServer server(R"({"type":"sessionRemoved","reason":"kicked"})");
  Loop loop;
  std::vector<std::string> seen;
  SignalClient c(
      loop.io, [&](const SignalClient::Json& note) { seen.push_back(note.value("type", "")); },
      [&](const std::string&) { seen.emplace_back("closed"); });
  ASSERT_TRUE(ConnectAndWait(loop, c, server.url(), 2000ms).first);
  ASSERT_TRUE(loop.RunUntil([&] { return seen.size() == 2; }, 5s));
  EXPECT_EQ(seen, (std::vector<std::string>{"sessionRemoved", "closed"}));
  EXPECT_FALSE(c.connected());
}

}  // namespace
}  // namespace parley::sdk
