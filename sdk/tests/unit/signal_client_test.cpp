// The signalling client's bounds, against servers on 127.0.0.1 that never answer:
// one whose accept queue is full (the kernel drops further SYNs, as a black-holed
// address does), one that accepts TCP but never answers the WebSocket upgrade, and a
// WebSocket server that never answers a request.
#include "signal_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::sdk {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// A TCP listener on 127.0.0.1 with an accept backlog of `backlog`, never accepting.
class Listener {
 public:
  explicit Listener(int backlog) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, backlog), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    for (int c : clients_) ::close(c);
    ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/signal"; }

  /// Connects clients until one's handshake does not complete: from then on the
  /// full accept queue makes the kernel drop every SYN to this port.
  bool FillAcceptQueue() {
    for (int i = 0; i < 16; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      clients_.push_back(c);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port_);
      if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) continue;
      if (errno != EINPROGRESS) return false;
      pollfd p{c, POLLOUT, 0};
      if (::poll(&p, 1, 200) == 0) return true;  // no SYN-ACK: dropped
    }
    return false;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> clients_;
};

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

TEST(SignalClient, ABlackHoledServerFailsAtTheTimeout) {
  Listener l(0);
  ASSERT_TRUE(l.FillAcceptQueue());
  SignalClient c(nullptr, nullptr);
  auto t0 = Clock::now();
  Status st = c.Connect(l.url(), 300ms);
  auto took = Clock::now() - t0;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_NE(st.error().message.find("no answer within 300 ms"), std::string::npos) << st.error().message;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_FALSE(c.connected());
}

TEST(SignalClient, AnUpgradeThatNeverComesFailsAtTheTimeout) {
  Listener l(8);  // the kernel completes TCP handshakes; nobody reads the upgrade
  SignalClient c(nullptr, nullptr);
  auto t0 = Clock::now();
  Status st = c.Connect(l.url(), 300ms);
  auto took = Clock::now() - t0;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_FALSE(c.connected());
}

TEST(SignalClient, ARefusedConnectionFailsAtOnceWithTheSystemsReason) {
  uint16_t port = 0;
  {
    Listener gone(1);
    port = gone.port();
  }  // closed: nothing listens there now
  SignalClient c(nullptr, nullptr);
  Status st = c.Connect("ws://127.0.0.1:" + std::to_string(port), 5000ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kSignalRequestError);
  EXPECT_NE(st.error().message.find("refused"), std::string::npos) << st.error().message;
}

/// A WebSocket server on 127.0.0.1 that completes the upgrade, then reads and never
/// answers.
class SilentWebSocketServer {
 public:
  SilentWebSocketServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      ws_ = std::make_unique<beast::websocket::stream<tcp::socket>>(std::move(s));
      ws_->async_accept([this](beast::error_code ec2) {
        if (!ec2) Read();
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
  beast::flat_buffer buffer_;
  std::thread thread_;
};

TEST(SignalClient, RequestTimesOutWithItsCode) {
  SilentWebSocketServer server;
  SignalClient c(nullptr, nullptr);
  ASSERT_TRUE(c.Connect(server.url(), 2000ms));
  EXPECT_TRUE(c.connected());
  std::promise<std::pair<int32_t, std::string>> got;
  auto t0 = Clock::now();
  c.Request("subscribe", {{"userId", "u"}}, Errc::kTimeoutSubscribe, 200ms,
            [&got](int32_t code, const std::string& m, const SignalClient::Json&) {
              got.set_value({code, m});
            });
  auto fut = got.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto took = Clock::now() - t0;
  auto [code, message] = fut.get();
  EXPECT_EQ(code, static_cast<int32_t>(Errc::kTimeoutSubscribe));
  EXPECT_EQ(message, "subscribe timed out");
  EXPECT_GE(took, 200ms);
}

}  // namespace
}  // namespace parley::sdk
