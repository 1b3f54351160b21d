#include "impl/gst/playout.hpp"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <atomic>

#include "impl/gst/swap.hpp"

namespace parley::sdk::gst {
namespace {

constexpr char kMix[] = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2";

double Gain(int volume) {
  return std::clamp(volume, 0, 400) / 100.0;
}

}  // namespace

std::unique_ptr<Playout> Playout::Open(const std::string& sink, MediaErrorFn on_error) {
  static std::atomic<int> count{0};
  std::unique_ptr<Playout> p(new Playout());
  p->probe_ = "parley-echo-" + std::to_string(++count);
  p->target_ = std::move(on_error);
  p->forward_ = [self = p.get()](int32_t code, const std::string& message) {
    MediaErrorFn fn;
    {
      std::lock_guard<std::mutex> lock(self->fn_mu_);
      fn = self->target_;
    }
    if (fn) fn(code, message);
  };
  // The mixer waits 40 ms for late input (each user's audio arrives as its jitter
  // buffer lets it go) and leaves out inputs with nothing yet; a user who pauses (DTX)
  // is silence meanwhile.
  std::string desc =
      std::string("audiomixer name=mix latency=40000000 ignore-inactive-pads=true start-time-selection=first ! ") +
      kMix + " ! volume name=playout ! webrtcechoprobe name=" + p->probe_;
  GError* err = nullptr;
  p->pipeline_ = Sink(gst_parse_launch(desc.c_str(), &err));
  if (err) g_error_free(err);
  std::string why;
  p->speaker_ = Sink(PartFromDescription(sink, GST_PAD_SINK, &why));
  if (!p->pipeline_ || !p->speaker_) return nullptr;
  GstPtr<GstElement> probe = Adopt(gst_bin_get_by_name(GST_BIN(p->pipeline_.get()), p->probe_.c_str()));
  p->mix_out_ = Adopt(gst_element_get_static_pad(probe.get(), "src"));
  gst_bin_add(GST_BIN(p->pipeline_.get()), p->speaker_.get());
  GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(p->speaker_.get(), "sink"));
  if (gst_pad_link(p->mix_out_.get(), in.get()) != GST_PAD_LINK_OK) return nullptr;
  // The system clock and a base time fixed now, which the microphone's pipeline takes
  // too (Publisher): the sink prerolls only once someone plays, so the pipeline would
  // otherwise choose its base time later, and the echo canceller would compare times
  // of two different origins.
  GstClock* clock = gst_system_clock_obtain();
  gst_pipeline_use_clock(GST_PIPELINE(p->pipeline_.get()), clock);
  gst_element_set_start_time(p->pipeline_.get(), GST_CLOCK_TIME_NONE);
  gst_element_set_base_time(p->pipeline_.get(), gst_clock_get_time(clock));
  gst_object_unref(clock);
  p->mixer_ = Adopt(gst_bin_get_by_name(GST_BIN(p->pipeline_.get()), "mix"));
  p->volume_ = Adopt(gst_bin_get_by_name(GST_BIN(p->pipeline_.get()), "playout"));
  p->bus_.fn = &p->forward_;
  WatchBus(p->pipeline_.get(), &p->bus_);
  if (gst_element_set_state(p->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) return nullptr;
  return p;
}

Playout::~Playout() {
  SilenceBus(bus_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, in] : inputs_) gst_caps_replace(&in.caps, nullptr);
  }
  // Stopped and gone before bus_, which its sync handler points at.
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  inputs_.clear();
  mix_out_.reset();
  speaker_.reset();
  volume_.reset();
  mixer_.reset();
  pipeline_.reset();
}

uint64_t Playout::base_time() const {
  return gst_element_get_base_time(pipeline_.get());
}

void Playout::SetErrorFn(MediaErrorFn on_error) {
  std::lock_guard<std::mutex> lock(fn_mu_);
  target_ = std::move(on_error);
}

void Playout::Apply(Input& in) {
  if (in.pad) g_object_set(in.pad.get(), "volume", Gain(in.volume), "mute", in.muted ? TRUE : FALSE, nullptr);
}

void Playout::Push(const std::string& user_id, GstBuffer* buffer, GstCaps* caps) {
  GstPtr<GstElement> src;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Input& in = inputs_[user_id];
    if (!in.src) {
      GstElement* e = gst_element_factory_make("appsrc", nullptr);  // floating
      if (!e) return;
      g_object_set(e, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE, nullptr);
      gst_bin_add(GST_BIN(pipeline_.get()), e);
      in.src = Ref(e);
      in.pad = Adopt(gst_element_request_pad_simple(mixer_.get(), "sink_%u"));
      GstPtr<GstPad> out = Adopt(gst_element_get_static_pad(e, "src"));
      if (in.pad) gst_pad_link(out.get(), in.pad.get());
      Apply(in);
      gst_element_sync_state_with_parent(e);
    }
    if (!in.caps || !gst_caps_is_equal(caps, in.caps)) {
      gst_app_src_set_caps(GST_APP_SRC(in.src.get()), caps);
      gst_caps_replace(&in.caps, caps);
    }
    src = Ref(in.src.get());
  }
  GstBuffer* copy = gst_buffer_copy(buffer);  // shares the memory; our own timestamps
  GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(src.get()), copy);
}

void Playout::Drop(Input& in) {
  if (!in.src) return;
  gst_element_set_state(in.src.get(), GST_STATE_NULL);
  if (in.pad) gst_element_release_request_pad(mixer_.get(), in.pad.get());
  gst_bin_remove(GST_BIN(pipeline_.get()), in.src.get());
  in.src.reset();
  in.pad.reset();
  gst_caps_replace(&in.caps, nullptr);
}

void Playout::Remove(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inputs_.find(user_id);
  if (it == inputs_.end()) return;
  Drop(it->second);
  if (it->second.volume == 100 && !it->second.muted) inputs_.erase(it);
}

void Playout::SetUserVolume(const std::string& user_id, int volume) {
  std::lock_guard<std::mutex> lock(mu_);
  Input& in = inputs_[user_id];
  in.volume = std::clamp(volume, 0, 400);
  Apply(in);
}

void Playout::SetUserMuted(const std::string& user_id, bool muted) {
  std::lock_guard<std::mutex> lock(mu_);
  Input& in = inputs_[user_id];
  in.muted = muted;
  Apply(in);
}

Status Playout::SetSink(const std::string& sink) {
  std::string why;
  GstPtr<GstElement> part = Sink(PartFromDescription(sink, GST_PAD_SINK, &why));
  if (!part) return MakeError(Errc::kAudioPlayDeviceOpenFailed, "cannot build the speaker: " + why);
  Rearm(bus_, "speaker");  // the new speaker's failures are told
  if (Status st =
          ReplaceSink(GST_BIN(pipeline_.get()), mix_out_.get(), speaker_.get(), part.get(), Errc::kAudioPlayError);
      !st)
    return st;
  speaker_ = std::move(part);
  return {};
}

void Playout::SetVolume(int volume) {
  g_object_set(volume_.get(), "volume", Gain(volume), nullptr);
}

}  // namespace parley::sdk::gst
