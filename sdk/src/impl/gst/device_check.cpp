#include "impl/gst/device_check.hpp"

#include <algorithm>
#include <cmath>

#include "impl/gst/pipelines.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {
namespace {

// The level element's loudest channel (RMS, dB) as a volume.
int VolumeOfDb(double db) {
  if (!(db > -60)) return 0;
  return std::clamp(static_cast<int>(std::lround((db + 60) * 255 / 60)), 0, 255);
}

double LoudestRms(const GstStructure* s) {
  const GValue* rms = gst_structure_get_value(s, "rms");
  double loudest = -200;
  if (!rms) return loudest;
  if (GST_VALUE_HOLDS_ARRAY(rms)) {
    for (guint i = 0; i < gst_value_array_get_size(rms); ++i)
      loudest = std::max(loudest, g_value_get_double(gst_value_array_get_value(rms, i)));
    return loudest;
  }
  // GStreamer 1.22's level element still posts a GValueArray.
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!G_VALUE_HOLDS(rms, g_value_array_get_type())) return loudest;
  auto* arr = static_cast<GValueArray*>(g_value_get_boxed(rms));
  for (guint i = 0; arr && i < arr->n_values; ++i)
    loudest = std::max(loudest, g_value_get_double(g_value_array_get_nth(arr, i)));
  G_GNUC_END_IGNORE_DEPRECATIONS
  return loudest;
}

}  // namespace

Result<std::unique_ptr<DeviceCheck>> DeviceCheck::Microphone(const std::string& source, LevelFn level,
                                                             MediaErrorFn on_error) {
  const std::string desc = CapturedSource(TrackKind::kAudio, source);
  if (desc.empty()) return MakeError(Errc::kPublishConfigInvalid, "cannot test the source " + source);
  return Start(desc + " ! audioconvert ! level name=meter interval=200000000 post-messages=true ! fakesink sync=false",
               std::move(level), std::move(on_error), static_cast<int32_t>(Errc::kAudioRecordError));
}

Result<std::unique_ptr<DeviceCheck>> DeviceCheck::Speaker(const std::string& sink, MediaErrorFn on_error) {
  return Start("audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! " + sink, nullptr, std::move(on_error),
               static_cast<int32_t>(Errc::kAudioPlayError));
}

Result<std::unique_ptr<DeviceCheck>> DeviceCheck::Start(const std::string& desc, LevelFn level, MediaErrorFn on_error,
                                                        int32_t runtime_code) {
  std::unique_ptr<DeviceCheck> c(new DeviceCheck());
  c->level_ = std::move(level);
  c->on_error_ = std::move(on_error);
  GError* raw_err = nullptr;
  c->pipeline_ = Sink(gst_parse_launch(desc.c_str(), &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  if (!c->pipeline_ || err)
    return MakeError(Errc::kPublishConfigInvalid, "cannot build the device check: " + ErrorText(err.get()));
  c->bus_.runtime_code = runtime_code;
  c->bus_.fn = &c->on_error_;
  // The meter's reports come with the bus's errors (the level element posts the RMS
  // it computed).
  c->bus_.on_element = [self = c.get()](GstMessage* m) {
    const GstStructure* s = gst_message_get_structure(m);
    if (!s || !gst_structure_has_name(s, "level")) return;
    const int volume = VolumeOfDb(LoudestRms(s));
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->level_) self->level_(volume);
  };
  WatchBus(c->pipeline_.get(), &c->bus_);
  if (gst_element_set_state(c->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::lock_guard<std::mutex> lock(c->bus_.mu);
    if (c->bus_.last_code) return MakeError(static_cast<Errc>(c->bus_.last_code), c->bus_.last_message);
    return MakeError(static_cast<Errc>(runtime_code), "the device check did not start");
  }
  return c;
}

DeviceCheck::~DeviceCheck() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    level_ = nullptr;
  }
  SilenceBus(bus_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
}

}  // namespace parley::sdk::gst
