// A media worker on a real UDP socket on 127.0.0.1: a client does ICE (STUN with
// short-term credentials), the DTLS handshake and SRTP against it, both directions.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "on_worker.hpp"
#include "sfu/stun.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;

class UdpClient {
 public:
  explicit UdpClient(uint16_t server_port) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    sockaddr_in srv = local;
    srv.sin_port = htons(server_port);
    connect(fd_, reinterpret_cast<sockaddr*>(&srv), sizeof srv);
  }
  ~UdpClient() { close(fd_); }
  void Send(std::span<const uint8_t> d) { ASSERT_EQ(send(fd_, d.data(), d.size(), 0), static_cast<ssize_t>(d.size())); }
  // Returns an empty vector on timeout.
  std::vector<uint8_t> Recv(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    std::vector<uint8_t> buf(2048);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  [[nodiscard]] uint16_t local_port() const {
    sockaddr_in a{};
    socklen_t l = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
    return ntohs(a.sin_port);
  }

 private:
  int fd_;
};

std::vector<uint8_t> StunRequest(std::string_view user, std::string_view pwd, bool use_candidate) {
  std::array<uint8_t, 12> tx{};
  for (size_t i = 0; i < tx.size(); ++i) tx[i] = static_cast<uint8_t>(rand());
  std::vector<uint8_t> out(256);
  out.resize(WriteStunBindingRequest(out, tx, user, pwd, 100, 42, use_candidate));
  return out;
}

TEST(MediaWorker, IceDtlsSrtpOverRealUdp) {
  auto server_cert = *DtlsCertificate::Generate();
  auto client_cert = *DtlsCertificate::Generate();
  auto worker = *MediaWorker::Create("127.0.0.1", 0, server_cert);
  ASSERT_GT(worker->port(), 0);
  worker->Start();
  std::atomic<int> rtp_in{0};
  std::atomic<int> connected{0};
  std::atomic<uint32_t> last_ssrc{0};
  OnWorker(*worker, [&] {
    Transport* t = worker->AddTransport(1, {"srvu", "server-password-0123456789", "cliu", client_cert->fingerprint()});
    t->OnRtp([&](RtpView& v) {
      last_ssrc = v.ssrc;
      ++rtp_in;
    });
    t->OnState([&](Transport::State s) {
      if (s == Transport::State::kConnected) ++connected;
    });
    return 0;
  });

  UdpClient client(worker->port());
  // Wrong password and unknown ufrag: no answer at all.
  client.Send(StunRequest("srvu:cliu", "wrong-password", true));
  client.Send(StunRequest("nobody:cliu", "server-password-0123456789", true));
  EXPECT_TRUE(client.Recv(200ms).empty());
  // A valid check is answered with our mapped address, signed with the server's password.
  client.Send(StunRequest("srvu:cliu", "server-password-0123456789", true));
  auto resp = client.Recv(2s);
  ASSERT_FALSE(resp.empty());
  auto m = ParseStun(resp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kStunBindingSuccess);
  EXPECT_TRUE(VerifyStunIntegrity(*m, resp, "server-password-0123456789"));
  EXPECT_TRUE(VerifyStunFingerprint(*m, resp));
  ASSERT_TRUE(m->xor_mapped);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&*m->xor_mapped)->sin_port), client.local_port());

  // DTLS: we are the active side.
  DtlsTransport dtls(client_cert, DtlsTransport::Role::kClient, server_cert->fingerprint(),
                     [&](std::span<const uint8_t> d) { client.Send(d); });
  dtls.Start();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (dtls.state() == DtlsTransport::State::kConnecting && std::chrono::steady_clock::now() < deadline) {
    auto d = client.Recv(100ms);
    if (!d.empty())
      dtls.Feed(d);
    else
      (void)dtls.HandleTimeout();
  }
  ASSERT_EQ(dtls.state(), DtlsTransport::State::kConnected) << dtls.failure();
  for (int i = 0; i < 50 && connected == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(connected, 1);
  EXPECT_EQ(dtls.keys().profile, SrtpProfile::kAeadAes128Gcm);

  // SRTP client -> server.
  auto out = *SrtpSession::Create(dtls.keys().profile, dtls.keys().local_master, SrtpSession::Direction::kOutbound);
  auto in = *SrtpSession::Create(dtls.keys().profile, dtls.keys().remote_master, SrtpSession::Direction::kInbound);
  for (uint16_t seq = 1; seq <= 20; ++seq) {
    uint8_t pkt[256] = {0x80, 96};
    Store16(pkt + 2, seq);
    Store32(pkt + 8, 0xC0FFEE);
    size_t n = out->ProtectRtp(pkt, 100, sizeof pkt);
    client.Send(std::span<const uint8_t>(pkt, n));
  }
  for (int i = 0; i < 100 && rtp_in < 20; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(rtp_in, 20);
  EXPECT_EQ(last_ssrc, 0xC0FFEEu);

  // Server -> client.
  uint8_t plain[64] = {0x80, 111, 0, 9, 0, 0, 0, 1, 0, 0, 0, 7, 'h', 'e', 'l', 'l', 'o'};
  EXPECT_TRUE(OnWorker(
      *worker, [&] { return worker->SendRtp(*worker->FindTransport(1), std::span<const uint8_t>(plain, 17)); }));
  auto got = client.Recv(2s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(Classify(got), PacketClass::kRtp);
  size_t n = in->UnprotectRtp(got.data(), got.size());
  ASSERT_EQ(n, 17u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(got.data()) + 12, 5), "hello");

  // SRTP from an address ICE never validated is dropped.
  UdpClient stranger(worker->port());
  uint8_t pkt[256] = {0x80, 96, 0, 99, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xEE};
  size_t sn = out->ProtectRtp(pkt, 50, sizeof pkt);
  stranger.Send(std::span<const uint8_t>(pkt, sn));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rtp_in, 20);
  auto checks = OnWorker(*worker, [&] { return worker->FindTransport(1)->stun_requests(); });
  EXPECT_EQ(checks, 1u);
  auto packets = OnWorker(*worker, [&] { return worker->FindTransport(1)->counters().rtp_packets.load(); });
  EXPECT_EQ(packets, 20u);
  OnWorker(*worker, [&] {
    worker->RemoveTransport(1);
    return 0;
  });
  worker->Stop();
}

