#include "impl/media.hpp"

#include "impl/gst/promise.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/video/videooverlay.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>

namespace parley::sdk {

// Errors (and end of stream) from a pipeline's bus, delivered from the thread that
// posts them.
struct BusState {
  MediaErrorFn* fn = nullptr;
  int32_t runtime_code = 0;
  std::mutex mu;
  int32_t last_code = 0;  ///< the first error seen, for a failed start
  std::string last_message;
  std::function<void()> on_eos;    ///< set before the pipeline starts
  std::set<std::string> reported;  ///< elements whose error was delivered
};

namespace {

constexpr char kTwccUri[] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
constexpr int kTwccId = 3;

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

// ICE per the notes: never UPnP, no TCP candidates, only the allowed addresses.
void RestrictIce(GstElement* webrtc, const std::vector<std::string>& addresses) {
  GObject* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (!ice) return;
  GObject* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) g_object_get(ice, "agent", &agent, nullptr);
  if (agent) {
    // Consent freshness with Binding requests (RFC 7675), not indications.
    g_object_set(agent, "upnp", FALSE, "ice-tcp", FALSE, "keepalive-conncheck", TRUE, nullptr);
    for (const auto& a : addresses) {
      NiceAddress addr;
      nice_address_init(&addr);
      if (nice_address_set_from_string(&addr, a.c_str())) nice_agent_add_local_address(NICE_AGENT(agent), &addr);
    }
    g_object_unref(agent);
  }
  g_object_unref(ice);
}

GstElement* MakeWebrtc(const std::vector<std::string>& ice) {
  GstElement* w = gst_element_factory_make("webrtcbin", nullptr);
  if (!w) return nullptr;
  g_object_set(w, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  RestrictIce(w, ice);
  return w;
}

// How long webrtcbin gets to answer: an SDP operation is local work of a few ms, so a
// silent webrtcbin is stuck and the connection is given up; stats are only skipped.
constexpr std::chrono::milliseconds kSdpTimeout{5000};
constexpr std::chrono::milliseconds kStatsTimeout{1000};

constexpr char kNoAnswer[] = "webrtcbin did not answer ";

Error WebrtcbinTimeout(const char* what) {
  return {Errc::kMediaConnectionCreateFailed, kNoAnswer + std::string(what) + " within 5 s"};
}

// A timeout is kMediaConnectionCreateFailed: a description that was never applied
// leaves the connection unusable, so the caller drops it.
Status SetDescription(GstElement* webrtc, const char* signal, GstWebRTCSDPType type, const std::string& text) {
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(text.c_str(), &sdp) != GST_SDP_OK)
    return MakeError(Errc::kInvalidSdp, "the server's SDP does not parse");
  GstWebRTCSessionDescription* desc = gst_webrtc_session_description_new(type, sdp);
  gst::BoundedPromise p;
  g_signal_emit_by_name(webrtc, signal, desc, p.get());
  const GstStructure* reply = p.Wait(kSdpTimeout);
  GError* err = nullptr;
  if (reply && gst_structure_has_field(reply, "error")) gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  std::string message = err ? err->message : "";
  if (err) g_error_free(err);
  gst_webrtc_session_description_free(desc);
  if (p.timed_out()) return WebrtcbinTimeout(signal);
  if (!message.empty()) return MakeError(Errc::kInvalidSdp, std::string(signal) + ": " + message);
  return {};
}

// create-offer / create-answer, then set-local-description; returns the SDP text.
Result<std::string> CreateLocal(GstElement* webrtc, bool offer) {
  const char* create = offer ? "create-offer" : "create-answer";
  GstWebRTCSessionDescription* desc = nullptr;
  {
    gst::BoundedPromise p;
    g_signal_emit_by_name(webrtc, create, nullptr, p.get());
    const GstStructure* reply = p.Wait(kSdpTimeout);
    if (p.timed_out()) return WebrtcbinTimeout(create);
    if (reply)
      gst_structure_get(reply, offer ? "offer" : "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  }
  if (!desc)
    return MakeError(Errc::kMediaConnectionCreateFailed,
                     offer ? "webrtcbin made no offer" : "webrtcbin made no answer");
  gst::BoundedPromise set;
  g_signal_emit_by_name(webrtc, "set-local-description", desc, set.get());
  (void)set.Wait(kSdpTimeout);
  if (set.timed_out()) {
    gst_webrtc_session_description_free(desc);
    return WebrtcbinTimeout("set-local-description");
  }
  gchar* text = gst_sdp_message_as_text(desc->sdp);
  std::string out = text;
  g_free(text);
  gst_webrtc_session_description_free(desc);
  return out;
}

// The catalog code for a bus error: sources are named after what they open, so a
// camera, microphone or media file that fails gets its own code; anything else is
// the stream's runtime code.
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

// Stops delivering a pipeline's errors (before it is torn down).
void SilenceBus(BusState& state) {
  std::lock_guard<std::mutex> lock(state.mu);
  state.fn = nullptr;
}

void WatchBus(GstElement* pipeline, BusState* state) {
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(
      bus,
      [](GstBus*, GstMessage* m, gpointer data) -> GstBusSyncReply {
        auto* st = static_cast<BusState*>(data);
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
          GError* err = nullptr;
          gchar* dbg = nullptr;
          gst_message_parse_error(m, &err, &dbg);
          std::string msg = std::string(GST_OBJECT_NAME(m->src)) + ": " + (err ? err->message : "error");
          int32_t code = CodeFor(m->src, err, st->runtime_code);
          {
            std::lock_guard<std::mutex> lock(st->mu);
            if (!st->last_code) {
              st->last_code = code;
              st->last_message = msg;
            }
          }
          MediaErrorFn* fn = nullptr;
          {
            // A failed element (a device gone) may repeat its error many times: once.
            std::lock_guard<std::mutex> lock(st->mu);
            if (st->fn && st->reported.insert(GST_OBJECT_NAME(m->src)).second) fn = st->fn;
          }
          if (fn && *fn) (*fn)(code, msg);
          if (err) g_error_free(err);
          g_free(dbg);
        } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS && st->on_eos) {
          st->on_eos();
        }
        // A sync handler that drops a message owns it (GstBusSyncHandler).
        gst_message_unref(m);
        return GST_BUS_DROP;
      },
      state, nullptr);
  gst_object_unref(bus);
}

// Media from outside the pipeline (the application's frames, a FilePlayer) enters
// through an appsrc the InputFeed stamps; audio is then played out in real time.
constexpr char kAudioFeed[] = "appsrc name=feed format=time is-live=true ! clocksync";
constexpr char kVideoFeed[] = "appsrc name=feed format=time is-live=true ! videoconvert ! videoscale ! videorate";

bool Fed(const std::string& id) {
  return id == "external" || id.rfind("file:", 0) == 0;
}

std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string AudioSource(const std::string& id) {
  // "test:tone" (440 Hz) or "test:tone:<Hz>"; "test:silence"; "file:<path>" and
  // "external" (fed); "device" / "device:<pulse source>".
  if (id.rfind("test:tone", 0) == 0) {
    std::string freq = id.size() > 10 ? id.substr(10) : "440";
    if (freq.find_first_not_of("0123456789.") != std::string::npos) return "";
    return "audiotestsrc is-live=true wave=sine volume=0.3 freq=" + freq;
  }
  if (id == "test:silence") return "audiotestsrc is-live=true wave=silence";
  if (Fed(id)) return kAudioFeed;
  if (id == "device") return "pulsesrc name=microphone";
  if (id.rfind("device:", 0) == 0) return "pulsesrc name=microphone device=" + Quoted(id.substr(7));
  return "";
}

std::string VideoSource(const std::string& id) {
  if (id == "test:pattern") return "videotestsrc is-live=true pattern=ball";
  if (id == "test:bars") return "videotestsrc is-live=true pattern=smpte";
  if (Fed(id)) return kVideoFeed;
  if (id == "device") return "v4l2src name=camera ! videoconvert";
  if (id.rfind("device:", 0) == 0) return "v4l2src name=camera device=" + Quoted(id.substr(7)) + " ! videoconvert";
  return "";
}

std::string ScreenSource(const ScreenOptions& o) {
  std::string d = "ximagesrc name=screen use-damage=false show-pointer=true";
  if (!o.display.empty()) d += " display-name=" + Quoted(o.display);
  if (o.window_id) d += " xid=" + std::to_string(o.window_id);
  return d + " ! videoconvert ! videoscale ! videorate";
}

// The encoder and payloader of a video track, after raw I420 at the configured size.
std::string VideoEncoder(const VideoEncoderConfig& v, const std::string& twcc) {
  std::ostringstream d;
  if (v.codec == VideoCodec::kH264) {
    d << "x264enc tune=zerolatency speed-preset=ultrafast bitrate=" << v.bitrate_kbps << " key-int-max=" << v.fps * 2
      << " ! video/x-h264,profile=constrained-baseline,level=(string)3.1 ! h264parse ! rtph264pay pt=102 "
         "config-interval=-1 "
         "aggregate-mode=zero-latency ! capsfilter caps=\"application/x-rtp,media=video,encoding-name=H264,"
         "payload=102,clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42c01f"
      << twcc << "\"";
  } else {
    d << "vp8enc deadline=1 cpu-used=16 end-usage=cbr target-bitrate=" << v.bitrate_kbps * 1000
      << " keyframe-max-dist=" << v.fps * 2
      << " error-resilient=partitions ! rtpvp8pay pt=96 picture-id-mode=15-bit ! capsfilter caps=\""
         "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
      << twcc << "\"";
  }
  return d.str();
}

std::string RawVideoCaps(const VideoEncoderConfig& v) {
  return "video/x-raw,format=I420,width=" + std::to_string(v.width) + ",height=" + std::to_string(v.height) +
         ",framerate=" + std::to_string(v.fps) + "/1";
}

// Sums webrtcbin's get-stats reply (a structure of per-object structures).
RtpTotals CollectStats(GstElement* webrtc) {
  RtpTotals t;
  gst::BoundedPromise p;
  g_signal_emit_by_name(webrtc, "get-stats", nullptr, p.get());
  const GstStructure* reply = p.Wait(kStatsTimeout);  // none in time: nothing measured
  if (reply) {
    gst_structure_foreach(
        reply,
        [](GQuark, const GValue* value, gpointer data) -> gboolean {
          auto* out = static_cast<RtpTotals*>(data);
          if (!GST_VALUE_HOLDS_STRUCTURE(value)) return TRUE;
          const GstStructure* s = gst_value_get_structure(value);
          GstWebRTCStatsType type;
          if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) return TRUE;
          guint64 u = 0;
          guint u32 = 0;
          gint i32 = 0;
          gint64 i64 = 0;
          double d = 0;
          if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
            if (gst_structure_get_uint64(s, "bytes-sent", &u)) out->bytes_sent += u;
            if (gst_structure_get_uint64(s, "packets-sent", &u)) out->packets_sent += u;
          } else if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
            if (gst_structure_get_uint64(s, "bytes-received", &u)) out->bytes_received += u;
            if (gst_structure_get_uint64(s, "packets-received", &u))
              out->packets_received += u;
            else if (gst_structure_get_uint(s, "packets-received", &u32))
              out->packets_received += u32;
            if (gst_structure_get_int64(s, "packets-lost", &i64))
              out->packets_lost += i64;
            else if (gst_structure_get_int(s, "packets-lost", &i32))
              out->packets_lost += i32;
            if (gst_structure_get_double(s, "jitter", &d)) out->jitter_s = std::max(out->jitter_s, d);
          } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
            if (gst_structure_get_double(s, "round-trip-time", &d) && d > 0) out->rtt_s = std::max(out->rtt_s, d);
          }
          return TRUE;
        },
        &t);
  }
  return t;
}

