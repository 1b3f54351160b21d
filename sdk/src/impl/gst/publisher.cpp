#include "impl/gst/publisher.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "impl/gst/fed_sink.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/pipelines.hpp"
#include "impl/gst/rate_thinner.hpp"
#include "impl/gst/send_rate.hpp"
#include "impl/gst/swap.hpp"
#include "impl/gst/system_audio.hpp"
#include "impl/gst/webrtc.hpp"
#include "parley/proto/vocabulary.hpp"

#include <gst/audio/audio.h>
#include <gst/rtp/gstrtphdrext.h>
#include <gst/video/video.h>

namespace parley::sdk::gst {
namespace {
// Each layer's branch after the camera's split: its own thread and at most a few
// frames (a busy encoder drops old frames rather than delaying the other layer's).
constexpr char kLayerQueue[] = "queue max-size-buffers=3 max-size-bytes=0 max-size-time=0 leaky=downstream";
}  // namespace

struct Publisher::Impl {
  GstPtr<GstElement> pipeline;
  GstElement* webrtc = nullptr;  // the pipeline's
  MediaErrorFn on_error;
  BusState bus;
  // The appsrcs AttachFeeds hands over, each with its track's frame rate (0: audio).
  struct Feed {
    InputFeed* feed;
    GstPtr<GstElement> src;
    int fps;
  };
  std::vector<Feed> feeds;
  GstPtr<GstElement> volume;  // the audio track's mute
  bool has_camera = false;
  std::mutex preview_mu;
  std::unique_ptr<FedSink> preview;  // the local camera's renderer (under preview_mu)
  std::atomic<bool> black{false};
  Snapshots* snapshots = nullptr;             // the factory's
  MixIn* mix = nullptr;                       // the factory's
  std::unique_ptr<SystemAudio> system_audio;  // a screen share's sound
  std::atomic<MixIn*> system_mix{nullptr};    // its mix, once it runs (the probe reads it)
  std::atomic<uint32_t> mic_peak{0};          // the microphone's loudest level since last taken, 127 - dBov
  // Congestion control: the encoders each branch added, then the controller over them.
  GstPtr<GstElement> audio_encoder;
  std::vector<SendRate::Video> video_encoders;
  GstPtr<GstPad> first_src;  // a pad into webrtcbin, where the session's feedback arrives
  // Each video track's MID extension and the webrtcbin pad its packets go into: the
  // offer gives the pad's transceiver its mid, which the extension then writes.
  std::vector<std::pair<GstPtr<GstPad>, GstPtr<GstElement>>> mids;
  // Each track's source part and the pad it feeds (SwapSource).
  struct Source {
    GstPtr<GstElement> part;
    GstPtr<GstPad> into;
  };
  std::map<TrackKind, Source> sources;
  // Dual stream: each layer of the camera, smallest first, with the valve before its
  // encoder (empty: the camera is one stream).
  struct Layer {
    GstPtr<GstElement> valve, encoder;
  };
  std::vector<Layer> layers;
  std::unique_ptr<SendRate> rate;
  ~Impl() {
    SilenceBus(bus);  // what fails while tearing down is not the app's problem
    for (auto& f : feeds) f.feed->Detach(f.src.get());
    feeds.clear();
    if (pipeline) gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    rate.reset();  // its probe goes with the stopped pipeline's pads
    sources.clear();
    pipeline.reset();  // before bus, which its sync handler points at
  }

