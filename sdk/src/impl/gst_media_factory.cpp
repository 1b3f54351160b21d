// The media seam (media/media.hpp) on GStreamer: thin adapters over the webrtcbin
// connections, the input feeds and the file player of impl/media.hpp. Their SDP and
// stats calls compute on the engine thread (each wait bounded, impl/gst/promise.hpp)
// and hand the result to `done` through the engine's queue, never inline, so the
// engine's code reads the same once the work itself becomes asynchronous.
#include <gst/gst.h>

#include <utility>

#include "impl/media.hpp"
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
  InputFeed& feed() { return feed_; }

 private:
  InputFeed feed_;
};

class GstFilePlayback final : public FilePlayback {
 public:
  explicit GstFilePlayback(std::unique_ptr<FilePlayer> p) : p_(std::move(p)) {}
  Status Play() override { return p_->Play(); }
  Status Pause() override { return p_->Pause(); }
  Status Seek(int64_t position_ms) override { return p_->Seek(position_ms); }
  [[nodiscard]] int64_t PositionMs() const override { return p_->PositionMs(); }
  [[nodiscard]] int64_t DurationMs() const override { return p_->DurationMs(); }
  [[nodiscard]] FileState state() const override { return p_->state(); }

 private:
  std::unique_ptr<FilePlayer> p_;
};

class GstPublishConnection final : public PublishConnection {
 public:
  GstPublishConnection(std::unique_ptr<Publisher> p, Post post) : p_(std::move(p)), post_(std::move(post)) {}
  void CreateOffer(std::function<void(Result<std::string>)> done) override {
    post_([done = std::move(done), r = p_->CreateOffer()]() mutable { done(std::move(r)); });
  }
  void SetAnswer(const std::string& sdp, std::function<void(Status)> done) override {
    post_([done = std::move(done), st = p_->SetAnswer(sdp)]() mutable { done(std::move(st)); });
  }
  void CollectStats(std::function<void(RtpTotals)> done) override {
    post_([done = std::move(done), t = p_->Stats()] { done(t); });
  }
  void AttachInputs() override { p_->AttachFeeds(); }
  void Mute(TrackKind track, bool muted) override { p_->Mute(track, muted); }
  Status SetPreviewWindow(uint64_t window) override { return p_->SetPreviewWindow(window); }

 private:
  std::unique_ptr<Publisher> p_;
  Post post_;
};

class GstSubscribeConnection final : public SubscribeConnection {
 public:
  GstSubscribeConnection(std::unique_ptr<Subscriber> s, Post post) : s_(std::move(s)), post_(std::move(post)) {}
  void ApplyOffer(const std::string& offer, std::function<void(Result<std::string>)> done) override {
    post_([done = std::move(done), r = s_->ApplyOffer(offer)]() mutable { done(std::move(r)); });
  }
  void CollectStats(std::function<void(RtpTotals)> done) override {
    post_([done = std::move(done), t = s_->Stats()] { done(t); });
  }
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window) override {
    s_->SetWindow(user_id, track, window);
  }

 private:
  std::unique_ptr<Subscriber> s_;
  Post post_;
};

class GstMediaFactory final : public MediaFactory {
 public:
  explicit GstMediaFactory(Post post) : post_(std::move(post)) {}

  Result<std::unique_ptr<PublishConnection>> CreatePublisher(const PublishOptions& options, ErrorFn on_error) override {
    sdk::PublishOptions o;
    o.audio = options.audio;
    o.video = options.video;
    o.screen = options.screen;
    o.audio_source = options.audio_source;
    o.video_source = options.video_source;
    o.video_config = options.video_config;
    o.screen_options = {options.screen_options.display, options.screen_options.window_id, options.screen_options.video};
    o.ice_addresses = options.ice_addresses;
    o.audio_feed = &audio_.feed();
    o.video_feed = &video_.feed();
    o.mute_audio = options.mute_audio;
    o.mute_video = options.mute_video;
    auto p = Publisher::Create(o, std::move(on_error));
    if (!p) return p.error();
    return std::unique_ptr<PublishConnection>(std::make_unique<GstPublishConnection>(std::move(*p), post_));
  }

  Result<std::unique_ptr<SubscribeConnection>> CreateSubscriber(const SubscribeOptions& options,
                                                                SubscribeCallbacks cb) override {
    sdk::SubscribeOptions o;
    o.ice_addresses = options.ice_addresses;
    o.record_dir = options.record_dir;
    o.playout = options.playout;
    auto s = Subscriber::Create(o, std::move(cb.on_video), std::move(cb.on_audio), std::move(cb.on_track),
                                std::move(cb.on_record), std::move(cb.on_error));
    if (!s) return s.error();
    return std::unique_ptr<SubscribeConnection>(std::make_unique<GstSubscribeConnection>(std::move(*s), post_));
  }

  Result<std::unique_ptr<FilePlayback>> OpenFile(const std::string& path, bool feeds_audio, bool feeds_video,
                                                 std::function<void()> on_end, ErrorFn on_error) override {
    auto p = FilePlayer::Open(path, feeds_audio ? &audio_.feed() : nullptr, feeds_video ? &video_.feed() : nullptr,
                              std::move(on_end), std::move(on_error));
    if (!p) return p.error();
    return std::unique_ptr<FilePlayback>(std::make_unique<GstFilePlayback>(std::move(*p)));
  }

  std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) override { return ListDevices(kind); }
  MediaInput& AudioInput() override { return audio_; }
  MediaInput& VideoInput() override { return video_; }

 private:
  Post post_;
  GstInput audio_{false}, video_{true};
};

}  // namespace

Status InitMedia() {
  return sdk::InitMedia();
}

std::vector<DeviceInfo> ListDevices(DeviceKind kind) {
  return sdk::EnumerateDevices(kind);
}

std::unique_ptr<MediaFactory> MakeMediaFactory(Post post) {
  return std::make_unique<GstMediaFactory>(std::move(post));
}

}  // namespace parley::sdk::media