// A renderer or a speaker: its own small pipeline fed from an appsrc, so a window
// that cannot open or a speaker that disappears fails alone — never the connection
// whose media it plays. Failures arrive through on_error with the codes of the
// element names: "render" 0x01040201 / 0x01040202, "speaker" 0x01040405 / 0x01040407.
class FedSink {
 public:
  static std::unique_ptr<FedSink> Open(const std::string& sink, uint64_t window, MediaErrorFn on_error) {
    std::unique_ptr<FedSink> f(new FedSink());
    f->on_error_ = std::move(on_error);
    std::string desc =
        "appsrc name=src is-live=true format=time do-timestamp=true ! queue leaky=downstream "
        "max-size-buffers=3 max-size-time=0 max-size-bytes=0 ! " +
        sink;
    GError* err = nullptr;
    f->pipeline_ = gst_parse_launch(desc.c_str(), &err);
    if (err) g_error_free(err);
    if (!f->pipeline_) return nullptr;
    f->src_ = gst_bin_get_by_name(GST_BIN(f->pipeline_), "src");
    if (window)
      if (GstElement* render = gst_bin_get_by_name(GST_BIN(f->pipeline_), "render")) {
        gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(render), static_cast<guintptr>(window));
        gst_object_unref(render);
      }
    f->bus_.fn = &f->on_error_;
    WatchBus(f->pipeline_, &f->bus_);
    if (gst_element_set_state(f->pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) return nullptr;
    return f;
  }
  ~FedSink() {
    SilenceBus(bus_);
    gst_caps_replace(&caps_, nullptr);
    if (src_) gst_object_unref(src_);
    if (pipeline_) {
      gst_element_set_state(pipeline_, GST_STATE_NULL);
      gst_object_unref(pipeline_);
    }
  }
  FedSink(const FedSink&) = delete;
  FedSink& operator=(const FedSink&) = delete;
  /// Plays `buffer` (a new reference is taken) of `caps`.
  void Push(GstBuffer* buffer, GstCaps* caps) {
    if (!caps_ || !gst_caps_is_equal(caps, caps_)) {
      gst_app_src_set_caps(GST_APP_SRC(src_), caps);
      gst_caps_replace(&caps_, caps);
    }
    GstBuffer* copy = gst_buffer_copy(buffer);  // shares the memory; our own timestamps
    GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(src_), copy);
  }

 private:
  FedSink() = default;
  GstElement* pipeline_ = nullptr;
  GstElement* src_ = nullptr;
  GstCaps* caps_ = nullptr;
  MediaErrorFn on_error_;
  BusState bus_;
};

