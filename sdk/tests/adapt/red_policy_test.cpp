// When audio goes with a redundant copy: from the start, through random loss, not
// through a full path, and not on a clean one.
#include "adapt/red_policy.hpp"

#include <gtest/gtest.h>

namespace parley::sdk::adapt {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kWindow = 200'000;  // the estimator's loss window

// Feeds windows of `loss` (congested when `congested`) from `from` for `seconds`;
// returns the time after the last.
int64_t Feed(RedPolicy& p, int64_t from, double seconds, double loss, bool congested) {
  int64_t t = from;
  for (int64_t end = from + static_cast<int64_t>(seconds * kSecond); t < end; t += kWindow)
    p.Update(t, loss, congested);
  return t;
}

TEST(RedPolicy, OnFromTheStartAndOffAfterTenCleanSeconds) {
  RedPolicy p;
  EXPECT_TRUE(p.on());
  EXPECT_TRUE(p.Update(0, 0, false));
  int64_t t = Feed(p, kWindow, 9.5, 0, false);
  EXPECT_TRUE(p.on());
  Feed(p, t, 1, 0, false);
  EXPECT_FALSE(p.on());
}

TEST(RedPolicy, RandomLossKeepsItOnAndBringsItBack) {
  RedPolicy p;
  int64_t t = Feed(p, 0, 30, 0.3, false);
  EXPECT_TRUE(p.on());
  t = Feed(p, t, 11, 0.005, false);  // under 2 %: clean
  EXPECT_FALSE(p.on());
  EXPECT_TRUE(p.Update(t, 0.05, false));  // one lossy window is enough
}

TEST(RedPolicy, AFullPathTurnsItOffUntilThreeQuietSeconds) {
  RedPolicy p;
  int64_t t = Feed(p, 0, 2, 0.1, false);
  EXPECT_TRUE(p.on());
  EXPECT_FALSE(p.Update(t, 0.1, true));  // a queue: off at once, whatever the loss
  // A capped path shows its queue again and again: it stays off.
  for (int i = 0; i < 20; ++i) {
    t = Feed(p, t + kWindow, 1, 0.08, false);
    EXPECT_FALSE(p.Update(t, 0.08, true));
  }
  // The cap lifts but random loss stays: back on after three seconds without a queue.
  t = Feed(p, t + kWindow, 2.8, 0.1, false);
  EXPECT_FALSE(p.on());
  Feed(p, t, 0.4, 0.1, false);
  EXPECT_TRUE(p.on());
}

}  // namespace
}  // namespace parley::sdk::adapt
