// The media seam (media/media.hpp) on GStreamer: thin adapters over the webrtcbin
// connections, the input feeds and the file player of impl/gst/. Their SDP calls
// compute on the engine thread (each wait bounded, impl/gst/promise.hpp); statistics
// are asked without waiting (impl/gst/webrtc.hpp). Either way the result reaches
// `done` through the engine's queue, never inline.
#include <gst/gst.h>

#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "impl/gst/accompany.hpp"
#include "impl/gst/camera_preview.hpp"
#include "impl/gst/data_link.hpp"
#include "impl/gst/device_check.hpp"
#include "impl/gst/devices.hpp"
#include "impl/gst/file_player.hpp"
#include "impl/gst/input_feed.hpp"
#include "impl/gst/pipelines.hpp"
#include "impl/gst/playout.hpp"
#include "impl/gst/publisher.hpp"
#include "impl/gst/snapshot.hpp"
#include "impl/gst/subscriber.hpp"
#include "impl/gst/webrtc.hpp"
#include "media/media.hpp"

namespace parley::sdk::media {
namespace {

class GstInput final : public MediaInput {
 public:
  explicit GstInput(bool video) : feed_(video) {}
  int32_t PushAudio(const int16_t* pcm, size_t samples, int rate, int channels, bool bounded) override {
    size_t bytes = samples * static_cast<size_t>(channels) * sizeof(int16_t);
    return feed_.PushAudio(gst_buffer_new_memdup(pcm, bytes), rate, channels, bounded);
  }
  int32_t PushVideo(const VideoFrame& f, bool bounded) override {
    // Tightly packed I420, as GStreamer's default layout for even sizes.
    return feed_.PushVideo(gst_buffer_new_memdup(f.data, f.size), f.width, f.height, bounded);
  }
  gst::InputFeed& feed() { return feed_; }

 private:
  gst::InputFeed feed_;
};

class GstFilePlayback final : public FilePlayback {
 public:
  explicit GstFilePlayback(std::unique_ptr<gst::FilePlayer> p) : p_(std::move(p)) {}
  Status Play() override { return p_->Play(); }
  Status Pause() override { return p_->Pause(); }
  Status Seek(int64_t position_ms) override { return p_->Seek(position_ms); }
  [[nodiscard]] int64_t PositionMs() const override { return p_->PositionMs(); }
  [[nodiscard]] int64_t DurationMs() const override { return p_->DurationMs(); }
  [[nodiscard]] FileState state() const override { return p_->state(); }

 private:
  std::unique_ptr<gst::FilePlayer> p_;
};

class GstPublishConnection final : public PublishConnection {
 public:
  GstPublishConnection(std::unique_ptr<gst::Publisher> p, Post post)
      : p_(std::move(p)), post_(post), stats_(std::move(post), gst::kStatsBound) {}
  void CreateOffer(std::function<void(Result<std::string>)> done) override {
    post_([done = std::move(done), r = p_->CreateOffer()]() mutable { done(std::move(r)); });
  }
  void SetAnswer(const std::string& sdp, std::function<void(Status)> done) override {
    post_([done = std::move(done), st = p_->SetAnswer(sdp)]() mutable { done(std::move(st)); });
  }
  // The sender's state is read now, beside webrtcbin's statistics (which come later).
  void CollectStats(std::function<void(RtpTotals)> done) override {
    RtpTotals sender;
    p_->SenderState(&sender);
    stats_.Collect(p_->webrtc(), [sender, done = std::move(done)](RtpTotals t) {
      t.estimate_bps = sender.estimate_bps;
      t.wanted_bps = sender.wanted_bps;
      t.cpu_level = sender.cpu_level;
      t.encode_usage = sender.encode_usage;
      done(t);
    });
  }
  void AttachInputs() override { p_->AttachFeeds(); }
  void Mute(TrackKind track, bool muted) override { p_->Mute(track, muted); }
  Status SetPreviewWindow(uint64_t window) override { return p_->SetPreviewWindow(window); }
  uint32_t TakeMicPeak() override { return p_->TakeMicPeak(); }
  Status SwapSource(TrackKind track, const std::string& source) override { return p_->SwapSource(track, source); }
  [[nodiscard]] int camera_layers() const override { return p_->camera_layers(); }
  void SetCameraLayer(size_t layer, bool active) override { p_->SetCameraLayer(layer, active); }

