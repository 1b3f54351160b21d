#include "impl/gst/camera_preview.hpp"

#include <gst/app/gstappsink.h>

#include "impl/gst/pipelines.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {

Result<std::unique_ptr<CameraPreview>> CameraPreview::Start(const std::string& source, uint64_t window,
                                                            MediaErrorFn on_error) {
  const std::string camera = CapturedSource(TrackKind::kCamera, source);
  if (camera.empty()) return MakeError(Errc::kPublishConfigInvalid, "cannot preview the camera " + source);
  std::unique_ptr<CameraPreview> p(new CameraPreview());
  p->on_error_ = std::move(on_error);
  p->render_ = FedSink::Open(kRenderSink, window, p->on_error_);
  if (!p->render_) return MakeError(Errc::kRenderOpenFailed, "the preview renderer did not start");
  const std::string desc = camera +
                           " ! videoconvert ! video/x-raw,format=I420 ! appsink name=frames sync=false "
                           "emit-signals=true max-buffers=2 drop=true";
  GError* raw_err = nullptr;
  p->pipeline_ = Sink(gst_parse_launch(desc.c_str(), &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  if (!p->pipeline_ || err)
    return MakeError(Errc::kPublishConfigInvalid, "cannot build the camera preview: " + ErrorText(err.get()));
  GstPtr<GstElement> sink = Adopt(gst_bin_get_by_name(GST_BIN(p->pipeline_.get()), "frames"));
  g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&CameraPreview::OnSample), p.get());
  p->bus_.runtime_code = static_cast<int32_t>(Errc::kCameraOpenFailed);
  WatchBus(p->pipeline_.get(), &p->bus_);
  if (gst_element_set_state(p->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::lock_guard<std::mutex> lock(p->bus_.mu);
    if (p->bus_.last_code) return MakeError(static_cast<Errc>(p->bus_.last_code), p->bus_.last_message);
    return MakeError(Errc::kCameraOpenFailed, "the camera preview did not start");
  }
  {
    std::lock_guard<std::mutex> lock(p->bus_.mu);
    p->bus_.fn = &p->on_error_;
  }
  return p;
}

CameraPreview::~CameraPreview() {
  SilenceBus(bus_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);  // no frame is pushed after this
  pipeline_.reset();
  render_.reset();
}

GstFlowReturn CameraPreview::OnSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<CameraPreview*>(data);
  GstPtr<GstSample> sample = Adopt(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (GstBuffer* buf = sample ? gst_sample_get_buffer(sample.get()) : nullptr)
    self->render_->Push(buf, gst_sample_get_caps(sample.get()));
  return GST_FLOW_OK;
}

}  // namespace parley::sdk::gst