constexpr char kRenderSink[] = "videoconvert ! ximagesink name=render sync=false";

GstClockTime RunningTime(GstElement* e) {
  GstClock* clock = gst_element_get_clock(e);
  if (!clock) return 0;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(e);
  return now > base ? now - base : 0;
}

}  // namespace

bool media::TimedOut(const Error& e) {
  return e.code == Errc::kMediaConnectionCreateFailed && e.message.rfind(kNoAnswer, 0) == 0;
}

Status InitMedia() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    GError* err = nullptr;
    if (!gst_init_check(nullptr, nullptr, &err)) {
      failure = std::string("GStreamer failed to initialize: ") + (err ? err->message : "?");
      if (err) g_error_free(err);
    }
  });
  if (!failure.empty()) return MakeError(Errc::kInitMediaEngineFailed, failure);
  for (const auto& n : kNeeded) {
    GstElementFactory* f = gst_element_factory_find(n.element);
    if (!f)
      return MakeError(Errc::kInitMissingPlugin, std::string("GStreamer element '") + n.element +
                                                     "' is missing (install the Debian package " + n.package + ")");
    gst_object_unref(f);
  }
  return {};
}

// ---- devices -----------------------------------------------------------------

std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) {
  std::vector<DeviceInfo> out;
  const char* klass = kind == DeviceKind::kMicrophone ? "Audio/Source"
                      : kind == DeviceKind::kSpeaker  ? "Audio/Sink"
                                                      : "Video/Source";
  GstDeviceMonitor* monitor = gst_device_monitor_new();
  gst_device_monitor_add_filter(monitor, klass, nullptr);
  if (gst_device_monitor_start(monitor)) {
    GList* devices = gst_device_monitor_get_devices(monitor);
    for (GList* l = devices; l; l = l->next) {
      GstDevice* dev = GST_DEVICE(l->data);
      DeviceInfo d;
      d.kind = kind;
      gchar* name = gst_device_get_display_name(dev);
      d.name = name ? name : "";
      g_free(name);
      // The id the capture element takes: PulseAudio's source/sink name, V4L2's path.
      GObjectClass* cls = G_OBJECT_GET_CLASS(dev);
      for (const char* prop : {"internal-name", "device-path"}) {
        if (!d.id.empty() || !g_object_class_find_property(cls, prop)) continue;
        gchar* v = nullptr;
        g_object_get(dev, prop, &v, nullptr);
        if (v) d.id = v;
        g_free(v);
      }
      if (GstStructure* props = gst_device_get_properties(dev)) {
        gboolean def = FALSE;
        if (gst_structure_get_boolean(props, "is-default", &def)) d.is_default = def;
        if (d.id.empty())
          for (const char* key : {"device.path", "api.v4l2.path", "node.name"})
            if (const gchar* v = gst_structure_get_string(props, key)) {
              d.id = v;
              break;
            }
        gst_structure_free(props);
      }
      if (!d.id.empty()) out.push_back(d);
    }
    g_list_free_full(devices, gst_object_unref);
    gst_device_monitor_stop(monitor);
  }
  gst_object_unref(monitor);
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

// ---- input feeds and media files ---------------------------------------------

InputFeed::~InputFeed() {
  if (src_) gst_object_unref(src_);
  gst_caps_replace(&caps_, nullptr);
}

void InputFeed::Attach(GstElement* appsrc) {
  std::lock_guard<std::mutex> lock(mu_);
  if (src_) gst_object_unref(src_);
  src_ = GST_ELEMENT(gst_object_ref(appsrc));
  gst_caps_replace(&caps_, nullptr);
  next_ = GST_CLOCK_TIME_NONE;
}

void InputFeed::Detach(GstElement* appsrc) {
  std::lock_guard<std::mutex> lock(mu_);
  if (src_ != appsrc) return;  // a newer publish connection took over
  gst_object_unref(src_);
  src_ = nullptr;
  gst_caps_replace(&caps_, nullptr);
  next_ = GST_CLOCK_TIME_NONE;
}

bool InputFeed::attached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return src_ != nullptr;
}

GstClockTime InputFeed::Now() const {
  return RunningTime(src_);
}

int32_t InputFeed::PushAudio(GstBuffer* buffer, int rate, int channels, bool bounded) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!src_) {
    gst_buffer_unref(buffer);
    return static_cast<int32_t>(Errc::kPublishStreamNotExist);
  }
  GstClockTime now = Now();
  // Stamped back to back from where the last buffer ended; after a gap (the producer
  // fell behind) the stream restarts at now.
  if (next_ == GST_CLOCK_TIME_NONE || next_ < now) next_ = now;
  if (bounded && next_ > now + kMaxAudioAhead) {
    gst_buffer_unref(buffer);
    return static_cast<int32_t>(Errc::kExternalAudioBufferFull);
  }
  GstCaps* caps =
      gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING, "interleaved",
                          "rate", G_TYPE_INT, rate, "channels", G_TYPE_INT, channels, nullptr);
  if (!caps_ || !gst_caps_is_equal(caps, caps_)) {
    gst_app_src_set_caps(GST_APP_SRC(src_), caps);
    gst_caps_replace(&caps_, caps);
  }
  gst_caps_unref(caps);
  guint64 samples = gst_buffer_get_size(buffer) / (2 * static_cast<guint64>(channels));
  GstClockTime duration = gst_util_uint64_scale(samples, GST_SECOND, static_cast<guint64>(rate));
  buffer = gst_buffer_make_writable(buffer);
  GST_BUFFER_PTS(buffer) = next_;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = duration;
  next_ += duration;
  gst_app_src_push_buffer(GST_APP_SRC(src_), buffer);
  return 0;
}

