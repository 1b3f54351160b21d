// A channel spread over two media workers, as ChannelMedia arranges it: once the
// channel's home worker holds the plane's spread_at() subscribe transports, the next
// ones go to the worker with the fewest, routed there from a mirror of each publisher
// that the home worker relays to. Mirrors follow their publisher (renegotiation,
// unpublish) and go when their worker has no subscriber of the channel left. Read back
// on the workers' threads; no packets flow (worker_relay_test.cpp sends them).
#include <gtest/gtest.h>

#include "../on_worker.hpp"
#include "sdp_fixtures.hpp"
#include "sfu/media_plane.hpp"

namespace parley::sfu {
namespace {

using namespace sdp_fixtures;

constexpr SessionId kAlice = 11, kBob = 12, kCarol = 13, kDave = 14;
const TrackSet kAv{TrackKind::kAudio, TrackKind::kCamera};

class MediaSpread : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::shared_ptr<DtlsCertificate> cert = *DtlsCertificate::Generate();
    for (auto& w : workers_) {
      w = std::move(*MediaWorker::Create("127.0.0.1", 0, cert));
      w->Start();
    }
    plane_ = std::make_unique<MediaPlane>(std::vector<MediaWorker*>{workers_[0].get(), workers_[1].get()}, "127.0.0.1",
                                          [this] { return next_ssrc_++; });
    plane_->set_spread_at(1);
    media_ = plane_->OpenChannel(0);
  }
  void TearDown() override {
    media_.reset();
    plane_.reset();
    for (auto& w : workers_) w->Stop();
  }
  MediaWorker& W(size_t i) { return *workers_[i]; }
  bool Exists(size_t w, uint64_t transport) {
    return OnWorker(W(w), [&] { return W(w).FindTransport(transport) != nullptr; });
  }
  std::vector<uint64_t> Mirrors(uint64_t publisher) {
    return OnWorker(W(1), [&] { return W(1).MirrorsOf(publisher); });
  }
  std::vector<uint64_t> Relays(uint64_t publisher) {
    return OnWorker(W(0), [&] { return W(0).RelaysOf(publisher); });
  }
  std::vector<std::pair<uint64_t, RouteSpec>> Routes(size_t w, uint64_t publisher) {
    return OnWorker(W(w), [&] { return W(w).RoutesFrom(publisher); });
  }
  uint64_t Pub(SessionId s) { return media_->PublishStatus(s)->transport_id; }
  uint64_t Sub(SessionId s) { return media_->SubscribeStatus(s)->transport_id; }

  uint32_t next_ssrc_ = 5000;
  std::unique_ptr<MediaWorker> workers_[2];
  std::unique_ptr<MediaPlane> plane_;
  std::unique_ptr<sfu::ChannelMedia> media_;
};

TEST_F(MediaSpread, SubscribersBeyondTheHomeWorkersShareGoToTheOtherFromAMirror) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAv).ok());
  const uint64_t alice = Pub(kAlice);
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", kAv).ok());  // home holds none yet
  auto offer = media_->Subscribe(kCarol, kAlice, "alice", kAv);     // home holds one: the other worker
  ASSERT_TRUE(offer.ok());
  EXPECT_TRUE(Exists(0, Sub(kBob)));
  EXPECT_TRUE(Exists(1, Sub(kCarol)));
  EXPECT_FALSE(Exists(0, Sub(kCarol)));
  // Carol's ICE candidate is the other worker's port.
  EXPECT_NE(offer->find(" " + std::to_string(W(1).port()) + " typ host"), std::string::npos) << *offer;
  // Bob is routed from Alice's transport, Carol from its mirror on her worker.
  ASSERT_EQ(Routes(0, alice).size(), 2u);
  EXPECT_EQ(Routes(0, alice)[0].first, Sub(kBob));
  const auto mirrors = Mirrors(alice);
  ASSERT_EQ(mirrors.size(), 1u);
  EXPECT_EQ(Relays(alice), mirrors);
  auto routes = Routes(1, mirrors[0]);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].first, Sub(kCarol));
  // Dave: each worker holds one, the home worker goes first among equals.
  ASSERT_TRUE(media_->Subscribe(kDave, kAlice, "alice", kAv).ok());
  EXPECT_TRUE(Exists(0, Sub(kDave)));
  EXPECT_EQ(Mirrors(alice).size(), 1u) << "one mirror per worker, whatever its subscribers";

  // Requests for Carol go to her worker and name the mirror.
  media_->Unsubscribe(kCarol, kAlice, {TrackKind::kAudio});
  routes = Routes(1, mirrors[0]);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].second.track, 1u);
}