  // Each camera frame before the encoder: shown in the preview window if there is one;
  // while muted, replaced by a black frame of the same size (the encoder and the
  // receivers keep going; a black frame costs almost nothing to encode).
  static GstPadProbeReturn Blacken(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    {
      std::lock_guard<std::mutex> lock(self->preview_mu);
      if (self->preview)
        if (GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad)))
          self->preview->Push(GST_PAD_PROBE_INFO_BUFFER(info), caps.get());
    }
    if (self->black.load(std::memory_order_relaxed)) {
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
    }
    // A snapshot of the local camera is what is published (black while muted).
    if (self->snapshots && self->snapshots->Wanted())
      if (GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad)))
        self->snapshots->Offer(Snapshots::Key("", Name(TrackKind::kCamera)), GST_PAD_PROBE_INFO_BUFFER(info),
                               caps.get());
    return GST_PAD_PROBE_OK;
  }

  // Each audio buffer before the mute (48 kHz S16): the accompaniment added, when one
  // plays.
  static GstPadProbeReturn AddMix(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    MixIn* system = self->system_mix.load(std::memory_order_acquire);
    const bool accompany = self->mix && self->mix->open();
    if (!accompany && !(system && system->open())) return GST_PAD_PROBE_OK;
    GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad));
    GstAudioInfo audio;
    if (!caps || !gst_audio_info_from_caps(&audio, caps.get())) return GST_PAD_PROBE_OK;
    GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READWRITE)) {
      const int channels = GST_AUDIO_INFO_CHANNELS(&audio);
      const size_t frames = map.size / (2 * static_cast<size_t>(channels));
      auto* pcm = reinterpret_cast<int16_t*>(map.data);
      if (accompany) self->mix->MixInto(pcm, frames, channels);  // first: it may replace the microphone
      if (system) system->MixInto(pcm, frames, channels);
      gst_buffer_unmap(buf, &map);
    }
    return GST_PAD_PROBE_OK;
  }

  // Each microphone buffer after the mute, as its level element measured it (the RFC
  // 6464 meta): the loudest since the engine last asked (volume indication).
  static GstPadProbeReturn MeasureMic(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (GstAudioLevelMeta* m = gst_buffer_get_audio_level_meta(GST_PAD_PROBE_INFO_BUFFER(info))) {
      uint32_t level = 127u - std::min<uint32_t>(127u, m->level);
      uint32_t seen = self->mic_peak.load(std::memory_order_relaxed);
      while (level > seen && !self->mic_peak.compare_exchange_weak(seen, level, std::memory_order_relaxed)) {
      }
    }
    return GST_PAD_PROBE_OK;
  }

  // Adds one track's branch (its source, then the rest) and links it to a new sendonly
  // transceiver.
  Status AddBranch(const std::string& source, const std::string& rest, TrackKind kind, InputFeed* feed_target,
                   const VideoEncoderConfig* video);
  // A branch's (floating) bin joins the pipeline, its unlinked output ghosted as "src".
  void AddToPipeline(GstElement* bin) {
    if (GstPtr<GstPad> out = Adopt(gst_bin_find_unlinked_pad(GST_BIN(bin), GST_PAD_SRC)))
      gst_element_add_pad(bin, gst_ghost_pad_new("src", out.get()));
    gst_bin_add(GST_BIN(pipeline.get()), bin);  // the pipeline takes the floating reference
  }
  // Links a branch's bin (its "src" pad) to a new sendonly transceiver.
  Status LinkToWebrtc(GstElement* bin, TrackKind kind);
  // Dual stream: the camera's small layer as a bin of its own (scaler, encoder,
  // payloader) on the next transceiver, fed later from the camera's tee; returns it.
  Result<GstElement*> AddSmallLayer(const VideoEncoderConfig& small);
  // A video bin's AdaptiveVideo and encoder under the congestion control: its frames
  // thinned to the rate `vadapt` allows, the encoder and `vadapt` handed to SendRate.
  void AdaptVideo(GstElement* bin, const VideoEncoderConfig& config, bool small_layer) {
    GstPtr<GstElement> encoder = Adopt(gst_bin_get_by_name(GST_BIN(bin), "encoder"));
    GstPtr<GstElement> caps = Adopt(gst_bin_get_by_name(GST_BIN(bin), "vadapt"));
    if (GstPtr<GstElement> thin = Adopt(gst_bin_get_by_name(GST_BIN(bin), "thin")); thin && caps)
      ThinToAllowedRate(thin.get(), caps.get());
    if (encoder && caps) video_encoders.push_back({std::move(encoder), std::move(caps), config, small_layer});
  }
};

