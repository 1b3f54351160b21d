#include "impl/gst/accompany.hpp"

#include <gst/app/gstappsink.h>

#include <algorithm>

#include "impl/gst/file_player.hpp"

namespace parley::sdk::gst {

namespace {
// The decoded file as the mix takes it: 48 kHz stereo in 10 ms buffers, which the
// appsink lets go at their time.
constexpr char kDecoded[] =
    "audioconvert ! audioresample ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2 ! "
    "audiobuffersplit output-buffer-duration=1/100 ! appsink name=sink sync=true";
}  // namespace

Result<std::unique_ptr<Accompaniment>> Accompaniment::Start(const media::AccompanyOptions& o, MixIn* mix,
                                                            Playout* playout, std::function<void()> on_end,
                                                            MediaErrorFn on_error) {
  std::unique_ptr<Accompaniment> a(new Accompaniment());
  a->mix_ = mix;
  a->playout_ = o.local_play ? playout : nullptr;
  a->on_end_ = std::move(on_end);
  a->on_error_ = std::move(on_error);
  a->replace_mic_ = o.replace_mic;
  a->cycles_left_ = o.loop_cycles;
  a->publish_gain_ = o.publish_volume / 100.0;
  a->bus_ = std::make_unique<BusState>();
  Accompaniment* self = a.get();
  a->bus_->on_eos = [self] {
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->eos_ = true;
    }
    self->cv_.notify_all();
  };
  auto pipeline = OpenMediaFile(o.path, "parley-accompaniment", G_CALLBACK(&Accompaniment::OnPad), self, a->bus_.get(),
                                &a->on_error_);
  if (!pipeline) return pipeline.error();
  a->pipeline_ = std::move(*pipeline);
  if (!a->has_audio_) return MakeError(Errc::kMediaFileOpenFailed, "audio file " + o.path + " has no audio stream");
  if (o.start_ms > 0 &&
      !gst_element_seek_simple(a->pipeline_.get(), GST_FORMAT_TIME,
                               static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                               static_cast<gint64>(o.start_ms) * GST_MSECOND))
    return MakeError(Errc::kMediaFileOpenFailed,
                     "audio file " + o.path + " cannot start at " + std::to_string(o.start_ms) + " ms");
  a->SetVolumes(o.publish_volume, o.playout_volume);
  mix->Open(a->publish_gain_, a->replace_mic_);
  {
    std::lock_guard<std::mutex> lock(a->mu_);
    a->local_on_ = a->playout_ != nullptr;
  }
  a->cycles_ = std::thread([self] { self->Cycles(); });
  if (gst_element_set_state(a->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "audio file " + o.path + " does not play");
  return a;
}

Accompaniment::~Accompaniment() {
  if (bus_) SilenceBus(*bus_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (cycles_.joinable()) cycles_.join();
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  Silence(true);
  pipeline_.reset();  // before bus_, which its sync handler points at
}

void Accompaniment::Silence(bool gone) {
  bool had_local = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    had_local = local_on_ || gone;
    local_on_ = false;
  }
  if (mix_) mix_->Close();
  if (playout_ && had_local) playout_->Remove(kPlayoutInput);
}

// The first audio stream is decoded; anything else goes to a fakesink.
void Accompaniment::OnPad(GstElement* dec, GstPad* pad, gpointer data) {
  auto* self = static_cast<Accompaniment*>(data);
  GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad));
  if (!caps) caps = Adopt(gst_pad_query_caps(pad, nullptr));
  const std::string name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  const bool audio = name.rfind("audio/", 0) == 0 && !self->has_audio_.exchange(true);
  GstElement* bin = gst_parse_bin_from_description(audio ? kDecoded : "fakesink sync=true", TRUE, nullptr);
  if (!bin) {
    if (audio) self->has_audio_ = false;
    return;
  }
  if (audio) {
    GstPtr<GstElement> sink = Adopt(gst_bin_get_by_name(GST_BIN(bin), "sink"));
    g_object_set(sink.get(), "emit-signals", TRUE, nullptr);
    g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&Accompaniment::OnSample), self);
  }
  gst_bin_add(GST_BIN(GST_ELEMENT_PARENT(dec)), bin);  // pipeline_ is set once the file prerolled
  gst_element_sync_state_with_parent(bin);
  GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(bin, "sink"));
  gst_pad_link(pad, in.get());
}

GstFlowReturn Accompaniment::OnSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<Accompaniment*>(data);
  GstPtr<GstSample> sample = Adopt(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  GstBuffer* buf = sample ? gst_sample_get_buffer(sample.get()) : nullptr;  // the sample's
  if (!buf) return GST_FLOW_OK;
  GstMapInfo map;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    self->mix_->Write(reinterpret_cast<const int16_t*>(map.data), map.size / 4);
    gst_buffer_unmap(buf, &map);
  }
  std::lock_guard<std::mutex> lock(self->mu_);
  if (self->local_on_) self->playout_->Push(kPlayoutInput, buf, gst_sample_get_caps(sample.get()));
  return GST_FLOW_OK;
}

void Accompaniment::Cycles() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || eos_; });
    if (stop_) return;
    eos_ = false;
    if (cycles_left_ > 1 || cycles_left_ < 0) {
      if (cycles_left_ > 1) --cycles_left_;
      lock.unlock();  // a flushing seek waits for the streaming thread, which takes mu_
      const bool again = gst_element_seek_simple(pipeline_.get(), GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, 0);
      lock.lock();
      if (again) continue;
    }
    ended_ = true;
    lock.unlock();
    Silence(false);
    if (on_end_) on_end_();
    lock.lock();
  }
}

Status Accompaniment::Pause() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_ || paused_) return {};
    paused_ = true;
  }
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the audio file does not pause");
  Silence(false);
  return {};
}

Status Accompaniment::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_ || !paused_) return {};
    paused_ = false;
    local_on_ = playout_ != nullptr;
  }
  mix_->Open(publish_gain_, replace_mic_);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the audio file does not resume");
  return {};
}

Status Accompaniment::Seek(int64_t position_ms) {
  if (position_ms < 0) return MakeError(Errc::kPublishConfigInvalid, "negative position");
  const int64_t duration = DurationMs();
  if (duration > 0) position_ms = std::min(position_ms, duration);
  if (!gst_element_seek_simple(pipeline_.get(), GST_FORMAT_TIME,
                               static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                               static_cast<gint64>(position_ms) * GST_MSECOND))
    return MakeError(Errc::kMediaFileOpenFailed, "the audio file cannot seek");
  return {};
}

void Accompaniment::SetVolumes(int publish, int playout) {
  publish_gain_ = std::clamp(publish, 0, 100) / 100.0;
  mix_->SetGain(publish_gain_);
  if (playout_) playout_->SetUserVolume(kPlayoutInput, std::clamp(playout, 0, 100));
}

int64_t Accompaniment::PositionMs() const {
  gint64 pos = 0;
  if (!gst_element_query_position(pipeline_.get(), GST_FORMAT_TIME, &pos)) return 0;
  return pos / static_cast<gint64>(GST_MSECOND);
}

int64_t Accompaniment::DurationMs() const {
  gint64 d = 0;
  if (!gst_element_query_duration(pipeline_.get(), GST_FORMAT_TIME, &d)) return -1;
  return d / static_cast<gint64>(GST_MSECOND);
}

}  // namespace parley::sdk::gst