int32_t InputFeed::PushVideo(GstBuffer* buffer, int width, int height, bool bounded) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!src_) {
    gst_buffer_unref(buffer);
    return static_cast<int32_t>(Errc::kPublishStreamNotExist);
  }
  if (bounded && gst_app_src_get_current_level_buffers(GST_APP_SRC(src_)) >= kMaxVideoQueued) {
    gst_buffer_unref(buffer);
    return static_cast<int32_t>(Errc::kExternalAudioBufferFull);
  }
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width,
                                      "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 0, 1, nullptr);
  if (!caps_ || !gst_caps_is_equal(caps, caps_)) {
    gst_app_src_set_caps(GST_APP_SRC(src_), caps);
    gst_caps_replace(&caps_, caps);
  }
  gst_caps_unref(caps);
  // Live video is stamped when it arrives (strictly increasing).
  GstClockTime now = Now();
  if (next_ != GST_CLOCK_TIME_NONE && now <= next_) now = next_ + GST_MSECOND;
  next_ = now;
  buffer = gst_buffer_make_writable(buffer);
  GST_BUFFER_PTS(buffer) = now;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(src_), buffer);
  return 0;
}

FilePlayer::FilePlayer() = default;

Result<std::unique_ptr<FilePlayer>> FilePlayer::Open(const std::string& path, InputFeed* audio, InputFeed* video,
                                                     EndFn on_end, MediaErrorFn on_error) {
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f)
      return MakeError(Errc::kMediaFileOpenFailed, "cannot open media file " + path + ": " + std::strerror(errno));
    std::fclose(f);
  }
  std::unique_ptr<FilePlayer> p(new FilePlayer());
  p->audio_ = audio;
  p->video_ = video;
  p->on_end_ = std::move(on_end);
  p->on_error_ = std::move(on_error);
  p->pipeline_ = gst_pipeline_new("parley-file");
  GstElement* dec = gst_element_factory_make("uridecodebin", "mediafile");
  if (!dec) return MakeError(Errc::kInitMissingPlugin, "GStreamer element 'uridecodebin' is missing");
  GError* err = nullptr;
  gchar* uri = gst_filename_to_uri(path.c_str(), &err);
  if (!uri) {
    std::string m = err ? err->message : "?";
    if (err) g_error_free(err);
    gst_object_unref(dec);
    return MakeError(Errc::kMediaFileOpenFailed, "bad media file path " + path + ": " + m);
  }
  g_object_set(dec, "uri", uri, nullptr);
  g_free(uri);
  g_signal_connect(dec, "pad-added", G_CALLBACK(&FilePlayer::OnPad), p.get());
  gst_bin_add(GST_BIN(p->pipeline_), dec);
  p->bus_ = std::make_unique<BusState>();
  p->bus_->runtime_code = static_cast<int32_t>(Errc::kMediaFileOpenFailed);
  FilePlayer* self = p.get();
  p->bus_->on_eos = [self] {
    self->state_ = FileState::kEnded;
    if (self->on_end_) self->on_end_();
  };
  WatchBus(p->pipeline_, p->bus_.get());
  gst_element_set_state(p->pipeline_, GST_STATE_PAUSED);
  GstStateChangeReturn r = gst_element_get_state(p->pipeline_, nullptr, nullptr, 10 * GST_SECOND);
  {
    std::lock_guard<std::mutex> lock(p->bus_->mu);
    if (r == GST_STATE_CHANGE_FAILURE || p->bus_->last_code)
      return MakeError(Errc::kMediaFileOpenFailed,
                       "cannot play media file " + path + ": " +
                           (p->bus_->last_message.empty() ? "no media" : p->bus_->last_message));
    p->bus_->fn = &p->on_error_;
  }
  if (!p->has_audio_ && !p->has_video_)
    return MakeError(Errc::kMediaFileOpenFailed, "media file " + path + " has no audio or video stream");
  p->filler_ = std::thread([self] { self->Filler(); });
  return p;
}

FilePlayer::~FilePlayer() {
  if (bus_) SilenceBus(*bus_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (filler_.joinable()) filler_.join();
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  if (last_frame_) gst_buffer_unref(last_frame_);
}

// uridecodebin found a stream: audio and video go (converted) to an appsink that
// paces them in real time, anything else (or a kind nobody publishes) to a fakesink.
void FilePlayer::OnPad(GstElement*, GstPad* pad, gpointer data) {
  auto* self = static_cast<FilePlayer*>(data);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  std::string name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  gst_caps_unref(caps);
  // The first stream of each kind is taken (pads may come on different threads).
  bool audio = name.rfind("audio/", 0) == 0 && self->audio_ && !self->has_audio_.exchange(true);
  bool video = name.rfind("video/", 0) == 0 && self->video_ && !self->has_video_.exchange(true);
  const char* desc = audio   ? "audioconvert ! audioresample ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,"
                               "channels=2 ! appsink name=sink sync=true"
                     : video ? "videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=true"
                             : "fakesink sync=true";
  GstElement* bin = gst_parse_bin_from_description(desc, TRUE, nullptr);
  if (!bin) {
    if (audio || video) (audio ? self->has_audio_ : self->has_video_) = false;
    return;
  }
  if (audio || video) {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
    g_object_set_data(G_OBJECT(sink), "parley-video", GINT_TO_POINTER(video ? 1 : 0));
    g_object_set(sink, "emit-signals", TRUE, nullptr);
    g_signal_connect(sink, "new-sample", G_CALLBACK(&FilePlayer::OnSample), self);
    gst_object_unref(sink);
  }
  gst_bin_add(GST_BIN(self->pipeline_), bin);
  gst_element_sync_state_with_parent(bin);
  GstPad* in = gst_element_get_static_pad(bin, "sink");
  gst_pad_link(pad, in);
  gst_object_unref(in);
}

GstFlowReturn FilePlayer::OnSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<FilePlayer*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buf = gst_sample_get_buffer(sample);
  if (buf) {
    if (g_object_get_data(G_OBJECT(sink), "parley-video")) {
      GstVideoInfo info;
      if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) {
        {
          std::lock_guard<std::mutex> lock(self->mu_);
          gst_buffer_replace(&self->last_frame_, buf);
          self->last_w_ = GST_VIDEO_INFO_WIDTH(&info);
          self->last_h_ = GST_VIDEO_INFO_HEIGHT(&info);
        }
        self->video_->PushVideo(gst_buffer_copy(buf), GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info), false);
      }
    } else {
      self->audio_->PushAudio(gst_buffer_copy(buf), 48000, 2, false);
    }
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// While paused or ended the tracks stay alive: 20 ms of silence every 20 ms and the
// last frame five times a second, so receivers see a still picture, not a dead stream.
void FilePlayer::Filler() {
  constexpr int kSamples = 960;  // 20 ms at 48 kHz
  int tick = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(20));
    if (stop_ || state_ == FileState::kPlaying) continue;
    GstBuffer* frame = (++tick % 10 == 0 && last_frame_) ? gst_buffer_copy(last_frame_) : nullptr;
    int w = last_w_, h = last_h_;
    lock.unlock();
    if (has_audio_) {
      GstBuffer* silence = gst_buffer_new_allocate(nullptr, kSamples * 2 * 2, nullptr);
      gst_buffer_memset(silence, 0, 0, kSamples * 2 * 2);
      audio_->PushAudio(silence, 48000, 2, false);
    }
    if (frame) video_->PushVideo(frame, w, h, false);
    lock.lock();
  }
}

