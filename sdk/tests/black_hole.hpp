// A TCP listener on 127.0.0.1 that never accepts, for the SDK's connect bounds: with
// a backlog of 0 and its accept queue filled, the kernel drops every further SYN to
// it, as a black-holed address does; with a backlog it completes TCP handshakes and
// nobody ever answers the WebSocket upgrade.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::test {

/// A TCP listener on 127.0.0.1 with an accept backlog of `backlog`, never accepting.
class BlackHoleListener {
 public:
  explicit BlackHoleListener(int backlog) {
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
  ~BlackHoleListener() {
    for (int c : clients_) ::close(c);
    ::close(fd_);
  }
  BlackHoleListener(const BlackHoleListener&) = delete;
  BlackHoleListener& operator=(const BlackHoleListener&) = delete;
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

}  // namespace parley::test
