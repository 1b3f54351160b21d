#include "impl/gst/send_rate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "log.hpp"

namespace parley::sdk::gst {
namespace {

// Bits on the wire that are not media: RTP, SRTP, UDP and IP headers on ~1100-byte
// video packets and small audio ones.
constexpr double kMediaShare = 0.9;
constexpr int64_t kAudioReserveBps = 40'000;  // Opus at 32 kbit/s and its headers
constexpr int64_t kMinVideoBps = 30'000;

adapt::DegradationPreference Preference(DegradationPreference p) {
  switch (p) {
    case DegradationPreference::kMaintainResolution: return adapt::DegradationPreference::kMaintainResolution;
    case DegradationPreference::kBalanced: return adapt::DegradationPreference::kBalanced;
    case DegradationPreference::kMaintainFramerate: break;
  }
  return adapt::DegradationPreference::kMaintainFramerate;
}

bool IsX264(GstElement* e) {
  GstElementFactory* f = gst_element_get_factory(e);  // borrowed
  return f && std::strcmp(GST_OBJECT_NAME(f), "x264enc") == 0;
}

}  // namespace

std::vector<congestion::PacketResult> ParseTwccPackets(const GstStructure* s) {
  std::vector<congestion::PacketResult> out;
  if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return out;
  const GValue* packets = gst_structure_get_value(s, "packets");
  // GValueArray is what rtpsession hands over (deprecated in GLib, not in GStreamer).
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!packets || !G_VALUE_HOLDS(packets, g_value_array_get_type())) return out;
  auto* array = static_cast<GValueArray*>(g_value_get_boxed(packets));
  guint n = array ? array->n_values : 0;
  out.reserve(n);
  for (guint i = 0; i < n; ++i) {
    const GValue* v = g_value_array_get_nth(array, i);
    if (!v || !GST_VALUE_HOLDS_STRUCTURE(v)) continue;
    const GstStructure* p = gst_value_get_structure(v);
    guint seq = 0, size = 0;
    guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;
    gboolean lost = FALSE;
    if (!gst_structure_get_uint(p, "seqnum", &seq) || !gst_structure_get_uint64(p, "local-ts", &local) ||
        !GST_CLOCK_TIME_IS_VALID(local))
      continue;  // not a packet we know we sent
    (void)gst_structure_get_uint(p, "size", &size);
    (void)gst_structure_get_uint64(p, "remote-ts", &remote);
    (void)gst_structure_get_boolean(p, "lost", &lost);
    congestion::PacketResult r;
    r.seq = static_cast<uint16_t>(seq);
    r.send_us = static_cast<int64_t>(local / 1000);
    r.recv_us = lost || !GST_CLOCK_TIME_IS_VALID(remote) ? -1 : static_cast<int64_t>(remote / 1000);
    r.size = size;
    out.push_back(r);
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return out;
}

struct SendRate::Change {
  GstElement* encoder = nullptr;
  GstElement* caps = nullptr;
  bool x264 = false;
  adapt::VideoSetting setting;
  bool bitrate = false, shape = false;
};

// The encoders (vp8enc, x264enc with zerolatency) are synchronous: a frame pushed into
// the sink pad comes out of the source pad on the same thread before the push returns,
// so the time between the two probes is the time the frame spent in the encoder. A
// frame the encoder drops is overwritten by the next one.
struct SendRate::EncoderTiming {
  SendRate* self = nullptr;
  size_t index = 0;
  GstElement* encoder = nullptr;  ///< video_[index]'s
  GstPtr<GstPad> sink, src;
  gulong sink_probe = 0, src_probe = 0;
  std::atomic<int64_t> in_us{-1};
  adapt::OveruseDetector detector;  ///< the encoder's streaming thread only
};

static int64_t SumOfCeilings(const std::vector<SendRate::Video>& video) {
  int64_t sum = 0;
  for (const auto& v : video) sum += static_cast<int64_t>(v.config.bitrate_kbps) * 1000;
  return sum;
}

SendRate::SendRate(GstPtr<GstElement> audio_encoder, std::vector<Video> video)
    : audio_encoder_(std::move(audio_encoder)),
      video_(std::move(video)),
      video_max_bps_(SumOfCeilings(video_)),
      bwe_([this] {
        congestion::BandwidthEstimator::Config c;
        c.max_bps = static_cast<int64_t>(static_cast<double>(video_max_bps_ + (audio_encoder_ ? kAudioReserveBps : 0)) /
                                         kMediaShare);
        c.start_bps = c.max_bps;  // the configured rate, until the path says otherwise
        c.min_bps = std::min<int64_t>(c.max_bps, 60'000);
        return c;
      }()) {
  for (const auto& v : video_) {
    x264_.push_back(IsX264(v.encoder.get()));
    adapt::VideoAdapter::Config c;
    c.width = v.config.width;
    c.height = v.config.height;
    c.fps = v.config.fps;
    c.max_bps = static_cast<int64_t>(v.config.bitrate_kbps) * 1000;
    c.min_bps = std::min<int64_t>(c.max_bps, kMinVideoBps);
    c.preference = Preference(v.config.degradation_preference);
    adapters_.emplace_back(c);
    applied_.push_back(adapters_.back().current());
    active_.push_back(true);
  }
  clock_ = Adopt(gst_system_clock_obtain());
  snapshot_.wanted_bps =
      static_cast<int64_t>(static_cast<double>(video_max_bps_ + (audio_encoder_ ? kAudioReserveBps : 0)) / kMediaShare);
  encode_usage_.assign(video_.size(), 0.0);
  for (size_t i = 0; i < video_.size(); ++i) {
    auto t = std::make_unique<EncoderTiming>();
    t->self = this;
    t->index = i;
    t->encoder = video_[i].encoder.get();
    if (video_[i].encoder) {
      t->sink = Adopt(gst_element_get_static_pad(video_[i].encoder.get(), "sink"));
      t->src = Adopt(gst_element_get_static_pad(video_[i].encoder.get(), "src"));
    }
    if (t->sink && t->src) {
      t->sink_probe =
          gst_pad_add_probe(t->sink.get(), GST_PAD_PROBE_TYPE_BUFFER, &SendRate::OnEncoderInput, t.get(), nullptr);
      t->src_probe =
          gst_pad_add_probe(t->src.get(), GST_PAD_PROBE_TYPE_BUFFER, &SendRate::OnEncoderOutput, t.get(), nullptr);
    }
    timing_.push_back(std::move(t));
  }
}

SendRate::~SendRate() {
  if (watched_ && probe_) gst_pad_remove_probe(watched_.get(), probe_);
  for (auto& t : timing_) {
    if (t->sink_probe) gst_pad_remove_probe(t->sink.get(), t->sink_probe);
    if (t->src_probe) gst_pad_remove_probe(t->src.get(), t->src_probe);
  }
}

GstPadProbeReturn SendRate::OnEncoderInput(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* t = static_cast<EncoderTiming*>(data);
  t->in_us.store(static_cast<int64_t>(gst_clock_get_time(t->self->clock_.get()) / 1000), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// How long after its capture a frame came out: the pipeline's running time now minus
// the frame's timestamp (live sources stamp frames with the running time they were
// captured at, in a segment that starts at 0). -1 when the pipeline has no clock yet.
static int64_t LateUs(GstElement* encoder, GstBuffer* buf) {
  if (!buf || !GST_BUFFER_PTS_IS_VALID(buf)) return -1;
  GstPtr<GstClock> clock = Adopt(gst_element_get_clock(encoder));
  if (!clock) return -1;
  GstClockTime now = gst_clock_get_time(clock.get()), base = gst_element_get_base_time(encoder);
  if (now < base || now - base < GST_BUFFER_PTS(buf)) return 0;
  return static_cast<int64_t>((now - base - GST_BUFFER_PTS(buf)) / 1000);
}

GstPadProbeReturn SendRate::OnEncoderOutput(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<EncoderTiming*>(data);
  int64_t in = t->in_us.exchange(-1, std::memory_order_relaxed);
  if (in < 0) return GST_PAD_PROBE_OK;  // a second buffer for one frame (none here), or none timed
  int64_t now = static_cast<int64_t>(gst_clock_get_time(t->self->clock_.get()) / 1000);
  t->self->OnEncoded(t->index, now, now - in, LateUs(t->encoder, GST_PAD_PROBE_INFO_BUFFER(info)));
  return GST_PAD_PROBE_OK;
}

void SendRate::OnEncoded(size_t index, int64_t now_us, int64_t busy_us, int64_t late_us) {
  if (index >= timing_.size()) return;
  EncoderTiming& t = *timing_[index];
  adapt::OveruseDetector::Verdict v = t.detector.Frame(now_us, busy_us, late_us);
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    adapt::VideoAdapter& a = adapters_[index];
    if (!active_[index]) v = adapt::OveruseDetector::Verdict::kNone;  // a frame in flight as it was paused
    // Size and frame rate only: the bitrate stays what the estimate last set (Apply).
    auto shape_only = [&](adapt::VideoSetting s) {
      s.bitrate_bps = applied_[index].bitrate_bps;
      Decide(index, s, &changes);
    };
    if (v == adapt::OveruseDetector::Verdict::kOveruse) {
      size_t floor = std::min(a.level() + 1, a.levels() - 1);
      if (floor > a.floor()) shape_only(a.SetFloor(now_us, floor));
      Log().warn(
          "video encoder {} cannot keep up (busy {:.0f} % of the time, frames {} ms late): degradation "
          "floor {} of {}",
          index, t.detector.usage() * 100, late_us / 1000, a.floor(), a.levels() - 1);
    } else if (v == adapt::OveruseDetector::Verdict::kUnderuse && a.floor() > 0) {
      // At least a level back; more where the room measured at the current setting
      // affords them (the busy share scales with the pixels per second), so a device
      // that was starved for a while and now idles gets its video back in one step
      // rather than one level per hold. Too much shows as overuse again, which doubles
      // the next hold.
      const adapt::VideoSetting& now_set = applied_[index];
      const double rate = static_cast<double>(now_set.width) * now_set.height * std::max(now_set.fps, 1);
      size_t floor = a.floor() - 1;
      while (floor > 0 && rate > 0 &&
             t.detector.usage() * static_cast<double>(a.PixelRate(floor - 1)) / rate < t.detector.config().low)
        --floor;
      shape_only(a.SetFloor(now_us, floor));
      Log().info("video encoder {} busy {:.0f} % of the time: degradation floor back to {}", index,
                 t.detector.usage() * 100, a.floor());
    }
    encode_usage_[index] = t.detector.usage();
    UpdateSnapshotLocked();
  }
  Apply(changes, -1, -1, 0, false, 0, "encoder load");
}

void SendRate::Watch(GstPad* pad) {
  if (watched_ || !pad) return;
  watched_ = Ref(pad);
  probe_ = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &SendRate::OnEvent, this, nullptr);
}

GstPadProbeReturn SendRate::OnEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM) return GST_PAD_PROBE_OK;
  const GstStructure* s = gst_event_get_structure(event);
  if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return GST_PAD_PROBE_OK;
  auto* self = static_cast<SendRate*>(data);
  // rtpsession stamps each sent packet ("local-ts") with the system clock's time, so the
  // feedback's arrival is read on that clock too: their difference is the round trip.
  int64_t now_us = static_cast<int64_t>(gst_clock_get_time(self->clock_.get()) / 1000);
  self->OnFeedback(now_us, ParseTwccPackets(s));
  return GST_PAD_PROBE_OK;  // the payloaders may want it too
}

