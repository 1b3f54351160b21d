// The local camera shown before it is published (RtcEngine::StartPreview): the
// camera, opened as the publish pipeline would open it, in a pipeline of its own whose
// frames go to a renderer (FedSink) in the application's window. The call stops it
// before publishing the camera (a V4L2 device opens once) and starts it again when the
// camera is no longer published.
//
// Threading: created and destroyed on the engine thread; `on_error` runs on a
// GStreamer thread, never after the destructor returns.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/fed_sink.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class CameraPreview final : public media::CameraPreview {
 public:
  /// `source`: a video_source id the pipeline captures itself (a device or a test
  /// pattern; 0x01010405 for the others); 0x01040201 when the renderer cannot start;
  /// a camera that cannot open: its code.
  static Result<std::unique_ptr<CameraPreview>> Start(const std::string& source, uint64_t window,
                                                      MediaErrorFn on_error);
  ~CameraPreview() override;
  CameraPreview(const CameraPreview&) = delete;
  CameraPreview& operator=(const CameraPreview&) = delete;

 private:
  CameraPreview() = default;
  static GstFlowReturn OnSample(GstElement* sink, gpointer self);
  MediaErrorFn on_error_;
  std::unique_ptr<FedSink> render_;
  GstPtr<GstElement> pipeline_;
  BusState bus_;
};

}  // namespace parley::sdk::gst