 private:
  std::unique_ptr<gst::Publisher> p_;
  Post post_;
  gst::StatsRequests stats_;  ///< goes first: what is still asked ends with empty totals
};

class GstDataConnection final : public DataConnection {
 public:
  GstDataConnection(std::unique_ptr<gst::DataLink> d, Post post) : d_(std::move(d)), post_(std::move(post)) {}
  void CreateOffer(std::function<void(Result<std::string>)> done) override {
    post_([done = std::move(done), r = d_->CreateOffer()]() mutable { done(std::move(r)); });
  }
  void SetAnswer(const std::string& sdp, std::function<void(Status)> done) override {
    post_([done = std::move(done), st = d_->SetAnswer(sdp)]() mutable { done(std::move(st)); });
  }
  bool Send(int channel, bool text, const std::vector<uint8_t>& bytes) override {
    return d_->Send(channel, text, bytes);
  }

 private:
  std::unique_ptr<gst::DataLink> d_;
  Post post_;
};

class GstSubscribeConnection final : public SubscribeConnection {
 public:
  GstSubscribeConnection(std::unique_ptr<gst::Subscriber> s, Post post, gst::Playout* playout)
      : s_(std::move(s)), post_(post), stats_(std::move(post), gst::kStatsBound), playout_(playout) {}
  ~GstSubscribeConnection() override {
    if (playout_) playout_->SetErrorFn(nullptr);  // its callbacks go with it
  }
  void ApplyOffer(const std::string& offer, std::function<void(Result<std::string>)> done) override {
    post_([done = std::move(done), r = s_->ApplyOffer(offer)]() mutable { done(std::move(r)); });
  }
  // The audio counts are read now, beside webrtcbin's statistics (which come later,
  // on another thread, when the connection may be gone).
  void CollectStats(std::function<void(RtpTotals)> done) override {
    RtpTotals audio;
    s_->AudioCounts(&audio);
    audio.jitter_buffer_ms = s_->jitter_buffer_ms();
    stats_.Collect(s_->webrtc(), [audio, done = std::move(done)](RtpTotals t) {
      t.audio_samples = audio.audio_samples;
      t.audio_samples_concealed = audio.audio_samples_concealed;
      t.jitter_buffer_ms = audio.jitter_buffer_ms;
      done(t);
    });
  }
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window) override {
    s_->SetWindow(user_id, track, window);
  }
  void SetPlayoutDelay(int ms) override { s_->SetLatency(ms); }

 private:
  std::unique_ptr<gst::Subscriber> s_;
  Post post_;
  gst::StatsRequests stats_;  ///< goes first: what is still asked ends with empty totals
  gst::Playout* playout_;     ///< the factory's
};

class GstMediaFactory final : public MediaFactory {
 public:
  explicit GstMediaFactory(Post post) : post_(std::move(post)) {}

