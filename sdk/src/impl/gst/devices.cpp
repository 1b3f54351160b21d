#include "impl/gst/devices.hpp"

#include <gst/gst.h>

#include <mutex>
#include <string>

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {
namespace {

// Elements the engine cannot work without, and the Debian package that ships each.
struct Needed {
  const char* element;
  const char* package;
};
constexpr Needed kNeeded[] = {
    {"webrtcbin", "gstreamer1.0-plugins-bad"},
    {"rtpopuspay", "gstreamer1.0-plugins-good"},
    {"rtpvp8pay", "gstreamer1.0-plugins-good"},
    {"opusenc", "gstreamer1.0-plugins-base"},
    {"vp8enc", "gstreamer1.0-plugins-good"},
    {"audiotestsrc", "gstreamer1.0-plugins-base"},
    {"videotestsrc", "gstreamer1.0-plugins-base"},
    {"decodebin", "gstreamer1.0-plugins-base"},
    {"appsink", "gstreamer1.0-plugins-base"},
    {"videoconvert", "gstreamer1.0-plugins-base"},
    {"audioconvert", "gstreamer1.0-plugins-base"},
    {"audioresample", "gstreamer1.0-plugins-base"},
    {"nicesink", "gstreamer1.0-nice"},
};

// One device as the API lists it; an empty id when the device says nothing we can open.
DeviceInfo Describe(GstDevice* dev, DeviceKind kind) {
  DeviceInfo d;
  d.kind = kind;
  GstPtr<gchar> name = Adopt(gst_device_get_display_name(dev));
  d.name = name ? name.get() : "";
  // The id the capture element takes: PulseAudio's source/sink name, V4L2's path.
  GObjectClass* cls = G_OBJECT_GET_CLASS(dev);
  for (const char* prop : {"internal-name", "device-path"}) {
    if (!d.id.empty() || !g_object_class_find_property(cls, prop)) continue;
    gchar* v = nullptr;
    g_object_get(dev, prop, &v, nullptr);
    GstPtr<gchar> value = Adopt(v);
    if (value) d.id = value.get();
  }
  if (GstPtr<GstStructure> props = Adopt(gst_device_get_properties(dev))) {
    gboolean def = FALSE;
    if (gst_structure_get_boolean(props.get(), "is-default", &def)) d.is_default = def;
    if (d.id.empty())
      for (const char* key : {"device.path", "api.v4l2.path", "node.name"})
        if (const gchar* v = gst_structure_get_string(props.get(), key)) {
          d.id = v;
          break;
        }
  }
  return d;
}

}  // namespace

Status InitMedia() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    GError* err = nullptr;
    if (!gst_init_check(nullptr, nullptr, &err)) {
      failure = std::string("GStreamer failed to initialize: ") + ErrorText(err);
      if (err) g_error_free(err);
    }
  });
  if (!failure.empty()) return MakeError(Errc::kInitMediaEngineFailed, failure);
  for (const auto& n : kNeeded) {
    if (!Adopt(gst_element_factory_find(n.element)))
      return MakeError(Errc::kInitMissingPlugin, std::string("GStreamer element '") + n.element +
                                                     "' is missing (install the Debian package " + n.package + ")");
  }
  return {};
}

std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) {
  std::vector<DeviceInfo> out;
  const char* klass = kind == DeviceKind::kMicrophone ? "Audio/Source"
                      : kind == DeviceKind::kSpeaker  ? "Audio/Sink"
                                                      : "Video/Source";
  GstPtr<GstDeviceMonitor> monitor = Adopt(gst_device_monitor_new());
  gst_device_monitor_add_filter(monitor.get(), klass, nullptr);
  if (gst_device_monitor_start(monitor.get())) {
    GList* devices = gst_device_monitor_get_devices(monitor.get());
    for (GList* l = devices; l; l = l->next) {
      DeviceInfo d = Describe(GST_DEVICE(l->data), kind);
      if (!d.id.empty()) out.push_back(d);
    }
    g_list_free_full(devices, gst_object_unref);
    gst_device_monitor_stop(monitor.get());
  }
  auto synthetic = [&](const char* id, const char* name) { out.push_back({kind, id, name, false}); };
  if (kind == DeviceKind::kMicrophone) {
    synthetic("test:tone", "Test tone (440 Hz; test:tone:<Hz> for another)");
    synthetic("test:silence", "Silence");
    synthetic("external", "Frames pushed by the application");
  } else if (kind == DeviceKind::kCamera) {
    synthetic("test:pattern", "Test pattern (moving ball)");
    synthetic("test:bars", "Colour bars");
    synthetic("external", "Frames pushed by the application");
  } else {
    synthetic("auto", "System default output");
  }
  synthetic("null", "None");
  return out;
}

}  // namespace parley::sdk::gst
