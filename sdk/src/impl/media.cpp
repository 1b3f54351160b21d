#include "impl/media.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>

namespace parley::sdk {
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

// Waits for a webrtcbin promise and returns its reply (owned by the promise).
const GstStructure* Wait(GstPromise* p) {
  if (gst_promise_wait(p) != GST_PROMISE_RESULT_REPLIED) return nullptr;
  return gst_promise_get_reply(p);
}

Status SetDescription(GstElement* webrtc, const char* signal, GstWebRTCSDPType type, const std::string& text) {
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(text.c_str(), &sdp) != GST_SDP_OK)
    return MakeError(Errc::kInvalidSdp, "the server's SDP does not parse");
  GstWebRTCSessionDescription* desc = gst_webrtc_session_description_new(type, sdp);
  GstPromise* p = gst_promise_new();
  g_signal_emit_by_name(webrtc, signal, desc, p);
  const GstStructure* reply = Wait(p);
  GError* err = nullptr;
  if (reply && gst_structure_has_field(reply, "error")) gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  std::string message = err ? err->message : "";
  if (err) g_error_free(err);
  gst_promise_unref(p);
  gst_webrtc_session_description_free(desc);
  if (!message.empty()) return MakeError(Errc::kInvalidSdp, std::string(signal) + ": " + message);
  return {};
}

// create-offer / create-answer, then set-local-description; returns the SDP text.
Result<std::string> CreateLocal(GstElement* webrtc, bool offer) {
  GstPromise* p = gst_promise_new();
  g_signal_emit_by_name(webrtc, offer ? "create-offer" : "create-answer", nullptr, p);
  const GstStructure* reply = Wait(p);
  GstWebRTCSessionDescription* desc = nullptr;
  if (reply) gst_structure_get(reply, offer ? "offer" : "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  gst_promise_unref(p);
  if (!desc)
    return MakeError(Errc::kMediaConnectionCreateFailed,
                     offer ? "webrtcbin made no offer" : "webrtcbin made no answer");
  GstPromise* set = gst_promise_new();
  g_signal_emit_by_name(webrtc, "set-local-description", desc, set);
  (void)Wait(set);
  gst_promise_unref(set);
  gchar* text = gst_sdp_message_as_text(desc->sdp);
  std::string out = text;
  g_free(text);
  gst_webrtc_session_description_free(desc);
  return out;
}

// The catalog code for a bus error: sources are named after what they open, so a
// camera, microphone or media file that fails gets its own code; anything else is
// the stream's runtime code.
int32_t CodeFor(GstObject* src, int32_t runtime_code) {
  for (GstObject* o = src; o; o = GST_OBJECT_PARENT(o)) {
    std::string name = GST_OBJECT_NAME(o) ? GST_OBJECT_NAME(o) : "";
    if (name == "camera") return static_cast<int32_t>(Errc::kCameraOpenFailed);
    if (name == "microphone") return static_cast<int32_t>(Errc::kAudioRecordDeviceOpenFailed);
    if (name == "mediafile") return static_cast<int32_t>(Errc::kMediaFileOpenFailed);
  }
  return runtime_code;
}

struct BusState {
  MediaErrorFn* fn = nullptr;
  int32_t runtime_code = 0;
  std::mutex mu;
  int32_t last_code = 0;  ///< the first error seen, for a failed start
  std::string last_message;
};

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
          int32_t code = CodeFor(m->src, st->runtime_code);
          {
            std::lock_guard<std::mutex> lock(st->mu);
            if (!st->last_code) {
              st->last_code = code;
              st->last_message = msg;
            }
          }
          MediaErrorFn* fn = nullptr;
          {
            std::lock_guard<std::mutex> lock(st->mu);
            fn = st->fn;
          }
          if (fn && *fn) (*fn)(code, msg);
          if (err) g_error_free(err);
          g_free(dbg);
        }
        return GST_BUS_DROP;
      },
      state, nullptr);
  gst_object_unref(bus);
}

// A media file decoded at its own pace and played out in real time (clocksync): the
// encoders see it as they would a live source. Each branch asks decodebin for only its
// kind of stream (the other is left unexposed; a demuxer stops only when all of its
// outputs are unlinked).
std::string FileBranch(const std::string& path, bool video) {
  return "filesrc name=mediafile location=\"" + path + "\" ! decodebin expose-all-streams=false caps=" +
         (video ? "video/x-raw ! videoconvert ! videoscale ! videorate"
                : "audio/x-raw ! audioconvert ! audioresample") +
         " ! clocksync";
}

