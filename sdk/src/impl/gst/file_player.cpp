#include "impl/gst/file_player.hpp"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace parley::sdk::gst {

using media::FileState;

Result<GstPtr<GstElement>> OpenMediaFile(const std::string& path, const char* name, GCallback on_pad, gpointer self,
                                         BusState* bus, MediaErrorFn* on_error) {
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f)
      return MakeError(Errc::kMediaFileOpenFailed, "cannot open media file " + path + ": " + std::strerror(errno));
    std::fclose(f);
  }
  GstPtr<GstElement> pipeline = Sink(gst_pipeline_new(name));
  GstPtr<GstElement> dec = Sink(gst_element_factory_make("uridecodebin", "mediafile"));
  if (!dec) return MakeError(Errc::kInitMissingPlugin, "GStreamer element 'uridecodebin' is missing");
  GError* raw_err = nullptr;
  GstPtr<gchar> uri = Adopt(gst_filename_to_uri(path.c_str(), &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  if (!uri) return MakeError(Errc::kMediaFileOpenFailed, "bad media file path " + path + ": " + ErrorText(err.get()));
  g_object_set(dec.get(), "uri", uri.get(), nullptr);
  g_signal_connect(dec.get(), "pad-added", on_pad, self);
  gst_bin_add(GST_BIN(pipeline.get()), dec.get());  // the bin's own reference
  bus->runtime_code = static_cast<int32_t>(Errc::kMediaFileOpenFailed);
  WatchBus(pipeline.get(), bus);
  gst_element_set_state(pipeline.get(), GST_STATE_PAUSED);
  GstStateChangeReturn r = gst_element_get_state(pipeline.get(), nullptr, nullptr, 10 * GST_SECOND);
  std::string why;
  {
    std::lock_guard<std::mutex> lock(bus->mu);
    if (r != GST_STATE_CHANGE_FAILURE && !bus->last_code) {
      bus->fn = on_error;
      return pipeline;
    }
    why = bus->last_message.empty() ? "no media" : bus->last_message;
  }
  SilenceBus(*bus);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);  // stopped while the caller's bus state lives
  return MakeError(Errc::kMediaFileOpenFailed, "cannot play media file " + path + ": " + why);
}

Result<std::unique_ptr<FilePlayer>> FilePlayer::Open(const std::string& path, InputFeed* audio, InputFeed* video,
                                                     EndFn on_end, MediaErrorFn on_error) {
  std::unique_ptr<FilePlayer> p(new FilePlayer());
  p->audio_ = audio;
  p->video_ = video;
  p->on_end_ = std::move(on_end);
  p->on_error_ = std::move(on_error);
  p->bus_ = std::make_unique<BusState>();
  FilePlayer* self = p.get();
  p->bus_->on_eos = [self] {
    self->state_ = FileState::kEnded;
    if (self->on_end_) self->on_end_();
  };
  auto pipeline =
      OpenMediaFile(path, "parley-file", G_CALLBACK(&FilePlayer::OnPad), self, p->bus_.get(), &p->on_error_);
  if (!pipeline) return pipeline.error();
  p->pipeline_ = std::move(*pipeline);
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
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();  // before bus_, which its sync handler points at
  if (last_frame_) gst_buffer_unref(last_frame_);
}

// uridecodebin found a stream: audio and video go (converted) to an appsink that
// paces them in real time, anything else (or a kind nobody publishes) to a fakesink.
void FilePlayer::OnPad(GstElement* dec, GstPad* pad, gpointer data) {
  auto* self = static_cast<FilePlayer*>(data);
  GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(pad));
  if (!caps) caps = Adopt(gst_pad_query_caps(pad, nullptr));
  std::string name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  // The first stream of each kind is taken (pads may come on different threads).
  bool audio = name.rfind("audio/", 0) == 0 && self->audio_ && !self->has_audio_.exchange(true);
  bool video = name.rfind("video/", 0) == 0 && self->video_ && !self->has_video_.exchange(true);
  const char* desc = audio   ? "audioconvert ! audioresample ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,"
                               "channels=2 ! appsink name=sink sync=true"
                     : video ? "videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=true"
                             : "fakesink sync=true";
  // Floating until the pipeline takes it.
  GstElement* bin = gst_parse_bin_from_description(desc, TRUE, nullptr);
  if (!bin) {
    if (audio || video) (audio ? self->has_audio_ : self->has_video_) = false;
    return;
  }
  if (audio || video) {
    GstPtr<GstElement> sink = Adopt(gst_bin_get_by_name(GST_BIN(bin), "sink"));
    g_object_set_data(G_OBJECT(sink.get()), "parley-video", GINT_TO_POINTER(video ? 1 : 0));
    g_object_set(sink.get(), "emit-signals", TRUE, nullptr);
    g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&FilePlayer::OnSample), self);
  }
  gst_bin_add(GST_BIN(GST_ELEMENT_PARENT(dec)), bin);  // pipeline_ is set once the file prerolled
  gst_element_sync_state_with_parent(bin);
  GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(bin, "sink"));
  gst_pad_link(pad, in.get());
}

GstFlowReturn FilePlayer::OnSample(GstElement* sink, gpointer data) {
  auto* self = static_cast<FilePlayer*>(data);
  GstPtr<GstSample> sample = Adopt(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buf = gst_sample_get_buffer(sample.get());  // the sample's
  if (!buf) return GST_FLOW_OK;
  if (g_object_get_data(G_OBJECT(sink), "parley-video")) {
    GstVideoInfo info;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get()))) {
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
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the media file does not play");
  return {};
}

Status FilePlayer::Pause() {
  if (state_ == FileState::kEnded) return {};  // nothing plays; a seek restarts it
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaFileOpenFailed, "the media file does not pause");
  state_ = FileState::kPaused;
  return {};
}

Status FilePlayer::Seek(int64_t position_ms) {
  if (position_ms < 0) return MakeError(Errc::kPublishConfigInvalid, "negative seek position");
  int64_t duration = DurationMs();
  if (duration > 0 && position_ms > duration) position_ms = duration;
  if (!gst_element_seek_simple(pipeline_.get(), GST_FORMAT_TIME,
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
  if (!gst_element_query_position(pipeline_.get(), GST_FORMAT_TIME, &pos))
    return state_ == FileState::kEnded ? DurationMs() : 0;
  return pos / static_cast<gint64>(GST_MSECOND);
}

int64_t FilePlayer::DurationMs() const {
  gint64 d = 0;
  if (!gst_element_query_duration(pipeline_.get(), GST_FORMAT_TIME, &d)) return -1;
  return d / static_cast<gint64>(GST_MSECOND);
}

}  // namespace parley::sdk::gst
