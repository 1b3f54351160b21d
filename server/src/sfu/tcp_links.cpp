#include "sfu/tcp_links.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace parley::sfu {
namespace {

// The mark lives in the last byte of sockaddr_storage, past every address family's own
// fields (sockaddr_in6 is 28 bytes of 128), which the kernel never writes there.
constexpr uint8_t kTcpMark = 0x54;
constexpr size_t kMarkAt = sizeof(sockaddr_storage) - 1;

}  // namespace

bool IsTcp(const sockaddr_storage& a) {
  return reinterpret_cast<const uint8_t*>(&a)[kMarkAt] == kTcpMark;
}

void MarkTcp(sockaddr_storage* a) {
  reinterpret_cast<uint8_t*>(a)[kMarkAt] = kTcpMark;
}

struct TcpLinks::Link {
  int fd = -1;
  sockaddr_storage peer{};  ///< marked TCP
  Key key{};
  std::vector<uint8_t> in;  ///< 2 + max_frame bytes; `filled` of them read
  size_t filled = 0;
  std::vector<uint8_t> out;  ///< framed packets waiting; `sent` of them written
  size_t sent = 0;
  bool dirty = false, writing = false, proven = false;
  bool broken = false;  ///< to be closed (in closing_)
  int64_t opened_us = 0, last_in_us = 0;
};

TcpLinks::TcpLinks(Limits limits) : limits_(limits) {}

TcpLinks::~TcpLinks() {
  for (auto& [key, l] : links_) close(l->fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

std::array<uint8_t, 19> AddressKey(const sockaddr_storage& a) {
  std::array<uint8_t, 19> k{};
  k[0] = static_cast<uint8_t>(a.ss_family | (IsTcp(a) ? 0x80 : 0));  // a TCP path is not a UDP one
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    std::memcpy(&k[1], &v4->sin_port, 2);
    std::memcpy(&k[3], &v4->sin_addr, 4);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    std::memcpy(&k[1], &v6->sin6_port, 2);
    std::memcpy(&k[3], &v6->sin6_addr, 16);
  }
  return k;
}

Status TcpLinks::Listen(const sockaddr_storage& address, socklen_t length) {
  auto fail = [this](const std::string& what) {
    Error e = MakeError(Errc::kInternalError, what + ": " + strerror(errno));
    if (listen_fd_ >= 0) close(listen_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);  // fd() is -1 again: the worker polls nothing of it
    listen_fd_ = epoll_fd_ = -1;
    return e;
  };
  if (epoll_fd_ < 0) epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return fail("epoll_create1");
  listen_fd_ = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return fail("socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.ss_family == AF_INET6) {
    int zero = 0;  // a [::] listener takes IPv4 too, as the worker's dual-stack UDP socket does
    setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) return fail("bind");
  if (listen(listen_fd_, 64) != 0) return fail("listen");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return fail("epoll_ctl");
  return {};
}

void TcpLinks::ListenerOn(bool on) {
  epoll_event ev{};
  ev.events = on ? EPOLLIN : 0u;
  ev.data.ptr = nullptr;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void TcpLinks::Accept(int64_t now_us) {
  for (size_t n = 0; n < limits_.accept_per_turn; ++n) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: the listener would stay readable and the loop
      // spin; it is left alone for a while (Tick turns it back on).
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        ++counters_.accept_paused;
        accept_paused_until_us_ = now_us + 100'000;
        ListenerOn(false);
      }
      return;  // EAGAIN, or an error the next readiness retries
    }
    AddLink(fd, peer, now_us);
  }
}

bool TcpLinks::AddLink(int fd, sockaddr_storage peer, int64_t now_us) {
  MarkTcp(&peer);
  Key key = AddressKey(peer);
  // One address's unproven connections are bounded, and a full set makes room by
  // closing its oldest unproven connection: neither one host nor many can hold every
  // slot with connections that never pass an ICE check.
  size_t unproven_here = 0;
  Link* oldest_unproven = nullptr;
  for (auto& [k, other] : links_) {
    if (other->proven || other->broken) continue;
    if (std::memcmp(k.data() + 3, key.data() + 3, k.size() - 3) == 0 && k[0] == key[0]) ++unproven_here;
    if (!oldest_unproven || other->opened_us < oldest_unproven->opened_us) oldest_unproven = other.get();
  }
  if (links_.count(key) || unproven_here >= limits_.unproven_per_address) {
    ++counters_.refused;
    close(fd);
    return false;
  }
  if (links_.size() - closing_.size() >= limits_.max_links) {
    if (!oldest_unproven) {
      ++counters_.refused;
      close(fd);
      return false;
    }
    ++counters_.evicted;
    Break(oldest_unproven);  // closed by the Reap that ends this Run, never in its loop
  }
  int one = 1;  // media: every frame leaves at once
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto l = std::make_unique<Link>();
  l->fd = fd;
  l->peer = peer;
  l->key = key;
  l->in.resize(2 + limits_.max_frame);
  l->opened_us = l->last_in_us = now_us;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = l.get();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return false;
  }
  ++counters_.accepted;
  links_[key] = std::move(l);
  return true;
}

bool TcpLinks::Adopt(int fd, const sockaddr_storage& peer, int64_t now_us) {
  // Whoever accepted it may have left it blocking: a read here must never wait.
  const int flags = fcntl(fd, F_GETFL);
  if (epoll_fd_ < 0 || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    close(fd);
    return false;
  }
  return AddLink(fd, peer, now_us);
}

Status TcpLinks::OpenForAdoption() {
  if (epoll_fd_ >= 0) return {};
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return MakeError(Errc::kInternalError, std::string("epoll_create1: ") + strerror(errno));
  return {};
}