TEST_F(MediaSpread, AMirrorFollowsItsPublishersRenegotiationAndUnpublish) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAv).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", kAv).ok());
  ASSERT_TRUE(media_->Subscribe(kCarol, kAlice, "alice", kAv).ok());
  const uint64_t first = Pub(kAlice);
  const uint64_t old_mirror = Mirrors(first).at(0);
  const auto before = Routes(1, old_mirror);
  ASSERT_EQ(before.size(), 2u);
  // Video first now, and a screen section: the routes move to a new mirror, re-indexed.
  ASSERT_TRUE(media_
                  ->Publish(kAlice, PublishOffer({{true, 2101, 2102}, {false, 1101}, {true, 3101, 3102}}),
                            {TrackKind::kAudio, TrackKind::kCamera, TrackKind::kScreen})
                  .ok());
  const uint64_t second = Pub(kAlice);
  EXPECT_FALSE(Exists(1, old_mirror));
  EXPECT_TRUE(Relays(first).empty());
  const auto mirrors = Mirrors(second);
  ASSERT_EQ(mirrors.size(), 1u);
  EXPECT_EQ(Relays(second), mirrors);
  const auto after = Routes(1, mirrors[0]);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].second.ssrc, before[0].second.ssrc) << "the same streams to Carol";
  EXPECT_EQ(after[0].second.track, 1u);
  EXPECT_EQ(after[1].second.track, 0u);
  // Unpublishing one track removes its route from the mirror; dropping the transport
  // removes the mirror.
  media_->Unpublish(kAlice, {TrackKind::kCamera}, false);
  EXPECT_EQ(Routes(1, mirrors[0]).size(), 1u);
  media_->Unpublish(kAlice, {TrackKind::kAudio, TrackKind::kScreen}, true);
  EXPECT_FALSE(Exists(1, mirrors[0]));
  EXPECT_TRUE(Exists(1, Sub(kCarol))) << "subscribers keep their connections";
}

TEST_F(MediaSpread, MirrorsGoWithTheLastSubscriberOnTheirWorker) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAv).ok());
  ASSERT_TRUE(media_->Publish(kBob, kAudioVideo, kAv).ok());
  ASSERT_TRUE(media_->Subscribe(kCarol, kAlice, "alice", kAv).ok());
  ASSERT_TRUE(media_->Subscribe(kDave, kAlice, "alice", kAv).ok());
  ASSERT_TRUE(media_->Subscribe(kDave, kBob, "bob", kAv).ok());
  const uint64_t alice = Pub(kAlice), bob = Pub(kBob), dave = Sub(kDave);
  EXPECT_TRUE(Exists(1, dave));
  ASSERT_EQ(Mirrors(alice).size(), 1u);
  ASSERT_EQ(Mirrors(bob).size(), 1u);
  const uint64_t alice_mirror = Mirrors(alice)[0];
  media_->CloseSession(kDave);
  EXPECT_FALSE(Exists(1, dave));
  EXPECT_FALSE(Exists(1, alice_mirror));
  EXPECT_TRUE(Mirrors(alice).empty());
  EXPECT_TRUE(Mirrors(bob).empty());
  EXPECT_TRUE(Relays(alice).empty());
  EXPECT_TRUE(Relays(bob).empty());
  // A channel that closes takes its mirrors with it.
  ASSERT_TRUE(media_->Subscribe(kDave, kBob, "bob", kAv).ok());
  ASSERT_EQ(Mirrors(bob).size(), 1u);
  const uint64_t bob_mirror = Mirrors(bob)[0];
  media_.reset();
  EXPECT_FALSE(Exists(1, bob_mirror));
}

TEST_F(MediaSpread, WithoutSpreadAChannelStaysOnItsWorker) {
  plane_->set_spread_at(0);
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAv).ok());
  for (SessionId s : {kBob, kCarol, kDave}) {
    ASSERT_TRUE(media_->Subscribe(s, kAlice, "alice", kAv).ok());
    EXPECT_TRUE(Exists(0, Sub(s)));
  }
  EXPECT_TRUE(Mirrors(Pub(kAlice)).empty());
}

}  // namespace
}  // namespace parley::sfu
