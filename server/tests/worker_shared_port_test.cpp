// One port for every media worker (--one-port): two workers bind the same UDP port, the
// kernel spreads clients over their sockets as it likes, and every client still reaches
// the worker that holds its transport (its check passed on by ufrag, then a socket
// connected to it). ICE-TCP taken from another listener (the signalling port's) is
// adopted by the worker its ufrag names. Real DTLS-SRTP clients on 127.0.0.1. The
// classification of a connection's first bytes is here too (fuzz_port_share fuzzes it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

#include "media_peer.hpp"
#include "on_worker.hpp"
#include "sfu/port_share.hpp"
#include "sfu/stun.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using namespace std::chrono_literals;
using test_peer::Bytes;
using test_peer::Over;
using test_peer::Peer;
using test_peer::Rtp;

Bytes Framed(const Bytes& d) {
  Bytes f(2 + d.size());
  f[0] = static_cast<uint8_t>(d.size() >> 8);
  f[1] = static_cast<uint8_t>(d.size());
  std::copy(d.begin(), d.end(), f.begin() + 2);
  return f;
}

Bytes Check(const std::string& user) {
  std::array<uint8_t, 12> tx{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Bytes req(256);
  req.resize(WriteStunBindingRequest(req, tx, user, "password-password-1234", 100, 42, true));
  return req;
}

TEST(PortShare, AUfragNamesItsWorker) {
  EXPECT_EQ(WorkerUfrag(0, "a1b2c3d4"), "00a1b2c3d4");
  EXPECT_EQ(WorkerUfrag(63, "ffff0000"), "3fffff0000");
  EXPECT_EQ(UfragWorker("3fffff0000"), 63u);
  EXPECT_EQ(UfragWorker("01x"), 1u);
  EXPECT_FALSE(UfragWorker("zz12345678"));  // not ours
  EXPECT_FALSE(UfragWorker("0A12345678"));  // ours are lowercase
  EXPECT_FALSE(UfragWorker("01"));          // too short to carry a random part
}

TEST(PortShare, AConnectionIsToldApartByItsFirstBytes) {
  auto classify = [](const Bytes& b, size_t workers = 2) { return ClassifyOpening(b, 1500, workers); };
  // TLS (a ClientHello record) and HTTP: the signalling server's.
  EXPECT_EQ(classify({0x16, 0x03, 0x01}).kind, Opening::kSignalling);
  EXPECT_EQ(classify({'G', 'E', 'T', ' '}).kind, Opening::kSignalling);
  EXPECT_EQ(classify({'P'}).kind, Opening::kSignalling);
  // An ICE-TCP frame: a length, then a Binding request naming worker 1's ufrag.
  Bytes media = Framed(Check("01a1b2c3d4:client"));
  auto k = classify(media);
  EXPECT_EQ(k.kind, Opening::kMedia);
  EXPECT_EQ(k.worker, 1u);
  // Arriving in pieces: not decided until the frame is whole.
  EXPECT_EQ(classify({}).kind, Opening::kNeedMore);
  EXPECT_EQ(classify(Bytes(media.begin(), media.begin() + 1)).kind, Opening::kNeedMore);
  EXPECT_EQ(classify(Bytes(media.begin(), media.end() - 1)).kind, Opening::kNeedMore);
  // Refused: a worker that does not exist, a ufrag not ours, a frame too short for STUN
  // or too long for a datagram, STUN that is not a Binding request, junk.
  EXPECT_EQ(classify(media, 1).kind, Opening::kRefused);
  EXPECT_EQ(classify(Framed(Check("zz-not-ours:client"))).kind, Opening::kRefused);
  EXPECT_EQ(classify({0x00, 0x00}).kind, Opening::kRefused);
  EXPECT_EQ(classify({0x00, 0x13}).kind, Opening::kRefused);
  EXPECT_EQ(classify({0x05, 0xDD}).kind, Opening::kRefused);
  Bytes indication = Check("01a1b2c3d4:client");
  indication[1] = 0x11;  // a Binding indication
  EXPECT_EQ(classify(Framed(indication)).kind, Opening::kRefused);
  EXPECT_EQ(classify(Framed(Bytes(40, 0xAB))).kind, Opening::kRefused);
}

class SharedPort : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = *DtlsCertificate::Generate();
    WorkerOptions opts;
    opts.share_port = true;
    opts.shared_by = 2;
    // A port no socket holds (as parleyd picks it: SO_REUSEPORT would share one another
    // process of this user holds, a test running beside this one).
    WorkerOptions alone;
    alone.ice_tcp = false;
    uint16_t port = (*MediaWorker::Create("127.0.0.1", 0, cert_, alone))->port();
    for (int i = 0; i < 2; ++i) {
      auto w = MediaWorker::Create("127.0.0.1", port, cert_, opts);
      ASSERT_TRUE(w) << w.error().message;
      workers_.push_back(std::move(*w));
    }
    std::vector<MediaWorker*> all = {workers_[0].get(), workers_[1].get()};
    for (size_t i = 0; i < all.size(); ++i) all[i]->SharePortWith(all, i);
    for (auto& w : workers_) w->Start();
  }
  void TearDown() override {
    for (auto& w : workers_) w->Stop();  // every one stops before any goes: they post to each other
  }
  // Transport `id` on worker `w`, its ufrag naming that worker; the USERNAME to check with.
  std::string Add(size_t w, uint64_t id, const Peer& client, std::vector<InboundTrack> tracks = {}) {
    std::string ufrag = WorkerUfrag(w, "t" + std::to_string(id) + "abcd");
    OnWorker(*workers_[w], [&] {
      Transport* t = workers_[w]->AddTransport(id, {ufrag, kPwd, "c" + std::to_string(id), client.fingerprint()});
      if (!tracks.empty()) t->SetInboundTracks(tracks);
      return 0;
    });
    return ufrag + ":c" + std::to_string(id);
  }
  uint64_t HandedIn() const { return workers_[0]->checks_handed_in() + workers_[1]->checks_handed_in(); }

  static constexpr const char* kPwd = "shared-port-password-01";
  std::shared_ptr<DtlsCertificate> cert_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
};

