// KeyframeRequester: PLI throttling per publisher. Time is passed in; no sleeping.
#include "sfu/keyframe_requester.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sfu {
namespace {

constexpr int64_t kT0 = 1'000'000'000;
using Decision = KeyframeRequester::Decision;

std::vector<uint64_t> Due(KeyframeRequester& k, int64_t now_us) {
  std::vector<uint64_t> out;
  k.TakeDue(now_us, [&out](uint64_t publisher) { out.push_back(publisher); });
  return out;
}

TEST(KeyframeRequester, SecondRequestInside300msIsDeferredNotDropped) {
  KeyframeRequester k;
  ASSERT_EQ(k.Request(1, kT0), Decision::kSendNow);
  k.Sent(1, kT0);
  EXPECT_EQ(k.Request(1, kT0 + 100'000), Decision::kDeferred);
  EXPECT_EQ(k.Request(1, kT0 + 150'000), Decision::kDeferred) << "still one owed, not two";
  EXPECT_EQ(k.pending(), 1u);
  EXPECT_EQ(k.Request(2, kT0 + 150'000), Decision::kSendNow) << "per publisher";
  EXPECT_TRUE(Due(k, kT0 + 299'999).empty());
  EXPECT_EQ(k.pending(), 1u);
}

TEST(KeyframeRequester, NotSentMeansNotThrottled) {
  // The publisher was not connected yet, so the PLI did not go out: the next request,
  // e.g. on connect, must go at once.
  KeyframeRequester k;
  ASSERT_EQ(k.Request(1, kT0), Decision::kSendNow);
  EXPECT_EQ(k.Request(1, kT0 + 1), Decision::kSendNow);
  EXPECT_EQ(k.pending(), 0u);
  k.Sent(1, kT0 + 1);
  EXPECT_EQ(k.Request(1, kT0 + 2), Decision::kDeferred);
  // Forgetting a publisher (its transport closed) drops its window and what it was owed.
  k.Forget(1);
  EXPECT_EQ(k.pending(), 0u);
  EXPECT_EQ(k.Request(1, kT0 + 3), Decision::kSendNow);
}

TEST(KeyframeRequester, DeferredFiresWhenTheWindowEnds) {
  KeyframeRequester k;
  k.Sent(1, kT0);
  k.Sent(2, kT0 + 100'000);
  EXPECT_EQ(k.Request(2, kT0 + 150'000), Decision::kDeferred);
  EXPECT_EQ(k.Request(1, kT0 + 200'000), Decision::kDeferred);
  EXPECT_EQ(Due(k, kT0 + 300'000), (std::vector<uint64_t>{1})) << "1's window ended, 2's has not";
  EXPECT_EQ(Due(k, kT0 + 300'000), (std::vector<uint64_t>{})) << "handed back once";
  EXPECT_EQ(Due(k, kT0 + 400'000), (std::vector<uint64_t>{2}));
  EXPECT_EQ(k.pending(), 0u);
  // The handed-back request goes out now (the caller asks again), and restarts the window.
  EXPECT_EQ(k.Request(2, kT0 + 400'000), Decision::kSendNow);
  k.Sent(2, kT0 + 400'000);
  // A callback that asks again, as the worker's does, is told to send.
  EXPECT_EQ(k.Request(2, kT0 + 500'000), Decision::kDeferred);
  std::vector<Decision> asked;
  k.TakeDue(kT0 + 700'000, [&](uint64_t p) { asked.push_back(k.Request(p, kT0 + 700'000)); });
  EXPECT_EQ(asked, (std::vector<Decision>{Decision::kSendNow}));
  EXPECT_EQ(k.pending(), 0u);
}

}  // namespace
}  // namespace parley::sfu
