// The engine's statistics from the connections' totals: rates over the elapsed time,
// and the interval's counts for the network quality (tested in network_quality_test).
#include "core/stats.hpp"

#include <gtest/gtest.h>

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

TEST(StatsWindow, EachReportCarriesTheIntervalsQualitySamples) {
  StatsWindow w;
  media::RtpTotals pub = Sent(0, 0.04);
  pub.packets_sent = 100;
  EXPECT_FALSE(w.Add(pub, Received(0, 50, 2, 0.01), {}, kT0));
  pub.packets_sent = 300;  // 200 sent; no receiver report yet
  media::RtpTotals sub = Received(0, 140, 12, 0.02);
  sub.packets_repaired = 25;  // since the connection began, as the loss
  auto r = w.Add(pub, sub, {}, kT0 + milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->up.sent, 200);
  EXPECT_EQ(r->up.lost, -1);
  EXPECT_EQ(r->up.rtt_ms, 40);
  EXPECT_EQ(r->down.received, 90);
  EXPECT_EQ(r->down.lost, 10);
  EXPECT_EQ(r->down.repaired, 25);
  EXPECT_EQ(r->down.jitter_ms, 20);
  EXPECT_EQ(r->stats.quality, 6) << "left for the caller (6: not measured)";
  pub.packets_sent = 500;
  pub.remote_packets_lost = 6;  // the first report: everything it counts is new
  r = w.Add(pub, Received(0, 140, 12), {}, kT0 + milliseconds(4000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->up.lost, 6);
  EXPECT_EQ(r->down.received, 0);
  pub.packets_sent = 700;
  pub.remote_packets_lost = 10;
  r = w.Add(pub, Received(0, 140, 12), {}, kT0 + milliseconds(6000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->up.lost, 4);
  pub.packets_sent = 20;  // a new publish connection: its counts start again
  pub.remote_packets_lost = 1;
  r = w.Add(pub, Received(0, 140, 12), {}, kT0 + milliseconds(8000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->up.sent, 0);
  EXPECT_EQ(r->up.lost, 0);
}

TEST(StatsWindow, RemoteAudioCountsAddUpOverConnections) {
  StatsWindow w;
  auto audio = [](uint64_t packets, uint64_t samples, uint64_t concealed) {
    media::RtpTotals t = Received(0, packets, 0);
    t.audio_samples = samples;
    t.audio_samples_concealed = concealed;
    return t;
  };
  EXPECT_FALSE(w.Add(Sent(0), audio(50, 48000, 0), {}, kT0));
  auto r = w.Add(Sent(0), audio(100, 96000, 960), {}, kT0 + milliseconds(1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.audio_samples_received, 96000u);
  EXPECT_EQ(r->stats.audio_samples_concealed, 960u);
  EXPECT_EQ(r->audio_samples, 48000u) << "this interval's";
  EXPECT_EQ(r->audio_concealed, 960u);
  // A new subscribe connection counts from zero again: its counts are added, not lost.
  r = w.Add(Sent(0), audio(10, 9600, 480), {}, kT0 + milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.audio_samples_received, 96000u + 9600u);
  EXPECT_EQ(r->stats.audio_samples_concealed, 960u + 480u);
  EXPECT_EQ(r->audio_samples, 9600u);
  EXPECT_EQ(r->audio_concealed, 480u);
}

}  // namespace
}  // namespace parley::sdk
