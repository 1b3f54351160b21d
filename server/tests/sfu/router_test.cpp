// Router: which routes a publisher's packets take, and the O(1) lookup of a route by
// the SSRC a subscriber's feedback names, through adds, moves and removals.
#include "sfu/router.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "sfu/forwarder.hpp"

namespace parley::sfu {
namespace {

RouteSpec Spec(size_t track, uint32_t ssrc) {
  return {track, ssrc, 96, 0, 0};
}

std::vector<std::pair<uint64_t, uint32_t>> Targets(const Router& router, uint64_t publisher, size_t track) {
  std::vector<std::pair<uint64_t, uint32_t>> out;
  for (const auto& r : router.From(publisher))
    if (r->spec.track == track) out.emplace_back(r->subscriber, r->spec.ssrc);
  return out;
}

TEST(Router, EachTrackReachesOnlyItsRoutes) {
  Router router;
  ASSERT_TRUE(router.Add(1, 10, Spec(0, 100), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(1, 10, Spec(1, 101), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(1, 20, Spec(0, 200), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(2, 10, Spec(0, 102), SeqRewriter(1, 2)));
  EXPECT_EQ(Targets(router, 1, 0), (std::vector<std::pair<uint64_t, uint32_t>>{{10, 100}, {20, 200}}));
  EXPECT_EQ(Targets(router, 1, 1), (std::vector<std::pair<uint64_t, uint32_t>>{{10, 101}}));
  EXPECT_EQ(Targets(router, 2, 0), (std::vector<std::pair<uint64_t, uint32_t>>{{10, 102}}));
  EXPECT_TRUE(router.From(3).empty());
  EXPECT_EQ(router.size(), 4u);
  size_t to_10 = 0;
  router.ForEachRouteTo(10, [&](const Route& r) {
    EXPECT_EQ(r.subscriber, 10u);
    ++to_10;
  });
  EXPECT_EQ(to_10, 3u);
}

TEST(Router, FeedbackLookupByTheSubscribersSsrcAmong1000Routes) {
  Router router;
  std::vector<Route*> added;
  for (uint64_t pub = 1; pub <= 100; ++pub)
    for (uint64_t sub = 1001; sub <= 1010; ++sub) {
      // Subscribers number their streams alike: only (subscriber, SSRC) is unique.
      auto ssrc = static_cast<uint32_t>(5000 + pub);
      added.push_back(router.Add(pub, sub, Spec(pub % 3, ssrc), SeqRewriter(1, 2)));
      ASSERT_NE(added.back(), nullptr);
    }
  EXPECT_EQ(router.size(), 1000u);
  size_t i = 0;
  for (uint64_t pub = 1; pub <= 100; ++pub)
    for (uint64_t sub = 1001; sub <= 1010; ++sub, ++i) {
      Route* r = router.Find(sub, static_cast<uint32_t>(5000 + pub));
      ASSERT_EQ(r, added[i]);
      EXPECT_EQ(r->publisher, pub);
    }
  EXPECT_EQ(router.Find(1001, 4999), nullptr);
  EXPECT_EQ(router.Find(999, 5001), nullptr);
}

TEST(Router, MoveRoutesRemapsTracksAndDropsGoneOnes) {
  Router router;
  Route* audio = router.Add(1, 10, Spec(0, 100), SeqRewriter(7, 8));
  Route* camera = router.Add(1, 10, Spec(1, 101), SeqRewriter(9, 10));
  ASSERT_TRUE(audio && camera);
  camera->numbers.OnInput(0xCA, 500, 9000, 3000);
  SeqRewriter::Out sent = camera->numbers.Apply(500, 9000);
  camera->numbers.OnSent(sent);
  camera->packets = 42;
  // The new transport carries the camera at index 0 and no audio.
  router.Move(1, 2, {-1, 0});
  EXPECT_FALSE(router.Knows(1));
  EXPECT_TRUE(router.Knows(2));
  EXPECT_TRUE(router.From(1).empty());
  ASSERT_EQ(router.From(2).size(), 1u);
  Route* moved = router.Find(10, 101);
  ASSERT_EQ(moved, camera);  // the same route, numbering and counts included
  EXPECT_EQ(moved->publisher, 2u);
  EXPECT_EQ(moved->spec.track, 0u);
  EXPECT_EQ(moved->packets, 42u);
  EXPECT_EQ(moved->numbers.Apply(501, 12000).seq, static_cast<uint16_t>(sent.seq + 1));
  EXPECT_EQ(router.Find(10, 100), nullptr);  // the audio route is gone
  // A map shorter than the old tracks drops the rest too; moving from nothing is a no-op.
  router.Move(2, 3, {});
  EXPECT_EQ(router.size(), 0u);
  EXPECT_TRUE(router.Knows(3));
  router.Move(99, 4, {0});
  EXPECT_FALSE(router.Knows(4));
}

TEST(Router, RemovingATransportRemovesItsRoutesBothWays) {
  Router router;
  ASSERT_TRUE(router.Add(1, 2, Spec(0, 100), SeqRewriter(1, 2)));  // 1 publishes to 2
  ASSERT_TRUE(router.Add(2, 1, Spec(0, 200), SeqRewriter(1, 2)));  // and 2 to 1
  ASSERT_TRUE(router.Add(3, 1, Spec(0, 300), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(3, 4, Spec(0, 301), SeqRewriter(1, 2)));
  router.RemoveTransport(1);
  EXPECT_FALSE(router.Knows(1));
  EXPECT_EQ(router.Find(2, 100), nullptr);
  EXPECT_EQ(router.Find(1, 200), nullptr);
  EXPECT_EQ(router.Find(1, 300), nullptr);
  EXPECT_TRUE(router.From(2).empty());
  EXPECT_TRUE(router.Knows(2));  // it had routes: still asked for a keyframe on connect
  ASSERT_NE(router.Find(4, 301), nullptr);
  EXPECT_EQ(router.size(), 1u);
}

// The routes to a subscriber, by its index (what ForEachRouteTo walks).
std::vector<uint32_t> To(const Router& router, uint64_t subscriber) {
  std::vector<uint32_t> out;
  router.ForEachRouteTo(subscriber, [&](const Route& r) {
    EXPECT_EQ(r.subscriber, subscriber);
    out.push_back(r.spec.ssrc);
  });
  return out;
}

TEST(Router, TheRoutesToASubscriberFollowAddsMovesAndRemovals) {
  Router router;
  ASSERT_TRUE(router.Add(1, 10, Spec(0, 100), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(1, 10, Spec(1, 101), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(2, 10, Spec(0, 102), SeqRewriter(1, 2)));
  ASSERT_TRUE(router.Add(2, 20, Spec(0, 200), SeqRewriter(1, 2)));
  EXPECT_EQ(To(router, 10), (std::vector<uint32_t>{100, 101, 102}));  // in the order added
  EXPECT_EQ(To(router, 20), (std::vector<uint32_t>{200}));
  EXPECT_TRUE(To(router, 30).empty());
  router.Move(1, 3, {-1, 0});  // publisher 1 renegotiated: its track 0 is gone
  EXPECT_EQ(To(router, 10), (std::vector<uint32_t>{101, 102}));
  router.Remove(2, 10);
  EXPECT_EQ(To(router, 10), (std::vector<uint32_t>{101}));
  router.RemoveTransport(3);  // the publisher goes: its routes to 10 with it
  EXPECT_TRUE(To(router, 10).empty());
  router.RemoveTransport(20);  // a subscriber goes: the routes to it
  EXPECT_TRUE(To(router, 20).empty());
  EXPECT_EQ(router.size(), 0u);
}

TEST(Router, DuplicateRouteIsIgnored) {
  Router router;
  Route* first = router.Add(1, 10, Spec(0, 100), SeqRewriter(1, 2));
  ASSERT_TRUE(first);
  EXPECT_EQ(router.Add(1, 10, Spec(1, 100), SeqRewriter(3, 4)), nullptr);  // same subscriber and SSRC
  EXPECT_EQ(router.size(), 1u);
  EXPECT_EQ(router.Find(10, 100), first);
  EXPECT_EQ(first->spec.track, 0u);
  EXPECT_NE(router.Add(1, 11, Spec(0, 100), SeqRewriter(1, 2)), nullptr);  // another subscriber
}

TEST(Router, IndexStaysRightAfterRemovals) {
  Router router;
  Route* a = router.Add(1, 10, Spec(0, 100), SeqRewriter(1, 2));
  Route* b = router.Add(1, 10, Spec(1, 101), SeqRewriter(1, 2));
  Route* c = router.Add(1, 11, Spec(0, 100), SeqRewriter(1, 2));
  ASSERT_TRUE(a && b && c);
  router.Remove(1, 10, 0);  // one track of one subscriber
  EXPECT_EQ(router.Find(10, 100), nullptr);
  EXPECT_EQ(router.Find(10, 101), b);
  EXPECT_EQ(router.Find(11, 100), c);
  EXPECT_TRUE(router.Knows(1));
  router.Remove(1, 10);  // all of it
  EXPECT_EQ(router.Find(10, 101), nullptr);
  EXPECT_EQ(router.Find(11, 100), c);
  // Two publishers on one subscriber's SSRC (a stream being handed over): removing the
  // one found leaves the other findable.
  Route* d = router.Add(2, 11, Spec(0, 100), SeqRewriter(1, 2));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(router.Find(11, 100), c);
  router.Remove(1, 11);
  EXPECT_EQ(router.Find(11, 100), d);
  router.RemoveTransport(2);
  EXPECT_EQ(router.Find(11, 100), nullptr);
  EXPECT_EQ(router.size(), 0u);
}

// A publisher's packet: one-byte extensions (mid "0" as id 1, audio level as id 2),
// a payload and 4 bytes of padding.
std::vector<uint8_t> PublishedPacket() {
  std::vector<uint8_t> p = {0xB0, 96,   0x01, 0xF4, 0,    0,   0x23, 0x28, 0, 0, 0, 0xCA,  // V=2 P X, seq 500, ts 9000
                            0xBE, 0xDE, 0x00, 0x01, 0x10, '0', 0x20, 0x7F,                 // mid, audio level
                            0x90, 0x80, 0x12, 0x34, 0x56,                                  // payload (5 bytes)
                            0,    0,    0,    4};                                          // padding
  return p;
}

// A route with the publisher's packet as its input (PublishedPacket, started on it).
class RewrittenCopy : public ::testing::Test {
 protected:
  Route* Routed(const RouteSpec& spec) {
    Route* r = router_.Add(1, 10, spec, SeqRewriter(7, 8));
    v = ParseRtp(in);
    if (r && v) r->numbers.OnInput(v->ssrc, v->sequence, v->timestamp, 3000);
    return v ? r : nullptr;
  }
  std::vector<uint8_t> in = PublishedPacket();
  std::optional<RtpView> v;

 private:
  Router router_;
};

TEST_F(RewrittenCopy, CarriesOurAbsSendTimeInsteadOfThePublishersExtensions) {
  RouteSpec spec = Spec(0, 0x5AB);
  spec.rtx_ssrc = 0x5AC;
  spec.rtx_payload_type = 97;
  Route* r = Routed(spec);
  ASSERT_TRUE(r);
  uint8_t slot[kMaxDatagram];
  // 1.5 s: 6.18 fixed point 0x060000.
  size_t n = WriteRewritten(slot, *r, *v, false, 0, OwnExtensions{3, 1'500'000});
  auto out = ParseRtp(std::span<uint8_t>(slot, n));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ssrc, 0x5ABu);
  ASSERT_TRUE(out->Extension(3));
  EXPECT_EQ(std::vector<uint8_t>(out->Extension(3)->begin(), out->Extension(3)->end()),
            (std::vector<uint8_t>{0x06, 0x00, 0x00}));
  EXPECT_FALSE(out->Extension(1)) << "the publisher's ids mean nothing to the subscriber";
  EXPECT_FALSE(out->Extension(2));
  EXPECT_EQ(std::vector<uint8_t>(out->payload().begin(), out->payload().end()),
            (std::vector<uint8_t>{0x90, 0x80, 0x12, 0x34, 0x56}));
  EXPECT_EQ(out->padding, 4) << "a copy as it came keeps its padding";
  EXPECT_EQ(n, 12u + 8u + 5u + 4u);
  // A retransmission on RTX: our extension, the original sequence number, the payload.
  n = WriteRewritten(slot, *r, *v, true, 0, OwnExtensions{3, 2'000'000});
  out = ParseRtp(std::span<uint8_t>(slot, n));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ssrc, 0x5ACu);
  EXPECT_EQ(out->payload_type, 97);
  ASSERT_TRUE(out->Extension(3));
  EXPECT_EQ((*out->Extension(3))[0], 0x08) << "2 s";
  ASSERT_EQ(out->payload().size(), 7u);
  EXPECT_EQ(Load16(out->payload().data()), 7) << "the subscriber's number for the original";
  EXPECT_EQ(out->payload()[2], 0x90);
  EXPECT_EQ(out->padding, 0);
  // Without abs-send-time the copy keeps the header as it came.
  n = WriteRewritten(slot, *r, *v, false, 0);
  out = ParseRtp(std::span<uint8_t>(slot, n));
  ASSERT_TRUE(out);
  EXPECT_EQ(n, in.size());
  EXPECT_TRUE(out->Extension(1));
  EXPECT_EQ(AbsSendTime(64'000'000 + 1'500'000), 0x060000u) << "wraps every 64 s";
}

TEST_F(RewrittenCopy, CarriesTheTransportWideSequenceNumberBesideOrWithoutAbsSendTime) {
  Route* r = Routed(Spec(0, 0x5AB));
  ASSERT_TRUE(r);
  uint8_t slot[kMaxDatagram];
  // Both: 4 + (1 + 3) + (1 + 2) bytes, padded to 12.
  size_t n = WriteRewritten(slot, *r, *v, false, 0, OwnExtensions{3, 1'500'000, 4, 0xABCD});
  auto out = ParseRtp(std::span<uint8_t>(slot, n));
  ASSERT_TRUE(out);
  EXPECT_EQ(n, 12u + 12u + 5u + 4u);
  ASSERT_TRUE(out->Extension(3));
  EXPECT_EQ((*out->Extension(3))[0], 0x06);
  ASSERT_TRUE(out->Extension(4));
  EXPECT_EQ(std::vector<uint8_t>(out->Extension(4)->begin(), out->Extension(4)->end()),
            (std::vector<uint8_t>{0xAB, 0xCD}));
  EXPECT_FALSE(out->Extension(1));
  EXPECT_EQ(std::vector<uint8_t>(out->payload().begin(), out->payload().end()),
            (std::vector<uint8_t>{0x90, 0x80, 0x12, 0x34, 0x56}));
  // The sequence number alone: 4 + 3, padded to 8.
  n = WriteRewritten(slot, *r, *v, false, 0, OwnExtensions{0, 0, 4, 0x0102});
  out = ParseRtp(std::span<uint8_t>(slot, n));
  ASSERT_TRUE(out);
  EXPECT_EQ(n, 12u + 8u + 5u + 4u);
  EXPECT_FALSE(out->Extension(3));
  ASSERT_TRUE(out->Extension(4));
  EXPECT_EQ((*out->Extension(4))[1], 0x02);
}

}  // namespace
}  // namespace parley::sfu
