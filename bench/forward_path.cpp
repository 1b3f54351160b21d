// The SFU's per-packet forward path, one subscriber: parse the publisher's RTP,
// rewrite SSRC / sequence / timestamp for the subscriber, SRTP-protect, and place the
// packet into a send batch (the iovec array sendmmsg takes). Prints ns per packet for
// AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80 side by side, with the server's own SRTP
// (sfu/srtp.hpp, on OpenSSL) and with Debian's libsrtp2 (on NSS) that it replaced.
//
// BM_SendUdp and BM_SendTcp compare what sending a batch costs over UDP and ICE-TCP.
//
// BM_RouterForward runs the worker's own units on the same packet: the channel's
// Router, each route's SeqRewriter (WriteRewritten, as the forwarder does it), one SRTP
// session per subscriber and the SendBatch, for 1 and 8 subscribers (ns per packet
// received, so 8 subscribers do 8 copies). BM_FeedbackLookup finds the route a
// subscriber's NACK or PLI names among 8, 64 and 512 routes: it should stay flat.
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "libsrtp_session.hpp"
#include "sfu/dtls.hpp"
#include "sfu/forwarder.hpp"
#include "sfu/router.hpp"
#include "sfu/rtp.hpp"
#include "sfu/send_batch.hpp"
#include "sfu/tcp_links.hpp"