// Dual stream: the size of the small layer for a camera of `big` (the small width,
// the camera's aspect ratio, even numbers), or nothing when the camera is not larger.
static std::optional<VideoEncoderConfig> SmallLayer(const VideoEncoderConfig& big, VideoEncoderConfig small) {
  if (small.width <= 0 || small.width >= big.width || big.height <= 0) return std::nullopt;
  small.height = std::max(2, (small.width * big.height / big.width) & ~1);
  small.fps = std::min(small.fps, big.fps);
  small.bitrate_kbps = std::min(small.bitrate_kbps, big.bitrate_kbps);
  small.codec = big.codec;
  small.degradation_preference = big.degradation_preference;
  return small;
}

Result<GstElement*> Publisher::Impl::AddSmallLayer(const VideoEncoderConfig& small) {
  std::string why;
  GstElement* bin = PartFromDescription(std::string(kLayerQueue) + " ! valve name=gate ! " + AdaptiveVideo(small) +
                                            " ! videoconvert ! " + VideoEncoder(small),
                                        GST_PAD_SINK, &why);  // floating
  if (!bin) return MakeError(Errc::kPublishStreamStartError, "cannot build the small video layer: " + why);
  AddToPipeline(bin);
  layers.push_back(
      {Adopt(gst_bin_get_by_name(GST_BIN(bin), "gate")), Adopt(gst_bin_get_by_name(GST_BIN(bin), "encoder"))});
  if (Status st = LinkToWebrtc(bin, TrackKind::kCamera); !st) return st.error();
  return bin;
}

