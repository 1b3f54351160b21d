// Pacer: bursts of video leave at the pacing rate, in order, bounded; audio never waits.
#include "sfu/pacer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace parley::sfu {
namespace {

constexpr int64_t kT0 = 1'000'000;

std::vector<uint8_t> Datagram(size_t size, uint8_t tag) {
  return std::vector<uint8_t>(size, tag);
}

TEST(Pacer, ABurstLeavesAtThePacingRateInOrder) {
  Pacer pacer;
  pacer.SetVideoRate(400'000);  // paced at 1 Mbit/s: 125 bytes a millisecond
  EXPECT_EQ(pacer.rate_bps(), 1'000'000u);
  // A keyframe's 40 packets of 1000 bytes arrive at once: the burst allowance (40 ms,
  // 5000 bytes) goes now, the rest waits.
  size_t now = 0;
  for (uint8_t i = 0; i < 40; ++i) {
    auto d = Datagram(1000, i);
    if (pacer.Admit(d.size(), kT0))
      ++now;
    else
      ASSERT_TRUE(pacer.Push(d, kT0));
  }
  EXPECT_EQ(now, 5u);
  EXPECT_EQ(pacer.queued(), 35u);
  // The next one is due when 1000 bytes were earned: 8 ms later.
  EXPECT_EQ(pacer.NextReleaseUs(kT0), kT0 + 8000);
  std::vector<uint8_t> order;
  auto send = [&](std::span<const uint8_t> d) { order.push_back(d[0]); };
  EXPECT_EQ(pacer.Release(kT0 + 7999, send), 0u);
  EXPECT_EQ(pacer.Release(kT0 + 8000, send), 1u);
  // Then one every 8 ms, however often the worker wakes.
  size_t released = 0;
  for (int64_t t = kT0 + 8000; t <= kT0 + 88'000; t += 1000) released += pacer.Release(t, send);
  EXPECT_EQ(released, 10u);
  ASSERT_EQ(order.size(), 11u);
  EXPECT_EQ(order.front(), 5);
  for (size_t i = 1; i < order.size(); ++i) EXPECT_EQ(order[i], order[i - 1] + 1);
  // A newer packet never overtakes those waiting.
  EXPECT_FALSE(pacer.Admit(100, kT0 + 200'000));
}

TEST(Pacer, NothingWaitsLongerThanTheMaximumDelay) {
  PacerOptions options;
  options.max_delay_us = 100'000;
  Pacer pacer(options);  // 500 kbit/s floor: 62.5 bytes a millisecond
  for (uint8_t i = 0; i < 100; ++i) {
    auto d = Datagram(1200, i);
    if (!pacer.Admit(d.size(), kT0)) {
      ASSERT_TRUE(pacer.Push(d, kT0));
    }
  }
  EXPECT_EQ(pacer.NextReleaseUs(kT0 + 50'000), kT0 + 50'000);  // enough earned for the head
  size_t sent = pacer.Release(kT0 + 50'000, [](std::span<const uint8_t>) {});
  EXPECT_LT(sent, 5u);
  // The burst allowance is two datagrams (3000 bytes): 600 are left after the release.
  EXPECT_EQ(pacer.NextReleaseUs(kT0 + 55'000), kT0 + 59'600);  // 287.5 bytes short at 62.5 a ms
  // At the limit, everything still waiting goes; the budget's debt stays bounded.
  pacer.Release(kT0 + 100'000, [](std::span<const uint8_t>) {});
  EXPECT_EQ(pacer.queued(), 0u);
  EXPECT_EQ(pacer.NextReleaseUs(kT0 + 100'000), -1);
  EXPECT_FALSE(pacer.Admit(1200, kT0 + 100'000 + 60'000));  // a debt of one burst
  EXPECT_TRUE(pacer.Admit(1200, kT0 + 100'000 + 80'000));
}

TEST(Pacer, TheFifoIsBoundedAndAudioUsesTheBudgetWithoutWaiting) {
  Pacer pacer;
  size_t pushed = 0;
  for (size_t i = 0; i < Pacer::kSlots + 10; ++i) {
    auto d = Datagram(1200, 1);
    if (!pacer.Admit(d.size(), kT0) && pacer.Push(d, kT0)) ++pushed;
  }
  EXPECT_EQ(pacer.queued(), Pacer::kSlots);
  EXPECT_LT(pushed, Pacer::kSlots + 10);
  EXPECT_FALSE(pacer.Push(Datagram(Pacer::kSlotBytes + 1, 1), kT0));
  // Full: the oldest can be sent early to make room.
  int early = 0;
  pacer.SendOldest([&](std::span<const uint8_t> d) { early += d.size() == 1200 ? 1 : 100; });
  EXPECT_EQ(early, 1);
  EXPECT_EQ(pacer.queued(), Pacer::kSlots - 1);
  EXPECT_TRUE(pacer.Push(Datagram(1200, 2), kT0));
  EXPECT_FALSE(pacer.Push({}, kT0));

  // Audio is never held, but what it sends is taken from what video may send.
  Pacer quiet;
  for (int i = 0; i < 10; ++i) quiet.Spend(200, kT0);  // 2000 of the 3000 bytes of burst
  EXPECT_FALSE(quiet.Admit(1200, kT0));
  EXPECT_TRUE(quiet.Admit(1200, kT0 + 20'000));  // 20 ms earn 1250 bytes at 500 kbit/s
}

TEST(Pacer, TheRateFollowsTheOfferedVideoWithAFloor) {
  Pacer pacer;
  pacer.SetVideoRate(0);
  EXPECT_EQ(pacer.rate_bps(), 500'000u);
  pacer.SetVideoRate(2'000'000);
  EXPECT_EQ(pacer.rate_bps(), 5'000'000u);
}

TEST(Pacer, TheDepartureOfAVideoDatagramOfferedNowFollowsWhatWaits) {
  Pacer pacer;
  pacer.SetVideoRate(400'000);  // 125 bytes a millisecond, 5000 bytes of burst
  EXPECT_EQ(pacer.DepartureUs(1000, kT0), kT0) << "nothing waits and the budget has room";
  for (uint8_t i = 0; i < 5; ++i) ASSERT_TRUE(pacer.Admit(1000, kT0));
  EXPECT_EQ(pacer.DepartureUs(1000, kT0), kT0 + 8000) << "the budget is spent: 1000 bytes to earn";
  for (uint8_t i = 0; i < 3; ++i) ASSERT_TRUE(pacer.Push(Datagram(1000, i), kT0));
  EXPECT_EQ(pacer.DepartureUs(1000, kT0), kT0 + 32'000) << "after the three waiting";
  EXPECT_EQ(pacer.DepartureUs(1000, kT0 + 8000), kT0 + 8000 + 24'000) << "the budget refills meanwhile";
  // However much waits, no later than the longest delay.
  for (uint8_t i = 0; i < 60; ++i) ASSERT_TRUE(pacer.Push(Datagram(1000, i), kT0));
  EXPECT_EQ(pacer.DepartureUs(1000, kT0), kT0 + 300'000);
  // What leaves no longer counts.
  pacer.SendOldest([](std::span<const uint8_t>) {});
  std::vector<uint8_t> sent;
  pacer.Release(kT0 + 400'000, [&](std::span<const uint8_t> d) { sent.push_back(d[0]); });
  EXPECT_EQ(pacer.queued(), 0u);
  // The overdue ones left at once, taking the budget to its floor (-5000 bytes).
  EXPECT_EQ(pacer.DepartureUs(1000, kT0 + 400'000), kT0 + 400'000 + 48'000);
}

}  // namespace
}  // namespace parley::sfu
