// The server's own estimate of a subscriber's downstream (send_side_bwe.hpp): packets
// numbered as they are sent, a receiver's transport-cc feedback written by the same
// writer the server uses towards publishers (TwccRecorder), over a synthetic path with a
// bottleneck and a drop-tail queue. The estimate falls under a cap the sending exceeds,
// stays where the path has room, adds what goes unnumbered (audio), is not fooled by a
// report repeated, and ignores what is not feedback.
#include "sfu/send_side_bwe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "sfu/twcc.hpp"

namespace parley::sfu {
namespace {

// A path: a bottleneck of `capacity_bps` with a drop-tail queue and a fixed delay.
struct Path {
  int64_t capacity_bps;
  int64_t propagation_us = 20'000;
  int64_t queue_limit_us = 300'000;
  int64_t free_at_us = 0;
  /// When a packet sent at `send_us` arrives, -1 when the queue drops it.
  int64_t Arrival(int64_t send_us, size_t bytes) {
    int64_t start = std::max(send_us, free_at_us);
    if (start - send_us > queue_limit_us) return -1;
    free_at_us = start + static_cast<int64_t>(bytes) * 8 * 1'000'000 / capacity_bps;
    return free_at_us + propagation_us;
  }
};

// A subscriber: records arrivals as they happen and reports every 50 ms.
class Receiver {
 public:
  /// The receiver's clock reads this much more than the sender's.
  int64_t offset_us = 0;
  void Expect(uint16_t seq, int64_t arrival_us) { pending_.push_back({seq, arrival_us}); }
  /// Records what arrived by `now_us` and hands the feedback to `bwe`; returns whether
  /// a feedback packet was written.
  bool Report(SendSideBwe& bwe, int64_t now_us) {
    while (!pending_.empty() && pending_.front().second <= now_us) {
      auto [seq, at] = pending_.front();
      pending_.pop_front();
      if (at >= 0) {
        EXPECT_TRUE(recorder_.Record(seq, at + offset_us));
      }
    }
    bool wrote = false;
    while (recorder_.pending()) {
      uint8_t buf[1200];
      size_t n = recorder_.WriteFeedback(buf, sizeof buf, 0x1111, 0x2222);
      if (!n) break;
      RtcpIterator it(std::span<const uint8_t>(buf, n));
      EXPECT_FALSE(it.done());
      EXPECT_TRUE(bwe.OnFeedback(*it, now_us + 10'000));  // 10 ms on the way back
      last_.assign(buf, buf + n);
      wrote = true;
    }
    return wrote;
  }
  [[nodiscard]] const std::vector<uint8_t>& last() const { return last_; }

 private:
  TwccRecorder recorder_;
  std::deque<std::pair<uint16_t, int64_t>> pending_;
  std::vector<uint8_t> last_;
};

// Sends `rate_bps` of 1,200-byte packets over `path` from `from_us` for `duration_us`.
int64_t Send(SendSideBwe& bwe, Path& path, Receiver& rx, int64_t from_us, int64_t duration_us, int64_t rate_bps) {
  constexpr size_t kBytes = 1200;
  const int64_t gap = static_cast<int64_t>(kBytes) * 8 * 1'000'000 / rate_bps;
  int64_t t = from_us, next_report = from_us + 50'000;
  for (; t < from_us + duration_us; t += gap) {
    while (next_report <= t) {
      rx.Report(bwe, next_report);
      next_report += 50'000;
    }
    uint16_t seq = bwe.NextSequence();
    bwe.OnSent(t, kBytes);
    rx.Expect(seq, path.Arrival(t, kBytes));
  }
  return t;
}

TEST(SendSideBwe, NumbersPacketsAsTheyAreSent) {
  SendSideBwe bwe;
  EXPECT_EQ(bwe.NextSequence(), 0);
  EXPECT_EQ(bwe.NextSequence(), 0) << "asking does not use the number";
  bwe.OnSent(1000, 1200);
  bwe.OnSent(2000, 1200);
  EXPECT_EQ(bwe.NextSequence(), 2);
  EXPECT_EQ(bwe.estimate_bps(10'000'000), 0u) << "no estimate before the first feedback";
  for (int i = 0; i < 70'000; ++i) bwe.OnSent(3000 + i, 100);
  EXPECT_EQ(bwe.NextSequence(), static_cast<uint16_t>(70'002)) << "wraps";
}

TEST(SendSideBwe, FallsUnderACapThatTheSendingExceeds) {
  SendSideBwe bwe;
  Path path{300'000};
  Receiver rx;
  Send(bwe, path, rx, 1'000'000, 5'000'000, 1'000'000);
  EXPECT_GT(bwe.feedbacks(), 50u);
  EXPECT_GT(bwe.estimate_bps(10'000'000), 0u);
  EXPECT_LT(bwe.estimate_bps(10'000'000), 400'000u) << "a 300 kbit/s path under 1 Mbit/s of video";
}

TEST(SendSideBwe, StaysWhereThePathHasRoom) {
  SendSideBwe bwe;
  Path path{10'000'000};
  Receiver rx;
  Send(bwe, path, rx, 1'000'000, 5'000'000, 1'000'000);
  EXPECT_GE(bwe.estimate_bps(10'000'000), 1'000'000u);
  EXPECT_LE(bwe.estimate_bps(10'000'000), 1'700'000u) << "never far beyond what arrived";
  EXPECT_NE(bwe.estimator().usage(), congestion::BandwidthUsage::kOverusing);
}

// The receiver's 24-bit reference time (64 ms units) wraps every 12.4 days of its clock;
// a call that crosses the wrap keeps its estimate.
TEST(SendSideBwe, FollowsTheReceiversReferenceTimeAcrossItsWrap) {
  SendSideBwe bwe;
  Path path{10'000'000};
  Receiver rx;
  rx.offset_us = (int64_t{1} << 24) * 64'000 - 3'000'000;  // 3 s before the wrap
  Send(bwe, path, rx, 1'000'000, 8'000'000, 1'000'000);
  EXPECT_GE(bwe.estimate_bps(10'000'000), 1'000'000u);
  EXPECT_GT(bwe.estimator().acked_bps(), 800'000);
  EXPECT_LT(bwe.estimator().acked_window(), 200u) << "half a second of packets";
}

// Audio goes unnumbered; its rate is added to the estimate for the numbered video, so
// the estimate stands for everything, as a REMB does.
TEST(SendSideBwe, AddsWhatGoesUnnumbered) {
  SendSideBwe bwe;
  Path path{10'000'000};
  Receiver rx;
  for (int64_t t = 0; t < 2'100'000; t += 20'000) bwe.OnUnnumbered(100, t);  // 40 kbit/s
  EXPECT_EQ(bwe.unnumbered_bps(2'100'000), 40'000u);
  EXPECT_EQ(bwe.estimate_bps(2'100'000), 0u) << "still no feedback";
  Send(bwe, path, rx, 1'000'000, 1'000'000, 1'000'000);
  EXPECT_EQ(bwe.estimate_bps(2'100'000), static_cast<uint64_t>(bwe.estimator().target_bps()) + 40'000u);
  EXPECT_EQ(bwe.estimate_bps(4'100'000), static_cast<uint64_t>(bwe.estimator().target_bps()))
      << "audio that stopped is not counted";
}

TEST(SendSideBwe, TakesAReportOnceAndIgnoresWhatIsNotFeedback) {
  SendSideBwe bwe;
  Path path{300'000};
  Receiver rx;
  Send(bwe, path, rx, 1'000'000, 3'000'000, 1'000'000);
  const uint64_t before = bwe.estimate_bps(10'000'000);
  const int64_t acked = bwe.estimator().acked_bps();
  const uint32_t feedbacks = bwe.feedbacks();
  // The last report again, ten times: nothing in it is new.
  for (int i = 0; i < 10; ++i) {
    RtcpIterator it(std::span<const uint8_t>(rx.last().data(), rx.last().size()));
    EXPECT_TRUE(bwe.OnFeedback(*it, 4'100'000));
  }
  EXPECT_EQ(bwe.feedbacks(), feedbacks + 10);
  EXPECT_EQ(bwe.estimator().acked_bps(), acked);
  EXPECT_EQ(bwe.estimate_bps(10'000'000), before);
  // A PLI and a truncated feedback packet are not taken.
  const uint8_t pli[12] = {0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
  RtcpIterator p(pli);
  EXPECT_FALSE(bwe.OnFeedback(*p, 4'200'000));
  std::vector<uint8_t> cut = rx.last();
  cut.resize(20);
  cut[0] = 0x80 | 15;  // no padding
  cut[3] = 4;          // length: 5 words
  cut[14] = 0x01;      // 256 packets claimed, no chunks
  cut[15] = 0;
  RtcpIterator c(cut);
  ASSERT_FALSE(c.done());
  EXPECT_FALSE(bwe.OnFeedback(*c, 4'300'000));
  EXPECT_EQ(bwe.feedbacks(), feedbacks + 10);
}

// Probes: a cluster of small packets sent fast over a path that has room raises an
// estimate that little media could not; over a thin path its answer is what the path
// carries, and the estimate stays.
struct Probed {
  int64_t answer = 0, estimate = 0;
};
// A subscriber whose estimate fell under a 300 kbit/s cap and is then held on a small
// layer (150 kbit/s) while its path has `capacity_bps`.
int64_t Held(SendSideBwe& bwe, Path& path, Receiver& rx, int64_t capacity_bps) {
  int64_t t = Send(bwe, path, rx, 1'000'000, 3'000'000, 1'000'000);
  path.capacity_bps = capacity_bps;
  return Send(bwe, path, rx, t + 500'000, 5'000'000, 150'000);
}

Probed ProbeOver(int64_t capacity_bps) {
  SendSideBwe bwe;
  Path path{300'000};
  Receiver rx;
  int64_t t = Held(bwe, path, rx, capacity_bps);
  const uint16_t id = bwe.BeginProbe(16, t);
  for (int i = 0; i < 16; ++i, t += 2'000) {  // 300 bytes every 2 ms: 1.2 Mbit/s
    uint16_t seq = bwe.NextSequence();
    bwe.OnSent(t, 300, id);
    rx.Expect(seq, path.Arrival(t, 300));
  }
  t = Send(bwe, path, rx, t, 500'000, 150'000);
  EXPECT_EQ(bwe.probes_measured(), 1u);
  return {bwe.last_probe_bps(), bwe.estimator().target_bps()};
}

TEST(SendSideBwe, AProbesAnswerRaisesTheEstimateWhereThePathHasRoom) {
  SendSideBwe held;
  Path path{300'000};
  Receiver rx;
  Held(held, path, rx, 5'000'000);
  EXPECT_LT(held.estimator().target_bps(), 600'000) << "little media confirms little";
  const Probed room = ProbeOver(5'000'000);
  EXPECT_NEAR(static_cast<double>(room.answer), 1'200'000.0, 120'000.0);
  EXPECT_GE(room.estimate, 1'000'000) << "the estimate took the answer";
  const Probed thin = ProbeOver(300'000);
  EXPECT_GT(thin.answer, 0);
  EXPECT_LT(thin.answer, 300'000) << "a thin path answers what it carries";
  EXPECT_LT(thin.estimate, 600'000);
}

}  // namespace
}  // namespace parley::sfu
