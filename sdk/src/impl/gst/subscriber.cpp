#include "impl/gst/subscriber.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>

#include <gst/app/gstappsink.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "core/audio_concealment.hpp"
#include "impl/gst/bus.hpp"
#include "impl/gst/fed_sink.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/jitter_start.hpp"
#include "impl/gst/pipelines.hpp"
#include "impl/gst/playout.hpp"
#include "impl/gst/recorder.hpp"
#include "impl/gst/snapshot.hpp"
#include "impl/gst/webrtc.hpp"
#include "impl/track_ids.hpp"

namespace parley::sdk::gst {

namespace {
/// A stream webrtcbin receives: its source pad and rtpbin's session and SSRC behind it.
struct Source {
  guint session = 0;
  guint ssrc = 0;
  GstPtr<GstPad> pad;
};
}  // namespace

struct Subscriber::Impl {
  GstPtr<GstElement> pipeline;
  GstElement* webrtc = nullptr;     // the pipeline's
  ReceiveRepair* repair = nullptr;  // webrtcbin's (freed with it)
  media::SubscribeOptions options;
  media::SubscribeCallbacks cb;
  BusState bus;
  std::unique_ptr<Recorder> recorder;  ///< when recording
  std::mutex mu;
  /// The jitter buffers' latency as configured (webrtcbin's; SetLatency changes it),
  /// which each takes once its stream has started (StartWithFirstPacket).
  std::atomic<guint> latency_ms{200};
  /// Startup phases reported so far (bit per StartupPhase): each goes once.
  std::atomic<uint32_t> phases{0};
  void Phase(StartupPhase p) {
    const uint32_t bit = 1u << static_cast<unsigned>(p);
    // Asked on every decoded frame: a plain read first, the exchange only the first time.
    if ((phases.load(std::memory_order_relaxed) & bit) != 0) return;
    if ((phases.fetch_or(bit) & bit) == 0 && cb.on_phase) cb.on_phase(p, std::chrono::steady_clock::now());
  }
  // webrtcbin's ICE and connection states: a path, then DTLS done (media can flow).
  static void OnIceState(GstElement* webrtc, GParamSpec*, gpointer data) {
    GstWebRTCICEConnectionState state{};
    g_object_get(webrtc, "ice-connection-state", &state, nullptr);
    if (state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
      static_cast<Impl*>(data)->Phase(StartupPhase::kIceConnected);
  }
  static void OnConnectionState(GstElement* webrtc, GParamSpec*, gpointer data) {
    GstWebRTCPeerConnectionState state{};
    g_object_get(webrtc, "connection-state", &state, nullptr);
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
      static_cast<Impl*>(data)->Phase(StartupPhase::kIceConnected);  // ICE's own notice may come later
      static_cast<Impl*>(data)->Phase(StartupPhase::kDtlsConnected);
    }
  }
  std::map<std::string, RemoteTrackInfo> by_mid;  ///< from the offers' a=msid
  using Key = std::pair<std::string, TrackKind>;
  std::map<Key, uint64_t> windows;                  ///< wanted render windows
  std::map<Key, std::unique_ptr<FedSink>> renders;  ///< running renderers
  Playout* playout = nullptr;                       ///< the engine's, when remote audio plays
  Snapshots* snapshots = nullptr;                   ///< the engine's
  /// One per Opus decoder (each counts on its own streaming thread), kept after its
  /// track ends so that the totals stay totals; under mu.
  std::vector<std::unique_ptr<ConcealmentCounter>> concealment;
  /// The elements decoding each section's stream (the decodebin first, then the
  /// converters it fed), by mid; under mu. webrtcbin 1.22 gives every new stream a new
  /// source pad and never removes the old one, so a section a returning publisher
  /// reuses would pile up decoders, buffers and sinks call after call: the new stream's
  /// chain replaces the old one, which is stopped and removed (not when recording: the
  /// recorder finishes its files from those branches at the end).
  std::map<std::string, std::vector<GstElement*>> chains;
  /// The stream each section last received, by mid; under mu. rtpbin keeps a stream's
  /// jitter buffer, payload demuxer and FEC decoder (and their thread) until its SSRC
  /// is cleared, and webrtcbin its source pad: both go with the chain they fed.
  std::map<std::string, Source> sources;
  GstElement* rtpbin = nullptr;  // webrtcbin's

