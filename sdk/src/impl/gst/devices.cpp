#include "impl/gst/devices.hpp"

#include <gst/gst.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

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

// Elements of one feature each: without one, that feature fails with its own code.
struct Feature {
  const char* element;
  const char* package;
  const char* purpose;
};
constexpr Feature kFeatures[] = {
    {"webrtcdsp", "gstreamer1.0-plugins-bad", "echo cancellation, noise suppression, gain control"},
    {"pulsesrc", "gstreamer1.0-pulseaudio", "microphones (PulseAudio)"},
    {"pulsesink", "gstreamer1.0-pulseaudio", "speakers (PulseAudio)"},
    {"v4l2src", "gstreamer1.0-plugins-good", "cameras (V4L2)"},
    {"ximagesrc", "gstreamer1.0-plugins-good", "screen share (X11)"},
    {"x264enc", "gstreamer1.0-plugins-ugly", "publishing H.264"},
    {"avdec_h264", "gstreamer1.0-libav", "receiving H.264"},
    {"vp8dec", "gstreamer1.0-plugins-good", "receiving VP8"},
    {"opusdec", "gstreamer1.0-plugins-base", "receiving audio"},
    {"uridecodebin", "gstreamer1.0-plugins-base", "media files and accompaniment"},
    {"pngenc", "gstreamer1.0-plugins-good", "PNG snapshots"},
    {"jpegenc", "gstreamer1.0-plugins-good", "JPEG snapshots"},
    {"webmmux", "gstreamer1.0-plugins-good", "recording"},
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

constexpr const char* kClasses[] = {"Audio/Source", "Audio/Sink", "Video/Source"};
constexpr DeviceKind kKinds[] = {DeviceKind::kMicrophone, DeviceKind::kSpeaker, DeviceKind::kCamera};

// The one device monitor of the process while anything watches: GStreamer's device
// providers are shared, and each monitor takes over the provider's bus, so a second
// monitor (a listing) would silence the first. Listings use it while it runs.
class Hub {
 public:
  static Hub& Get() {
    static Hub* hub = new Hub();  // never destroyed: watches may end during exit
    return *hub;
  }

  int Add(DeviceWatch::Changed fn) {
    std::lock_guard<std::mutex> starting(start_mu_);
    if (!monitor_) Start();
    std::lock_guard<std::mutex> lock(mu_);
    subs_[++next_] = std::move(fn);
    return next_;
  }

  void Remove(int id) {
    std::lock_guard<std::mutex> starting(start_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      subs_.erase(id);
      if (!subs_.empty()) return;
      ready_ = false;
      known_.clear();
    }
    // The last watch went: the monitor stops (a later one connects to the sound
    // server of its time afresh).
    if (!monitor_) return;
    gst_device_monitor_stop(monitor_);
    GstPtr<GstBus> bus = Adopt(gst_device_monitor_get_bus(monitor_));
    gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
    gst_object_unref(monitor_);
    monitor_ = nullptr;
  }

  // The devices of `klass` now, through the running monitor or a short-lived one.
  std::vector<DeviceInfo> List(DeviceKind kind, const char* klass) {
    std::lock_guard<std::mutex> starting(start_mu_);
    GstDeviceMonitor* monitor = monitor_;
    GstPtr<GstDeviceMonitor> own;
    if (!monitor) {
      own = Adopt(gst_device_monitor_new());
      gst_device_monitor_add_filter(own.get(), klass, nullptr);
      if (!gst_device_monitor_start(own.get())) return {};
      monitor = own.get();
    }
    std::vector<DeviceInfo> out;
    GList* devices = gst_device_monitor_get_devices(monitor);
    for (GList* l = devices; l; l = l->next) {
      if (!gst_device_has_classes(GST_DEVICE(l->data), klass)) continue;
      DeviceInfo d = Describe(GST_DEVICE(l->data), kind);
      if (!d.id.empty()) out.push_back(d);
    }
    g_list_free_full(devices, gst_object_unref);
    if (own) gst_device_monitor_stop(own.get());
    return out;
  }

 private:
  // Under start_mu_, not mu_: the providers announce what is there from their own
  // threads while starting.
  void Start() {
    monitor_ = gst_device_monitor_new();
    for (const char* klass : kClasses) gst_device_monitor_add_filter(monitor_, klass, nullptr);
    GstPtr<GstBus> bus = Adopt(gst_device_monitor_get_bus(monitor_));
    gst_bus_set_sync_handler(
        bus.get(),
        [](GstBus*, GstMessage* m, gpointer self) -> GstBusSyncReply {
          static_cast<Hub*>(self)->Handle(m);
          gst_message_unref(m);
          return GST_BUS_DROP;
        },
        this, nullptr);
    const bool started = gst_device_monitor_start(monitor_);  // false: no provider (no sound server)
    GList* devices = started ? gst_device_monitor_get_devices(monitor_) : nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    for (GList* l = devices; l; l = l->next)
      for (size_t i = 0; i < 3; ++i)
        if (gst_device_has_classes(GST_DEVICE(l->data), kClasses[i])) {
          DeviceInfo d = Describe(GST_DEVICE(l->data), kKinds[i]);
          if (!d.id.empty()) known_.insert({static_cast<int>(i), d.id});
        }
    g_list_free_full(devices, gst_object_unref);
    ready_ = true;
  }

  void Handle(GstMessage* m) {
    const bool added = GST_MESSAGE_TYPE(m) == GST_MESSAGE_DEVICE_ADDED;
    if (!added && GST_MESSAGE_TYPE(m) != GST_MESSAGE_DEVICE_REMOVED) return;
    GstDevice* raw = nullptr;
    if (added)
      gst_message_parse_device_added(m, &raw);
    else
      gst_message_parse_device_removed(m, &raw);
    GstPtr<GstDevice> dev = Adopt(raw);
    if (!dev) return;
    for (size_t i = 0; i < 3; ++i) {
      if (!gst_device_has_classes(dev.get(), kClasses[i])) continue;
      DeviceInfo d = Describe(dev.get(), kKinds[i]);
      if (d.id.empty()) continue;
      // Under the lock, so that Remove waits for a change being told.
      std::lock_guard<std::mutex> lock(mu_);
      const std::pair<int, std::string> key{static_cast<int>(i), d.id};
      // While starting, providers announce what is there already: known, not news.
      const bool news = added ? known_.insert(key).second : known_.erase(key) > 0;
      if (news && ready_)
        for (auto& [id, fn] : subs_) fn(d, added);
    }
  }

  std::mutex start_mu_;                  ///< one start, stop or listing at a time
  GstDeviceMonitor* monitor_ = nullptr;  ///< while anything watches (under start_mu_)
  std::mutex mu_;
  std::map<int, DeviceWatch::Changed> subs_;
  int next_ = 0;
  bool ready_ = false;
  std::set<std::pair<int, std::string>> known_;  ///< kind and id of the devices present
};

}  // namespace