  Result<std::unique_ptr<DataConnection>> CreateDataConnection(const media::IceSetup& ice,
                                                               DataCallbacks callbacks) override {
    auto d = gst::DataLink::Create(ice, std::move(callbacks));
    if (!d) return d.error();
    return std::unique_ptr<DataConnection>(std::make_unique<GstDataConnection>(std::move(*d), post_));
  }
  Result<std::unique_ptr<PublishConnection>> CreatePublisher(const PublishOptions& options, ErrorFn on_error) override {
    PublishOptions o = options;
    // A device microphone's echo canceller listens to the playout, which must exist
    // first (its speaker's failures are told once the subscriber is there).
    if (o.audio && o.processing.echo_cancellation && o.audio_source.rfind("device", 0) == 0)
      if (gst::Playout* playout = PlayoutFor(o.playout, nullptr)) {
        o.echo_probe = playout->probe();
        o.echo_base_time = playout->base_time();
      }
    auto p = gst::Publisher::Create(o, &audio_.feed(), &video_.feed(), &snapshots_, &mix_, std::move(on_error));
    if (!p) return p.error();
    return std::unique_ptr<PublishConnection>(std::make_unique<GstPublishConnection>(std::move(*p), post_));
  }

  Result<std::unique_ptr<SubscribeConnection>> CreateSubscriber(const SubscribeOptions& options,
                                                                SubscribeCallbacks cb) override {
    gst::Playout* playout = PlayoutFor(options.playout, cb.on_error);
    auto s = gst::Subscriber::Create(options, std::move(cb), playout, &snapshots_);
    if (!s) return s.error();
    return std::unique_ptr<SubscribeConnection>(
        std::make_unique<GstSubscribeConnection>(std::move(*s), post_, playout));
  }

  Result<std::unique_ptr<FilePlayback>> OpenFile(const std::string& path, bool feeds_audio, bool feeds_video,
                                                 std::function<void()> on_end, ErrorFn on_error) override {
    auto p = gst::FilePlayer::Open(path, feeds_audio ? &audio_.feed() : nullptr, feeds_video ? &video_.feed() : nullptr,
                                   std::move(on_end), std::move(on_error));
    if (!p) return p.error();
    return std::unique_ptr<FilePlayback>(std::make_unique<GstFilePlayback>(std::move(*p)));
  }

  Result<std::unique_ptr<media::Accompaniment>> StartAccompaniment(const media::AccompanyOptions& options,
                                                                   std::function<void()> on_end,
                                                                   ErrorFn on_error) override {
    gst::Playout* playout = options.local_play ? PlayoutFor(options.playout, nullptr) : nullptr;
    auto a = gst::Accompaniment::Start(options, &mix_, playout, std::move(on_end), std::move(on_error));
    if (!a) return a.error();
    return std::unique_ptr<media::Accompaniment>(std::move(*a));
  }

  Result<std::unique_ptr<media::CameraPreview>> StartCameraPreview(const std::string& source, uint64_t window,
                                                                   ErrorFn on_error) override {
    auto p = gst::CameraPreview::Start(source, window, std::move(on_error));
    if (!p) return p.error();
    return std::unique_ptr<media::CameraPreview>(std::move(*p));
  }

  std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) override { return ListDevices(kind); }
  MediaInput& AudioInput() override { return audio_; }
  MediaInput& VideoInput() override { return video_; }

  void SetPlayoutVolume(int volume) override {
    std::lock_guard<std::mutex> lock(mu_);
    volume_ = volume;
    if (playout_) playout_->SetVolume(volume);
  }
  void SetUserVolume(const std::string& user_id, int volume) override {
    std::lock_guard<std::mutex> lock(mu_);
    users_[user_id].first = volume;
    if (playout_) playout_->SetUserVolume(user_id, volume);
  }
  void Snapshot(const std::string& user_id, TrackKind track, const std::string& path, media::ImageType type,
                std::function<void(int32_t, const std::string&)> done) override {
    snapshots_.Request(gst::Snapshots::Key(user_id, Name(track)), path, type == media::ImageType::kJpeg,
                       std::chrono::seconds(3), std::move(done));
  }
  void CloseSnapshots() override { snapshots_.Close(); }