  ~Impl() {
    if (!pipeline) return;
    SilenceBus(bus);
    if (recorder) recorder->Finish();
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    // The streaming threads have stopped: the recorder their probes pointed at can go,
    // then the pipeline, before bus (its sync handler points there).
    recorder.reset();
    pipeline.reset();
  }

  // What an appsink's callbacks know: the destroy notify frees it with the appsink.
  struct SinkCtx {
    Impl* impl;
    RemoteTrackInfo info;
    bool video;
  };

  static GstFlowReturn OnSample(GstAppSink* sink, gpointer data) {
    auto* c = static_cast<SinkCtx*>(data);
    GstPtr<GstSample> sample = Adopt(gst_app_sink_pull_sample(sink));
    if (!sample) return GST_FLOW_OK;
    GstBuffer* buf = gst_sample_get_buffer(sample.get());  // the sample's
    GstCaps* caps = gst_sample_get_caps(sample.get());
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
        c->impl->Phase(StartupPhase::kFirstFrame);
        if (c->impl->cb.on_video) c->impl->cb.on_video(c->info, f);
        if (c->impl->snapshots && c->impl->snapshots->Wanted())
          c->impl->snapshots->Offer(Snapshots::Key(c->info.user_id, Name(c->info.track)), buf, caps);
        c->impl->Play(c->impl->renders, c->info, buf, caps);
      } else {
        AudioFrame f;
        gst_structure_get_int(s, "rate", &f.sample_rate);
        gst_structure_get_int(s, "channels", &f.channels);
        f.samples = map.size / sizeof(int16_t) / static_cast<size_t>(std::max(1, f.channels));
        f.data = reinterpret_cast<const int16_t*>(map.data);
        if (c->impl->cb.on_audio) c->impl->cb.on_audio(c->info, f);
        if (c->impl->playout) c->impl->playout->Push(c->info.user_id, buf, caps);
      }
      gst_buffer_unmap(buf, &map);
    }
    return GST_FLOW_OK;
  }

  void Play(std::map<Key, std::unique_ptr<FedSink>>& sinks, const RemoteTrackInfo& info, GstBuffer* buf,
            GstCaps* caps) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = sinks.find({info.user_id, info.track});
    if (it != sinks.end() && it->second) it->second->Push(buf, caps);
  }

  // decodebin produced raw media: convert to I420 / S16 mono 48 kHz into an appsink
  // (which also feeds this track's renderer or speaker, when there is one).
  static void OnDecoded(GstElement* decodebin, GstPad* pad, gpointer data) {
    auto* self = static_cast<Impl*>(g_object_get_data(G_OBJECT(decodebin), "parley-impl"));
    auto* info = static_cast<RemoteTrackInfo*>(data);
    GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad));
    if (!caps) caps = Adopt(gst_pad_query_caps(pad, nullptr));
    std::string name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
    bool video = name.rfind("video/", 0) == 0;
    // Audio in the channels the decoder gives: two for a stream its offer announced as
    // stereo (sprop-stereo=1), else one.
    int channels = 1;
    gst_structure_get_int(gst_caps_get_structure(caps.get(), 0), "channels", &channels);
    std::string desc = video ? "videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false"
                             : "audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=" +
                                   std::to_string(std::clamp(channels, 1, 2)) +
                                   ",rate=48000 ! appsink name=sink sync=false";
    GstElement* bin = gst_parse_bin_from_description(desc.c_str(), TRUE, nullptr);  // floating
    if (!bin) return;
    gst_bin_add(GST_BIN(self->pipeline.get()), bin);
    {
      GstPtr<GstElement> sink = Adopt(gst_bin_get_by_name(GST_BIN(bin), "sink"));
      auto* ctx = new SinkCtx{self, *info, video};
      GstAppSinkCallbacks callbacks{};
      callbacks.new_sample = &Impl::OnSample;
      gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, ctx,
                                 [](gpointer d) { delete static_cast<SinkCtx*>(d); });
    }
    gst_element_sync_state_with_parent(bin);
    GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(bin, "sink"));
    gst_pad_link(pad, in.get());
    if (!self->recorder) {  // part of its stream's chain; one already replaced goes at once
      const auto* mid = static_cast<const char*>(g_object_get_data(G_OBJECT(decodebin), "parley-mid"));
      bool current = false;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        auto it = self->chains.find(mid ? mid : "");
        current = it != self->chains.end() && !it->second.empty() && it->second.front() == decodebin;
        if (current) it->second.push_back(bin);
      }
      if (!current) self->Retire({bin});
    }
  }

  // Loss repair in the decoding chain decodebin builds: Opus decodes the next packet's
  // in-band FEC in place of a lost one and conceals what FEC cannot restore. (Video
  // depayloaders keep their defaults: waiting for a keyframe after every loss froze
  // video at 10 % loss, and asking for one on every loss is a keyframe storm.)
  // What enters the Opus decoder is counted (core/audio_concealment.hpp).
  static void OnDecoderElement(GstBin* decodebin, GstBin*, GstElement* element, gpointer) {
    GstElementFactory* f = gst_element_get_factory(element);  // borrowed
    if (!f || std::strcmp(GST_OBJECT_NAME(f), "opusdec") != 0) return;
    g_object_set(element, "use-inband-fec", TRUE, "plc", TRUE, nullptr);
    auto* self = static_cast<Impl*>(g_object_get_data(G_OBJECT(decodebin), "parley-impl"));
    GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(element, "sink"));
    if (!self || !in) return;
    ConcealmentCounter* counter = nullptr;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      counter = self->concealment.emplace_back(std::make_unique<ConcealmentCounter>()).get();
    }
    gst_pad_add_probe(in.get(),
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      &Impl::OnOpusInput, counter, nullptr);
  }

  // Retransmission requests travel in RTCP, which GStreamer schedules by the RFC 4585
  // rules: one early feedback packet per regular interval, the interval from the
  // session's RTCP bandwidth and average packet size. The default (5 % of a bandwidth
  // it does not know) spaced the NACKs 300-400 ms apart here, longer than the 200 ms
  // the jitter buffer waits for a repair. rtcp-fraction is taken as bits per second
  // by the interval formula (its description says bytes: 20000 gave 110 ms intervals
  // and NACKs that waited for them, 4.4 % of the audio concealed at 30 % downlink
  // loss). Reduced-size RTCP (RFC 5506; the server's offer says a=rtcp-rsize, which
  // webrtcbin does not apply itself) lets an early NACK go alone, small, and keeps the
  // average size down; 40 kbit/s of budget with a 20 ms floor puts a NACK out within
  // tens of milliseconds, several tries per loss inside the 200 ms (same 30 % loss:
  // 0 to 0.3 % concealed; the subscriber's RTCP costs about 21 kbit/s upstream instead
  // of 9). Set per remote stream, on the session its jitter buffer belongs to.
  // The jitter buffer itself NACKs only what is missing (a gap behind a later packet),
  // as Chromium's receiver does, not also the next packet it merely expected by now
  // (rtx-next-seqnum, on by default): behind a link whose queue grows, every packet is
  // later than expected, and those NACKs (up to 943 in 20 s on a 250 kbit/s link)
  // brought retransmissions of packets still on their way, which lengthened the queue.
  static void OnJitterBuffer(GstElement* rtpbin, GstElement* jitterbuffer, guint session, guint, gpointer data) {
    if (jitterbuffer && g_object_class_find_property(G_OBJECT_GET_CLASS(jitterbuffer), "rtx-next-seqnum"))
      g_object_set(jitterbuffer, "rtx-next-seqnum", FALSE, nullptr);
    // A stream starts playing with its first packet (jitter_start.hpp).
    if (jitterbuffer) StartWithFirstPacket(jitterbuffer, &static_cast<Impl*>(data)->latency_ms);
    // A stream's first packet enters its jitter buffer (made for its SSRC as it came):
    // for a video stream, the first remote video packet (StartupPhase::kFirstRtp).
    if (GstPtr<GstPad> in = jitterbuffer ? Adopt(gst_element_get_static_pad(jitterbuffer, "sink")) : nullptr)
      gst_pad_add_probe(in.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        &Impl::OnFirstPacket, data, nullptr);
    GObject* raw = nullptr;
    g_signal_emit_by_name(rtpbin, "get-internal-session", session, &raw);
    if (!raw) return;
    g_object_set(raw, "rtcp-fraction", kFeedbackBitsPerSecond, "rtcp-min-interval", kFeedbackMinInterval,
                 "rtcp-reduced-size", TRUE, nullptr);
    g_object_unref(raw);
  }
  // The first buffer into a jitter buffer: video when its payload type maps to video
  // (webrtcbin answers rtpbin's pt map from the negotiated codecs).
  static GstPadProbeReturn OnFirstPacket(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstBuffer* buf = (info->type & GST_PAD_PROBE_TYPE_BUFFER) ? GST_PAD_PROBE_INFO_BUFFER(info) : nullptr;
    if (!buf && (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST))
      if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info); list && gst_buffer_list_length(list) > 0)
        buf = gst_buffer_list_get(list, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!buf || !self->rtpbin || !gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) return GST_PAD_PROBE_REMOVE;
    const guint pt = gst_rtp_buffer_get_payload_type(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    GstCaps* raw = nullptr;
    g_signal_emit_by_name(self->rtpbin, "request-pt-map", 0u, pt, &raw);
    GstPtr<GstCaps> caps = Adopt(raw);
    const gchar* media = caps && gst_caps_get_size(caps.get()) > 0
                             ? gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "media")
                             : nullptr;
    if (!media) return GST_PAD_PROBE_OK;  // not mapped yet: the next packet tells
    if (std::strcmp(media, "video") == 0) self->Phase(StartupPhase::kFirstRtp);
    return GST_PAD_PROBE_REMOVE;
  }
  static constexpr double kFeedbackBitsPerSecond = 40000;
  static constexpr guint64 kFeedbackMinInterval = 20 * GST_MSECOND;

  // A streaming thread; the counter outlives the pipeline's threads (~Impl).
  static GstPadProbeReturn OnOpusInput(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* counter = static_cast<ConcealmentCounter*>(data);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
      GstMapInfo map;
      if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        const GstClockTime pts = GST_BUFFER_PTS(buf);
        counter->Packet(map.data, map.size, GST_CLOCK_TIME_IS_VALID(pts) ? uint64_t{pts} : ConcealmentCounter::kNoTime);
        gst_buffer_unmap(buf, &map);
      }
    } else if (GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info); ev && GST_EVENT_TYPE(ev) == GST_EVENT_GAP) {
      GstClockTime ts = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
      gst_event_parse_gap(ev, &ts, &duration);
      if (GST_CLOCK_TIME_IS_VALID(duration)) counter->Gap(duration);
    }
    return GST_PAD_PROBE_OK;
  }

  // Stops and removes `elements` from the pipeline off the streaming threads (GStreamer's
  // async call pool; an element's state cannot change on its own streaming thread),
  // with `source`'s stream in rtpbin and its pad on webrtcbin.
  void Retire(std::vector<GstElement*> elements, Source source = {}) {
    if (elements.empty() && !source.pad) return;
    // Handed to a pool thread: the lock orders the hand-over for the race detector,
    // which cannot see inside GLib's thread pool.
    struct Retired {
      std::mutex mu;
      std::vector<GstElement*> elements;
      Source source;
      GstElement* rtpbin = nullptr;
      GstElement* webrtc = nullptr;
    };
    auto* owned = new Retired();
    {
      std::lock_guard<std::mutex> lock(owned->mu);
      owned->elements = std::move(elements);
      for (GstElement* e : owned->elements) gst_object_ref(e);
      owned->source = std::move(source);
      owned->rtpbin = rtpbin;
      owned->webrtc = webrtc;
    }
    gst_element_call_async(
        pipeline.get(),
        [](GstElement* pipe, gpointer data) {
          auto* r = static_cast<Retired*>(data);
          std::lock_guard<std::mutex> lock(r->mu);
          // The stream first: its jitter buffer would find the chain gone (not linked:
          // an error on the bus).
          GstPad* pad = r->source.pad.get();
          if (pad && r->rtpbin) g_signal_emit_by_name(r->rtpbin, "clear-ssrc", r->source.session, r->source.ssrc);
          for (GstElement* e : r->elements) {
            gst_element_set_state(e, GST_STATE_NULL);
            if (GST_OBJECT_PARENT(e) == GST_OBJECT(pipe)) gst_bin_remove(GST_BIN(pipe), e);
          }
          if (pad && GST_OBJECT_PARENT(pad) == GST_OBJECT(r->webrtc)) gst_element_remove_pad(r->webrtc, pad);
        },
        owned,
        [](gpointer data) {
          auto* r = static_cast<Retired*>(data);
          {
            std::lock_guard<std::mutex> lock(r->mu);
            for (GstElement* e : r->elements) gst_object_unref(e);
          }
          delete r;
          // What the chain and its stream's threads held goes back to the system: glibc
          // keeps freed memory in the arenas of the threads that used it, and with the
          // streaming threads of every visitor in a different arena a client's resident
          // memory grew by ~1.3 MB for each participant who came and went.
          malloc_trim(0);
        });
  }

  // webrtcbin's source pad `pad` and the rtpbin stream behind it ("recv_rtp_src_<session>_
  // <ssrc>_<pt>"); no pad when that name cannot be read.
  static Source SourceOf(GstPad* pad) {
    Source source;
    if (!GST_IS_GHOST_PAD(pad)) return source;
    GstPtr<GstPad> target = Adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(pad)));
    if (!target) return source;
    GstPtr<gchar> name = Adopt(gst_pad_get_name(target.get()));
    guint pt = 0;
    if (std::sscanf(name.get(), "recv_rtp_src_%u_%u_%u", &source.session, &source.ssrc, &pt) == 3)
      source.pad = Ref(pad);
    return source;
  }

  // Sections the server retired (their publisher left): their chains and streams go
  // now rather than when a returning publisher reuses the section.
  void RetireSections(const std::set<std::string>& mids) {
    for (const auto& mid : mids) {
      std::vector<GstElement*> old;
      Source old_source;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (auto it = by_mid.find(mid); playout && it != by_mid.end() && it->second.track == TrackKind::kAudio)
          playout->Remove(it->second.user_id);
        if (auto it = chains.find(mid); it != chains.end()) {
          old.swap(it->second);
          chains.erase(it);
        }
        if (auto it = sources.find(mid); it != sources.end()) {
          old_source = std::move(it->second);
          sources.erase(it);
        }
      }
      Retire(std::move(old), std::move(old_source));
    }
  }

  // webrtcbin has a new incoming stream: find whose it is by its mid, decode it (and
  // record it when asked).
  static void OnPad(GstElement*, GstPad* pad, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    const std::string mid = MidOf(pad);
    RemoteTrackInfo info;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      auto it = self->by_mid.find(mid);
      if (it != self->by_mid.end()) info = it->second;
    }
    GstElement* decodebin = gst_element_factory_make("decodebin", nullptr);  // floating
    g_object_set_data(G_OBJECT(decodebin), "parley-impl", self);
    g_object_set_data_full(G_OBJECT(decodebin), "parley-mid", g_strdup(mid.c_str()), g_free);
    g_signal_connect(decodebin, "deep-element-added", G_CALLBACK(&Impl::OnDecoderElement), nullptr);
    auto* owned = new RemoteTrackInfo(info);
    g_signal_connect_data(
        decodebin, "pad-added", G_CALLBACK(&Impl::OnDecoded), owned,
        [](gpointer d, GClosure*) { delete static_cast<RemoteTrackInfo*>(d); }, GConnectFlags(0));
    gst_bin_add(GST_BIN(self->pipeline.get()), decodebin);
    gst_element_sync_state_with_parent(decodebin);
    GstPtr<GstPad> sink = Adopt(gst_element_get_static_pad(decodebin, "sink"));
    if (!self->recorder) {
      gst_pad_link(pad, sink.get());
      std::vector<GstElement*> old;
      Source old_source;
      if (!mid.empty()) {
        Source source = SourceOf(pad);
        std::lock_guard<std::mutex> lock(self->mu);
        std::vector<GstElement*>& chain = self->chains[mid];
        old.swap(chain);
        chain.push_back(decodebin);
        Source& current = self->sources[mid];
        if (current.ssrc != source.ssrc || current.session != source.session) old_source = std::move(current);
        current = std::move(source);
      }
      self->Retire(std::move(old), std::move(old_source));
    } else {
      std::string encoding;
      if (GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad)))
        if (const gchar* e = gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "encoding-name"))
          encoding = e;
      GstElement* tee = gst_element_factory_make("tee", nullptr);  // floating
      gst_bin_add(GST_BIN(self->pipeline.get()), tee);
      gst_element_sync_state_with_parent(tee);
      GstPtr<GstPad> tee_in = Adopt(gst_element_get_static_pad(tee, "sink"));
      gst_pad_link(pad, tee_in.get());
      GstElement* q = gst_element_factory_make("queue", nullptr);  // floating
      gst_bin_add(GST_BIN(self->pipeline.get()), q);
      gst_element_sync_state_with_parent(q);
      gst_element_link(tee, q);
      GstPtr<GstPad> q_out = Adopt(gst_element_get_static_pad(q, "src"));
      gst_pad_link(q_out.get(), sink.get());
      self->recorder->Add(tee, info, encoding);
    }
    if (self->cb.on_track) self->cb.on_track(info);
  }
};

