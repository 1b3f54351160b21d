// One UDP port for every media worker (--one-port; WorkerOptions::share_port).
//
// Every worker binds the port with SO_REUSEPORT, and the kernel spreads datagrams over
// their sockets by a hash of the sender's address: a client's first check may well land
// on a worker that does not hold its transport. Our ufrags begin with their worker's
// index (port_share.hpp), so that worker passes the check on to the right one, which
// answers it from the same port. Once ICE has validated the client's address, its
// worker opens a UDP socket on the port connected to that address: the kernel delivers
// a datagram to the connected socket that matches it before it picks one of the
// unconnected ones, so everything that client sends from then on (DTLS, SRTP, its
// checks) reaches its own worker directly. What is sent goes out through the worker's
// main socket, as it does with a port of its own.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sfu/port_share.hpp"
#include "sfu/worker.hpp"
#include "spdlog/spdlog.h"

namespace parley::sfu {

void MediaWorker::SharePortWith(std::vector<MediaWorker*> all, size_t index) {
  sharers_ = std::move(all);
  index_ = index;
  if (sharers_.size() > 1 && peers_epoll_ < 0) peers_epoll_ = epoll_create1(EPOLL_CLOEXEC);
}

bool MediaWorker::HandOver(std::span<const uint8_t> check, std::string_view local_ufrag, const sockaddr_storage& from,
                           int64_t arrival_us) {
  auto owner = UfragWorker(local_ufrag);
  if (!owner || *owner >= sharers_.size() || *owner == index_) return false;
  MediaWorker* to = sharers_[*owner];
  // Bounded: a flood of checks naming another worker costs it at most this many queued.
  if (to->handed_pending_.fetch_add(1, std::memory_order_relaxed) >= kMaxHandedPending) {
    to->handed_pending_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  to->Post([to, bytes = std::vector<uint8_t>(check.begin(), check.end()), from, arrival_us]() mutable {
    to->handed_pending_.fetch_sub(1, std::memory_order_relaxed);
    to->handed_in_.fetch_add(1, std::memory_order_relaxed);
    to->HandleDatagram(bytes, from, to->Now(), arrival_us);
  });
  return true;
}

void MediaWorker::OpenPeerSocket(const sockaddr_storage& peer) {
  const auto key = AddressKey(peer);
  if (peers_epoll_ < 0 || peer_sockets_.count(key)) return;
  // Without one, the client's datagrams may reach another worker and be dropped there.
  auto fail = [this](const char* why) {
    peer_socket_failures_.fetch_add(1, std::memory_order_relaxed);
    const int64_t now_us = Now();
    if (peer_failure_logged_us_ != 0 && now_us - peer_failure_logged_us_ < 5'000'000) return;
    peer_failure_logged_us_ = now_us;
    spdlog::warn("media worker (udp port {}): no socket connected to a client ({}); its media may be lost", port_, why);
  };
  if (peer_sockets_.size() >= options_.max_peer_sockets) return fail("as many as the descriptor budget allows");
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return fail(strerror(errno));
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (local.ss_family == AF_INET6) {  // as the port's own socket is
    int v6only = 0;
    socklen_t l = sizeof v6only;
    getsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  int buf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  const socklen_t peer_len = peer.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local), local_len) != 0 ||
      connect(fd, reinterpret_cast<const sockaddr*>(&peer), peer_len) != 0 ||
      epoll_ctl(peers_epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int e = errno;
    close(fd);
    return fail(strerror(e));
  }
  peer_sockets_[key] = fd;
  peer_sockets_opened_.fetch_add(1, std::memory_order_relaxed);
  peer_sockets_count_.store(peer_sockets_.size(), std::memory_order_relaxed);
}

void MediaWorker::ClosePeerSocket(const std::array<uint8_t, 19>& key) {
  auto it = peer_sockets_.find(key);
  if (it == peer_sockets_.end()) return;
  // Closed later (ClosePeerSocketsNow): an event of the batch being read may name it, and
  // its number must not meanwhile be another descriptor's.
  epoll_ctl(peers_epoll_, EPOLL_CTL_DEL, it->second, nullptr);
  peer_fds_closing_.push_back(it->second);
  peer_sockets_.erase(it);
  peer_sockets_count_.store(peer_sockets_.size(), std::memory_order_relaxed);
}

void MediaWorker::ForgetAddress(const std::array<uint8_t, 19>& key) {
  by_address_.erase(key);
  ClosePeerSocket(key);
}

void MediaWorker::ReceivePeerSockets(ReceiveBuffers& rx) {
  std::array<epoll_event, 32> events{};
  int n = epoll_wait(peers_epoll_, events.data(), static_cast<int>(events.size()), 0);
  // A socket a handler closed meanwhile (a path change) is still open until the loop's
  // turn ends: what it still holds is handled by address like any datagram.
  for (int i = 0; i < n; ++i) ReceiveAll(events[static_cast<size_t>(i)].data.fd, rx);
}

void MediaWorker::ClosePeerSocketsNow() {
  for (int fd : peer_fds_closing_) close(fd);
  peer_fds_closing_.clear();
}

}  // namespace parley::sfu
