#include "impl/gst/system_audio.hpp"

#include <gst/app/gstappsink.h>

#include "impl/gst/pipelines.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {

Result<std::unique_ptr<SystemAudio>> SystemAudio::Start(const std::string& source, MediaErrorFn on_error) {
  const std::string desc = SystemAudioCapture(source);
  if (desc.empty()) return MakeError(Errc::kPublishConfigInvalid, "cannot capture system audio from " + source);
  std::unique_ptr<SystemAudio> a(new SystemAudio());
  a->on_error_ = std::move(on_error);
  GError* raw_err = nullptr;
  a->pipeline_ = Sink(gst_parse_launch(desc.c_str(), &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  if (!a->pipeline_ || err)
    return MakeError(Errc::kPublishStreamStartError, "cannot build the system audio capture: " + ErrorText(err.get()));
  GstPtr<GstElement> sink = Adopt(gst_bin_get_by_name(GST_BIN(a->pipeline_.get()), "systemsink"));
  g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&SystemAudio::OnSample), a.get());
  a->bus_.runtime_code = static_cast<int32_t>(Errc::kAudioRecordError);
  a->bus_.fn = &a->on_error_;
  WatchBus(a->pipeline_.get(), &a->bus_);
  a->mix_.Open(1.0, false);
  if (gst_element_set_state(a->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::lock_guard<std::mutex> lock(a->bus_.mu);
    return MakeError(Errc::kAudioRecordError, "the system audio capture did not start" +
                                                  (a->bus_.last_message.empty() ? "" : ": " + a->bus_.last_message));
  }
  return a;
}

SystemAudio::~SystemAudio() {
  SilenceBus(bus_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  mix_.Close();
  pipeline_.reset();
}

GstFlowReturn SystemAudio::OnSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<SystemAudio*>(data);
  GstPtr<GstSample> sample = Adopt(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  GstBuffer* buf = sample ? gst_sample_get_buffer(sample.get()) : nullptr;  // the sample's
  GstMapInfo map;
  if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
    self->mix_.Write(reinterpret_cast<const int16_t*>(map.data), map.size / 4);
    gst_buffer_unmap(buf, &map);
  }
  return GST_FLOW_OK;
}

}  // namespace parley::sdk::gst
