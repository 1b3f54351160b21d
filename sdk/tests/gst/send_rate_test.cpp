// The publish side's congestion control glue: the transport-cc results rtpsession hands
// upstream are read as it builds them, and a congested path turns real encoders down
// (VP8's target-bitrate, x264's bitrate, the scaling capsfilter) and sets Opus's
// expected loss, which is what enables its in-band FEC.
#include "impl/gst/send_rate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "impl/gst/devices.hpp"

namespace parley::sdk::gst {
namespace {

// One packet as rtpsession describes it (gst/rtpmanager/rtptwcc.c): times in ns.
GstStructure* Packet(guint seq, guint64 local_ns, guint64 remote_ns, guint size, bool lost) {
  return gst_structure_new("RTPTWCCPacket", "seqnum", G_TYPE_UINT, seq, "local-ts", G_TYPE_UINT64, local_ns,
                           "remote-ts", G_TYPE_UINT64, remote_ns, "payload-type", G_TYPE_UCHAR, 96, "size", G_TYPE_UINT,
                           size, "lost", G_TYPE_BOOLEAN, lost ? TRUE : FALSE, nullptr);
}

GstPtr<GstStructure> Packets(const std::vector<GstStructure*>& packets) {
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray* array = g_value_array_new(0);
  for (GstStructure* p : packets) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&v, p);
    g_value_array_append(array, &v);
    g_value_unset(&v);
  }
  GstStructure* s = gst_structure_new_empty("RTPTWCCPackets");
  GValue a = G_VALUE_INIT;
  g_value_init(&a, g_value_array_get_type());
  g_value_take_boxed(&a, array);
  gst_structure_take_value(s, "packets", &a);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return Adopt(s);
}

TEST(SendRate, ReadsTheResultsRtpSessionHandsUpstream) {
  ASSERT_TRUE(InitMedia());
  GstPtr<GstStructure> s =
      Packets({Packet(7, 1'000'000, 51'000'000, 1200, false), Packet(8, 2'000'000, GST_CLOCK_TIME_NONE, 1100, true),
               Packet(9, GST_CLOCK_TIME_NONE, 60'000'000, 900, false)});  // not ours
  std::vector<congestion::PacketResult> r = ParseTwccPackets(s.get());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, 7);
  EXPECT_EQ(r[0].send_us, 1000);
  EXPECT_EQ(r[0].recv_us, 51000);
  EXPECT_EQ(r[0].size, 1200u);
  EXPECT_TRUE(r[1].lost());
  // Anything else is nothing.
  GstPtr<GstStructure> other = Adopt(gst_structure_new_empty("GstForceKeyUnit"));
  EXPECT_TRUE(ParseTwccPackets(other.get()).empty());
  EXPECT_TRUE(ParseTwccPackets(nullptr).empty());
}