Result<std::unique_ptr<Subscriber>> Subscriber::Create(const media::SubscribeOptions& options,
                                                       media::SubscribeCallbacks callbacks, Playout* playout,
                                                       Snapshots* snapshots) {
  std::unique_ptr<Subscriber> s(new Subscriber());
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  im.options = options;
  im.cb = std::move(callbacks);
  im.playout = playout;
  im.snapshots = snapshots;
  if (!options.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.record_dir, ec);
    if (ec)
      return MakeError(Errc::kSubscribeStreamStartError,
                       "cannot create the recording folder " + options.record_dir + ": " + ec.message());
  }
  im.pipeline = Sink(gst_pipeline_new("parley-subscribe"));
  if (!options.record_dir.empty())
    im.recorder = std::make_unique<Recorder>(im.pipeline.get(), options.record_dir, im.cb.on_record, &im.cb.on_error);
  im.webrtc = MakeWebrtc(options.ice);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  guint latency = 0;
  g_object_get(im.webrtc, "latency", &latency, nullptr);
  im.latency_ms = latency;
  gst_bin_add(GST_BIN(im.pipeline.get()), im.webrtc);
  im.repair = ReceiveRepair::Watch(im.webrtc);
  if (GstPtr<GstElement> rtpbin = Adopt(gst_bin_get_by_name(GST_BIN(im.webrtc), "rtpbin"))) {
    g_signal_connect(rtpbin.get(), "new-jitterbuffer", G_CALLBACK(&Impl::OnJitterBuffer), &im);
    im.rtpbin = rtpbin.get();  // lives as long as webrtcbin
  }
  im.bus.fn = &im.cb.on_error;
  im.bus.runtime_code = static_cast<int32_t>(Errc::kSubscribeStreamRuntimeError);
  WatchBus(im.pipeline.get(), &im.bus);
  g_signal_connect(im.webrtc, "pad-added", G_CALLBACK(&Impl::OnPad), &im);
  g_signal_connect(im.webrtc, "notify::ice-connection-state", G_CALLBACK(&Impl::OnIceState), &im);
  g_signal_connect(im.webrtc, "notify::connection-state", G_CALLBACK(&Impl::OnConnectionState), &im);
  if (gst_element_set_state(im.pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kSubscribeStreamStartError, "the subscribe pipeline did not start");
  return s;
}