void SendRate::Decide(size_t i, const adapt::VideoSetting& s, std::vector<Change>* changes) {
  adapt::VideoSetting& was = applied_[i];
  Change c{video_[i].encoder.get(), video_[i].adapt_caps.get(), x264_[i], s};
  c.bitrate = std::llabs(s.bitrate_bps - was.bitrate_bps) * 20 > was.bitrate_bps;  // over 5 %
  c.shape = s.width != was.width || s.height != was.height || s.fps != was.fps;
  if (c.bitrate || c.shape) {
    was = s;
    changes->push_back(c);
  }
}

void SendRate::UpdateSnapshotLocked() {
  if (!applied_.empty()) {
    snapshot_.width = applied_[0].width;
    snapshot_.height = applied_[0].height;
    snapshot_.fps = applied_[0].fps;
    snapshot_.level = adapters_[0].level();
    snapshot_.video_bps = applied_[0].bitrate_bps;
  }
  snapshot_.cpu_level = 0;
  snapshot_.encode_usage = 0;
  for (size_t i = 0; i < adapters_.size(); ++i) {
    snapshot_.cpu_level = std::max(snapshot_.cpu_level, adapters_[i].floor());
    snapshot_.encode_usage = std::max(snapshot_.encode_usage, encode_usage_[i]);
  }
}