Status FilePlayer::Play() {
  // Before the pipeline runs, so an end of stream right after it is not overwritten.
  FileState paused = FileState::kPaused;
  state_.compare_exchange_strong(paused, FileState::kPlaying);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the media file does not play");
  return {};
}

Status FilePlayer::Pause() {
  if (state_ == FileState::kEnded) return {};  // nothing plays; a seek restarts it
  if (gst_element_set_state(pipeline_, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the media file does not pause");
  state_ = FileState::kPaused;
  return {};
}

Status FilePlayer::Seek(int64_t position_ms) {
  if (position_ms < 0) return MakeError(Errc::kPublishConfigInvalid, "negative seek position");
  int64_t duration = DurationMs();
  if (duration > 0 && position_ms > duration) position_ms = duration;
  if (!gst_element_seek_simple(pipeline_, GST_FORMAT_TIME,
                               static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                               static_cast<gint64>(position_ms) * GST_MSECOND))
    return MakeError(Errc::kMediaFileOpenFailed, "the media file cannot seek");
  if (state_ == FileState::kEnded) {
    // An ended file seeks back into playing.
    state_ = FileState::kPaused;
    return Play();
  }
  return {};
}

int64_t FilePlayer::PositionMs() const {
  gint64 pos = 0;
  if (!gst_element_query_position(pipeline_, GST_FORMAT_TIME, &pos))
    return state_ == FileState::kEnded ? DurationMs() : 0;
  return pos / static_cast<gint64>(GST_MSECOND);
}

int64_t FilePlayer::DurationMs() const {
  gint64 d = 0;
  if (!gst_element_query_duration(pipeline_, GST_FORMAT_TIME, &d)) return -1;
  return d / static_cast<gint64>(GST_MSECOND);
}

// ---- publish -----------------------------------------------------------------

struct Publisher::Impl {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  MediaErrorFn on_error;
  BusState bus;
  std::vector<std::pair<InputFeed*, GstElement*>> feeds;  // attached appsrcs
  GstElement* volume = nullptr;                           // the audio track's mute
  bool has_camera = false;
  std::mutex preview_mu;
  std::unique_ptr<FedSink> preview;  // the local camera's renderer (under preview_mu)
  std::atomic<bool> black{false};
  ~Impl() {
    SilenceBus(bus);  // what fails while tearing down is not the app's problem
    for (auto& [feed, src] : feeds) {
      feed->Detach(src);
      gst_object_unref(src);
    }
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
    if (volume) gst_object_unref(volume);
  }

  // Each camera frame before the encoder: shown in the preview window if there is one;
  // while muted, replaced by a black frame of the same size (the encoder and the
  // receivers keep going; a black frame costs almost nothing to encode).
  static GstPadProbeReturn Blacken(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    {
      std::lock_guard<std::mutex> lock(self->preview_mu);
      if (self->preview)
        if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
          self->preview->Push(GST_PAD_PROBE_INFO_BUFFER(info), caps);
          gst_caps_unref(caps);
        }
    }
    if (!self->black.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
    GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
      // I420: luma 16, chroma 128 — the planes' sizes follow from the buffer's.
      size_t luma = map.size * 2 / 3;
      std::memset(map.data, 16, luma);
      std::memset(map.data + luma, 128, map.size - luma);
      gst_buffer_unmap(buf, &map);
    }
    return GST_PAD_PROBE_OK;
  }
};

Result<std::unique_ptr<Publisher>> Publisher::Create(const PublishOptions& o, MediaErrorFn on_error) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->impl_ = std::make_unique<Impl>();
  Impl& im = *p->impl_;
  im.on_error = std::move(on_error);
  im.pipeline = gst_pipeline_new("parley-publish");
  // The system clock, never a device's: a microphone that goes away must not stop the
  // clock the camera and the encoders run on.
  GstClock* clock = gst_system_clock_obtain();
  gst_pipeline_use_clock(GST_PIPELINE(im.pipeline), clock);
  gst_object_unref(clock);
  im.webrtc = MakeWebrtc(o.ice_addresses);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline), im.webrtc);
  // Errors while starting come back from Create; only later ones go to on_error.
  im.bus.runtime_code = static_cast<int32_t>(Errc::kPublishStreamRuntimeError);
  WatchBus(im.pipeline, &im.bus);
  std::string twcc = std::string(",extmap-") + std::to_string(kTwccId) + "=(string)\"" + kTwccUri + "\"";
  struct Branch {
    std::string desc;
    TrackKind kind;
  };
  std::vector<Branch> branches;  // in the order the server maps them: audio, camera, screen
  if (o.audio) {
    std::string src = AudioSource(o.audio_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown audio source " + o.audio_source);
    branches.push_back({src + " ! audioconvert ! audioresample ! volume name=mute" +
                            (o.mute_audio ? " mute=true" : "") +
                            " ! opusenc inband-fec=true bitrate=32000 ! rtpopuspay pt=111 ! capsfilter "
                            "caps=\"application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000" +
                            twcc + "\"",
                        TrackKind::kAudio});
  }
  if (o.video) {
    std::string src = VideoSource(o.video_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown video source " + o.video_source);
    branches.push_back({src + " ! " + RawVideoCaps(o.video_config) + " ! videoconvert name=venc ! " +
                            VideoEncoder(o.video_config, twcc),
                        TrackKind::kCamera});
  }
  if (o.screen) {
    if (GstElementFactory* f = gst_element_factory_find("ximagesrc"))
      gst_object_unref(f);
    else
      return MakeError(Errc::kInitMissingPlugin,
                       "GStreamer element 'ximagesrc' is missing (install the Debian package "
                       "gstreamer1.0-plugins-good)");
    branches.push_back({ScreenSource(o.screen_options) + " ! " + RawVideoCaps(o.screen_options.video) + " ! " +
                            VideoEncoder(o.screen_options.video, twcc),
                        TrackKind::kScreen});
  }
  im.black = o.mute_video;
  for (auto& [desc, kind] : branches) {
    bool video = kind != TrackKind::kAudio;
    GError* err = nullptr;
    GstElement* bin = gst_parse_bin_from_description(desc.c_str(), FALSE, &err);
    if (!bin) {
      std::string m = err ? err->message : "?";
      if (err) g_error_free(err);
      return MakeError(Errc::kPublishStreamStartError,
                       "cannot build the " + std::string(video ? "video" : "audio") + " pipeline: " + m);
    }
    if (GstPad* out = gst_bin_find_unlinked_pad(GST_BIN(bin), GST_PAD_SRC)) {
      gst_element_add_pad(bin, gst_ghost_pad_new("src", out));
      gst_object_unref(out);
    }
    gst_bin_add(GST_BIN(im.pipeline), bin);
    if (GstElement* feed = gst_bin_get_by_name(GST_BIN(bin), "feed")) {
      InputFeed* target = kind == TrackKind::kAudio ? o.audio_feed : o.video_feed;
      if (target) {
        im.feeds.push_back({target, feed});  // attached by AttachFeeds
      } else {
        gst_object_unref(feed);
      }
    }
    if (kind == TrackKind::kAudio) im.volume = gst_bin_get_by_name(GST_BIN(bin), "mute");
    if (kind == TrackKind::kCamera) {
      im.has_camera = true;
      if (GstElement* venc = gst_bin_get_by_name(GST_BIN(bin), "venc")) {
        GstPad* pad = gst_element_get_static_pad(venc, "sink");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &Impl::Blacken, &im, nullptr);
        gst_object_unref(pad);
        gst_object_unref(venc);
      }
    }
    GstPad* src = gst_element_get_static_pad(bin, "src");
    // A source that fails (a device unplugged) ends its stream with EOS; on a bundled
    // connection that EOS would stop every track, so the others go on without it.
    gst_pad_add_probe(
        src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo* info, gpointer) -> GstPadProbeReturn {
          return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
                                                                                 : GST_PAD_PROBE_OK;
        },
        nullptr, nullptr);
    GstPad* sink = gst_element_request_pad_simple(im.webrtc, "sink_%u");
    bool linked = gst_pad_link(src, sink) == GST_PAD_LINK_OK;
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    if (trans) {
      // We only send; video asks for NACK/RTX so the SFU can repair what it loses.
      g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
      if (video) g_object_set(trans, "do-nack", TRUE, nullptr);
      gst_object_unref(trans);
    }
    gst_object_unref(src);
    gst_object_unref(sink);
    if (!linked) return MakeError(Errc::kPublishStreamStartError, "cannot link a source to webrtcbin");
  }
  if (gst_element_set_state(im.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The source that could not open said why on the bus (device codes).
    std::lock_guard<std::mutex> lock(im.bus.mu);
    if (im.bus.last_code) return MakeError(static_cast<Errc>(im.bus.last_code), im.bus.last_message);
    return MakeError(Errc::kPublishStreamStartError, "the publish pipeline did not start");
  }
  {
    std::lock_guard<std::mutex> lock(im.bus.mu);
    im.bus.fn = &im.on_error;
  }
  return p;
}