// Sixteen clients from sixteen ports, their transports alternately on either worker:
// whichever socket the kernel hands their datagrams to, each connects (ICE, DTLS) and
// its media reaches a subscriber on the other worker's side of a route.
TEST_F(SharedPort, EveryClientReachesTheWorkerOfItsTransport) {
  ASSERT_EQ(workers_[0]->port(), workers_[1]->port());
  std::vector<std::unique_ptr<Peer>> clients;
  for (uint64_t id = 1; id <= 16; ++id) {
    clients.push_back(std::make_unique<Peer>(workers_[0]->port()));
    const size_t w = id % 2;
    std::string user = Add(w, id, *clients.back(),
                           id <= 2 ? std::vector<InboundTrack>{{false, static_cast<uint32_t>(0x1000u + id), 111}}
                                   : std::vector<InboundTrack>{});
    ASSERT_TRUE(clients.back()->Connect(user, kPwd, cert_->fingerprint())) << "client " << id << " on worker " << w;
  }
  // With sixteen flows, the kernel handed some to the wrong worker (each has an even
  // chance): their checks were passed on. (Shown, not asserted: it is the kernel's hash.)
  std::cout << "# checks handed over: " << HandedIn() << "; connected sockets: " << workers_[0]->peer_sockets() << " + "
            << workers_[1]->peer_sockets() << "\n";
  EXPECT_EQ(workers_[0]->peer_sockets() + workers_[1]->peer_sockets(), 16u);
  // A browser nominates on every check of its selected pair: the same path again keeps
  // its socket (none closed, none opened).
  const uint64_t opened = workers_[0]->peer_sockets_opened() + workers_[1]->peer_sockets_opened();
  for (uint64_t id = 1; id <= 16; ++id) {
    const size_t w = id % 2;
    ASSERT_TRUE(clients[id - 1]->CheckAnswered(
        WorkerUfrag(w, "t" + std::to_string(id) + "abcd") + ":c" + std::to_string(id), kPwd));
  }
  EXPECT_EQ(workers_[0]->peer_sockets_opened() + workers_[1]->peer_sockets_opened(), opened);
  // Media: publisher 2 (worker 0) to subscribers 4, 6, ... (worker 0), publisher 1
  // (worker 1) to 3, 5, ... (worker 1). SRTP after DTLS goes through connected sockets.
  for (uint64_t pub : {1u, 2u}) {
    MediaWorker& w = *workers_[pub % 2];
    OnWorker(w, [&] {
      for (uint64_t sub = pub + 2; sub <= 16; sub += 2)
        w.AddRoute(pub, sub, {0, static_cast<uint32_t>(0xB000u + sub), 111});
      return 0;
    });
    for (uint16_t seq = 0; seq < 5; ++seq)
      clients[pub - 1]->SendRtp(Rtp(111, seq, 90u * seq, 0x1000u + static_cast<uint32_t>(pub), Bytes(200, 7)));
    for (uint64_t sub = pub + 2; sub <= 16; sub += 2) {
      int got = 0;
      for (auto p = clients[sub - 1]->RecvRtp(2s); !p.empty(); p = clients[sub - 1]->RecvRtp(200ms))
        if (Load32(&p[8]) == 0xB000u + sub) ++got;
      EXPECT_GE(got, 4) << "subscriber " << sub;
    }
  }
  // A client that leaves takes its connected socket with it.
  OnWorker(*workers_[1], [&] {
    workers_[1]->RemoveTransport(15);
    return 0;
  });
  EXPECT_EQ(workers_[0]->peer_sockets() + workers_[1]->peer_sockets(), 15u);
}

// ICE-TCP accepted elsewhere (here, by the test, as the signalling port would) and
// adopted by worker 1: the client connects and is answered over that connection.
TEST_F(SharedPort, AnAdoptedTcpConnectionCarriesItsClient) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  Peer client(ntohs(a.sin_port), Over::kTcp);
  ASSERT_TRUE(client.connected());
  std::string user = Add(1, 7, client);
  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  int fd = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
  close(listener);
  ASSERT_GE(fd, 0);
  workers_[1]->Post([w = workers_[1].get(), fd, peer] { w->AdoptTcp(fd, peer); });
  ASSERT_TRUE(client.Connect(user, kPwd, cert_->fingerprint()));
  EXPECT_EQ(OnWorker(*workers_[1], [&] { return workers_[1]->tcp_links().counters().accepted; }), 1u);
}

}  // namespace
}  // namespace parley::sfu