Subscriber::~Subscriber() = default;

void Subscriber::AudioCounts(media::RtpTotals* totals) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& c : impl_->concealment) {
    totals->audio_samples += c->samples();
    totals->audio_samples_concealed += c->concealed();
  }
}

GstElement* Subscriber::webrtc() const {
  return impl_->webrtc;
}

void Subscriber::SetWindow(const std::string& user_id, TrackKind track, uint64_t window) {
  Impl& im = *impl_;
  std::unique_ptr<FedSink> sink;
  if (window) sink = FedSink::Open(kRenderSink, window, im.cb.on_error);  // failures reported by its bus
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.windows[{user_id, track}] = window;
    std::swap(im.renders[{user_id, track}], sink);
  }
  sink.reset();  // the old renderer stops outside the lock the media threads take
}

void Subscriber::SetLatency(int ms) {
  impl_->latency_ms = static_cast<guint>(std::max(0, ms));  // before: a starting jitter buffer reads it after
  g_object_set(impl_->webrtc, "latency", static_cast<guint>(std::max(0, ms)), nullptr);
  // The jitter buffers post a latency message; the sinks learn the new latency only
  // when the pipeline recalculates it, and would meanwhile drop what comes later than
  // they expect.
  gst_bin_recalculate_latency(GST_BIN(impl_->pipeline.get()));
}