void TcpLinks::Run(int64_t now_us, Handler& handler) {
  std::array<epoll_event, 32> events{};
  int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
  // Closing a connection frees it, and a later event of this batch could name it (or
  // the handler's sends, flushed meanwhile, could fail one): closes wait in closing_
  // until the batch is done.
  for (int i = 0; i < n; ++i) {
    auto* l = static_cast<Link*>(events[static_cast<size_t>(i)].data.ptr);
    if (!l) {
      Accept(now_us);
      continue;
    }
    if (l->broken) continue;
    uint32_t e = events[static_cast<size_t>(i)].events;
    bool ok = true;
    if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      l->last_in_us = now_us;
      ok = Read(*l, handler);
    }
    if (ok && !l->broken && (e & EPOLLOUT)) ok = Write(*l);
    if (!ok) Break(l);
  }
  Reap(handler);
}

void TcpLinks::Break(Link* l) {
  if (l->broken) return;
  l->broken = true;
  closing_.push_back(l);
}

void TcpLinks::Reap(Handler& handler) {
  std::vector<Link*> closing;
  closing.swap(closing_);
  for (Link* l : closing) Close(l, handler);
}

bool TcpLinks::Read(Link& l, Handler& handler) {
  size_t budget = limits_.read_per_turn;
  while (budget > 0) {
    ssize_t got = read(l.fd, l.in.data() + l.filled, l.in.size() - l.filled);
    if (got == 0) return false;  // the client closed
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    l.filled += static_cast<size_t>(got);
    budget -= std::min(budget, static_cast<size_t>(got));
    // Every whole frame in the buffer, then what is left of the next one to the front.
    bool began = false;
    std::ptrdiff_t took =
        Deframe(std::span<uint8_t>(l.in.data(), l.filled), limits_.max_frame, [&](std::span<uint8_t> frame) {
          if (!began) handler.BeforeFrames();
          began = true;
          ++counters_.frames_in;
          handler.OnFrame(frame, l.peer);
        });
    if (began) handler.AfterFrames();
    if (took < 0) {
      ++counters_.bad_frames;
      return false;
    }
    if (const auto at = static_cast<size_t>(took)) {
      std::memmove(l.in.data(), l.in.data() + at, l.filled - at);
      l.filled -= at;
    }
  }
  return true;  // more may wait: epoll is level-triggered and says so again
}

bool TcpLinks::Send(const sockaddr_storage& to, std::span<const uint8_t> packet, bool answers_check) {
  auto it = links_.find(AddressKey(to));
  if (it == links_.end() || packet.empty() || packet.size() > 0xFFFF) return false;
  Link& l = *it->second;
  if (l.broken) return false;
  const size_t need = 2 + packet.size();
  if (l.out.size() - l.sent + need > limits_.max_pending_send) {
    ++counters_.send_dropped;
    return false;
  }
  // The buffer itself stays within the bound: what was written goes first when needed.
  if (l.sent > 0 && l.out.size() + need > limits_.max_pending_send) {
    l.out.erase(l.out.begin(), l.out.begin() + static_cast<std::ptrdiff_t>(l.sent));
    l.sent = 0;
  }
  l.out.push_back(static_cast<uint8_t>(packet.size() >> 8));
  l.out.push_back(static_cast<uint8_t>(packet.size() & 0xFF));
  l.out.insert(l.out.end(), packet.begin(), packet.end());
  ++counters_.frames_out;
  if (answers_check) l.proven = true;
  if (!l.dirty && !l.writing) {
    l.dirty = true;
    dirty_.push_back(&l);
  }
  return true;
}

void TcpLinks::Flush() {
  if (dirty_.empty()) return;
  std::vector<Link*> dirty;
  dirty.swap(dirty_);
  for (Link* l : dirty) {
    l->dirty = false;
    if (!l->broken && !Write(*l)) Break(l);
  }
}

bool TcpLinks::Write(Link& l) {
  while (l.sent < l.out.size()) {
    ssize_t n = send(l.fd, l.out.data() + l.sent, l.out.size() - l.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      WantWrite(l, true);  // the rest when the socket has room
      return true;
    }
    l.sent += static_cast<size_t>(n);
  }
  l.out.clear();
  l.sent = 0;
  if (l.out.capacity() > 64 * 1024) l.out.shrink_to_fit();  // a backlog's memory goes back
  WantWrite(l, false);
  return true;
}

void TcpLinks::WantWrite(Link& l, bool on) {
  if (l.writing == on) return;
  l.writing = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = &l;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, l.fd, &ev);
}

void TcpLinks::Close(Link* l, Handler& handler) {
  auto it = links_.find(l->key);
  if (it == links_.end() || it->second.get() != l) return;  // closed already in this batch
  if (l->dirty) dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), l), dirty_.end());
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l->fd, nullptr);
  close(l->fd);
  const sockaddr_storage peer = l->peer;
  links_.erase(it);
  handler.OnLinkClosed(peer);
}

void TcpLinks::Tick(int64_t now_us, Handler& handler) {
  if (accept_paused_until_us_ >= 0 && now_us >= accept_paused_until_us_) {
    accept_paused_until_us_ = -1;
    ListenerOn(true);
  }
  if (now_us - last_sweep_us_ >= 500'000) {
    last_sweep_us_ = now_us;
    for (auto& [key, l] : links_)
      if (!l->broken && ((!l->proven && now_us - l->opened_us > limits_.first_frame_us) ||
                         now_us - l->last_in_us > limits_.idle_us)) {
        ++counters_.timed_out;
        Break(l.get());
      }
  }
  Reap(handler);  // also what a Flush outside Run broke
}

}  // namespace parley::sfu
