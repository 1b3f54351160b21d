#include "impl/gst/rate_thinner.hpp"

#include <algorithm>

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {
namespace {

// Credit is counted in frames: one accrues per period of the allowed rate, a frame that
// leaves spends one. Saved: a frame and a half at most (a late frame's surplus pays for
// an early one; after a stall one frame more than the rate leaves, no burst). A frame
// leaves when four fifths of it are covered.
constexpr double kMaxCredit = 1.5;
constexpr double kEnough = 0.8;

struct Thinner {
  GstElement* capsfilter = nullptr;  // our reference
  GstClockTime last = GST_CLOCK_TIME_NONE;
  double credit = 1.0;  // in frames
};

// The frame period `capsfilter` allows now, in seconds (0: any rate).
double AllowedPeriod(GstElement* capsfilter) {
  GstCaps* caps = nullptr;
  g_object_get(capsfilter, "caps", &caps, nullptr);
  GstPtr<GstCaps> owned = Adopt(caps);
  int n = 0, d = 1;
  if (!caps || gst_caps_get_size(caps) == 0 ||
      !gst_structure_get_fraction(gst_caps_get_structure(caps, 0), "framerate", &n, &d) || n <= 0 || d <= 0)
    return 0;
  return static_cast<double>(d) / n;
}

GstPadProbeReturn Thin(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<Thinner*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime pts = buffer ? GST_BUFFER_PTS(buffer) : GST_CLOCK_TIME_NONE;
  const double period = AllowedPeriod(t->capsfilter);
  if (!GST_CLOCK_TIME_IS_VALID(pts) || period <= 0) return GST_PAD_PROBE_OK;
  if (GST_CLOCK_TIME_IS_VALID(t->last) && pts >= t->last)
    t->credit = std::min(kMaxCredit, t->credit + static_cast<double>(pts - t->last) / GST_SECOND / period);
  else
    t->credit = 1.0;  // the first frame, or time went back (a new segment)
  t->last = pts;
  if (t->credit < kEnough) return GST_PAD_PROBE_DROP;
  t->credit -= 1.0;
  return GST_PAD_PROBE_OK;
}

void Free(gpointer data) {
  auto* t = static_cast<Thinner*>(data);
  gst_object_unref(t->capsfilter);
  delete t;
}

}  // namespace

void ThinToAllowedRate(GstElement* videorate, GstElement* capsfilter) {
  GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(videorate, "sink"));
  if (!pad) return;
  auto* t = new Thinner;
  t->capsfilter = GST_ELEMENT(gst_object_ref(capsfilter));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Thin, t, &Free);
}

}  // namespace parley::sdk::gst
