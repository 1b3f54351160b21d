// echo_floor: what one small request and its answer cost a server on this machine
// when the server does nothing else. A bare epoll loop (no WebSocket, no JSON, no
// Asio) answers each message on N loopback TCP connections with the same bytes; the
// client sends one 40-byte message per connection every 2 s, spread evenly, as
// signal_load's heartbeat does, and sleeps between sends. The server's CPU per message
// is the floor under parleyd's cost per heartbeat ping (signal_load's "hold" row).
//
//   echo_floor [--sessions 4000] [--seconds 20] [--server-cpu 0] [--client-cpu 1]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "proc_stats.hpp"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Serve(int listener) {
  int ep = epoll_create1(0);
  epoll_event add{};
  add.events = EPOLLIN;
  add.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &add);
  std::array<epoll_event, 256> ready{};
  std::array<char, 4096> buf{};
  const int one = 1;
  for (;;) {
    int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), -1);
    for (int i = 0; i < n; ++i) {
      int fd = ready[static_cast<size_t>(i)].data.fd;
      if (fd == listener) {
        for (int c; (c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN | EPOLLET;
          e.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      for (ssize_t got; (got = recv(fd, buf.data(), buf.size(), 0)) > 0;)
        (void)send(fd, buf.data(), static_cast<size_t>(got), MSG_NOSIGNAL);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int sessions = 4000, seconds = 20, server_cpu = 0, client_cpu = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::stoi(argv[i + 1]);
    if (k == "--sessions")
      sessions = v;
    else if (k == "--seconds")
      seconds = v;
    else if (k == "--server-cpu")
      server_cpu = v;
    else if (k == "--client-cpu")
      client_cpu = v;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("echo_floor: listen");
    return 1;
  }
  pid_t server = fork();
  if (server == 0) {
    parley::bench::Pin(server_cpu);
    Serve(listener);
  }
  parley::bench::Pin(client_cpu);
  const int one = 1;
  std::vector<int> conns;
  int ep = epoll_create1(0);
  for (int i = 0; i < sessions; ++i) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("echo_floor: connect (raise ulimit -n?)");
      kill(server, SIGKILL);
      return 1;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c, F_SETFL, O_NONBLOCK);
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
    conns.push_back(c);
  }
  const char message[] = R"({"type":"ping","id":123456,"x":"abcdef"})";
  const auto interval = std::chrono::nanoseconds(2'000'000'000LL / sessions);
  const double cpu0 = parley::bench::CpuSeconds(server);
  const auto start = Clock::now(), end = start + std::chrono::seconds(seconds);
  auto next = start;
  long sent = 0, answered = 0;
  std::array<epoll_event, 256> ready{};
  std::array<char, 4096> buf{};
  while (Clock::now() < end) {
    for (auto now = Clock::now(); next <= now; next += interval, ++sent)
      (void)send(conns[static_cast<size_t>(sent) % conns.size()], message, sizeof message - 1, MSG_NOSIGNAL);
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(next - Clock::now());
    const long ns = std::max<long>(0, static_cast<long>(wait.count()));
    timespec ts{ns / 1'000'000'000L, ns % 1'000'000'000L};
    int n = epoll_pwait2(ep, ready.data(), static_cast<int>(ready.size()), &ts, nullptr);
    for (int i = 0; i < n; ++i)
      while (recv(ready[static_cast<size_t>(i)].data.fd, buf.data(), buf.size(), 0) > 0) ++answered;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = parley::bench::CpuSeconds(server) - cpu0;
  std::printf(
      "echo_floor: %d connections, %ld messages over %.1f s (%.0f/s), %ld reads of answers; server CPU %.1f%% of one "
      "core, %.1f us a message\n",
      sessions, sent, wall, static_cast<double>(sent) / wall, answered, 100 * cpu / wall,
      cpu / static_cast<double>(std::max(1L, sent)) * 1e6);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  return 0;
}