int Subscriber::jitter_buffer_ms() const {
  guint most = 0;
  GstPtr<GstIterator> it = Adopt(gst_bin_iterate_recurse(GST_BIN(impl_->webrtc)));
  GValue item = G_VALUE_INIT;
  for (;;) {
    GstIteratorResult r = gst_iterator_next(it.get(), &item);
    if (r == GST_ITERATOR_RESYNC) {  // a stream came or went meanwhile: start over
      gst_iterator_resync(it.get());
      most = 0;
      continue;
    }
    if (r != GST_ITERATOR_OK) break;
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);  // borrowed
    if (f && std::strcmp(GST_OBJECT_NAME(f), "rtpjitterbuffer") == 0) {
      guint ms = 0;
      g_object_get(e, "latency", &ms, nullptr);
      most = std::max(most, ms);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  return static_cast<int>(most);
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
  // Every stream the server offers to repair (video, and audio between native
  // clients) asks it for what the network lost; audio offered in RED takes it.
  impl_->repair->Offer(impl_->webrtc, applied);
  if (!impl_->recorder) impl_->RetireSections(inactive);
  auto answer = CreateLocal(impl_->webrtc, false);
  if (!answer) return answer;
  return MarkSectionsInactive(*answer, inactive);
}

}  // namespace parley::sdk::gst