Status Publisher::Impl::AddBranch(const std::string& source_desc, const std::string& desc, TrackKind kind,
                                  InputFeed* feed_target, const VideoEncoderConfig* video_config) {
  bool video = kind != TrackKind::kAudio;
  // Two parts: the source, which SwapSource replaces, and the rest (processing,
  // encoder, payloader), which stays for the connection's life.
  std::string why;
  GstPtr<GstElement> source = Sink(PartFromDescription(source_desc, GST_PAD_SRC, &why));
  GstElement* bin = source ? PartFromDescription(desc, GST_PAD_SINK, &why) : nullptr;  // floating
  if (!bin)
    return MakeError(Errc::kPublishStreamStartError,
                     "cannot build the " + std::string(video ? "video" : "audio") + " pipeline: " + why);
  AddToPipeline(bin);  // the pipeline takes the floating reference
  gst_bin_add(GST_BIN(pipeline.get()), source.get());
  GstPtr<GstPad> into = Adopt(gst_element_get_static_pad(bin, "sink"));
  {
    GstPtr<GstPad> out = Adopt(gst_element_get_static_pad(source.get(), "src"));
    if (gst_pad_link(out.get(), into.get()) != GST_PAD_LINK_OK)
      return MakeError(Errc::kPublishStreamStartError,
                       "cannot link the source of the " + std::string(video ? "video" : "audio") + " track");
  }
  if (GstPtr<GstElement> appsrc = Adopt(gst_bin_get_by_name(GST_BIN(source.get()), "feed")))
    if (feed_target)  // attached by AttachFeeds
      feeds.push_back({feed_target, std::move(appsrc), video_config ? video_config->fps : 0});
  sources[kind] = {std::move(source), std::move(into)};
  if (kind == TrackKind::kAudio) {
    volume = Adopt(gst_bin_get_by_name(GST_BIN(bin), "mute"));
    if (volume) {
      GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(volume.get(), "sink"));
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Impl::AddMix, this, nullptr);
    }
    audio_encoder = Adopt(gst_bin_get_by_name(GST_BIN(bin), "aenc"));
    if (GstPtr<GstElement> level = Adopt(gst_bin_get_by_name(GST_BIN(bin), "alevel"))) {
      GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(level.get(), "src"));
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Impl::MeasureMic, this, nullptr);
    }
    // The audio level (RFC 6464) in every packet, from the level element's meta: the
    // SFU picks the channel's active speaker from it. The payloader writes it; the
    // capsfilter after it names it as the payloader does (id, URI and "vad=on"), which
    // is what webrtcbin offers.
    GstPtr<GstElement> pay = Adopt(gst_bin_get_by_name(GST_BIN(bin), "apay"));
    GstPtr<GstElement> filter = Adopt(gst_bin_get_by_name(GST_BIN(bin), "acaps"));
    GstElement* ext = gst_element_factory_make("rtphdrextclientaudiolevel", nullptr);
    if (pay && filter && ext) {
      gst_rtp_header_extension_set_id(GST_RTP_HEADER_EXTENSION(ext), kAudioLevelId);
      g_signal_emit_by_name(pay.get(), "add-extension", ext);
      GstCaps* raw = nullptr;
      g_object_get(filter.get(), "caps", &raw, nullptr);
      GstPtr<GstCaps> caps = Adopt(gst_caps_make_writable(raw));
      GValue attrs = G_VALUE_INIT, item = G_VALUE_INIT;
      gst_value_array_init(&attrs, 3);
      g_value_init(&item, G_TYPE_STRING);
      for (const char* s : {"", gst_rtp_header_extension_get_uri(GST_RTP_HEADER_EXTENSION(ext)), "vad=on"}) {
        g_value_set_string(&item, s);
        gst_value_array_append_value(&attrs, &item);
      }
      g_value_unset(&item);
      std::string field = "extmap-" + std::to_string(kAudioLevelId);
      gst_structure_take_value(gst_caps_get_structure(caps.get(), 0), field.c_str(), &attrs);
      g_object_set(filter.get(), "caps", caps.get(), nullptr);
    }
    if (ext) gst_object_unref(ext);
  }
  if (video_config) {
    AdaptVideo(bin, *video_config, false);
  }
  if (kind == TrackKind::kCamera) {
    has_camera = true;
    // Before the layers split (dual stream), else before the encoder.
    GstPtr<GstElement> split = Adopt(gst_bin_get_by_name(GST_BIN(bin), "layers"));
    if (GstPtr<GstElement> venc = split ? std::move(split) : Adopt(gst_bin_get_by_name(GST_BIN(bin), "venc"))) {
      GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(venc.get(), "sink"));
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Impl::Blacken, this, nullptr);
    }
    if (GstPtr<GstElement> gate = Adopt(gst_bin_get_by_name(GST_BIN(bin), "gate")))
      layers.push_back({std::move(gate), Adopt(gst_bin_get_by_name(GST_BIN(bin), "encoder"))});
  }
  return LinkToWebrtc(bin, kind);
}

