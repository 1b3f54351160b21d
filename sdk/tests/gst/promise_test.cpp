// Bounded waits on webrtcbin's promises: a producer that never answers costs the
// bound, not the engine thread, and a reply that comes after the waiter gave up (and
// went) is dropped by GStreamer without touching freed memory (run it under ASan).
#include "impl/gst/promise.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace parley::sdk::gst {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class GstPromiseWait : public ::testing::Test {
 protected:
  void SetUp() override { gst_init(nullptr, nullptr); }
};

TEST_F(GstPromiseWait, AnUnansweredPromiseTimesOut) {
  BoundedPromise p;
  auto t0 = Clock::now();
  EXPECT_EQ(p.Wait(50ms), nullptr);
  auto waited = Clock::now() - t0;
  EXPECT_TRUE(p.timed_out());
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 2s);
  // Interrupted: the producer's view of it.
  EXPECT_EQ(gst_promise_wait(p.get()), GST_PROMISE_RESULT_INTERRUPTED);
}

TEST_F(GstPromiseWait, AReplyInTimeIsReturned) {
  BoundedPromise p;
  GstPromise* producer = gst_promise_ref(p.get());
  std::thread t([producer] {
    gst_promise_reply(producer, gst_structure_new("answer", "n", G_TYPE_INT, 7, nullptr));
    gst_promise_unref(producer);
  });
  const GstStructure* reply = p.Wait(5s);
  t.join();
  ASSERT_NE(reply, nullptr);
  EXPECT_FALSE(p.timed_out());
  int n = 0;
  EXPECT_TRUE(gst_structure_get_int(reply, "n", &n));
  EXPECT_EQ(n, 7);
}

TEST_F(GstPromiseWait, AReplyAfterTheTimeoutIsHarmless) {
  // webrtcbin holds its own reference while its operation runs; it replies late,
  // after the waiter timed out and was destroyed.
  GstPromise* producer = nullptr;
  {
    BoundedPromise p;
    producer = gst_promise_ref(p.get());
    EXPECT_EQ(p.Wait(20ms), nullptr);
    EXPECT_TRUE(p.timed_out());
  }
  gst_promise_reply(producer, gst_structure_new_empty("late"));  // eaten, not delivered
  EXPECT_EQ(gst_promise_wait(producer), GST_PROMISE_RESULT_INTERRUPTED);
  gst_promise_unref(producer);  // the last reference: frees the shared wait state
}

TEST_F(GstPromiseWait, AWaiterDestroyedUnansweredLeavesNoPendingPromise) {
  // Destroyed without a wait (an early return): the producer's later reply is dropped.
  GstPromise* producer = nullptr;
  {
    BoundedPromise p;
    producer = gst_promise_ref(p.get());
  }
  EXPECT_EQ(gst_promise_wait(producer), GST_PROMISE_RESULT_INTERRUPTED);
  gst_promise_reply(producer, nullptr);
  gst_promise_unref(producer);
}

}  // namespace
}  // namespace parley::sdk::gst