DeviceWatch::DeviceWatch(Changed changed) : id_(Hub::Get().Add(std::move(changed))) {}

DeviceWatch::~DeviceWatch() {
  Hub::Get().Remove(id_);
}

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

std::thread WarmUpDtls() {
  static std::atomic<bool> started{false};
  if (started.exchange(true)) return {};
  return std::thread([] {
    if (GstElement* e = gst_element_factory_make("dtlsdec", nullptr)) gst_object_unref(gst_object_ref_sink(e));
  });
}

std::vector<MediaPluginInfo> ListMediaPlugins() {
  std::vector<MediaPluginInfo> out;
  if (Status st = InitMedia(); !st && st.error().value() == static_cast<int>(Errc::kInitMediaEngineFailed)) return out;
  auto add = [&](const char* element, const char* package, const char* purpose, bool required) {
    out.push_back({element, package, purpose, required, Adopt(gst_element_factory_find(element)) != nullptr});
  };
  for (const auto& n : kNeeded) add(n.element, n.package, "calls (required)", true);
  for (const auto& f : kFeatures) add(f.element, f.package, f.purpose, false);
  return out;
}

std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) {
  const char* klass = kind == DeviceKind::kMicrophone ? "Audio/Source"
                      : kind == DeviceKind::kSpeaker  ? "Audio/Sink"
                                                      : "Video/Source";
  std::vector<DeviceInfo> out = Hub::Get().List(kind, klass);
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