Status Publisher::Impl::LinkToWebrtc(GstElement* bin, TrackKind kind) {
  GstPtr<GstPad> src = Adopt(gst_element_get_static_pad(bin, "src"));
  // A source that fails (a device unplugged) ends its stream with EOS; on a bundled
  // connection that EOS would stop every track, so the others go on without it.
  gst_pad_add_probe(
      src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [](GstPad*, GstPadProbeInfo* info, gpointer) -> GstPadProbeReturn {
        return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      },
      nullptr, nullptr);
  GstPtr<GstPad> sink = Adopt(gst_element_request_pad_simple(webrtc, "sink_%u"));
  bool linked = gst_pad_link(src.get(), sink.get()) == GST_PAD_LINK_OK;
  if (GstPtr<GstElement> pay = Adopt(gst_bin_get_by_name(GST_BIN(bin), "vpay")))
    if (GstPtr<GstElement> ext = Sink(gst_element_factory_make("rtphdrextmid", nullptr))) {
      gst_rtp_header_extension_set_id(GST_RTP_HEADER_EXTENSION(ext.get()), kMidId);
      g_signal_emit_by_name(pay.get(), "add-extension", ext.get());
      mids.emplace_back(Ref(sink.get()), std::move(ext));
    }
  GstWebRTCRTPTransceiver* raw_trans = nullptr;
  g_object_get(sink.get(), "transceiver", &raw_trans, nullptr);
  if (GstPtr<GstWebRTCRTPTransceiver> trans = Adopt(raw_trans)) {
    // We only send; every track offers NACK/RTX, so the SFU can have what it lost sent
    // again (it repairs audio for native clients, video for everyone).
    g_object_set(trans.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack", TRUE, nullptr);
    // Audio offers RED (RFC 2198; ULP_RED also offers ULPFEC, which the server does
    // not take, and with fec-percentage 0 none is made). SetAnswer turns it on.
    if (kind == TrackKind::kAudio)
      g_object_set(trans.get(), "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED, "fec-percentage", 0u, nullptr);
  }
  if (!linked) return MakeError(Errc::kPublishStreamStartError, "cannot link a source to webrtcbin");
  if (!first_src) first_src = std::move(src);
  return {};
}

Result<std::unique_ptr<Publisher>> Publisher::Create(const media::PublishOptions& o, InputFeed* audio_feed,
                                                     InputFeed* video_feed, Snapshots* snapshots, MixIn* mix,
                                                     MediaErrorFn on_error) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->impl_ = std::make_unique<Impl>();
  Impl& im = *p->impl_;
  im.snapshots = snapshots;
  im.mix = mix;
  im.on_error = std::move(on_error);
  im.pipeline = Sink(gst_pipeline_new("parley-publish"));
  // The echo canceller matches what the microphone hears with what the playout played
  // by running time: this pipeline runs on the playout's clock (the system's, not a
  // sound server's) from the playout's base time.
  if (!o.echo_probe.empty()) {
    GstClock* clock = gst_system_clock_obtain();
    gst_pipeline_use_clock(GST_PIPELINE(im.pipeline.get()), clock);
    gst_object_unref(clock);
    gst_element_set_start_time(im.pipeline.get(), GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(im.pipeline.get(), o.echo_base_time);
  }
  // The system clock, never a device's: a microphone that goes away must not stop the
  // clock the camera and the encoders run on.
  GstPtr<GstClock> clock = Adopt(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(im.pipeline.get()), clock.get());
  im.webrtc = MakeWebrtc(o.ice);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline.get()), im.webrtc);
  // Errors while starting come back from Create; only later ones go to on_error.
  im.bus.runtime_code = static_cast<int32_t>(Errc::kPublishStreamRuntimeError);
  WatchBus(im.pipeline.get(), &im.bus);
  struct Branch {
    std::string source, rest;
    TrackKind kind;
    const VideoEncoderConfig* video = nullptr;
  };
  std::vector<Branch> branches;  // in the order the server maps them: audio, camera, screen
  if (o.audio) {
    std::string src = AudioSource(o.audio_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown audio source " + o.audio_source);
    branches.push_back({src, AudioProcessing(o) + AudioEncoder(o.mute_audio, o.audio_config), TrackKind::kAudio});
  }
  // Dual stream: the camera splits (tee "layers") into its small layer, a branch of
  // its own on the transceiver before the camera's, and the camera's own size.
  std::optional<VideoEncoderConfig> small = o.dual_stream ? SmallLayer(o.video_config, o.small_video) : std::nullopt;
  if (o.video) {
    std::string src = VideoSource(o.video_source);
    if (src.empty()) return MakeError(Errc::kPublishConfigInvalid, "unknown video source " + o.video_source);
    std::string split = small ? "tee name=layers ! " + std::string(kLayerQueue) + " ! valve name=gate ! " : "";
    branches.push_back({src,
                        "capsfilter caps=" + Quoted(RawVideoCaps(o.video_config)) + " ! " + split +
                            AdaptiveVideo(o.video_config) + " ! videoconvert name=venc ! " +
                            VideoEncoder(o.video_config),
                        TrackKind::kCamera, &o.video_config});
  }
  if (o.screen) {
    if (!Adopt(gst_element_factory_find("ximagesrc")))
      return MakeError(Errc::kInitMissingPlugin,
                       "GStreamer element 'ximagesrc' is missing (install the Debian package "
                       "gstreamer1.0-plugins-good)");
    branches.push_back({ScreenSource(o.screen_options),
                        "capsfilter caps=" + Quoted(RawVideoCaps(o.screen_options.video)) + " ! " +
                            AdaptiveVideo(o.screen_options.video) + " ! " + VideoEncoder(o.screen_options.video),
                        TrackKind::kScreen, &o.screen_options.video});
  }
  im.black = o.mute_video;
  GstElement* small_bin = nullptr;  // the pipeline's
  for (auto& [source, rest, kind, video] : branches) {
    if (kind == TrackKind::kCamera && small) {
      auto bin = im.AddSmallLayer(*small);
      if (!bin) return bin.error();
      small_bin = *bin;
    }
    if (Status st = im.AddBranch(source, rest, kind, kind == TrackKind::kAudio ? audio_feed : video_feed, video); !st)
      return st.error();
  }
  if (small_bin) {  // fed from the camera's split; its encoder after the camera's (SendRate reports the first)
    // Pads link within one bin: the split's new output leaves the camera's bin by a ghost.
    GstPtr<GstElement> split = Adopt(gst_bin_get_by_name(GST_BIN(im.pipeline.get()), "layers"));
    GstPtr<GstPad> from = split ? Adopt(gst_element_request_pad_simple(split.get(), "src_%u")) : nullptr;
    GstPtr<GstElement> camera_bin =
        split ? Adopt(GST_ELEMENT(gst_object_get_parent(GST_OBJECT(split.get())))) : GstPtr<GstElement>();
    GstPad* out = from && camera_bin ? gst_ghost_pad_new("small", from.get()) : nullptr;
    if (out) gst_element_add_pad(camera_bin.get(), out);  // the bin takes the floating reference
    GstPtr<GstPad> into = Adopt(gst_element_get_static_pad(small_bin, "sink"));
    if (!out || !into || gst_pad_link(out, into.get()) != GST_PAD_LINK_OK)
      return MakeError(Errc::kPublishStreamStartError, "cannot feed the small video layer");
    im.AdaptVideo(small_bin, *small, true);
  }
  im.rate = std::make_unique<SendRate>(std::move(im.audio_encoder), std::move(im.video_encoders));
  im.rate->Watch(im.first_src.get());
  if (gst_element_set_state(im.pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The source that could not open said why on the bus (device codes).
    std::lock_guard<std::mutex> lock(im.bus.mu);
    if (im.bus.last_code) return MakeError(static_cast<Errc>(im.bus.last_code), im.bus.last_message);
    return MakeError(Errc::kPublishStreamStartError, "the publish pipeline did not start");
  }
  {
    std::lock_guard<std::mutex> lock(im.bus.mu);
    im.bus.fn = &im.on_error;
  }
  // A screen share's sound goes into the audio track (with none, nowhere); a monitor
  // that cannot open is told, and the rest goes on.
  if (o.screen && o.screen_options.audio && o.audio) {
    auto system = SystemAudio::Start(*o.screen_options.audio, im.on_error);
    if (system) {
      im.system_audio = std::move(*system);
      im.system_mix.store(&im.system_audio->mix(), std::memory_order_release);
    } else if (im.on_error) {
      im.on_error(system.error().value(), system.error().message);
    }
  }
  return p;
}

Publisher::~Publisher() = default;

Result<std::string> Publisher::CreateOffer() {
  return CreateLocal(impl_->webrtc, true);
}

Status Publisher::SetAnswer(const std::string& sdp) {
  if (Status st = SetDescription(impl_->webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_ANSWER, sdp); !st)
    return st;
  // Negotiated, every section has its mid: the video packets name theirs from now on
  // (none reached the server before).
  for (auto& [pad, ext] : impl_->mids)
    if (std::string mid = MidOf(pad.get()); !mid.empty()) g_object_set(ext.get(), "mid", mid.c_str(), nullptr);
  // Audio redundancy where the answer took RED, on and off as the path needs it.
  std::shared_ptr<RedControl> red = RedControl::Attach(impl_->webrtc, kAudioLevelId);
  if (impl_->rate)
    impl_->rate->SetRedSwitch([red](bool on) { red->SetDistance(on ? kRedDistance : 0); });
  else
    red->SetDistance(kRedDistance);
  return {};
}

void Publisher::SenderState(media::RtpTotals* totals) const {
  if (!impl_->rate) return;
  SendRate::Snapshot s = impl_->rate->snapshot();
  totals->estimate_bps = s.target_bps;
  totals->wanted_bps = s.wanted_bps;
  totals->cpu_level = static_cast<int>(s.cpu_level);
  totals->encode_usage = s.encode_usage;
}

int Publisher::camera_layers() const {
  // One valve per layer, and only with dual stream (a single camera stream has none).
  return std::max<int>(1, static_cast<int>(impl_->layers.size()));
}

void Publisher::SetCameraLayer(size_t layer, bool active) {
  // The small layer's valve came first (AddSmallLayer runs before the camera's branch).
  if (layer >= impl_->layers.size()) return;
  const Impl::Layer& l = impl_->layers[layer];
  gboolean dropping = FALSE;
  g_object_get(l.valve.get(), "drop", &dropping, nullptr);
  if (static_cast<bool>(dropping) == !active) return;
  g_object_set(l.valve.get(), "drop", active ? FALSE : TRUE, nullptr);
  if (impl_->rate && l.encoder) impl_->rate->SetActive(l.encoder.get(), active);
  // Its receivers start again at a keyframe (the encoder's next would be a delta).
  // (An upstream event into the encoder's source pad, as a payloader would send it.)
  if (active && l.encoder)
    if (GstPtr<GstPad> out = Adopt(gst_element_get_static_pad(l.encoder.get(), "src")))
      gst_pad_send_event(out.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

GstElement* Publisher::webrtc() const {
  return impl_->webrtc;
}

uint32_t Publisher::TakeMicPeak() {
  return impl_->mic_peak.exchange(0, std::memory_order_relaxed);
}

void Publisher::Mute(TrackKind track, bool muted) {
  if (track == TrackKind::kAudio && impl_->volume)
    g_object_set(impl_->volume.get(), "mute", muted ? TRUE : FALSE, nullptr);
  if (track == TrackKind::kCamera) impl_->black = muted;
}

Status Publisher::SwapSource(TrackKind track, const std::string& id) {
  Impl& im = *impl_;
  auto it = im.sources.find(track);
  if (it == im.sources.end() || track == TrackKind::kScreen)
    return MakeError(Errc::kPublishStreamNotExist, std::string("no ") + std::string(Name(track)) + " track");
  const std::string desc = CapturedSource(track, id);
  if (desc.empty()) return MakeError(Errc::kPublishConfigInvalid, "cannot switch to the source " + id);
  std::string why;
  GstPtr<GstElement> part = Sink(PartFromDescription(desc, GST_PAD_SRC, &why));
  if (!part) return MakeError(Errc::kPublishConfigInvalid, "cannot build the source " + id + ": " + why);
  Rearm(im.bus, track == TrackKind::kAudio ? "microphone" : "camera");  // the new device's failures are told
  if (Status st = ReplaceSource(GST_BIN(im.pipeline.get()), it->second.part.get(), part.get(), it->second.into.get(),
                                Errc::kPublishStreamRuntimeError);
      !st)
    return st;
  it->second.part = std::move(part);
  return {};
}

void Publisher::AttachFeeds() {
  for (auto& f : impl_->feeds) f.feed->Attach(f.src.get(), f.fps);
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

}  // namespace parley::sdk::gst
