#include "impl/gst/input_feed.hpp"

#include <gst/app/gstappsrc.h>

#include <algorithm>

#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {

GstClockTime RunningTime(GstElement* e) {
  GstPtr<GstClock> clock = Adopt(gst_element_get_clock(e));
  if (!clock) return 0;
  GstClockTime now = gst_clock_get_time(clock.get());
  GstClockTime base = gst_element_get_base_time(e);
  return now > base ? now - base : 0;
}

InputFeed::~InputFeed() {
  if (src_) gst_object_unref(src_);
  gst_caps_replace(&caps_, nullptr);
}

void InputFeed::Attach(GstElement* appsrc, int fps) {
  std::lock_guard<std::mutex> lock(mu_);
  if (src_) gst_object_unref(src_);
  src_ = GST_ELEMENT(gst_object_ref(appsrc));
  fps_ = video_ ? std::max(1, fps) : 0;  // a video feed's caps must name a rate the chain can take
  gst_caps_replace(&caps_, nullptr);
  next_ = GST_CLOCK_TIME_NONE;
}

void InputFeed::Detach(GstElement* appsrc) {
  std::lock_guard<std::mutex> lock(mu_);
  if (src_ != appsrc) return;  // a newer publish connection took over
  gst_object_unref(src_);
  src_ = nullptr;
  gst_caps_replace(&caps_, nullptr);
  next_ = GST_CLOCK_TIME_NONE;
}

bool InputFeed::attached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return src_ != nullptr;
}

void InputFeed::SetCaps(GstCaps* caps) {
  GstPtr<GstCaps> owned = Adopt(caps);
  if (!caps_ || !gst_caps_is_equal(caps, caps_)) {
    gst_app_src_set_caps(GST_APP_SRC(src_), caps);
    gst_caps_replace(&caps_, caps);
  }
}

int32_t InputFeed::PushAudio(GstBuffer* buffer, int rate, int channels, bool bounded) {
  GstPtr<GstBuffer> owned = Adopt(buffer);
  std::lock_guard<std::mutex> lock(mu_);
  if (!src_) return static_cast<int32_t>(Errc::kPublishStreamNotExist);
  GstClockTime now = RunningTime(src_);
  // Stamped back to back from where the last buffer ended; after a gap (the producer
  // fell behind) the stream restarts at now.
  if (next_ == GST_CLOCK_TIME_NONE || next_ < now) next_ = now;
  if (bounded && next_ > now + kMaxAudioAhead) return static_cast<int32_t>(Errc::kExternalAudioBufferFull);
  SetCaps(gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING, "interleaved",
                              "rate", G_TYPE_INT, rate, "channels", G_TYPE_INT, channels, nullptr));
  guint64 samples = gst_buffer_get_size(owned.get()) / (2 * static_cast<guint64>(channels));
  GstClockTime duration = gst_util_uint64_scale(samples, GST_SECOND, static_cast<guint64>(rate));
  GstBuffer* out = gst_buffer_make_writable(owned.release());
  GST_BUFFER_PTS(out) = next_;
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = duration;
  next_ += duration;
  gst_app_src_push_buffer(GST_APP_SRC(src_), out);  // takes the buffer
  return 0;
}

int32_t InputFeed::PushVideo(GstBuffer* buffer, int width, int height, bool bounded) {
  GstPtr<GstBuffer> owned = Adopt(buffer);
  std::lock_guard<std::mutex> lock(mu_);
  if (!src_) return static_cast<int32_t>(Errc::kPublishStreamNotExist);
  if (bounded && gst_app_src_get_current_level_buffers(GST_APP_SRC(src_)) >= kMaxVideoQueued)
    return static_cast<int32_t>(Errc::kExternalAudioBufferFull);
  SetCaps(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width, "height",
                              G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps_, 1, nullptr));
  // Live video is stamped when it arrives (strictly increasing).
  GstClockTime now = RunningTime(src_);
  if (next_ != GST_CLOCK_TIME_NONE && now <= next_) now = next_ + GST_MSECOND;
  next_ = now;
  GstBuffer* out = gst_buffer_make_writable(owned.release());
  GST_BUFFER_PTS(out) = now;
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(src_), out);  // takes the buffer
  return 0;
}

}  // namespace parley::sdk::gst