Publisher::~Publisher() = default;

Result<std::string> Publisher::CreateOffer() {
  return CreateLocal(impl_->webrtc, true);
}

RtpTotals Publisher::Stats() {
  return CollectStats(impl_->webrtc);
}

Status Publisher::SetAnswer(const std::string& sdp) {
  return SetDescription(impl_->webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
}

void Publisher::Mute(TrackKind track, bool muted) {
  if (track == TrackKind::kAudio && impl_->volume) g_object_set(impl_->volume, "mute", muted ? TRUE : FALSE, nullptr);
  if (track == TrackKind::kCamera) impl_->black = muted;
}

void Publisher::AttachFeeds() {
  for (auto& [feed, src] : impl_->feeds) feed->Attach(src);
}

Status Publisher::SetPreviewWindow(uint64_t window) {
  Impl& im = *impl_;
  if (window && !im.has_camera) return MakeError(Errc::kPublishStreamNotExist, "no camera track to preview");
  std::unique_ptr<FedSink> sink;
  if (window) {
    sink = FedSink::Open(kRenderSink, window, im.on_error);
    if (!sink) return MakeError(Errc::kRenderOpenFailed, "the preview renderer did not start");
  }
  {
    std::lock_guard<std::mutex> lock(im.preview_mu);
    std::swap(im.preview, sink);
  }
  sink.reset();  // the old renderer stops outside the lock the camera thread takes
  return {};
}

// ---- subscribe ---------------------------------------------------------------

struct Subscriber::Impl {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  SubscribeOptions options;
  VideoFn on_video;
  AudioFn on_audio;
  TrackFn on_track;
  RecordFn on_record;
  MediaErrorFn on_error;
  BusState bus;
  std::mutex mu;
  std::map<std::string, RemoteTrackInfo> by_mid;  ///< from the offers' a=msid
  using Key = std::pair<std::string, TrackKind>;
  std::map<Key, uint64_t> windows;                   ///< wanted render windows
  std::map<Key, std::unique_ptr<FedSink>> renders;   ///< running renderers
  std::map<Key, std::unique_ptr<FedSink>> speakers;  ///< remote audio playout
  std::vector<GstElement*> recorders;                ///< the recording branches' first element (under mu)
  bool closing = false;                              ///< teardown began: no new branches (under mu)
  std::map<std::string, int> record_names;           ///< file names used, for -2, -3 …
  // Recording branches whose EOS reached the file, counted by pad probes at teardown.
  // Members, not a block handed to the probes: the streaming threads stop (state
  // NULL) before the Impl goes, and the counter exists before those threads do.
  std::mutex eos_mu;
  std::condition_variable eos_cv;
  size_t eos_count = 0;

  ~Impl() {
    if (!pipeline) return;
    SilenceBus(bus);
    FinishRecordings();
    gst_element_set_state(pipeline, GST_STATE_NULL);
    for (GstElement* r : recorders) gst_object_unref(r);
    gst_object_unref(pipeline);
  }

  // EOS into each recording branch, then wait (bounded) for it to reach the file:
  // the muxers write their headers' durations and indexes on EOS.
  void FinishRecordings() {
    std::vector<GstElement*> list;
    {
      std::lock_guard<std::mutex> lock(mu);
      closing = true;
      list = recorders;
    }
    if (list.empty()) return;
    for (GstElement* first : list) {
      GstElement* bin = GST_ELEMENT(gst_element_get_parent(first));
      GstElement* file = bin ? gst_bin_get_by_name(GST_BIN(bin), "file") : nullptr;
      if (file) {
        GstPad* pad = gst_element_get_static_pad(file, "sink");
        gst_pad_add_probe(
            pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
            [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
              if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
              auto* self = static_cast<Impl*>(data);
              std::lock_guard<std::mutex> lock(self->eos_mu);
              ++self->eos_count;
              self->eos_cv.notify_all();
              return GST_PAD_PROBE_OK;
            },
            this, nullptr);
        gst_object_unref(pad);
        gst_object_unref(file);
      }
      if (bin) gst_object_unref(bin);
      GstPad* in = gst_element_get_static_pad(first, "sink");
      gst_pad_send_event(in, gst_event_new_eos());
      gst_object_unref(in);
    }
    std::unique_lock<std::mutex> lock(eos_mu);
    eos_cv.wait_for(lock, std::chrono::seconds(3), [&] { return eos_count >= list.size(); });
  }

  struct SinkCtx {
    Impl* impl;
    RemoteTrackInfo info;
    bool video;
  };

  static GstFlowReturn OnSample(GstAppSink* sink, gpointer data) {
    auto* c = static_cast<SinkCtx*>(data);
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_OK;
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstCaps* caps = gst_sample_get_caps(sample);
    GstMapInfo map;
    if (buf && caps && gst_buffer_map(buf, &map, GST_MAP_READ)) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      if (c->video) {
        VideoFrame f;
        gst_structure_get_int(s, "width", &f.width);
        gst_structure_get_int(s, "height", &f.height);
        f.timestamp_us = GST_BUFFER_PTS_IS_VALID(buf) ? static_cast<int64_t>(GST_BUFFER_PTS(buf) / 1000) : 0;
        f.data = map.data;
        f.size = map.size;
        if (c->impl->on_video) c->impl->on_video(c->info, f);
        c->impl->Play(c->impl->renders, c->info, buf, caps);
      } else {
        AudioFrame f;
        gst_structure_get_int(s, "rate", &f.sample_rate);
        gst_structure_get_int(s, "channels", &f.channels);
        f.samples = map.size / sizeof(int16_t) / static_cast<size_t>(std::max(1, f.channels));
        f.data = reinterpret_cast<const int16_t*>(map.data);
        if (c->impl->on_audio) c->impl->on_audio(c->info, f);
        c->impl->Play(c->impl->speakers, c->info, buf, caps);
      }
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  void Play(std::map<Key, std::unique_ptr<FedSink>>& sinks, const RemoteTrackInfo& info, GstBuffer* buf,
            GstCaps* caps) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = sinks.find({info.user_id, info.track});
    if (it != sinks.end() && it->second) it->second->Push(buf, caps);
  }

  std::string PlayoutSink() const {
    const std::string& p = options.playout;
    const std::string play = "audioconvert ! audioresample ! ";
    // Played as it arrives (the jitter buffer already paced it): no clock sync.
    if (p == "auto") return play + "autoaudiosink name=speaker sync=false";
    if (p == "device") return play + "pulsesink name=speaker sync=false";
    if (p.rfind("device:", 0) == 0) return play + "pulsesink name=speaker sync=false device=" + Quoted(p.substr(7));
    return "";
  }

  // decodebin produced raw media: convert to I420 / S16 mono 48 kHz into an appsink
  // (which also feeds this track's renderer or speaker, when there is one).
  static void OnDecoded(GstElement* decodebin, GstPad* pad, gpointer data) {
    auto* self = static_cast<Impl*>(g_object_get_data(G_OBJECT(decodebin), "parley-impl"));
    auto* info = static_cast<RemoteTrackInfo*>(data);
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, nullptr);
    std::string name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    gst_caps_unref(caps);
    bool video = name.rfind("video/", 0) == 0;
    const char* desc = video ? "videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false"
                             : "audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
                               "appsink name=sink sync=false";
    GstElement* bin = gst_parse_bin_from_description(desc, TRUE, nullptr);
    if (!bin) return;
    gst_bin_add(GST_BIN(self->pipeline), bin);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
    auto* ctx = new SinkCtx{self, *info, video};
    GstAppSinkCallbacks cb{};
    cb.new_sample = &Impl::OnSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, ctx, [](gpointer d) { delete static_cast<SinkCtx*>(d); });
    gst_object_unref(sink);
    gst_element_sync_state_with_parent(bin);
    GstPad* in = gst_element_get_static_pad(bin, "sink");
    gst_pad_link(pad, in);
    gst_object_unref(in);
    std::string speaker = self->PlayoutSink();
    if (!video && !speaker.empty()) {
      auto out = FedSink::Open(speaker, 0, self->on_error);
      std::lock_guard<std::mutex> lock(self->mu);
      self->speakers[{info->user_id, info->track}] = std::move(out);
    }
  }

  // The recording branch of one received stream: depayload, mux, write (no decoding).
  void AddRecorder(GstElement* tee, const RemoteTrackInfo& info, const std::string& encoding) {  // mu held
    if (closing) return;
    std::string chain, ext;
    if (encoding == "OPUS") {
      chain = "rtpopusdepay ! opusparse ! oggmux";
      ext = "ogg";
    } else if (encoding == "VP8") {
      chain = "rtpvp8depay ! webmmux";
      ext = "webm";
    } else if (encoding == "H264") {
      chain = "rtph264depay ! h264parse ! matroskamux";
      ext = "mkv";
    } else {
      return;
    }
    std::string base = (info.user_id.empty() ? std::string("unknown") : info.user_id) + "-" +
                       (info.track == TrackKind::kAudio    ? "audio"
                        : info.track == TrackKind::kScreen ? "screen"
                                                           : "camera");
    for (char& c : base)
      if (c == '/' || c == '\\' || c == '\0') c = '_';
    int n = ++record_names[base];
    std::string path = options.record_dir + "/" + base + (n > 1 ? "-" + std::to_string(n) : "") + "." + ext;
    std::string desc = "queue name=rec max-size-time=2000000000 max-size-bytes=0 max-size-buffers=0 ! " + chain +
                       " ! filesink name=file location=" + Quoted(path);
    GstElement* bin = gst_parse_bin_from_description(desc.c_str(), TRUE, nullptr);
    if (!bin) return;
    gst_bin_add(GST_BIN(pipeline), bin);
    if (!gst_element_sync_state_with_parent(bin)) {
      gst_element_set_state(bin, GST_STATE_NULL);
      gst_bin_remove(GST_BIN(pipeline), bin);
      if (on_error) on_error(static_cast<int32_t>(Errc::kSubscribeStreamRuntimeError), "cannot record to " + path);
      return;
    }
    GstPad* out = gst_element_request_pad_simple(tee, "src_%u");
    GstPad* in = gst_element_get_static_pad(bin, "sink");
    gst_pad_link(out, in);
    gst_object_unref(in);
    gst_object_unref(out);
    recorders.push_back(gst_bin_get_by_name(GST_BIN(bin), "rec"));
    if (on_record) on_record(info, path);
  }

  // webrtcbin has a new incoming stream: find whose it is by its mid, decode it (and
  // record it when asked).
  static void OnPad(GstElement*, GstPad* pad, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(pad, "transceiver", &trans, nullptr);
    gchar* mid = nullptr;
    if (trans) {
      g_object_get(trans, "mid", &mid, nullptr);
      gst_object_unref(trans);
    }
    RemoteTrackInfo info;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      auto it = mid ? self->by_mid.find(mid) : self->by_mid.end();
      if (it != self->by_mid.end()) info = it->second;
    }
    g_free(mid);
    GstElement* decodebin = gst_element_factory_make("decodebin", nullptr);
    g_object_set_data(G_OBJECT(decodebin), "parley-impl", self);
    auto* owned = new RemoteTrackInfo(info);
    g_signal_connect_data(
        decodebin, "pad-added", G_CALLBACK(&Impl::OnDecoded), owned,
        [](gpointer d, GClosure*) { delete static_cast<RemoteTrackInfo*>(d); }, GConnectFlags(0));
    gst_bin_add(GST_BIN(self->pipeline), decodebin);
    gst_element_sync_state_with_parent(decodebin);
    GstPad* sink = gst_element_get_static_pad(decodebin, "sink");
    if (self->options.record_dir.empty()) {
      gst_pad_link(pad, sink);
    } else {
      std::string encoding;
      if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
        if (const gchar* e = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name")) encoding = e;
        gst_caps_unref(caps);
      }
      GstElement* tee = gst_element_factory_make("tee", nullptr);
      gst_bin_add(GST_BIN(self->pipeline), tee);
      gst_element_sync_state_with_parent(tee);
      GstPad* tee_in = gst_element_get_static_pad(tee, "sink");
      gst_pad_link(pad, tee_in);
      gst_object_unref(tee_in);
      GstElement* q = gst_element_factory_make("queue", nullptr);
      gst_bin_add(GST_BIN(self->pipeline), q);
      gst_element_sync_state_with_parent(q);
      gst_element_link(tee, q);
      GstPad* q_out = gst_element_get_static_pad(q, "src");
      gst_pad_link(q_out, sink);
      gst_object_unref(q_out);
      std::lock_guard<std::mutex> lock(self->mu);
      self->AddRecorder(tee, info, encoding);
    }
    gst_object_unref(sink);
    if (self->on_track) self->on_track(info);
  }
};

