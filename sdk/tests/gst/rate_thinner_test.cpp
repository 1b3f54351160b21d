// A video track's frames thinned to the rate its adaptation allows: through the chain
// the publisher builds (drop-only videorate `thin`, then the capsfilter `vadapt`), with
// frames stamped as an application's or a screen's are, at their own times.
#include "impl/gst/rate_thinner.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <vector>

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {
namespace {

constexpr GstClockTime kMs = GST_MSECOND;

// Pushes one small frame per time in `pts` through the chain at `allowed` fps (the
// input's caps name `input_fps`, as the feed's do) and returns the times that came out.
std::vector<GstClockTime> Through(const std::vector<GstClockTime>& pts, int allowed, int input_fps = 30) {
  gst_init(nullptr, nullptr);
  const std::string raw = "video/x-raw,format=I420,width=16,height=16,framerate=";
  std::string desc = "appsrc name=src format=time caps=\"" + raw + std::to_string(input_fps) +
                     "/1\" ! videorate name=thin drop-only=true ! capsfilter name=vadapt caps=\"" + raw +
                     std::to_string(allowed) + "/1\" ! appsink name=out sync=false max-buffers=0";
  GError* error = nullptr;
  GstPtr<GstElement> pipeline = Sink(gst_parse_launch(desc.c_str(), &error));
  if (error) g_error_free(error);
  if (!pipeline) return {};
  GstPtr<GstElement> src = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  GstPtr<GstElement> thin = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "thin"));
  GstPtr<GstElement> caps = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "vadapt"));
  GstPtr<GstElement> out = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  ThinToAllowedRate(thin.get(), caps.get());
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  for (GstClockTime t : pts) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 16 * 16 * 3 / 2, nullptr);
    gst_buffer_memset(b, 0, 0x80, 16 * 16 * 3 / 2);
    GST_BUFFER_PTS(b) = t;
    gst_app_src_push_buffer(GST_APP_SRC(src.get()), b);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  std::vector<GstClockTime> times;
  while (GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(out.get()), 5 * GST_SECOND)) {
    times.push_back(GST_BUFFER_PTS(gst_sample_get_buffer(s)));
    gst_sample_unref(s);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return times;
}

std::vector<GstClockTime> Every(GstClockTime from, GstClockTime step, int n) {
  std::vector<GstClockTime> v;
  for (int i = 0; i < n; ++i) v.push_back(from + static_cast<GstClockTime>(i) * step);
  return v;
}

// The stream's first frame 5 s after its start (a publish pipeline that ran before the
// application's first frame): drop-only videorate's grid begins at the start, lags
// 5 s behind, and alone let every frame of a faster producer through until it caught up.
TEST(RateThinner, AFasterProducerIsThinnedFromItsFirstFrameAfterALateStart) {
  auto out = Through(Every(5000 * kMs, 16'667 * GST_USECOND, 60), 30);  // 1 s at 60 fps
  EXPECT_GE(out.size(), 29u);
  EXPECT_LE(out.size(), 31u);
}

// After a stall no burst: credit for one frame at most is saved.
TEST(RateThinner, AfterAStallAFasterProducerIsNotLetThroughInABurst) {
  auto in = Every(0, 16'667 * GST_USECOND, 60);
  for (GstClockTime t : Every(4000 * kMs, 16'667 * GST_USECOND, 60)) in.push_back(t);  // 3 s of nothing first
  auto out = Through(in, 30);
  EXPECT_GE(out.size(), 58u);
  EXPECT_LE(out.size(), 62u);
  size_t after = 0;
  for (GstClockTime t : out) after += t >= 4000 * kMs && t < 4200 * kMs;
  EXPECT_LE(after, 8u) << "the first 200 ms after the stall at 30 fps (and one more), not all 12 frames";
}

// A producer at the allowed rate whose frames come up to 12 ms late (a camera or an
// application's timer) loses none; at twice the allowed rate, every other one goes.
// (videorate after the thinner drops a frame that comes before its grid, which starts
// at the stream's start: the first frames here come 2 ms after it.)
TEST(RateThinner, CaptureJitterCostsNoFrameAndTwiceTheRateIsHalved) {
  std::vector<GstClockTime> jittered;
  for (int i = 0; i < 90; ++i)
    jittered.push_back(2 * kMs + static_cast<GstClockTime>(i) * 33'333 * GST_USECOND + ((i % 3) * 6 * kMs));
  EXPECT_EQ(Through(jittered, 30).size(), 90u);
  auto halved = Through(Every(0, 33'333 * GST_USECOND, 90), 15);
  EXPECT_GE(halved.size(), 44u);
  EXPECT_LE(halved.size(), 46u);
}

}  // namespace
}  // namespace parley::sdk::gst
