// What the speakers play, for a screen share with audio: a PulseAudio monitor
// captured in a pipeline of its own (a monitor that fails does not stop the call's
// media) into a MixIn that the publish pipeline adds to its audio track.
//
// Threading: created and destroyed on the engine thread (with its Publisher);
// `on_error` runs on a GStreamer thread, never after the destructor returns.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/mix_in.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class SystemAudio {
 public:
  /// `source` as ScreenOptions::audio names it; 0x01010405 for another id, the audio
  /// capture's code (0x01040404 family) when the monitor cannot open.
  static Result<std::unique_ptr<SystemAudio>> Start(const std::string& source, MediaErrorFn on_error);
  ~SystemAudio();
  SystemAudio(const SystemAudio&) = delete;
  SystemAudio& operator=(const SystemAudio&) = delete;
  /// What it captured, for the publish pipeline's probe (the publisher's).
  MixIn& mix() { return mix_; }

 private:
  SystemAudio() = default;
  static GstFlowReturn OnSample(GstElement* sink, gpointer self);
  MixIn mix_;
  GstPtr<GstElement> pipeline_;
  BusState bus_;
  MediaErrorFn on_error_;
};

}  // namespace parley::sdk::gst
