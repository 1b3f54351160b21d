// A TCP forwarder on 127.0.0.1 that a test can cut: every connection through it is
// closed at once (as a network drop would), while new connections still go through.
// It can also stall: connections stay open but what is sent is lost (a black hole).
// The SDK's signalling goes through it; its media (UDP, addressed by the SDP) does not.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace parley::test {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_(target_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listener_, 16);
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { AcceptLoop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    Cut();
    accept_.join();
    close(listener_);
    for (auto& t : pipes_) t.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  [[nodiscard]] int port() const { return port_; }
  /// While refusing, new connections are accepted and closed at once.
  void SetRefusing(bool refusing) { refusing_ = refusing; }
  /// While stalled, bytes are read and dropped in both directions.
  void SetStalled(bool stalled) { stalled_ = stalled; }
  /// Drops every connection open now.
  void Cut() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
    open_.clear();
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      if (refusing_) {
        close(client);
        continue;
      }
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(target_));
      if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(client);
        close(server);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        open_.push_back(client);
        open_.push_back(server);
      }
      pipes_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }
  void Pump(int a, int b) {
    char buf[16384];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    for (;;) {
      if (poll(fds, 2, 200) < 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || (!stalled_ && write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n)) done = true;
      }
      if (done) break;
    }
    std::lock_guard<std::mutex> lock(mu_);  // forgotten before closed: Cut never hits a reused fd
    std::erase(open_, a);
    std::erase(open_, b);
    close(a);
    close(b);
  }

  int target_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false}, refusing_{false}, stalled_{false};
  std::thread accept_;
  std::vector<std::thread> pipes_;
  std::mutex mu_;
  std::vector<int> open_;
};

}  // namespace parley::test