  Status StartMicrophoneCheck(const std::string& source, std::function<void(int)> level, ErrorFn on_error) override {
    mic_check_.reset();
    auto c = gst::DeviceCheck::Microphone(source, std::move(level), std::move(on_error));
    if (!c) return c.error();
    mic_check_ = std::move(*c);
    return {};
  }
  void StopMicrophoneCheck() override { mic_check_.reset(); }
  Status StartSpeakerCheck(const std::string& playout, ErrorFn on_error) override {
    speaker_check_.reset();
    const std::string sink = gst::PlayoutSink(playout);
    auto c = gst::DeviceCheck::Speaker(sink.empty() ? gst::kSilentSink : sink, std::move(on_error));
    if (!c) return c.error();
    speaker_check_ = std::move(*c);
    return {};
  }
  void StopSpeakerCheck() override { speaker_check_.reset(); }

  Status SetPlayout(const std::string& playout) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!playout_) return {};  // the next subscription opens the one its options name
    const std::string sink = gst::PlayoutSink(playout);
    return playout_->SetSink(sink.empty() ? gst::kSilentSink : sink);
  }
  void WatchDevices(std::function<void(const DeviceInfo&, bool)> changed) override {
    std::unique_ptr<gst::DeviceWatch> gone;
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      if (!changed) {
        gone = std::move(watch_);
      } else if (!watch_) {
        watch_ = std::make_unique<gst::DeviceWatch>(std::move(changed));
      }
    }
    gone.reset();  // stops the monitor outside the lock
  }

  void SetUserMuted(const std::string& user_id, bool muted) override {
    std::lock_guard<std::mutex> lock(mu_);
    users_[user_id].second = muted;
    if (playout_) playout_->SetUserMuted(user_id, muted);
  }

 private:
  /// The process's DTLS certificate, made meanwhile (gst::WarmUpDtls); joined last, as
  /// the engine goes (before the process may exit).
  struct Joined {
    std::thread thread;
    ~Joined() {
      if (thread.joinable()) thread.join();
    }
  } warm_{gst::WarmUpDtls()};
  // The engine's playout for `playout` ("null": none), opened on first use with the
  // volumes set so far; its speaker's failures go to `on_error` from now on (none: kept).
  gst::Playout* PlayoutFor(const std::string& playout, const ErrorFn& on_error) {
    const std::string sink = gst::PlayoutSink(playout);
    if (sink.empty()) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    if (!playout_) {  // the engine's configuration names one sink for its life
      playout_ = gst::Playout::Open(sink, on_error);
      if (!playout_) return nullptr;
      playout_->SetVolume(volume_);
      for (const auto& [id, u] : users_) {
        playout_->SetUserVolume(id, u.first);
        playout_->SetUserMuted(id, u.second);
      }
    } else if (on_error) {
      playout_->SetErrorFn(on_error);
    }
    return playout_.get();
  }

  Post post_;
  GstInput audio_{false}, video_{true};
  std::mutex mu_;
  std::unique_ptr<gst::Playout> playout_;  ///< outlives the connections that use it
  gst::Snapshots snapshots_;               ///< outlives the connections that offer it frames
  gst::MixIn mix_;                         ///< the accompaniment, into each publisher's audio
  int volume_ = 100;
  std::map<std::string, std::pair<int, bool>> users_ = {};       ///< volume and mute set per user
  std::unique_ptr<gst::DeviceCheck> mic_check_, speaker_check_;  ///< engine thread
  std::mutex watch_mu_;
  std::unique_ptr<gst::DeviceWatch> watch_;  ///< the system's device changes, once asked for
};

}  // namespace

Status InitMedia() {
  return gst::InitMedia();
}

std::vector<MediaPluginInfo> ListMediaPlugins() {
  return gst::ListMediaPlugins();
}

std::vector<DeviceInfo> ListDevices(DeviceKind kind) {
  return gst::EnumerateDevices(kind);
}

std::unique_ptr<MediaFactory> MakeMediaFactory(Post post) {
  return std::make_unique<GstMediaFactory>(std::move(post));
}

}  // namespace parley::sdk::media