void SendRate::OnFeedback(int64_t now_us, const std::vector<congestion::PacketResult>& packets) {
  if (packets.empty()) return;
  std::vector<Change> changes;
  int opus_loss = -1;
  std::function<void(bool)> red_changed;  // to call outside the lock
  bool red_on = false;
  int64_t delay_kbps = 0, loss_kbps = 0, rtt_ms = 0;  // why the estimate is what it is, for the log
  double loss = 0;
  bool congested = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bwe_.OnFeedback(now_us, packets);
    int64_t target = bwe_.target_bps();
    delay_kbps = bwe_.delay_based_bps() / 1000;
    loss_kbps = bwe_.loss_based_bps() / 1000;
    loss = bwe_.loss_fraction() * 100;
    congested = bwe_.congested();
    rtt_ms = bwe_.round_trip_us() / 1000;
    int64_t media = static_cast<int64_t>(static_cast<double>(target) * kMediaShare);
    int64_t video_total = std::max(media - (audio_encoder_ ? kAudioReserveBps : 0), kMinVideoBps);
    for (const auto& [i, share] : Shares(video_total)) Decide(i, adapters_[i].Update(now_us, share), &changes);
    if (audio_encoder_) {
      // Opus protects as much as the path loses (its in-band FEC is off at 0 %).
      int percent = std::clamp(static_cast<int>(std::lround(bwe_.loss_fraction() * 100)), 0, 40);
      if (std::abs(percent - snapshot_.opus_loss_percent) >= 2 || (percent == 0) != (snapshot_.opus_loss_percent == 0))
        opus_loss = percent;
      bool was = red_.on();
      if (red_.Update(now_us, bwe_.loss_fraction(), bwe_.congested()) != was && red_switch_) red_changed = red_switch_;
      snapshot_.audio_red = red_on = red_.on();
    }
    snapshot_.target_bps = target;
    snapshot_.acked_bps = bwe_.acked_bps();
    snapshot_.loss = bwe_.loss_fraction();
    snapshot_.congested = bwe_.congested();
    snapshot_.rtt_us = bwe_.round_trip_us();
    UpdateSnapshotLocked();
    if (opus_loss >= 0) snapshot_.opus_loss_percent = opus_loss;
  }
  Apply(changes, delay_kbps, loss_kbps, loss, congested, rtt_ms, nullptr);
  if (opus_loss >= 0) g_object_set(audio_encoder_.get(), "packet-loss-percentage", opus_loss, nullptr);
  if (red_changed) {
    Log().info("audio redundancy {} (loss {:.0f} %{})", red_on ? "on" : "off", loss,
               congested ? ", the path is full" : "");
    red_changed(red_on);
  }
}