// Feedback of a path that carries 200 kbit/s: the sender paces 1200-byte packets at 1
// Mbit/s for 3 s from `from_us` and the bottleneck queues them, so the one-way delay
// keeps growing.
void Congest(SendRate& rate, int64_t from_us = 0, uint16_t seq = 0) {
  int64_t link_free_us = from_us;
  for (int64_t t = from_us; t < from_us + 3'000'000; t += 50'000) {
    std::vector<congestion::PacketResult> batch;
    for (int64_t send = t; send < t + 50'000; send += 9'600) {
      link_free_us = std::max(link_free_us, send) + 48'000;  // 1200 bytes at 200 kbit/s
      batch.push_back({seq++, send, link_free_us + 20'000, 1200});
    }
    rate.OnFeedback(t + 50'000, batch);
  }
}

guint IntProperty(GstElement* e, const char* name) {
  gint v = 0;
  g_object_get(e, name, &v, nullptr);
  return static_cast<guint>(v);
}

TEST(SendRate, ACongestedPathTurnsTheEncodersDown) {
  ASSERT_TRUE(InitMedia());
  VideoEncoderConfig vp8;  // 640x360, 30 fps, 800 kbit/s: far more than the path carries
  GstPtr<GstElement> encoder = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  GstPtr<GstElement> opus = Sink(gst_element_factory_make("opusenc", nullptr));
  ASSERT_TRUE(encoder && caps && opus);
  g_object_set(encoder.get(), "target-bitrate", 800'000, nullptr);
  std::vector<SendRate::Video> video;
  video.push_back({Ref(encoder.get()), Ref(caps.get()), vp8});
  SendRate rate(Ref(opus.get()), std::move(video));
  Congest(rate);
  SendRate::Snapshot s = rate.snapshot();
  EXPECT_GT(s.target_bps, 0);
  EXPECT_LT(s.target_bps, 450'000);
  EXPECT_LT(IntProperty(encoder.get(), "target-bitrate"), 400'000u);
  // vp8enc keeps whole kbit/s.
  EXPECT_NEAR(static_cast<double>(IntProperty(encoder.get(), "target-bitrate")), static_cast<double>(s.video_bps),
              1000);
  // Keep fluency (the default): the frame rate stays, the picture gets smaller.
  GstCaps* set = nullptr;
  g_object_get(caps.get(), "caps", &set, nullptr);
  GstPtr<GstCaps> applied = Adopt(set);
  ASSERT_TRUE(applied);
  const GstStructure* st = gst_caps_get_structure(applied.get(), 0);
  int width = 0, fps_n = 0, fps_d = 0;
  ASSERT_TRUE(gst_structure_get_int(st, "width", &width));
  ASSERT_TRUE(gst_structure_get_fraction(st, "framerate", &fps_n, &fps_d));
  EXPECT_LT(width, 640);
  EXPECT_EQ(width, s.width);
  EXPECT_EQ(fps_n / fps_d, 30);
}

// Dual stream on a thin uplink: the small layer is served first (up to its ceiling, at
// most half the video budget while the big one is sent), not in proportion to the
// ceilings (which gave it a fifth); once the server pauses it, the big layer gets the
// whole budget.
TEST(SendRate, TheSmallLayerIsServedFirstAndAPausedLayerGetsNothing) {
  ASSERT_TRUE(InitMedia());
  VideoEncoderConfig big_config, small_config{320, 180, 15, 200};  // 800 and 200 kbit/s
  GstPtr<GstElement> big = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> small = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> big_caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  GstPtr<GstElement> small_caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  ASSERT_TRUE(big && small && big_caps && small_caps);
  std::vector<SendRate::Video> video;
  video.push_back({Ref(big.get()), Ref(big_caps.get()), big_config});
  video.push_back({Ref(small.get()), Ref(small_caps.get()), small_config, true});
  SendRate rate(nullptr, std::move(video));
  // What the estimate leaves for video (no audio track: all of the media share).
  auto budget = [&] { return static_cast<double>(rate.snapshot().target_bps) * 0.9; };
  auto near = [](double got, double want) { return std::abs(got - want) <= want * 0.06 + 1000; };
  Congest(rate);
  double video_total = budget();
  ASSERT_LT(video_total, 400'000) << "a path too thin for both ceilings";
  double small_bps = IntProperty(small.get(), "target-bitrate"), big_bps = IntProperty(big.get(), "target-bitrate");
  EXPECT_TRUE(near(small_bps, std::min(200'000.0, video_total / 2))) << small_bps << " of " << video_total;
  EXPECT_TRUE(near(big_bps, video_total - std::min(200'000.0, video_total / 2))) << big_bps << " of " << video_total;
  // The server paused the small layer: the big one gets it all.
  rate.SetActive(small.get(), false);
  Congest(rate, 3'000'000, 1000);
  big_bps = IntProperty(big.get(), "target-bitrate");
  EXPECT_TRUE(near(big_bps, budget())) << big_bps << " of " << budget();
}

// A layer that could not keep up and is then paused (nobody watches it) sees no frames,
// so its load detector could never give its floor back: the device would stay
// "limited" (and the app would never hear 0x01060102) for as long as it stays paused.
// Pausing lifts its floor; frames still in flight as it was paused change nothing.
TEST(SendRate, APausedLayerNoLongerHoldsTheDeviceLimited) {
  ASSERT_TRUE(InitMedia());
  VideoEncoderConfig big_config, small_config{320, 180, 15, 200};
  GstPtr<GstElement> big = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> small = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> big_caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  GstPtr<GstElement> small_caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  ASSERT_TRUE(big && small && big_caps && small_caps);
  std::vector<SendRate::Video> video;
  video.push_back({Ref(big.get()), Ref(big_caps.get()), big_config});
  video.push_back({Ref(small.get()), Ref(small_caps.get()), small_config, true});
  SendRate rate(nullptr, std::move(video));
  // The small layer's frames come out a second after their capture, 15 a second, for 3 s.
  int64_t t = 1'000'000;
  for (; t < 4'000'000; t += 66'667) rate.OnEncoded(1, t, 5'000, 1'000'000);
  ASSERT_GT(rate.snapshot().cpu_level, 0u);
  auto small_width = [&] {
    GstCaps* set = nullptr;
    g_object_get(small_caps.get(), "caps", &set, nullptr);
    GstPtr<GstCaps> applied = Adopt(set);
    int width = 0;
    if (applied && !gst_caps_is_empty(applied.get()) && !gst_caps_is_any(applied.get()))
      gst_structure_get_int(gst_caps_get_structure(applied.get(), 0), "width", &width);
    return width;
  };
  EXPECT_LT(small_width(), 320);
  rate.SetActive(small.get(), false);
  EXPECT_EQ(rate.snapshot().cpu_level, 0u);
  EXPECT_EQ(small_width(), 320);
  for (int i = 0; i < 40; ++i, t += 66'667) rate.OnEncoded(1, t, 5'000, 1'000'000);
  EXPECT_EQ(rate.snapshot().cpu_level, 0u);
  // Resumed, it is measured again from a fresh start.
  rate.SetActive(small.get(), true);
  for (int i = 0; i < 60; ++i, t += 66'667) rate.OnEncoded(1, t, 5'000, 1'000'000);
  EXPECT_GT(rate.snapshot().cpu_level, 0u);
}

// A device starved for a while (frames a second late) is lowered level after level;
// once it idles (frames on time, the encoder busy 1.5 % of the time at the lowered
// setting, which at full size would be about a quarter) the floor comes back in one
// step, not one level per hold, and the app's warning can end at once.
TEST(SendRate, RoomForEveryLevelGivesThemAllBackAtOnce) {
  ASSERT_TRUE(InitMedia());
  VideoEncoderConfig config;  // 640x360 at 30 fps
  GstPtr<GstElement> encoder = Sink(gst_element_factory_make("vp8enc", nullptr));
  GstPtr<GstElement> caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  ASSERT_TRUE(encoder && caps);
  std::vector<SendRate::Video> video;
  video.push_back({Ref(encoder.get()), Ref(caps.get()), config});
  SendRate rate(nullptr, std::move(video));
  int64_t t = 1'000'000;
  for (; t < 9'000'000; t += 33'333) rate.OnEncoded(0, t, 2'000, 1'000'000);
  const size_t starved = rate.snapshot().cpu_level;
  ASSERT_GE(starved, 3u);
  EXPECT_LT(rate.snapshot().width, 640);
  size_t least = starved;
  for (int i = 0; i < 150 && rate.snapshot().cpu_level > 0; ++i, t += 33'333) {
    rate.OnEncoded(0, t, 500, 20'000);
    if (rate.snapshot().cpu_level < starved) least = std::min(least, rate.snapshot().cpu_level);
    // Every floor between the starved one and none would mean a level at a time.
    EXPECT_TRUE(rate.snapshot().cpu_level == starved || rate.snapshot().cpu_level == 0) << rate.snapshot().cpu_level;
  }
  EXPECT_EQ(rate.snapshot().cpu_level, 0u);
}

TEST(SendRate, RandomLossSetsOpusExpectedLossKeepsTheRateAndX264FollowsCongestionInKbps) {
  ASSERT_TRUE(InitMedia());
  VideoEncoderConfig h264;
  h264.codec = VideoCodec::kH264;
  h264.degradation_preference = DegradationPreference::kMaintainResolution;
  GstPtr<GstElement> encoder = Sink(gst_element_factory_make("x264enc", nullptr));
  GstPtr<GstElement> caps = Sink(gst_element_factory_make("capsfilter", nullptr));
  GstPtr<GstElement> opus = Sink(gst_element_factory_make("opusenc", nullptr));
  ASSERT_TRUE(encoder && caps && opus);
  g_object_set(encoder.get(), "bitrate", 800u, nullptr);
  std::vector<SendRate::Video> video;
  video.push_back({Ref(encoder.get()), Ref(caps.get()), h264});
  SendRate rate(Ref(opus.get()), std::move(video));
  // Plenty of room, but every fifth packet lost (20 %) with a steady delay: random loss.
  uint16_t seq = 0;
  for (int64_t t = 0; t < 3'000'000; t += 50'000) {
    std::vector<congestion::PacketResult> batch;
    for (int64_t send = t; send < t + 50'000; send += 10'000, ++seq)
      batch.push_back({seq, send, seq % 5 == 0 ? -1 : send + 20'000, 1200});
    rate.OnFeedback(t + 50'000, batch);
  }
  SendRate::Snapshot s = rate.snapshot();
  EXPECT_NEAR(s.loss, 0.2, 0.05);
  EXPECT_FALSE(s.congested);
  EXPECT_GE(IntProperty(opus.get(), "packet-loss-percentage"), 15u);
  EXPECT_EQ(IntProperty(opus.get(), "packet-loss-percentage"), static_cast<guint>(s.opus_loss_percent));
  // The newest packet of each feedback was sent 10 ms before it arrived.
  EXPECT_EQ(s.rtt_us, 10'000);
  guint kbps = 0;
  g_object_get(encoder.get(), "bitrate", &kbps, nullptr);
  EXPECT_EQ(kbps, 800u);  // FEC and retransmission repair random loss: the rate stays
  EXPECT_EQ(s.level, 0u);
  // Then the path fills up: the rate comes down, and x264 takes it in kbit/s.
  Congest(rate, 3'000'000, seq);
  s = rate.snapshot();
  g_object_get(encoder.get(), "bitrate", &kbps, nullptr);
  EXPECT_LT(kbps, 800u);
  EXPECT_EQ(static_cast<int64_t>(kbps), s.video_bps / 1000);
}

}  // namespace
}  // namespace parley::sdk::gst
