#include "sfu/worker.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <exception>

#include "sfu/stun.hpp"

namespace parley::sfu {
namespace {

constexpr int64_t kTickUs = 20'000;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The clock of kernel receive timestamps (SO_TIMESTAMPNS), for when one is missing.
int64_t WallUs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

MediaWorker::MediaWorker(WorkerOptions options)
    : options_(std::move(options)),
      tcp_(options_.tcp_limits),
      forwarder_(*this, *this, drops_, options_.send_loss_permille, options_.pace_video) {}

int64_t MediaWorker::Now() const {
  return options_.clock ? options_.clock() : NowUs();
}

Result<std::unique_ptr<MediaWorker>> MediaWorker::Create(const std::string& address, uint16_t port,
                                                         std::shared_ptr<DtlsCertificate> cert, WorkerOptions options) {
  std::unique_ptr<MediaWorker> w(new MediaWorker(std::move(options)));
  w->cert_ = std::move(cert);
  sockaddr_storage ss{};
  socklen_t len = 0;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, address.c_str(), &v4) != 1 && inet_pton(AF_INET6, address.c_str(), &v6) != 1)
    return MakeError(Errc::kInvalidField, "bad media address " + address);
  if (w->options_.dual_stack) {  // [::]:port, IPv4 included
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_any;
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else if (inet_pton(AF_INET, address.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return MakeError(Errc::kInvalidField, "bad media address " + address);
  }
  w->fd_ = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w->fd_ < 0) return MakeError(Errc::kInternalError, std::string("socket: ") + strerror(errno));
  int one = 1;  // kernel receive timestamps: transport-cc reports when packets really arrived
  setsockopt(w->fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (w->options_.dual_stack) {
    int zero = 0;  // IPv4 too, whatever the system's default (net.ipv6.bindv6only)
    setsockopt(w->fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  int buf = 4 << 20;  // absorb bursts (a keyframe to many subscribers)
  setsockopt(w->fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(w->fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  w->batch_.set_segmenting(SendBatch::KernelSegments(w->fd_));  // runs to one address as one send
  if (w->options_.share_port && w->options_.shared_by > 1)      // the other workers bind it too (shared_port.cpp)
    setsockopt(w->fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(w->fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return MakeError(Errc::kInternalError, "bind " + address + ":" + std::to_string(port) + ": " + strerror(errno));
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(w->fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  w->port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  if (w->options_.ice_tcp && w->options_.share_port) {  // ICE-TCP arrives on the signalling port
    if (auto ok = w->tcp_.OpenForAdoption(); !ok) return ok.error();
  } else if (w->options_.ice_tcp) {  // the same port number over TCP; without it, UDP only
    if (auto ok = w->tcp_.Listen(bound, blen); !ok)
      spdlog::warn("media worker (udp port {}): no ICE-TCP on that port: {}", w->port_, ok.error().message);
  }
  w->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->wake_fd_ < 0) return MakeError(Errc::kInternalError, "eventfd failed");
  return w;
}

MediaWorker::~MediaWorker() {
  Stop();
  if (fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  for (const auto& [key, fd] : peer_sockets_) close(fd);
  ClosePeerSocketsNow();
  if (peers_epoll_ >= 0) close(peers_epoll_);
}

void MediaWorker::Start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { Loop(); });
}

void MediaWorker::Stop() {
  if (!running_.exchange(false)) return;
  WakeSelf();
  thread_.join();
  for (const auto& entry : transports_) forwarder_.Detach(entry.first);
  transports_.clear();
  relays_.clear();
  remote_wanted_.clear();
  mirrors_.clear();
  by_ufrag_.clear();
  by_address_.clear();
}

void MediaWorker::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  WakeSelf();
}

void MediaWorker::WakeSelf() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void MediaWorker::RunPosted() {
  uint64_t n;
  (void)!read(wake_fd_, &n, sizeof n);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    batch.swap(posted_);
  }
  // Posted work belongs to no one transport: a throw is counted and logged only.
  for (auto& fn : batch) Guarded(0, fn);
}

void MediaWorker::OnException(const char* what) {
  exceptions_.fetch_add(1, std::memory_order_relaxed);
  // The transport may be half-way through an update: it is closed (failed, so the
  // control plane reports it like any other transport failure and drops or replaces
  // it) and nothing more of it is handled. The others go on.
  // A throw while held packets were forwarded is the forwarded publisher's, whatever
  // datagram (if any) was being handled.
  if (uint64_t publisher = forwarder_.TakeThrowingPublisher()) current_ = publisher;
  if (Transport* t = current_ ? FindTransport(current_) : nullptr) t->Fail(Failure::kInternalError);
  int64_t now_us = NowUs();
  if (exception_logged_us_ != 0 && now_us - exception_logged_us_ < 1'000'000) {
    ++exceptions_not_logged_;
    return;
  }
  spdlog::error("media worker (udp port {}): exception while handling transport {}: {}; {}{}", port_, current_, what,
                current_ ? "the transport is closed" : "no transport closed",
                exceptions_not_logged_ ? fmt::format(" ({} more since the last report)", exceptions_not_logged_) : "");
  exception_logged_us_ = now_us;
  exceptions_not_logged_ = 0;
}

Transport* MediaWorker::AddTransport(uint64_t id, TransportParams params, uint64_t channel) {
  TransportTimeouts timeouts{static_cast<int64_t>(options_.connect_timeout_ms) * 1000,
                             static_cast<int64_t>(options_.consent_timeout_ms) * 1000};
  WebRtcTransport::Listener* listener = this;  // private bases: converted here, where they are accessible
  WebRtcTransport::PacketSink* sink = this;
  auto t = std::make_unique<Transport>(id, std::move(params), cert_, Now(), timeouts, listener, sink);
  Transport* raw = t.get();
  if (!raw->params().mirror) by_ufrag_[raw->params().local_ufrag] = raw;  // a mirror has no client
  transports_[id] = std::move(t);
  forwarder_.Attach(id, channel);
  return raw;
}

void MediaWorker::RemoveTransport(uint64_t id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  forwarder_.Detach(id);
  data_.Remove(id);
  ForgetRelays(id);
  if (!it->second->params().mirror) by_ufrag_.erase(it->second->params().local_ufrag);
  for (auto a = by_address_.begin(); a != by_address_.end();) {
    if (a->second == it->second.get()) {
      ClosePeerSocket(a->first);
      a = by_address_.erase(a);
    } else
      ++a;
  }
  it->second->Close();
  transports_.erase(it);
}

Transport* MediaWorker::FindTransport(uint64_t id) {
  auto it = transports_.find(id);
  return it == transports_.end() ? nullptr : it->second.get();
}

uint8_t* MediaWorker::Slot() {
  if (batch_.full()) Flush();
  return batch_.Slot();
}

void MediaWorker::Flush() {
  if (size_t unsent = batch_.Flush(fd_)) drops_.Count(DropReason::kSendBufferFull, unsent);
  tcp_.Flush();
}

void MediaWorker::Queue(size_t length, const sockaddr_storage& to) {
  if (!IsTcp(to)) return batch_.Queue(length, to);
  // Framed into the connection's buffer now; the slot is free again.
  if (!tcp_.Send(to, std::span<const uint8_t>(batch_.Slot(), length))) drops_.Count(DropReason::kTcpGone);
}

void MediaWorker::OnFrame(std::span<uint8_t> frame, const sockaddr_storage& from) {
  const int64_t now_us = Now();
  Guarded(0, [&] { HandleDatagram(frame, from, now_us, WallUs()); });
}

void MediaWorker::AfterFrames() {
  Guarded(0, [&] { forwarder_.ReleaseHeld(); });
}

void MediaWorker::OnLinkClosed(const sockaddr_storage& peer) {
  // Its transport's path is dead: nothing from that address is taken for it any more
  // (a new connection from the same address and port must pass a check of its own).
  // The transport sends into nothing (counted as tcp-gone) until its client's checks
  // arrive on another path or consent runs out.
  by_address_.erase(AddressKey(peer));
}

void MediaWorker::SendNow(std::span<const uint8_t> d, const sockaddr_storage& to) {
  if (IsTcp(to)) {
    // Only the answer to a valid check proves a connection (SendNow carries those, and
    // DTLS flights, which follow one).
    if (!tcp_.Send(to, d, Classify(d) == PacketClass::kStun)) drops_.Count(DropReason::kTcpGone);
    return tcp_.Flush();
  }
  socklen_t len = to.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  (void)sendto(fd_, d.data(), d.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), len);
}

void MediaWorker::HandleDatagram(std::span<uint8_t> packet, const sockaddr_storage& from, int64_t now_us,
                                 int64_t arrival_us) {
  forwarder_.SetNow(now_us);
  if (proto::probe::LooksLikeProbe(packet)) {
    if (IsTcp(from)) return drops_.Count(DropReason::kBadProbe);  // probes measure UDP
    return probes_.Receive(packet, from, now_us, *this, drops_);
  }
  PacketClass cls = Classify(packet);
  if (cls == PacketClass::kStun) {
    auto m = ParseStun(packet);
    if (!m) {
      drops_.Count(DropReason::kBadStun);
      return;
    }
    auto it = by_ufrag_.find(std::string(LocalUfrag(m->username)));
    if (it == by_ufrag_.end()) {
      // One port for every worker: the kernel picked this worker's socket, and the
      // transport may be another's.
      if (!sharers_.empty() && !IsTcp(from) && HandOver(packet, LocalUfrag(m->username), from, arrival_us)) return;
      drops_.Count(DropReason::kUnknownUfrag);
      return;
    }
    current_ = it->second->id();
    it->second->Receive(packet, cls, from, now_us, arrival_us);  // a new path comes back in OnPathChanged
    return;
  }
  auto it = by_address_.find(AddressKey(from));
  if (it == by_address_.end()) {  // not from a validated path
    drops_.Count(DropReason::kUnvalidatedAddress);
    return;
  }
  Transport& t = *it->second;
  if (t.state() == Transport::State::kFailed) {  // closed: nothing more of it is handled
    drops_.Count(DropReason::kClosedTransport);
    return;
  }
  current_ = t.id();
  t.Receive(packet, cls, from, now_us, arrival_us);
}

void MediaWorker::OnPathChanged(WebRtcTransport& t, const sockaddr_storage* old) {
  // Every nominating check reports its path (a browser nominates on each check of its
  // selected pair): the same address again changes nothing.
  if (old && AddressKey(*old) == AddressKey(t.path()) && by_address_.count(AddressKey(*old))) return;
  if (old) ForgetAddress(AddressKey(*old));
  by_address_[AddressKey(t.path())] = &t;
  if (sharers_.size() > 1 && !IsTcp(t.path())) OpenPeerSocket(t.path());
}

void MediaWorker::Tick(int64_t now_us) {
  forwarder_.SetNow(now_us);
  tcp_.Tick(now_us, *this);
  if (data_.size()) SctpStack::Tick();                               // the process's SCTP timers (data connections)
  forwarder_.TakeDueKeyframes(now_us, [this, now_us](uint64_t id) {  // deferred keyframe requests
    if (Transport* p = FindTransport(id)) Guarded(id, [&] { forwarder_.RequestKeyframe(*p, now_us); });
  });
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (auto& entry : transports_) {
    auto& tp = entry.second;
    Guarded(entry.first, [&] { TickTransport(*tp, now_us); });
  }
}

void MediaWorker::OnDataMessage(WebRtcTransport& t, const SctpMessage& m) {
  data_.OnMessage(
      t, m, Now(), [](void* self, uint64_t id) { return static_cast<MediaWorker*>(self)->FindTransport(id); }, this);
}

void MediaWorker::TickTransport(Transport& t, int64_t now_us) {
  if (t.params().mirror) return TickMirror(t, now_us);
  t.Tick(now_us);
  if (t.state() != Transport::State::kConnected) return;
  // A decoder can only start on a keyframe: ask for one when either end of a route
  // becomes ready (a request made before the publisher was connected went nowhere,
  // and packets sent before the subscriber was connected were not forwarded).
  if (t.TakeJustConnected()) forwarder_.OnConnected(t, now_us);
  forwarder_.OnTick(t, now_us);
  t.SendFeedback(now_us);
  if (!relays_.empty()) RelayLayers(t, now_us);
}

struct MediaWorker::ReceiveBuffers {
  std::vector<std::array<uint8_t, kMaxDatagram>> bufs = std::vector<std::array<uint8_t, kMaxDatagram>>(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  std::array<sockaddr_storage, kBatch> addrs{};
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(timespec))];
  };
  std::array<Control, kBatch> control{};
};

void MediaWorker::ReceiveAll(int fd, ReceiveBuffers& rx) {
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      rx.iov[i] = {rx.bufs[i].data(), kMaxDatagram};
      rx.msgs[i].msg_hdr = {};
      rx.msgs[i].msg_hdr.msg_name = &rx.addrs[i];
      rx.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx.msgs[i].msg_hdr.msg_iov = &rx.iov[i];
      rx.msgs[i].msg_hdr.msg_iovlen = 1;
      rx.msgs[i].msg_hdr.msg_control = rx.control[i].bytes;
      rx.msgs[i].msg_hdr.msg_controllen = sizeof rx.control[i].bytes;
    }
    int n = recvmmsg(fd, rx.msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    const int64_t now_us = Now();
    int64_t wall_us = WallUs();
    forwarder_.HoldRtp();  // released below, before the buffers are read into again
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      int64_t arrival_us = wall_us;
      for (cmsghdr* c = CMSG_FIRSTHDR(&rx.msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&rx.msgs[i].msg_hdr, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts{};
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          arrival_us = static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
        }
      Guarded(0, [&] {  // HandleDatagram names the transport once it knows it
        HandleDatagram(std::span<uint8_t>(rx.bufs[i].data(), rx.msgs[i].msg_len), rx.addrs[i], now_us, arrival_us);
      });
    }
    Guarded(0, [&] { forwarder_.ReleaseHeld(); });
    Flush();
    WakeRelays();  // a long backlog must not fill a ring before its consumer hears of it
    if (n < static_cast<int>(kBatch)) break;
  }
}

void MediaWorker::Loop() {
  ReceiveBuffers rx;
  // -1: no ICE-TCP, or no port shared
  pollfd fds[4] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {tcp_.fd(), POLLIN, 0}, {peers_epoll_, POLLIN, 0}};
  while (running_.load(std::memory_order_relaxed)) {
    // Sleep until the next tick, a datagram or posted work. The timeout is exact (a
    // timespec): one rounded down to whole milliseconds made the last millisecond
    // before each tick a busy loop of zero-timeout polls. A worker without transports
    // has nothing to tick and sleeps until woken (a transport arrives through Post).
    int64_t now_us = Now();
    timespec timeout{};
    const timespec* wait = nullptr;
    if (Busy()) {
      int64_t left_us = std::clamp<int64_t>(last_tick_us_ + kTickUs - now_us, 0, kTickUs);
      // Paced video due before the tick wakes the loop for itself.
      if (int64_t paced_at = forwarder_.NextPacedUs(now_us); paced_at >= 0)
        left_us = std::min(left_us, std::max<int64_t>(paced_at - now_us, 0));
      if (int64_t probe_at = probes_.NextDueUs(); probe_at >= 0)  // probe downlink data
        left_us = std::min(left_us, std::max<int64_t>(probe_at - now_us, 0));
      timeout.tv_sec = static_cast<time_t>(left_us / 1'000'000);
      timeout.tv_nsec = static_cast<long>(left_us % 1'000'000) * 1000;
      wait = &timeout;
    }
    if (ppoll(fds, 4, wait, nullptr) < 0 && errno != EINTR) break;
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (fds[1].revents & POLLIN) {
      RunPosted();
      Flush();
    }
    // Other workers' rings (after the eventfd was read: an entry written after this
    // drain wakes the next poll).
    if (!rings_in_.empty()) DrainRelays(Now());
    if (fds[0].revents & POLLIN) ReceiveAll(fd_, rx);
    if (fds[3].revents & POLLIN) ReceivePeerSockets(rx);
    if (fds[2].revents & POLLIN) {
      Guarded(0, [&] { tcp_.Run(Now(), *this); });  // frames are guarded each; this is for the rest
      Flush();
    }
    now_us = Now();
    Guarded(0, [&] {
      forwarder_.ReleasePaced(now_us);
      if (!probes_.empty()) probes_.Run(now_us, *this);
    });
    Flush();
    if (Busy() && now_us - last_tick_us_ >= kTickUs) {
      last_tick_us_ = now_us;
      Tick(now_us);
      Flush();
    }
    WakeRelays();
    ClosePeerSocketsNow();  // what this turn closed, now that no batch of their events is being read
  }
}

}  // namespace parley::sfu
