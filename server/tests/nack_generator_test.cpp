// NackGenerator: which upstream losses to ask the publisher for, and when. Time is
// passed in, so nothing here sleeps.
#include "sfu/nack_generator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace parley::sfu {
namespace {

constexpr int64_t kT0 = 5'000'000;

std::vector<uint16_t> Due(NackGenerator& g, int64_t now_us) {
  std::array<uint16_t, NackGenerator::kMaxMissing> out{};
  size_t n = g.TakeDue(now_us, out);
  return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(NackGenerator, AGapListsEachMissingSeq) {
  NackGenerator g;
  g.OnGap(101, 105);  // 100 arrived, then 105: 101..104 are missing
  EXPECT_EQ(g.size(), 4u);
  EXPECT_EQ(Due(g, kT0), (std::vector<uint16_t>{101, 102, 103, 104}));
  g.OnGap(200, 200);  // no gap at all
  EXPECT_EQ(g.size(), 4u);
  g.Reset();
  EXPECT_EQ(g.size(), 0u);
  EXPECT_TRUE(Due(g, kT0 + 1'000'000).empty());
}

TEST(NackGenerator, KeepsTheNewest64) {
  NackGenerator g;
  g.OnGap(1000, 1100);  // 100 missing in one burst: only 1036..1099 are worth asking for
  ASSERT_EQ(g.size(), NackGenerator::kMaxMissing);
  auto due = Due(g, kT0);
  ASSERT_EQ(due.size(), 64u);
  EXPECT_EQ(due.front(), 1036);
  EXPECT_EQ(due.back(), 1099);

  NackGenerator h;
  h.OnGap(0, 64);   // full
  h.OnGap(65, 75);  // ten more: the ten at the front (0..9) make room
  ASSERT_EQ(h.size(), 64u);
  due = Due(h, kT0);
  EXPECT_EQ(due.front(), 10);
  EXPECT_EQ(due.back(), 74);
}

TEST(NackGenerator, UntilARepairIsTimedEachSeqIsAskedEvery100msWhileItCanStillBePlayed) {
  NackGenerator g;
  g.OnGap(10, 12);
  EXPECT_EQ(Due(g, kT0), (std::vector<uint16_t>{10, 11})) << "asked at once";
  EXPECT_TRUE(Due(g, kT0 + 20'000).empty()) << "a retransmission may already be on its way";
  EXPECT_TRUE(Due(g, kT0 + 99'999).empty());
  g.OnGap(13, 14);  // a newer loss is asked for at once, without the older ones
  EXPECT_EQ(Due(g, kT0 + 99'999), (std::vector<uint16_t>{13}));
  EXPECT_EQ(Due(g, kT0 + 100'000), (std::vector<uint16_t>{10, 11})) << "second try";
  EXPECT_EQ(Due(g, kT0 + 200'000), (std::vector<uint16_t>{10, 11, 13})) << "third try for 10, 11";
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(Due(g, kT0 + 300'000), (std::vector<uint16_t>{13})) << "10 and 11 are too old to be played now";
  EXPECT_EQ(g.size(), 1u);
  EXPECT_TRUE(Due(g, kT0 + 1'000'000).empty());
  EXPECT_EQ(g.size(), 0u);
}

TEST(NackGenerator, LateArrivalClearsIt) {
  NackGenerator g;
  g.OnGap(50, 54);
  EXPECT_TRUE(g.OnLate(52, kT0)) << "the retransmission (or a reordered packet) came";
  EXPECT_FALSE(g.OnLate(52, kT0)) << "twice: a duplicate";
  EXPECT_FALSE(g.OnLate(49, kT0)) << "never missing";
  EXPECT_EQ(Due(g, kT0), (std::vector<uint16_t>{50, 51, 53}));
  EXPECT_TRUE(g.OnLate(50, kT0));
  EXPECT_EQ(Due(g, kT0 + 100'000), (std::vector<uint16_t>{51, 53}));
}

TEST(NackGenerator, OnAShortPathRepairsAreAskedForAgainSoonerAndMoreOften) {
  NackGenerator g;
  g.OnGap(10, 11);
  EXPECT_EQ(Due(g, kT0), (std::vector<uint16_t>{10}));
  EXPECT_TRUE(g.OnLate(10, kT0 + 4'000)) << "repaired 4 ms after the request";
  EXPECT_EQ(g.retry_us(), NackGenerator::kMinRetryUs) << "twice 4 ms and a margin is under the floor";
  g.OnGap(20, 21);
  int tries = 0;
  int64_t last = 0;
  for (int64_t t = 0; t <= 400'000; t += 5'000) {  // a worker ticking every 5 ms
    if (Due(g, kT0 + 10'000 + t) != std::vector<uint16_t>{20}) continue;
    if (tries) {
      EXPECT_GE(t - last, NackGenerator::kMinRetryUs);
    }
    last = t;
    ++tries;
  }
  EXPECT_EQ(tries, NackGenerator::kMaxTries) << "a lost request or retransmission is asked for again";
  EXPECT_LT(last, NackGenerator::kGiveUpUs);
  EXPECT_EQ(g.size(), 0u);
  // A slow path: repairs that take 80 ms space the requests at the ceiling.
  NackGenerator slow;
  slow.OnGap(1, 2);
  (void)Due(slow, kT0);
  EXPECT_TRUE(slow.OnLate(1, kT0 + 80'000));
  EXPECT_EQ(slow.retry_us(), NackGenerator::kMaxRetryUs);
}

TEST(NackGenerator, WrapAroundAt65535) {
  NackGenerator g;
  g.OnGap(65533, 2);  // 65532 arrived, then 2
  EXPECT_EQ(g.size(), 5u);
  EXPECT_EQ(Due(g, kT0), (std::vector<uint16_t>{65533, 65534, 65535, 0, 1})) << "oldest first across the wrap";
  NackGenerator big;
  big.OnGap(65000, 100);  // a long burst across the wrap keeps the newest 64
  auto due = Due(big, kT0);
  ASSERT_EQ(due.size(), 64u);
  EXPECT_EQ(due.front(), 36);
  EXPECT_EQ(due.back(), 99);
}

}  // namespace
}  // namespace parley::sfu
