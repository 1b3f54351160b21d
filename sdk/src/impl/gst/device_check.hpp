// Device checks outside a call: the microphone's level, measured where it is captured
// (a source as the publish pipeline would open it, into a level meter and nowhere
// else), and a test tone played to a speaker. Each is a small pipeline of its own, so
// a check never touches a call's media.
//
// Threading: created and destroyed on the engine thread; `level` and `on_error` run
// on GStreamer threads, never after the destructor returns.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class DeviceCheck {
 public:
  /// The loudest channel's RMS level every 200 ms, as a volume 0..255 (0 at -60 dBFS
  /// or quieter, 255 at 0 dBFS, linear in dB between, as volume indication).
  using LevelFn = std::function<void(int volume)>;
  /// A microphone: `source` as AudioSource() describes it (not a fed one).
  static Result<std::unique_ptr<DeviceCheck>> Microphone(const std::string& source, LevelFn level,
                                                         MediaErrorFn on_error);
  /// A 440 Hz sine of amplitude 0.3 (-13.5 dBFS RMS) to `sink` (PlayoutSink's description, or kSilentSink).
  static Result<std::unique_ptr<DeviceCheck>> Speaker(const std::string& sink, MediaErrorFn on_error);
  ~DeviceCheck();
  DeviceCheck(const DeviceCheck&) = delete;
  DeviceCheck& operator=(const DeviceCheck&) = delete;

 private:
  DeviceCheck() = default;
  static Result<std::unique_ptr<DeviceCheck>> Start(const std::string& desc, LevelFn level, MediaErrorFn on_error,
                                                    int32_t runtime_code);
  GstPtr<GstElement> pipeline_;
  BusState bus_;
  MediaErrorFn on_error_;
  std::mutex mu_;
  LevelFn level_;  ///< under mu_; cleared by the destructor
};

}  // namespace parley::sdk::gst