std::vector<std::pair<size_t, int64_t>> SendRate::Shares(int64_t video_total) const {
  int64_t small_max = -1, others_max = 0;
  size_t others = 0;
  for (size_t i = 0; i < video_.size(); ++i) {
    if (!active_[i]) continue;
    int64_t max = int64_t{video_[i].config.bitrate_kbps} * 1000;
    if (video_[i].small_layer) {
      small_max = max;
    } else {
      others_max += max;
      ++others;
    }
  }
  int64_t small = small_max < 0 ? 0 : std::min(small_max, others ? video_total / 2 : video_total);
  int64_t rest = std::max(video_total - small, kMinVideoBps);
  std::vector<std::pair<size_t, int64_t>> out;
  for (size_t i = 0; i < video_.size(); ++i) {
    if (!active_[i]) continue;
    int64_t share = video_[i].small_layer ? small
                    : others_max > 0      ? rest * video_[i].config.bitrate_kbps * 1000 / others_max
                                          : rest / static_cast<int64_t>(others);
    out.emplace_back(i, std::max(share, kMinVideoBps));
  }
  return out;
}

void SendRate::SetActive(GstElement* encoder, bool active) {
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < video_.size(); ++i) {
      if (video_[i].encoder.get() != encoder) continue;
      active_[i] = active;
      if (active) continue;
      // A paused encoder sees no frames, so its load detector could never give back a
      // floor it set: the floor would hold the device "limited" for as long as the
      // layer stays paused. It costs nothing while paused; it starts unlimited when
      // resumed, and is lowered again if the device still cannot keep up.
      encode_usage_[i] = 0;
      if (adapters_[i].floor() > 0) {
        adapt::VideoSetting s = adapters_[i].SetFloor(static_cast<int64_t>(gst_clock_get_time(clock_.get()) / 1000), 0);
        s.bitrate_bps = applied_[i].bitrate_bps;
        Decide(i, s, &changes);
      }
    }
    UpdateSnapshotLocked();
  }
  Apply(changes, -1, -1, 0, false, 0, "layer paused");
}