Result<std::unique_ptr<Subscriber>> Subscriber::Create(const SubscribeOptions& options, VideoFn on_video,
                                                       AudioFn on_audio, TrackFn on_track, RecordFn on_record,
                                                       MediaErrorFn on_error) {
  std::unique_ptr<Subscriber> s(new Subscriber());
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  im.options = options;
  im.on_video = std::move(on_video);
  im.on_audio = std::move(on_audio);
  im.on_track = std::move(on_track);
  im.on_record = std::move(on_record);
  im.on_error = std::move(on_error);
  if (!options.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.record_dir, ec);
    if (ec)
      return MakeError(Errc::kSubscribeStreamStartError,
                       "cannot create the recording folder " + options.record_dir + ": " + ec.message());
  }
  im.pipeline = gst_pipeline_new("parley-subscribe");
  im.webrtc = MakeWebrtc(options.ice_addresses);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline), im.webrtc);
  im.bus.fn = &im.on_error;
  im.bus.runtime_code = static_cast<int32_t>(Errc::kSubscribeStreamRuntimeError);
  WatchBus(im.pipeline, &im.bus);
  g_signal_connect(im.webrtc, "pad-added", G_CALLBACK(&Impl::OnPad), &im);
  if (gst_element_set_state(im.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kSubscribeStreamStartError, "the subscribe pipeline did not start");
  return s;
}