std::string AudioSource(const std::string& id) {
  // "test:tone" (440 Hz) or "test:tone:<Hz>"; "test:silence"; "file:<path>";
  // "device" / "device:<pulse source>".
  if (id.rfind("test:tone", 0) == 0) {
    std::string freq = id.size() > 10 ? id.substr(10) : "440";
    return "audiotestsrc is-live=true wave=sine volume=0.3 freq=" + freq;
  }
  if (id == "test:silence") return "audiotestsrc is-live=true wave=silence";
  if (id.rfind("file:", 0) == 0) return FileBranch(id.substr(5), false);
  if (id == "device") return "pulsesrc name=microphone";
  if (id.rfind("device:", 0) == 0) return "pulsesrc name=microphone device=\"" + id.substr(7) + "\"";
  return "";
}

std::string VideoSource(const std::string& id) {
  if (id == "test:pattern") return "videotestsrc is-live=true pattern=ball";
  if (id == "test:bars") return "videotestsrc is-live=true pattern=smpte";
  if (id.rfind("file:", 0) == 0) return FileBranch(id.substr(5), true);
  if (id == "device") return "v4l2src name=camera ! videoconvert";
  if (id.rfind("device:", 0) == 0) return "v4l2src name=camera device=\"" + id.substr(7) + "\" ! videoconvert";
  return "";
}

// A file that is missing or unreadable fails before any pipeline is built.
Status CheckFile(const std::string& source) {
  if (source.rfind("file:", 0) != 0) return {};
  std::string path = source.substr(5);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return MakeError(Errc::kMediaFileOpenFailed, "cannot open media file " + path + ": " + std::strerror(errno));
  std::fclose(f);
  return {};
}

// Sums webrtcbin's get-stats reply (a structure of per-object structures).
RtpTotals CollectStats(GstElement* webrtc) {
  RtpTotals t;
  GstPromise* p = gst_promise_new();
  g_signal_emit_by_name(webrtc, "get-stats", nullptr, p);
  const GstStructure* reply = Wait(p);
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
  gst_promise_unref(p);
  return t;
}

}  // namespace

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

// ---- publish -----------------------------------------------------------------

struct Publisher::Impl {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  MediaErrorFn on_error;
  BusState bus;
  ~Impl() {
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
  }
};

