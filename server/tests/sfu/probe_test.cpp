// The last-mile probe on the media plane. ProbeSessions alone (time passed in, a sink
// that records): what is answered, counted and refused. Then a real worker on
// 127.0.0.1 reached over UDP, granted through MediaPlane::OpenProbe: the echo, the
// uplink's counters, the downlink, and the attacks (no cookie, another address, a
// forged nonce, a flood of grants).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "sfu/media_plane.hpp"
#include "sfu/probe_sessions.hpp"

namespace parley::sfu {
namespace {

namespace probe = proto::probe;

probe::Cookie MakeCookie(uint8_t seed) {
  probe::Cookie c{};
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(seed + i);
  return c;
}

sockaddr_storage Loopback(uint16_t port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ss;
}

struct Sent {
  std::vector<uint8_t> bytes;
  uint16_t port;
};

class RecordingSink final : public WebRtcTransport::PacketSink {
 public:
  void SendNow(std::span<const uint8_t> d, const sockaddr_storage& to) override {
    sent.push_back({{d.begin(), d.end()}, PortOf(to)});
  }
  uint8_t* Slot() override { return slot_.data(); }
  void Queue(size_t length, const sockaddr_storage& to) override {
    sent.push_back({{slot_.begin(), slot_.begin() + static_cast<std::ptrdiff_t>(length)}, PortOf(to)});
  }
  size_t Count(probe::Kind kind) const {
    size_t n = 0;
    for (const auto& s : sent)
      if (auto d = probe::Parse(s.bytes); d && d->header.kind == kind) ++n;
    return n;
  }
  std::vector<Sent> sent;

 private:
  static uint16_t PortOf(const sockaddr_storage& ss) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  }
  std::vector<uint8_t> slot_ = std::vector<uint8_t>(kSlotBytes);
};

class Probes : public ::testing::Test {
 protected:
  Probes() {
    grant_.cookie = MakeCookie(1);
    grant_.nonce.fill(0x33);
    grant_.up_kbps = 1000;
    grant_.down_kbps = 2000;
    EXPECT_TRUE(sessions_.Open(grant_, 0));
  }
  std::vector<uint8_t> Datagram(probe::Kind kind, uint32_t seq, int64_t time_us, size_t size) {
    std::vector<uint8_t> b(probe::kMaxDataBytes);
    b.resize(probe::WritePadded(b, {kind, grant_.cookie, seq, static_cast<uint64_t>(time_us)}, size));
    return b;
  }
  std::vector<uint8_t> Start(const probe::Nonce& nonce, uint32_t kbps, uint32_t ms) {
    std::vector<uint8_t> b(probe::kDownStartBytes);
    probe::WriteDownStart(b, {probe::Kind::kDownStart, grant_.cookie, 0, 0}, {nonce, kbps, ms, 1000});
    return b;
  }
  void Receive(const std::vector<uint8_t>& d, uint16_t port, int64_t now) {
    sessions_.Receive(d, Loopback(port), now, sink_, drops_);
  }

  ProbeGrant grant_;
  ProbeSessions sessions_;
  RecordingSink sink_;
  DropCounters drops_;
};

TEST_F(Probes, AnEchoIsAnsweredWithTheNonceAndNoMoreBytesThanItHad) {
  Receive(Datagram(probe::Kind::kEcho, 0, 777, probe::kMinEchoBytes), 5000, 1000);
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(sink_.sent[0].port, 5000);
  EXPECT_LE(sink_.sent[0].bytes.size(), probe::kMinEchoBytes);
  auto reply = probe::Parse(sink_.sent[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.kind, probe::Kind::kEchoReply);
  EXPECT_EQ(reply->reply.echoed_time_us, 777u);
  EXPECT_EQ(reply->reply.nonce, grant_.nonce);
  EXPECT_EQ(drops_.Get(DropReason::kBadProbe), 0u);
}

TEST_F(Probes, TheFirstEchoBindsTheAddressAndOthersAreIgnored) {
  Receive(Datagram(probe::Kind::kUp, 0, 0, 1000), 5000, 1000);  // data before any echo
  Receive(Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes), 5000, 1000);
  Receive(Datagram(probe::Kind::kEcho, 1, 0, probe::kMinEchoBytes), 6000, 1000);  // another address
  Receive(Datagram(probe::Kind::kUp, 0, 0, 1000), 6000, 1000);
  Receive(Start(grant_.nonce, 1000, 1000), 6000, 1000);
  EXPECT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(sink_.sent[0].port, 5000);
  EXPECT_EQ(drops_.Get(DropReason::kBadProbe), 4u);
}

TEST_F(Probes, UnknownCookiesAndMalformedDatagramsAreCountedNotAnswered) {
  std::vector<uint8_t> other = Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes);
  other[8] ^= 0xFF;  // a cookie nobody was granted
  Receive(other, 5000, 1000);
  std::vector<uint8_t> short_echo = Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes);
  short_echo.resize(probe::kMinEchoBytes - 1);  // smaller than its reply would be
  Receive(short_echo, 5000, 1000);
  Receive(Datagram(probe::Kind::kDown, 0, 0, 200), 5000, 1000);  // the server's own kind
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(drops_.Get(DropReason::kBadProbe), 3u);
}

