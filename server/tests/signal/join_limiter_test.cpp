#include "signal/join_limiter.hpp"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(JoinLimiter, ConnectionLimitIsACount) {
  JoinLimiter limiter({.per_connection = 3, .burst = 100, .refill_per_s = 0});
  int failures = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(limiter.Exceeded(failures, "10.0.0.1", kT0)) << i;
    limiter.CountFailure(failures, "10.0.0.1", kT0);
  }
  EXPECT_EQ(failures, 3);
  EXPECT_TRUE(limiter.Exceeded(failures, "10.0.0.1", kT0));
  EXPECT_TRUE(limiter.ConnectionSpent(failures));
  // Time does not give a connection its failures back.
  EXPECT_TRUE(limiter.Exceeded(failures, "10.0.0.1", kT0 + std::chrono::hours(1)));
  // A new connection from the same address starts at zero (the address has plenty left).
  EXPECT_FALSE(limiter.Exceeded(0, "10.0.0.1", kT0));
  EXPECT_FALSE(limiter.ConnectionSpent(2));
}

TEST(JoinLimiter, AddressBucketRefillsAtTheConfiguredRate) {
  JoinLimiter limiter({.per_connection = 100, .burst = 2, .refill_per_s = 2});
  int a = 0, b = 0;  // two connections from one address share its bucket
  limiter.CountFailure(a, "10.0.0.1", kT0);
  EXPECT_FALSE(limiter.Exceeded(b, "10.0.0.1", kT0));
  limiter.CountFailure(b, "10.0.0.1", kT0);
  EXPECT_TRUE(limiter.Exceeded(a, "10.0.0.1", kT0));
  EXPECT_TRUE(limiter.Exceeded(b, "10.0.0.1", kT0));
  // Another address is not affected.
  EXPECT_FALSE(limiter.Exceeded(0, "10.0.0.2", kT0));
  // 2 per second: after 250 ms half a failure is back (still refused), after 500 ms one.
  EXPECT_TRUE(limiter.Exceeded(a, "10.0.0.1", kT0 + milliseconds(250)));
  EXPECT_FALSE(limiter.Exceeded(a, "10.0.0.1", kT0 + milliseconds(500)));
  limiter.CountFailure(a, "10.0.0.1", kT0 + milliseconds(500));
  EXPECT_TRUE(limiter.Exceeded(a, "10.0.0.1", kT0 + milliseconds(500)));
  // Never more than the burst comes back, however long the address was quiet.
  limiter.CountFailure(a, "10.0.0.1", kT0 + std::chrono::hours(1));
  limiter.CountFailure(a, "10.0.0.1", kT0 + std::chrono::hours(1));
  EXPECT_TRUE(limiter.Exceeded(a, "10.0.0.1", kT0 + std::chrono::hours(1)));
}

TEST(JoinLimiter, PastTheCapUnknownAddressesShareOneBucket) {
  JoinLimiter limiter({.per_connection = 100, .burst = 1, .refill_per_s = 0, .max_buckets = 2});
  int n = 0;
  limiter.CountFailure(n, "10.0.0.1", kT0);
  limiter.CountFailure(n, "10.0.0.2", kT0);
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_TRUE(limiter.Exceeded(0, "10.0.0.1", kT0));
  EXPECT_TRUE(limiter.Exceeded(0, "10.0.0.2", kT0));
  // The map is full: a third address gets the shared bucket, which is still full...
  EXPECT_FALSE(limiter.Exceeded(0, "10.0.0.3", kT0));
  limiter.CountFailure(n, "10.0.0.3", kT0);
  // ... and a fourth pays for the third's failure.
  EXPECT_TRUE(limiter.Exceeded(0, "10.0.0.4", kT0));
  EXPECT_TRUE(limiter.Exceeded(0, "10.0.0.3", kT0));
  EXPECT_EQ(limiter.size(), 3u);  // the two addresses and the shared bucket
}

TEST(JoinLimiter, SweepForgetsFullBuckets) {
  JoinLimiter limiter({.per_connection = 100, .burst = 2, .refill_per_s = 1});
  int n = 0;
  limiter.CountFailure(n, "10.0.0.1", kT0);
  limiter.CountFailure(n, "10.0.0.1", kT0);
  limiter.CountFailure(n, "10.0.0.2", kT0);
  EXPECT_EQ(limiter.size(), 2u);
  // After 1.5 s: .1 has 1.5 of 2 (kept), .2 is full again (forgotten).
  limiter.Sweep(kT0 + milliseconds(1500));
  EXPECT_EQ(limiter.size(), 1u);
  EXPECT_FALSE(limiter.Exceeded(0, "10.0.0.1", kT0 + milliseconds(1500)));
  limiter.CountFailure(n, "10.0.0.1", kT0 + milliseconds(1500));
  EXPECT_TRUE(limiter.Exceeded(0, "10.0.0.1", kT0 + milliseconds(1500)));
  limiter.Sweep(kT0 + std::chrono::seconds(10));
  EXPECT_EQ(limiter.size(), 0u);
}

}  // namespace
}  // namespace parley::server