Result<std::unique_ptr<Publisher>> Publisher::Create(const PublishOptions& o, MediaErrorFn on_error) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->impl_ = std::make_unique<Impl>();
  Impl& im = *p->impl_;
  im.on_error = std::move(on_error);
  im.pipeline = gst_pipeline_new("parley-publish");
  im.webrtc = MakeWebrtc(o.ice_addresses);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline), im.webrtc);
  // Errors while starting come back from Create; only later ones go to on_error.
  im.bus.runtime_code = static_cast<int32_t>(Errc::kPublishStreamRuntimeError);
  WatchBus(im.pipeline, &im.bus);
  std::string twcc = std::string(",extmap-") + std::to_string(kTwccId) + "=(string)\"" + kTwccUri + "\"";
  std::vector<std::pair<std::string, bool>> branches;  // description, video
  for (const auto* source : {&o.audio_source, &o.video_source})
    if (Status st = CheckFile(*source);
        !st && ((source == &o.audio_source && o.audio) || (source == &o.video_source && o.video)))
      return st.error();
  if (o.audio) {
    std::string src = AudioSource(o.audio_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown audio source " + o.audio_source);
    branches.push_back({src +
                            " ! audioconvert ! audioresample ! opusenc inband-fec=true bitrate=32000 ! "
                            "rtpopuspay pt=111 ! capsfilter caps=\"application/x-rtp,media=audio,"
                            "encoding-name=OPUS,payload=111,clock-rate=48000" +
                            twcc + "\"",
                        false});
  }
  if (o.video) {
    std::string src = VideoSource(o.video_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown video source " + o.video_source);
    const VideoEncoderConfig& v = o.video_config;
    std::ostringstream d;
    d << src << " ! video/x-raw,format=I420,width=" << v.width << ",height=" << v.height << ",framerate=" << v.fps
      << "/1 ! videoconvert ! ";
    if (v.codec == VideoCodec::kH264) {
      d << "x264enc tune=zerolatency speed-preset=ultrafast bitrate=" << v.bitrate_kbps << " key-int-max=" << v.fps * 2
        << " ! video/x-h264,profile=constrained-baseline ! h264parse ! rtph264pay pt=102 config-interval=-1 "
           "aggregate-mode=zero-latency ! capsfilter caps=\"application/x-rtp,media=video,encoding-name=H264,"
           "payload=102,clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42e01f"
        << twcc << "\"";
    } else {
      d << "vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=" << v.bitrate_kbps * 1000
        << " keyframe-max-dist=" << v.fps * 2
        << " error-resilient=partitions ! rtpvp8pay pt=96 picture-id-mode=15-bit ! capsfilter caps=\""
           "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
        << twcc << "\"";
    }
    branches.push_back({d.str(), true});
  }
  for (auto& [desc, video] : branches) {
    GError* err = nullptr;
    // Only the output is ghosted: ghosting unlinked pads would also ghost the sink pad
    // that a decodebin's delayed link is waiting for (file sources), and steal it.
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
    GstPad* src = gst_element_get_static_pad(bin, "src");
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
    // The source that could not open said why on the bus (device and file codes).
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

// ---- subscribe ---------------------------------------------------------------

struct Subscriber::Impl {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  VideoFn on_video;
  AudioFn on_audio;
  TrackFn on_track;
  MediaErrorFn on_error;
  BusState bus;
  std::mutex mu;
  std::map<std::string, RemoteTrackInfo> by_mid;  ///< from the offers' a=msid
  ~Impl() {
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
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
      } else {
        AudioFrame f;
        gst_structure_get_int(s, "rate", &f.sample_rate);
        gst_structure_get_int(s, "channels", &f.channels);
        f.samples = map.size / sizeof(int16_t) / static_cast<size_t>(std::max(1, f.channels));
        f.data = reinterpret_cast<const int16_t*>(map.data);
        if (c->impl->on_audio) c->impl->on_audio(c->info, f);
      }
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  // decodebin produced raw media: convert to I420 / S16 mono 48 kHz into an appsink.
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
  }

  // webrtcbin has a new incoming stream: find whose it is by its mid, decode it.
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
    gst_pad_link(pad, sink);
    gst_object_unref(sink);
    if (self->on_track) self->on_track(info);
  }
};

Result<std::unique_ptr<Subscriber>> Subscriber::Create(const std::vector<std::string>& ice, VideoFn on_video,
                                                       AudioFn on_audio, TrackFn on_track, MediaErrorFn on_error) {
  std::unique_ptr<Subscriber> s(new Subscriber());
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  im.on_video = std::move(on_video);
  im.on_audio = std::move(on_audio);
  im.on_track = std::move(on_track);
  im.on_error = std::move(on_error);
  im.pipeline = gst_pipeline_new("parley-subscribe");
  im.webrtc = MakeWebrtc(ice);
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

Result<std::string> Subscriber::ApplyOffer(const std::string& offer) {
  {
    // a=mid and a=msid:<user> <user>-<audio|camera|screen> per section.
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::istringstream in(offer);
    std::string line, mid;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("m=", 0) == 0) mid.clear();
      if (line.rfind("a=mid:", 0) == 0) mid = line.substr(6);
      if (line.rfind("a=msid:", 0) == 0 && !mid.empty()) {
        std::string v = line.substr(7);
        auto sp = v.find(' ');
        if (sp == std::string::npos) continue;
        RemoteTrackInfo info;
        info.user_id = v.substr(0, sp);
        std::string track = v.substr(sp + 1 + info.user_id.size() + 1);
        info.track = track == "audio" ? TrackKind::kAudio : track == "screen" ? TrackKind::kScreen : TrackKind::kCamera;
        impl_->by_mid[mid] = info;
      }
    }
  }
  if (Status st = SetDescription(impl_->webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_OFFER, offer); !st)
    return st.error();
  return CreateLocal(impl_->webrtc, false);
}

}  // namespace parley::sdk