// What the worker refuses is counted under its reason (/metrics shows these). The
// datagrams from two sockets reach the worker's queue in the order they were sent, so
// once the last check is answered, everything sent before it has been handled.
TEST(MediaWorker, DroppedDatagramsAreCountedByReason) {
  auto cert = *DtlsCertificate::Generate();
  auto worker = *MediaWorker::Create("127.0.0.1", 0, cert);
  worker->Start();
  OnWorker(*worker, [&] {
    worker->AddTransport(1, {"srv", "server-password-0123456", "cli", ""});
    return 0;
  });
  UdpClient stranger(worker->port()), client(worker->port());
  const uint8_t srtp_like[20] = {0x80, 96};
  const uint8_t dtls_like[13] = {22, 0xFE, 0xFD};
  const uint8_t stun_junk[3] = {0x00, 0x01, 0x00};
  stranger.Send(srtp_like);                                                  // unvalidated-address
  stranger.Send(dtls_like);                                                  // unvalidated-address
  stranger.Send(StunRequest("nobody:cli", "nobody-password-012345", true));  // unknown-ufrag
  stranger.Send(stun_junk);                                                  // bad-stun: does not parse
  client.Send(StunRequest("srv:cli", "a-wrong-password-0123456", true));     // bad-stun: integrity
  client.Send(StunRequest("srv:cli", "server-password-0123456", true));
  ASSERT_FALSE(client.Recv(2s).empty());
  client.Send(srtp_like);  // a validated path, but no DTLS yet: not-ready
  client.Send(StunRequest("srv:cli", "server-password-0123456", false));
  ASSERT_FALSE(client.Recv(2s).empty());
  const DropCounters& drops = worker->drops();
  EXPECT_EQ(drops.Get(DropReason::kUnvalidatedAddress), 2u);
  EXPECT_EQ(drops.Get(DropReason::kUnknownUfrag), 1u);
  EXPECT_EQ(drops.Get(DropReason::kBadStun), 2u);
  EXPECT_EQ(drops.Get(DropReason::kNotReady), 1u);
  EXPECT_EQ(drops.Total(), 6u);
  worker->Stop();
}

}  // namespace
}  // namespace parley::sfu
