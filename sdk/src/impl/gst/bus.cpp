#include "impl/gst/bus.hpp"

#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {

int32_t CodeFor(GstObject* src, const GError* err, int32_t runtime_code) {
  bool not_found = err && err->domain == GST_RESOURCE_ERROR && err->code == GST_RESOURCE_ERROR_NOT_FOUND;
  bool not_authorized = err && err->domain == GST_RESOURCE_ERROR && err->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  for (GstObject* o = src; o; o = GST_OBJECT_PARENT(o)) {
    std::string name = GST_OBJECT_NAME(o) ? GST_OBJECT_NAME(o) : "";
    // A device that never reached PAUSED failed to open; one that did failed later.
    bool opened = GST_IS_ELEMENT(o) && GST_STATE(GST_ELEMENT(o)) >= GST_STATE_PAUSED;
    auto pick = [opened](Errc open, Errc run) { return static_cast<int32_t>(opened ? run : open); };
    if (name == "microphone" && !opened && not_authorized) return static_cast<int32_t>(Errc::kAudioRecordNoPermission);
    if (name == "microphone" && !opened && not_found) return static_cast<int32_t>(Errc::kAudioRecordDeviceNotFound);
    if (name == "speaker" && !opened && not_found) return static_cast<int32_t>(Errc::kAudioPlayDeviceNotFound);
    if (name == "camera") return pick(Errc::kCameraOpenFailed, Errc::kCameraCaptureError);
    if (name == "microphone") return pick(Errc::kAudioRecordDeviceOpenFailed, Errc::kAudioRecordError);
    if (name == "speaker") return pick(Errc::kAudioPlayDeviceOpenFailed, Errc::kAudioPlayError);
    if (name == "render") return pick(Errc::kRenderOpenFailed, Errc::kRenderError);
    if (name == "mediafile") return static_cast<int32_t>(Errc::kMediaFileOpenFailed);
  }
  return runtime_code;
}

void Rearm(BusState& state, const std::string& element) {
  std::lock_guard<std::mutex> lock(state.mu);
  state.reported.erase(element);
}

void SilenceBus(BusState& state) {
  std::lock_guard<std::mutex> lock(state.mu);
  state.fn = nullptr;
}

void WatchBus(GstElement* pipeline, BusState* state) {
  GstPtr<GstBus> bus = Adopt(gst_element_get_bus(pipeline));
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus*, GstMessage* m, gpointer data) -> GstBusSyncReply {
        auto* st = static_cast<BusState*>(data);
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
          GError* raw_err = nullptr;
          gchar* raw_dbg = nullptr;
          gst_message_parse_error(m, &raw_err, &raw_dbg);
          GstPtr<GError> err = Adopt(raw_err);
          GstPtr<gchar> dbg = Adopt(raw_dbg);
          std::string msg = std::string(GST_OBJECT_NAME(m->src)) + ": " + ErrorText(err.get(), "error");
          int32_t code = CodeFor(m->src, err.get(), st->runtime_code);
          MediaErrorFn* fn = nullptr;
          {
            std::lock_guard<std::mutex> lock(st->mu);
            if (!st->last_code) {
              st->last_code = code;
              st->last_message = msg;
            }
            // A failed element (a device gone) may repeat its error many times: once.
            if (st->fn && st->reported.insert(GST_OBJECT_NAME(m->src)).second) fn = st->fn;
          }
          if (fn && *fn) (*fn)(code, msg);
        } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS && st->on_eos) {
          st->on_eos();
        } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && st->on_element) {
          st->on_element(m);
        }
        // A sync handler that drops a message owns it (GstBusSyncHandler).
        gst_message_unref(m);
        return GST_BUS_DROP;
      },
      state, nullptr);
}

}  // namespace parley::sdk::gst
