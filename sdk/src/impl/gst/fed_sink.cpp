#include "impl/gst/fed_sink.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/video/videooverlay.h>

namespace parley::sdk::gst {

std::unique_ptr<FedSink> FedSink::Open(const std::string& sink, uint64_t window, MediaErrorFn on_error) {
  std::unique_ptr<FedSink> f(new FedSink());
  f->on_error_ = std::move(on_error);
  std::string desc =
      "appsrc name=src is-live=true format=time do-timestamp=true ! queue leaky=downstream "
      "max-size-buffers=3 max-size-time=0 max-size-bytes=0 ! " +
      sink;
  GError* err = nullptr;
  f->pipeline_ = Sink(gst_parse_launch(desc.c_str(), &err));
  if (err) g_error_free(err);
  if (!f->pipeline_) return nullptr;
  f->src_ = Adopt(gst_bin_get_by_name(GST_BIN(f->pipeline_.get()), "src"));
  if (window)
    if (GstPtr<GstElement> render = Adopt(gst_bin_get_by_name(GST_BIN(f->pipeline_.get()), "render")))
      gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(render.get()), static_cast<guintptr>(window));
  f->bus_.fn = &f->on_error_;
  WatchBus(f->pipeline_.get(), &f->bus_);
  if (gst_element_set_state(f->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) return nullptr;
  return f;
}

FedSink::~FedSink() {
  SilenceBus(bus_);
  gst_caps_replace(&caps_, nullptr);
  src_.reset();
  // Stopped and gone before bus_, which its sync handler points at.
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
}

void FedSink::Push(GstBuffer* buffer, GstCaps* caps) {
  if (!caps_ || !gst_caps_is_equal(caps, caps_)) {
    gst_app_src_set_caps(GST_APP_SRC(src_.get()), caps);
    gst_caps_replace(&caps_, caps);
  }
  GstBuffer* copy = gst_buffer_copy(buffer);  // shares the memory; our own timestamps
  GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(src_.get()), copy);
}

}  // namespace parley::sdk::gst