void SendRate::SetRedSwitch(std::function<void(bool on)> fn) {
  bool on = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    red_switch_ = fn;
    on = red_.on();
  }
  if (fn) fn(on);
}

void SendRate::Apply(const std::vector<Change>& changes, int64_t delay_kbps, int64_t loss_kbps, double loss,
                     bool congested, int64_t rtt_ms, const char* why) {
  for (const Change& c : changes) {
    if (why)
      Log().info("{}: video {}x{} at {} fps, {} kbit/s", why, c.setting.width, c.setting.height, c.setting.fps,
                 c.setting.bitrate_bps / 1000);
    else if (c.shape)
      Log().info("congestion control: video {}x{} at {} fps, {} kbit/s (delay-based {}, loss-based {} kbit/s)",
                 c.setting.width, c.setting.height, c.setting.fps, c.setting.bitrate_bps / 1000, delay_kbps, loss_kbps);
    else
      Log().debug(
          "congestion control: video {} kbit/s (delay-based {}, loss-based {} kbit/s; loss {:.0f} %{}, rtt {} ms)",
          c.setting.bitrate_bps / 1000, delay_kbps, loss_kbps, loss, congested ? " at a full path" : "", rtt_ms);
    // Not from the encoder's own thread (`why`: the load path, inside its output
    // probe): vp8enc takes its encoder lock to set a property, and the probe may run
    // under it. That path changes only the size and frame rate (the floor keeps the
    // estimate's bitrate); the next feedback sets any bitrate.
    if (c.bitrate && c.encoder && !why) {
      if (c.x264)
        g_object_set(c.encoder, "bitrate", static_cast<guint>(std::max<int64_t>(c.setting.bitrate_bps / 1000, 1)),
                     nullptr);
      else
        g_object_set(c.encoder, "target-bitrate", static_cast<gint>(c.setting.bitrate_bps), nullptr);
    }
    if (c.shape && c.caps) {
      GstPtr<GstCaps> caps = Adopt(gst_caps_new_simple(
          "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, c.setting.width, "height", G_TYPE_INT,
          c.setting.height, "framerate", GST_TYPE_FRACTION, c.setting.fps, 1, nullptr));
      g_object_set(c.caps, "caps", caps.get(), nullptr);
    }
  }
}

SendRate::Snapshot SendRate::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace parley::sdk::gst