Subscriber::~Subscriber() = default;

RtpTotals Subscriber::Stats() {
  return CollectStats(impl_->webrtc);
}

void Subscriber::SetWindow(const std::string& user_id, TrackKind track, uint64_t window) {
  Impl& im = *impl_;
  std::unique_ptr<FedSink> sink;
  if (window) sink = FedSink::Open(kRenderSink, window, im.on_error);  // failures reported by its bus
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.windows[{user_id, track}] = window;
    std::swap(im.renders[{user_id, track}], sink);
  }
  sink.reset();  // the old renderer stops outside the lock the media threads take
}

Result<std::string> Subscriber::ApplyOffer(const std::string& offer) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [mid, info] : ParseTrackIds(offer)) impl_->by_mid[mid] = info;
  }
  // Retired sections stay receiving in webrtcbin's eyes (see KeepSectionsReceiving):
  // a publisher that comes back reuses them, and webrtcbin could not turn them on again.
  std::set<std::string> inactive;
  std::string applied = KeepSectionsReceiving(offer, &inactive);
  if (Status st = SetDescription(impl_->webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_OFFER, applied); !st)
    return st.error();
  auto answer = CreateLocal(impl_->webrtc, false);
  if (!answer) return answer;
  return MarkSectionsInactive(*answer, inactive);
}

}  // namespace parley::sdk
