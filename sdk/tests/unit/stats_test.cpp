// The engine's statistics from the connections' totals: rates over the elapsed time,
// quality bands, and the weak-network warning and its recovered notice, each once.
#include "core/stats.hpp"

#include <gtest/gtest.h>

#include "parley/proto/errc.hpp"

namespace parley::sdk {
namespace {

using std::chrono::milliseconds;
using Clock = StatsWindow::Clock;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

media::RtpTotals Sent(uint64_t bytes, double rtt_s = -1) {
  media::RtpTotals t;
  t.bytes_sent = bytes;
  t.rtt_s = rtt_s;
  return t;
}

media::RtpTotals Received(uint64_t bytes, uint64_t packets, int64_t lost, double jitter_s = 0) {
  media::RtpTotals t;
  t.bytes_received = bytes;
  t.packets_received = packets;
  t.packets_lost = lost;
  t.jitter_s = jitter_s;
  return t;
}

TEST(StatsWindow, RatesAreDeltasOverElapsedMs) {
  StatsWindow w;
  EXPECT_FALSE(w.Add(Sent(1000), Received(500, 10, 0), {30, 0, 0}, kT0));  // starts the window
  // 2 s later: 50 000 bytes more sent = 200 kbit/s; 25 000 more received = 100 kbit/s;
  // 60 more frames = 30 fps.
  auto r = w.Add(Sent(51000, 0.05), Received(25500, 110, 0, 0.012), {90, 640, 360}, kT0 + milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.send_kbps, 200);
  EXPECT_EQ(r->stats.receive_kbps, 100);
  EXPECT_EQ(r->stats.video_fps, 30);
  EXPECT_EQ(r->stats.rtt_ms, 50);
  EXPECT_EQ(r->stats.jitter_ms, 12);
  EXPECT_EQ(r->stats.width, 640);
  EXPECT_EQ(r->stats.height, 360);
  EXPECT_DOUBLE_EQ(r->stats.loss_rate, 0);
  // Half the time, the same delta: twice the rate. Loss: 10 lost of 100 expected.
  r = w.Add(Sent(101000), Received(50500, 200, 10), {120, 640, 360}, kT0 + milliseconds(3000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.send_kbps, 400);
  EXPECT_EQ(r->stats.receive_kbps, 200);
  EXPECT_EQ(r->stats.video_fps, 30);
  EXPECT_EQ(r->stats.rtt_ms, -1);
  EXPECT_DOUBLE_EQ(r->stats.loss_rate, 0.1);
  // A new connection starts its totals again: nothing counted, never negative.
  r = w.Add(Sent(10), Received(10, 1, 0), {120, 640, 360}, kT0 + milliseconds(4000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.send_kbps, 0);
  EXPECT_EQ(r->stats.receive_kbps, 0);
  EXPECT_EQ(r->stats.video_fps, 0);
  EXPECT_DOUBLE_EQ(r->stats.loss_rate, 0);
  // No time between two samples is taken as 1 ms, not a division by zero.
  r = w.Add(Sent(1010), Received(10, 1, 0), {120, 640, 360}, kT0 + milliseconds(4000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.send_kbps, 8000);
}

TEST(StatsWindow, QualityBandsFromLossAndRtt) {
  EXPECT_EQ(StatsWindow::Quality(0, 0), 1);
  EXPECT_EQ(StatsWindow::Quality(0.009, 99), 1);
  EXPECT_EQ(StatsWindow::Quality(0.01, 0), 2);
  EXPECT_EQ(StatsWindow::Quality(0, 100), 2);
  EXPECT_EQ(StatsWindow::Quality(0.029, 199), 2);
  EXPECT_EQ(StatsWindow::Quality(0.03, 0), 3);
  EXPECT_EQ(StatsWindow::Quality(0, 200), 3);
  EXPECT_EQ(StatsWindow::Quality(0.079, 399), 3);
  EXPECT_EQ(StatsWindow::Quality(0.08, 0), 4);
  EXPECT_EQ(StatsWindow::Quality(0, 400), 4);
  EXPECT_EQ(StatsWindow::Quality(0.149, 5000), 4);
  EXPECT_EQ(StatsWindow::Quality(0.15, 0), 5);
  EXPECT_EQ(StatsWindow::Quality(1, 0), 5);
  EXPECT_EQ(StatsWindow::Quality(0, -1), 1);  // an unknown RTT does not count against
}

TEST(StatsWindow, WeakWarningOnceRecoveredNoticeOnce) {
  StatsWindow w;
  uint64_t received = 0;
  int64_t lost = 0;
  auto t = kT0;
  // One interval with `lost_now` of 100 packets lost.
  auto interval = [&](int64_t lost_now) {
    received += static_cast<uint64_t>(100 - lost_now);
    lost += lost_now;
    t += milliseconds(2000);
    return w.Add(Sent(0, 0.02), Received(0, received, lost), {}, t);
  };
  EXPECT_FALSE(w.Add(Sent(0, 0.02), Received(0, 0, 0), {}, t));
  auto r = interval(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 1);
  EXPECT_FALSE(r->warning);
  r = interval(20);  // 20 % loss: very bad
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 5);
  ASSERT_TRUE(r->warning);
  EXPECT_EQ(r->warning->code, static_cast<int32_t>(Errc::kNetworkWeak));
  EXPECT_EQ(r->warning->message, "network quality is poor (loss 20%, rtt 20 ms)");
  r = interval(10);  // still poor: no second warning
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 4);
  EXPECT_FALSE(r->warning);
  r = interval(5);  // fair (3) is not recovered yet
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 3);
  EXPECT_FALSE(r->warning);
  r = interval(2);  // good (2): recovered, once
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 2);
  ASSERT_TRUE(r->warning);
  EXPECT_EQ(r->warning->code, static_cast<int32_t>(Errc::kNetworkRecovered));
  EXPECT_EQ(r->warning->message, "network quality is back to normal");
  r = interval(0);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->warning);
  r = interval(30);  // poor again: warned again
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->warning);
  EXPECT_EQ(r->warning->code, static_cast<int32_t>(Errc::kNetworkWeak));
}

TEST(StatsWindow, NothingMeasuredIsQualityZero) {
  StatsWindow w;
  EXPECT_FALSE(w.Add({}, {}, {}, kT0));
  // Nothing received and no RTT (stats that did not come in time are empty totals).
  auto r = w.Add({}, {}, {}, kT0 + milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 0);
  EXPECT_EQ(r->stats.rtt_ms, -1);
  EXPECT_FALSE(r->warning);
  // Weak, then a silent interval: unknown quality neither warns nor recovers.
  r = w.Add(Sent(0, 0.5), Received(0, 50, 50), {}, kT0 + milliseconds(4000));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->warning);
  r = w.Add({}, Received(0, 50, 50), {}, kT0 + milliseconds(6000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 0);
  EXPECT_FALSE(r->warning);
  // A round trip alone is a measurement.
  r = w.Add(Sent(0, 0.03), Received(0, 50, 50), {}, kT0 + milliseconds(8000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.quality, 1);
  ASSERT_TRUE(r->warning);
  EXPECT_EQ(r->warning->code, static_cast<int32_t>(Errc::kNetworkRecovered));
}

}  // namespace
}  // namespace parley::sdk