namespace {

using namespace parley::sfu;

constexpr size_t kBatch = 32;
constexpr size_t kSlot = 1500;

struct Rewriter {  // per-subscriber state for one track
  uint32_t ssrc = 0x5EED0001;
  uint16_t seq_offset = 1000;
  uint32_t ts_offset = 90000;
};

template <typename Session>
void Forward(benchmark::State& state, SrtpProfile profile, size_t payload) {
  std::vector<uint8_t> master(profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30, 0x3C);
  auto srtp = Session::Create(profile, master, SrtpSession::Direction::kOutbound).value();
  // A publisher's VP8 packet with a one-byte header extension (transport-wide seq).
  std::vector<uint8_t> in(12 + 8 + payload, 0xA5);
  const uint8_t header[] = {0x90, 96, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0xBE, 0xDE, 0, 1, 0x31, 0, 0, 0};
  std::memcpy(in.data(), header, sizeof header);
  std::vector<std::array<uint8_t, kSlot>> slots(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  Rewriter rw;
  uint16_t seq = 0;
  size_t n = 0;
  for (auto _ : state) {
    Store16(in.data() + 2, ++seq);
    Store32(in.data() + 4, seq * 3000u);
    auto& slot = slots[n];
    std::memcpy(slot.data(), in.data(), in.size());
    auto v = ParseRtp(std::span<uint8_t>(slot.data(), in.size()));
    if (!v) state.SkipWithError("parse failed");
    v->SetSsrc(rw.ssrc);
    v->SetSequence(static_cast<uint16_t>(v->sequence + rw.seq_offset));
    v->SetTimestamp(v->timestamp + rw.ts_offset);
    size_t len = srtp->ProtectRtp(slot.data(), in.size(), kSlot);
    if (!len) state.SkipWithError("protect failed");
    iov[n] = {slot.data(), len};
    msgs[n].msg_hdr.msg_iov = &iov[n];
    msgs[n].msg_hdr.msg_iovlen = 1;
    if (++n == kBatch) {
      benchmark::DoNotOptimize(msgs.data());
      n = 0;  // a worker would sendmmsg() here
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

void BM_ForwardGcm(benchmark::State& s) {
  Forward<SrtpSession>(s, SrtpProfile::kAeadAes128Gcm, static_cast<size_t>(s.range(0)));
}
void BM_ForwardCm(benchmark::State& s) {
  Forward<SrtpSession>(s, SrtpProfile::kAes128CmSha1_80, static_cast<size_t>(s.range(0)));
}
void BM_ForwardGcmLibsrtp(benchmark::State& s) {
  Forward<LibSrtpSession>(s, SrtpProfile::kAeadAes128Gcm, static_cast<size_t>(s.range(0)));
}
void BM_ForwardCmLibsrtp(benchmark::State& s) {
  Forward<LibSrtpSession>(s, SrtpProfile::kAes128CmSha1_80, static_cast<size_t>(s.range(0)));
}
BENCHMARK(BM_ForwardGcm)->Arg(100)->Arg(1160);
BENCHMARK(BM_ForwardGcmLibsrtp)->Arg(100)->Arg(1160);
BENCHMARK(BM_ForwardCm)->Arg(100)->Arg(1160);
BENCHMARK(BM_ForwardCmLibsrtp)->Arg(100)->Arg(1160);

// Receiving: one publisher's 1,160-byte packet unprotected (authenticated, decrypted,
// replay checked), ours and libsrtp's. 4,096 packets are protected ahead; each round
// copies the next into the work buffer and unprotects it; a new receiver takes over
// after the last (its creation amortised over 4,096 packets).
template <typename In>
void Receive(benchmark::State& state, SrtpProfile profile, size_t payload) {
  constexpr size_t kPackets = 4096;
  std::vector<uint8_t> master(profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30, 0x5A);
  auto out = SrtpSession::Create(profile, master, SrtpSession::Direction::kOutbound).value();
  std::vector<std::vector<uint8_t>> sealed(kPackets);
  const size_t plain = 12 + payload;
  for (size_t i = 0; i < kPackets; ++i) {
    auto& p = sealed[i];
    p.assign(plain + kSrtpMaxOverhead, 0xA5);
    p[0] = 0x80;
    p[1] = 111;
    Store16(p.data() + 2, static_cast<uint16_t>(i + 1));
    Store32(p.data() + 8, 0x51AB);
    p.resize(out->ProtectRtp(p.data(), plain, p.size()));
  }
  auto in = In::Create(profile, master, SrtpSession::Direction::kInbound).value();
  std::vector<uint8_t> work(plain + kSrtpMaxOverhead);
  size_t next = 0;
  for (auto _ : state) {
    if (next == kPackets) {
      in = In::Create(profile, master, SrtpSession::Direction::kInbound).value();
      next = 0;
    }
    const auto& p = sealed[next++];
    std::copy(p.begin(), p.end(), work.begin());
    if (in->UnprotectRtp(work.data(), p.size()) != plain) state.SkipWithError("unprotect failed");
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_ReceiveGcm(benchmark::State& s) {
  Receive<SrtpSession>(s, SrtpProfile::kAeadAes128Gcm, 1160);
}
void BM_ReceiveGcmLibsrtp(benchmark::State& s) {
  Receive<LibSrtpSession>(s, SrtpProfile::kAeadAes128Gcm, 1160);
}
void BM_ReceiveCm(benchmark::State& s) {
  Receive<SrtpSession>(s, SrtpProfile::kAes128CmSha1_80, 1160);
}
void BM_ReceiveCmLibsrtp(benchmark::State& s) {
  Receive<LibSrtpSession>(s, SrtpProfile::kAes128CmSha1_80, 1160);
}
BENCHMARK(BM_ReceiveGcm);
BENCHMARK(BM_ReceiveGcmLibsrtp);
BENCHMARK(BM_ReceiveCm);
BENCHMARK(BM_ReceiveCmLibsrtp);

void BM_ParseRewriteOnly(benchmark::State& state) {
  std::vector<uint8_t> pkt(1180, 0xA5);
  pkt[0] = 0x80;
  pkt[1] = 96;
  uint16_t seq = 0;
  for (auto _ : state) {
    Store16(pkt.data() + 2, ++seq);
    auto v = ParseRtp(pkt);
    v->SetSsrc(0x5EED0001);
    v->SetSequence(static_cast<uint16_t>(v->sequence + 7));
    v->SetTimestamp(v->timestamp + 90000);
    benchmark::DoNotOptimize(pkt.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseRewriteOnly);

void BM_RouterForward(benchmark::State& state) {
  const auto subscribers = static_cast<size_t>(state.range(0));
  // The subscribers' own header extensions, the header rebuilt with them: 0 none (the
  // header as it came), 1 abs-send-time, 2 abs-send-time and the transport-wide number.
  const int64_t extensions = state.range(1);
  constexpr size_t kPayload = 1160;
  Router router;
  std::vector<std::unique_ptr<SrtpSession>> srtp;
  for (size_t i = 0; i < subscribers; ++i) {
    RouteSpec spec{0, static_cast<uint32_t>(0xA000 + i), 96, static_cast<uint32_t>(0xB000 + i), 97};
    router.Add(1, 100 + i, spec, SeqRewriter(static_cast<uint16_t>(i * 977), static_cast<uint16_t>(i * 31)));
    std::vector<uint8_t> master(28, static_cast<uint8_t>(0x3C + i));
    srtp.push_back(SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, master, SrtpSession::Direction::kOutbound).value());
  }
  std::vector<uint8_t> in(12 + 8 + kPayload, 0xA5);
  const uint8_t header[] = {0x90, 96, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0xBE, 0xDE, 0, 1, 0x31, 0, 0, 0};
  std::memcpy(in.data(), header, sizeof header);
  SendBatch batch(kSlotBytes);
  sockaddr_storage to{};
  to.ss_family = AF_INET;
  uint16_t seq = 0;
  for (auto _ : state) {
    Store16(in.data() + 2, ++seq);
    Store32(in.data() + 4, seq * 3000u);
    auto v = ParseRtp(in);
    if (!v) state.SkipWithError("parse failed");
    size_t i = 0;
    for (const auto& route : router.From(1)) {
      Route& r = *route;
      r.numbers.OnInput(v->ssrc, v->sequence, v->timestamp, 3000);
      if (batch.full()) benchmark::DoNotOptimize(batch.Flush(-1));  // a worker would sendmmsg() here
      uint8_t* slot = batch.Slot();
      OwnExtensions ext{static_cast<uint8_t>(extensions >= 1 ? 3 : 0), seq * 20'000,
                        static_cast<uint8_t>(extensions >= 2 ? 4 : 0), seq};
      size_t len = WriteRewritten(slot, r, *v, false, 0, ext);
      size_t n = len ? srtp[i++]->ProtectRtp(slot, len, kSlotBytes) : 0;
      if (!n) state.SkipWithError("rewrite or protect failed");
      batch.Queue(n, to);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["copies"] = static_cast<double>(subscribers);
}
BENCHMARK(BM_RouterForward)
    ->ArgNames({"subscribers", "extensions"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({8, 0})
    ->Args({8, 2});

void BM_FeedbackLookup(benchmark::State& state) {
  const auto routes = static_cast<size_t>(state.range(0));
  Router router;
  // Routes spread over publishers and subscribers as in a busy channel: four tracks per
  // publisher, every subscriber receiving from several publishers.
  for (size_t i = 0; i < routes; ++i) {
    RouteSpec spec{i % 4, static_cast<uint32_t>(0x10000 + i), 96, 0, 0};
    router.Add(1 + i / 4, 1000 + i % 16, spec, SeqRewriter(0, 0));
  }
  size_t i = 0;
  for (auto _ : state) {
    Route* r = router.Find(1000 + i % 16, static_cast<uint32_t>(0x10000 + i));
    benchmark::DoNotOptimize(r);
    if (++i == routes) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeedbackLookup)->ArgName("routes")->Arg(8)->Arg(64)->Arg(512);

// Sending: 32 datagrams of 1,180 bytes (a protected video packet) to one subscriber on
// 127.0.0.1 and flushed, as the worker does at the end of a receive batch, over UDP
// (SendBatch: one sendmmsg, runs segmented when the kernel can) and over ICE-TCP
// (TcpLinks: each framed into the connection's buffer, written with one send). A
// thread drains the receiving socket so that neither fills. ns per packet.
class Drain {
 public:
  explicit Drain(int fd)
      : fd_(fd), thread_([this] {
          std::vector<uint8_t> buf(65536);
          while (!stop_.load(std::memory_order_relaxed)) (void)!recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        }) {}
  ~Drain() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }

 private:
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

sockaddr_storage Loopback(uint16_t port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ss;
}

uint16_t PortOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void BM_SendUdp(benchmark::State& state) {
  int rx = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage any = Loopback(0);
  bind(rx, reinterpret_cast<sockaddr*>(&any), sizeof(sockaddr_in));
  int buf = 8 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  sockaddr_storage to = Loopback(PortOf(rx));
  int tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  Drain drain(rx);
  SendBatch batch(kSlotBytes);
  batch.set_segmenting(SendBatch::KernelSegments(tx));
  size_t unsent = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      std::memset(batch.Slot(), 0xA5, 1180);
      batch.Queue(1180, to);
    }
    unsent += batch.Flush(tx);
  }
  close(tx);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.counters["unsent"] = static_cast<double>(unsent);
}
BENCHMARK(BM_SendUdp);

class NoFrames final : public TcpLinks::Handler {
  void BeforeFrames() override {}
  void OnFrame(std::span<uint8_t>, const sockaddr_storage&) override {}
  void AfterFrames() override {}
  void OnLinkClosed(const sockaddr_storage&) override {}
};

void BM_SendTcp(benchmark::State& state) {
  // TcpLinks listens on a free port (found with a UDP socket, as a worker's is).
  int probe = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage any = Loopback(0);
  bind(probe, reinterpret_cast<sockaddr*>(&any), sizeof(sockaddr_in));
  const uint16_t port = PortOf(probe);
  TcpLinks::Limits limits;
  limits.max_pending_send = 8 << 20;
  TcpLinks links(limits);
  sockaddr_storage at = Loopback(port);
  if (!links.Listen(at, sizeof(sockaddr_in))) {
    state.SkipWithError("cannot listen");
    return;
  }
  close(probe);
  int rx = socket(AF_INET, SOCK_STREAM, 0);
  int buf = 8 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  connect(rx, reinterpret_cast<sockaddr*>(&at), sizeof(sockaddr_in));
  NoFrames handler;
  for (int i = 0; i < 100 && links.size() == 0; ++i) {
    links.Run(0, handler);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sockaddr_storage to = Loopback(PortOf(rx));  // the connection's address, as accepted
  MarkTcp(&to);
  Drain drain(rx);
  std::vector<uint8_t> packet(1180, 0xA5);
  size_t dropped = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) dropped += links.Send(to, packet) ? 0u : 1u;
    links.Flush();
    links.Run(0, handler);  // writes what the socket did not take
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.counters["dropped"] = static_cast<double>(dropped);
}
BENCHMARK(BM_SendTcp);

}  // namespace
