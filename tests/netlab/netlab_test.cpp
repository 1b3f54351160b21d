// The network lab's link model: every rule checked with made-up times and fixed seeds.
#include <gtest/gtest.h>

#include <set>

#include "impairment.hpp"
#include "link.hpp"

namespace parley::netlab {
namespace {

using std::chrono::milliseconds;
const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
const std::vector<uint8_t> kPacket(100, 0xab);

Impairment Spec(std::string_view s) {
  std::string error;
  auto i = ParseImpairment(s, &error);
  EXPECT_TRUE(i) << s << ": " << error;
  return i.value_or(Impairment{});
}

TEST(NetlabSpec, ParsesEveryKeyAndDescribesItBack) {
  Impairment i = Spec("loss=10%,burst=5%/4,delay=40ms,jitter=20ms,reorder,dup=1%,rate=300k,queue=32k");
  EXPECT_DOUBLE_EQ(i.loss, 0.10);
  EXPECT_DOUBLE_EQ(i.burst_r, 0.25);
  EXPECT_NEAR(i.burst_p / (i.burst_p + i.burst_r), 0.05, 1e-12);
  EXPECT_EQ(i.delay_ms, 40u);
  EXPECT_EQ(i.jitter_ms, 20u);
  EXPECT_TRUE(i.reorder);
  EXPECT_DOUBLE_EQ(i.duplicate, 0.01);
  EXPECT_EQ(i.rate_bps, 300000u);
  EXPECT_EQ(i.queue_bytes, 32u * 1024);
  EXPECT_EQ(Describe(i), "loss=10%,burst=5%/4,delay=40ms,jitter=20ms,reorder,dup=1%,rate=300k,queue=32768");
  EXPECT_EQ(Describe(Spec(Describe(i))), Describe(i));
  EXPECT_EQ(Spec("delay=1.5s").delay_ms, 1500u);
  EXPECT_EQ(Spec("rate=1.6m").rate_bps, 1600000u);
  EXPECT_EQ(Describe(Spec("good")), "good");
  EXPECT_EQ(Spec(""), Impairment{});
  EXPECT_TRUE(Spec(" down ").down);
}

TEST(NetlabSpec, RefusesWhatItCannotMeanWithTheReason) {
  for (const char* bad :
       {"loss=10",    "loss=101%", "loss=-1%",    "loss=",      "loss",      "delay=40",   "delay=61s",
        "jitter=x",   "rate=0",    "rate=10",     "rate=1e20",  "queue=100", "burst=5%",   "burst=100%/4",
        "burst=5%/0", "reorder=1", "colour=blue", "loss=10%,,", "loss=nan%", "delay=infms"}) {
    std::string error;
    EXPECT_FALSE(ParseImpairment(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  EXPECT_FALSE(ParseImpairment(std::string(2000, 'x'), &error));
}

TEST(NetlabProfiles, EveryProfileIsNamedOnceAndItsSpecsParse) {
  std::set<std::string> names;
  for (const auto& p : Profiles()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_FALSE(p.description.empty());
  }
  for (const char* n :
       {"good", "lossy-10", "lossy-30", "burst-5", "jitter-80", "cap-300k", "cap-1m", "3g", "outage-5s", "outage-35s"})
    EXPECT_NE(FindProfile(n), nullptr) << n;
  EXPECT_DOUBLE_EQ(FindProfile("lossy-30")->downlink.loss, 0.30);
  EXPECT_EQ(FindProfile("3g")->uplink.rate_bps, 384000u);
  EXPECT_EQ(FindProfile("outage-35s")->outage_ms, 35000u);
  EXPECT_EQ(FindProfile("nope"), nullptr);
}

TEST(NetlabLink, PerfectLinkDeliversAtOnceInOrder) {
  Direction d(1);
  for (uint8_t i = 0; i < 5; ++i) d.Offer(std::vector<uint8_t>{i}, t0);
  auto out = d.TakeDue(t0);
  ASSERT_EQ(out.size(), 5u);
  for (uint8_t i = 0; i < 5; ++i) EXPECT_EQ(out[i][0], i);
  EXPECT_EQ(d.stats().delivered, 5u);
  EXPECT_EQ(d.stats().delivered_bytes, 5u);
}

TEST(NetlabLink, RandomLossLosesTheConfiguredShare) {
  Direction d(7);
  d.Configure(Spec("loss=10%"));
  for (int i = 0; i < 20000; ++i) d.Offer(kPacket, t0);
  double lost = static_cast<double>(d.stats().lost_random) / 20000;
  EXPECT_NEAR(lost, 0.10, 0.01);
  EXPECT_EQ(d.TakeDue(t0).size(), 20000 - d.stats().lost_random);
}

TEST(NetlabLink, BurstLossHasTheMeanLossAndBurstLength) {
  Direction d(11);
  d.Configure(Spec("burst=5%/4"));
  int bursts = 0, in_burst = 0;
  uint64_t lost_before = 0;
  for (int i = 0; i < 100000; ++i) {
    d.Offer(kPacket, t0);
    bool lost = d.stats().lost_burst > lost_before;
    lost_before = d.stats().lost_burst;
    if (lost && !in_burst) ++bursts;
    in_burst = lost;
  }
  double share = static_cast<double>(d.stats().lost_burst) / 100000;
  double mean_burst = static_cast<double>(d.stats().lost_burst) / bursts;
  EXPECT_NEAR(share, 0.05, 0.01);
  EXPECT_NEAR(mean_burst, 4.0, 0.5);  // independent 5 % loss would give bursts of ~1.05
}

TEST(NetlabLink, DelayHoldsEveryPacketAndJitterWithoutReorderKeepsOrder) {
  Direction d(3);
  d.Configure(Spec("delay=40ms"));
  d.Offer(kPacket, t0);
  EXPECT_TRUE(d.TakeDue(t0 + milliseconds(39)).empty());
  EXPECT_EQ(d.TakeDue(t0 + milliseconds(40)).size(), 1u);

  Direction j(5);
  j.Configure(Spec("delay=50ms,jitter=40ms"));
  for (uint8_t i = 0; i < 200; ++i) j.Offer(std::vector<uint8_t>{i}, t0 + milliseconds(i));
  EXPECT_TRUE(j.TakeDue(t0 + milliseconds(9)).empty());  // 50 - 40 ms at the earliest
  auto out = j.TakeDue(t0 + milliseconds(300));
  ASSERT_EQ(out.size(), 200u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i][0], i);
}

TEST(NetlabLink, JitterWithReorderDeliversSomeOutOfOrder) {
  Direction d(5);
  d.Configure(Spec("delay=50ms,jitter=40ms,reorder"));
  for (uint8_t i = 0; i < 200; ++i) d.Offer(std::vector<uint8_t>{i}, t0 + milliseconds(i));
  auto out = d.TakeDue(t0 + milliseconds(300));
  ASSERT_EQ(out.size(), 200u);
  int inversions = 0;
  for (size_t i = 1; i < out.size(); ++i) inversions += out[i][0] < out[i - 1][0];
  EXPECT_GT(inversions, 20);
}

TEST(NetlabLink, RateCapSpacesPacketsAndDropsWhatOverfillsTheQueue) {
  Direction d(1);
  d.Configure(Spec("rate=800k,queue=10k"));  // 100 bytes take 1 ms; 10 KiB is ~102 packets
  for (int i = 0; i < 300; ++i) d.Offer(kPacket, t0);
  EXPECT_NEAR(static_cast<double>(d.stats().lost_queue), 300 - 103, 2);
  EXPECT_EQ(d.TakeDue(t0 + std::chrono::microseconds(999)).size(), 0u);
  EXPECT_EQ(d.TakeDue(t0 + milliseconds(1)).size(), 1u);
  EXPECT_EQ(d.TakeDue(t0 + milliseconds(10)).size(), 9u);
  // Offered no faster than the cap, nothing is lost and nothing waits.
  Direction paced(1);
  paced.Configure(Spec("rate=800k"));
  for (int i = 0; i < 100; ++i) paced.Offer(kPacket, t0 + milliseconds(i * 2));
  EXPECT_EQ(paced.stats().lost_queue, 0u);
  EXPECT_EQ(paced.TakeDue(t0 + milliseconds(200)).size(), 100u);
}

TEST(NetlabLink, DuplicationDeliversTwice) {
  Direction d(9);
  d.Configure(Spec("dup=50%"));
  for (int i = 0; i < 1000; ++i) d.Offer(kPacket, t0);
  EXPECT_NEAR(static_cast<double>(d.stats().duplicated), 500, 60);
  EXPECT_EQ(d.TakeDue(t0).size(), 1000 + d.stats().duplicated);
}

TEST(NetlabLink, AnOutageLosesWhatIsInFlightAndEverythingOfferedUntilRestored) {
  Direction d(1);
  d.Configure(Spec("delay=100ms"));
  for (int i = 0; i < 10; ++i) d.Offer(kPacket, t0);
  d.Configure(Spec("delay=100ms,down"));
  for (int i = 0; i < 5; ++i) d.Offer(kPacket, t0 + milliseconds(10));
  EXPECT_EQ(d.stats().lost_outage, 15u);
  EXPECT_TRUE(d.TakeDue(t0 + milliseconds(500)).empty());
  d.Configure(Spec("delay=100ms"));
  d.Offer(kPacket, t0 + milliseconds(600));
  EXPECT_EQ(d.TakeDue(t0 + milliseconds(700)).size(), 1u);
}

TEST(NetlabLink, InFlightPacketsAreBounded) {
  Direction d(1);
  d.Configure(Spec("delay=60s"));
  for (size_t i = 0; i < Direction::kMaxInFlight + 500; ++i) d.Offer(kPacket, t0);
  EXPECT_EQ(d.in_flight(), Direction::kMaxInFlight);
  EXPECT_EQ(d.stats().lost_queue, 500u);
}

TEST(NetlabLink, TheSameSeedGivesTheSameLosses) {
  auto run = [](uint64_t seed) {
    Direction d(seed);
    d.Configure(Spec("loss=20%,burst=5%/3,dup=5%"));
    for (int i = 0; i < 2000; ++i) d.Offer(std::vector<uint8_t>{static_cast<uint8_t>(i)}, t0);
    return d.TakeDue(t0);
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

}  // namespace
}  // namespace parley::netlab