TEST_F(Probes, TheUplinkIsCountedAndReportedInTheNextEchoReply) {
  Receive(Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes), 5000, 1000);
  // Ten packets 8 ms apart, sent 8 ms apart except the fifth, which was 4 ms late.
  for (uint32_t i = 0; i < 10; ++i) {
    const int64_t arrival = 10'000 + i * 8'000 + (i == 4 ? 4'000 : 0);
    Receive(Datagram(probe::Kind::kUp, i, 500'000 + i * 8'000, 1000), 5000, arrival);
  }
  Receive(Datagram(probe::Kind::kEcho, 1, 0, probe::kMinEchoBytes), 5000, 200'000);
  ASSERT_EQ(sink_.sent.size(), 2u);
  auto reply = probe::Parse(sink_.sent[1].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->reply.up.packets, 10u);
  EXPECT_EQ(reply->reply.up.highest_seq, 9u);
  EXPECT_EQ(reply->reply.up.bytes, 10'000u);
  EXPECT_EQ(reply->reply.up.first_us, 10'000u);
  EXPECT_EQ(reply->reply.up.last_us, 82'000u);
  EXPECT_GT(reply->reply.up.jitter_us, 0u);  // the late one moved the transit time twice
  EXPECT_LT(reply->reply.up.jitter_us, 4'000u);
}

TEST_F(Probes, TheDownlinkNeedsTheNonceFlowsAtTheAskedRateCappedAndStops) {
  Receive(Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes), 5000, 0);
  probe::Nonce forged = grant_.nonce;
  forged[0] ^= 1;
  Receive(Start(forged, 1000, 1000), 5000, 0);
  sessions_.Run(100'000, sink_);
  EXPECT_EQ(sink_.Count(probe::Kind::kDown), 0u);
  // Asked for 8 Mbit/s for 60 s: the grant's 2 Mbit/s for 5 s it is.
  Receive(Start(grant_.nonce, 8000, 60000), 5000, 0);
  for (int64_t t = 0; t <= 6'000'000; t += 1000) sessions_.Run(t, sink_);
  // 2 Mbit/s in 1000-byte datagrams is one every 4 ms: 1250 in 5 s.
  const size_t down = sink_.Count(probe::Kind::kDown);
  EXPECT_GE(down, 1249u);
  EXPECT_LE(down, 1251u);
  for (const auto& s : sink_.sent) EXPECT_EQ(s.port, 5000);
  // A second start is refused.
  Receive(Start(grant_.nonce, 1000, 1000), 5000, 6'000'000);
  sessions_.Run(6'500'000, sink_);
  EXPECT_EQ(sink_.Count(probe::Kind::kDown), down);
  EXPECT_EQ(sessions_.NextDueUs(), -1);
}

TEST_F(Probes, AProbeEndsWithItsLifetimeAndAWorkerHoldsABoundedNumber) {
  EXPECT_FALSE(sessions_.Open(grant_, 0)) << "a cookie is granted once";
  for (size_t i = 0; i < ProbeSessions::kMaxSessions - 1; ++i)
    EXPECT_TRUE(sessions_.Open({MakeCookie(static_cast<uint8_t>(100 + i)), {}, 100, 100}, 0));
  EXPECT_FALSE(sessions_.Open({MakeCookie(250), {}, 100, 100}, 0));
  sessions_.Run(ProbeSessions::kLifetimeUs, sink_);
  EXPECT_TRUE(sessions_.empty());
  Receive(Datagram(probe::Kind::kEcho, 0, 0, probe::kMinEchoBytes), 5000, ProbeSessions::kLifetimeUs);
  EXPECT_TRUE(sink_.sent.empty());
}

// ---- A real worker over UDP ---------------------------------------------------

class WorkerProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::shared_ptr<DtlsCertificate> cert = *DtlsCertificate::Generate();
    auto w = MediaWorker::Create("127.0.0.1", 0, cert);
    ASSERT_TRUE(w);
    worker_ = std::move(*w);
    worker_->Start();
    plane_ = std::make_unique<MediaPlane>(std::vector<MediaWorker*>{worker_.get()}, "127.0.0.1");
  }
  void TearDown() override { worker_->Stop(); }

  struct Client {
    int fd = -1;
    explicit Client(uint16_t server_port) {
      fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_storage to = Loopback(server_port);
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(sockaddr_in));
    }
    ~Client() { close(fd); }
    void Send(const std::vector<uint8_t>& d) const { (void)send(fd, d.data(), d.size(), 0); }
    // Datagrams received within `ms` of silence.
    std::vector<std::vector<uint8_t>> Drain(int ms) const {
      std::vector<std::vector<uint8_t>> out;
      pollfd p{fd, POLLIN, 0};
      while (poll(&p, 1, ms) > 0) {
        std::vector<uint8_t> b(2048);
        ssize_t n = recv(fd, b.data(), b.size(), 0);
        if (n <= 0) break;
        b.resize(static_cast<size_t>(n));
        out.push_back(std::move(b));
      }
      return out;
    }
  };

  static probe::Cookie CookieOf(const std::string& hex) {
    probe::Cookie c{};
    for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
    return c;
  }
  static std::vector<uint8_t> Make(probe::Kind kind, const probe::Cookie& cookie, uint32_t seq, size_t size) {
    std::vector<uint8_t> b(probe::kMaxDataBytes);
    b.resize(probe::WritePadded(b, {kind, cookie, seq, 0}, size));
    return b;
  }

  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<MediaPlane> plane_;
};

TEST_F(WorkerProbe, AGrantedProbeIsServedOnTheMediaPortAndNothingElseIs) {
  auto target = plane_->OpenProbe(1000, 1000, std::chrono::steady_clock::now());
  ASSERT_TRUE(target);
  EXPECT_EQ(target->address, "127.0.0.1");
  EXPECT_EQ(target->port, worker_->port());
  ASSERT_EQ(target->cookie_hex.size(), 32u);
  const probe::Cookie cookie = CookieOf(target->cookie_hex);

  Client stranger(worker_->port());  // guesses: a cookie nobody was granted
  probe::Cookie guess = cookie;
  guess[15] ^= 0x80;
  stranger.Send(Make(probe::Kind::kEcho, guess, 0, probe::kMinEchoBytes));
  EXPECT_TRUE(stranger.Drain(200).empty());

  Client client(worker_->port());
  client.Send(Make(probe::Kind::kEcho, cookie, 0, probe::kMinEchoBytes));
  auto replies = client.Drain(500);
  ASSERT_EQ(replies.size(), 1u);
  auto reply = probe::Parse(replies[0]);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->header.kind, probe::Kind::kEchoReply);

  // The stranger, now knowing the cookie, still gets nothing: the probe is bound.
  stranger.Send(Make(probe::Kind::kEcho, cookie, 1, probe::kMinEchoBytes));
  std::vector<uint8_t> start(probe::kDownStartBytes);
  probe::WriteDownStart(start, {probe::Kind::kDownStart, cookie, 0, 0}, {reply->reply.nonce, 1000, 500, 1000});
  stranger.Send(start);
  EXPECT_TRUE(stranger.Drain(300).empty());

  for (uint32_t i = 0; i < 20; ++i) client.Send(Make(probe::Kind::kUp, cookie, i, 1000));
  client.Send(start);  // 1 Mbit/s for 500 ms in 1000-byte datagrams: about 63
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  client.Send(Make(probe::Kind::kEcho, cookie, 2, probe::kMinEchoBytes));
  size_t down = 0;
  std::optional<probe::Datagram> last_reply;
  for (const auto& d : client.Drain(300)) {
    auto p = probe::Parse(d);
    ASSERT_TRUE(p);
    if (p->header.kind == probe::Kind::kDown) ++down;
    if (p->header.kind == probe::Kind::kEchoReply) last_reply = p;
  }
  EXPECT_GE(down, 55u);
  EXPECT_LE(down, 70u);
  ASSERT_TRUE(last_reply);
  EXPECT_EQ(last_reply->reply.up.packets, 20u);
  EXPECT_GE(worker_->drops().Get(DropReason::kBadProbe), 3u);
}

TEST_F(WorkerProbe, GrantsAreCappedServerWideAndWithoutWorkersThereAreNone) {
  const auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < MediaPlane::kMaxOpenProbes; ++i) ASSERT_TRUE(plane_->OpenProbe(100, 100, now));
  auto refused = plane_->OpenProbe(100, 100, now);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kServerBusy);
  // Once the first ones' lifetime is over, there is room again.
  EXPECT_TRUE(plane_->OpenProbe(100, 100, now + std::chrono::microseconds(ProbeSessions::kLifetimeUs)));
  MediaPlane none({}, "127.0.0.1");
  auto no_media = none.OpenProbe(100, 100, now);
  ASSERT_FALSE(no_media);
  EXPECT_EQ(no_media.error().code, Errc::kMediaConnectionCreateFailed);
}

}  // namespace
}  // namespace parley::sfu
