#include "signal/refusal_log.hpp"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

using std::chrono::milliseconds;

TEST(RefusalLog, BurstOf50Then10PerSecondThenCountsTheSkipped) {
  RefusalLog log;
  const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);
  // A burst of 50 lines at once, none of them preceded by a "left out" line.
  for (int i = 0; i < 50; ++i) {
    auto admitted = log.Admit(t0);
    ASSERT_TRUE(admitted.has_value()) << i;
    EXPECT_EQ(*admitted, 0u);
  }
  // Then nothing until the bucket refills: the refusals are counted.
  EXPECT_FALSE(log.Admit(t0).has_value());
  EXPECT_FALSE(log.Admit(t0 + milliseconds(50)).has_value());
  EXPECT_FALSE(log.Admit(t0 + milliseconds(90)).has_value());
  // 10 a second: after 100 ms one more line, which reports the three left out.
  auto next = log.Admit(t0 + milliseconds(100));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 3u);
  // The count starts again after it was reported.
  EXPECT_FALSE(log.Admit(t0 + milliseconds(150)).has_value());
  next = log.Admit(t0 + milliseconds(200));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 1u);
  // A quiet minute refills the burst, but never beyond 50.
  const Clock::time_point later = t0 + std::chrono::minutes(1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(log.Admit(later).has_value()) << i;
  EXPECT_FALSE(log.Admit(later).has_value());
}

}  // namespace
}  // namespace parley::server
