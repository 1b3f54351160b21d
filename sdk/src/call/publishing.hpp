// The publish side of a call: what was announced to the server (publish requests sent,
// answered or not) and what it confirmed, the one publish connection that sends (a
// new publish makes a new connection and the server moves subscribers to it), the
// screen share, mutes, the local preview and the media file it publishes with its
// progress reports. Engine thread only, except where a method says otherwise.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "call/call_link.hpp"
#include "media/media.hpp"
#include "parley/engine.hpp"
#include "parley/types.hpp"
#include "signal_channel.hpp"

namespace parley::sdk::call {

/// Encoder settings the API accepts: even sizes 16x16..3840x2160, 1..60 fps,
/// 50..20000 kbps.
[[nodiscard]] bool ValidVideoConfig(const VideoEncoderConfig& c);
/// A screen share the API accepts: its encoder settings (ValidVideoConfig), a region
/// of even sizes of 16 or more at 0 or beyond (width 0: none), and an audio source ""
/// or "device:<id>".
[[nodiscard]] bool ValidScreenShareConfig(const ScreenShareConfig& c);
/// Profile and scenario are values of their enums (the C ABI passes integers).
[[nodiscard]] bool ValidAudioConfig(const AudioEncoderConfig& c);
/// An external audio frame the API accepts: 8..48 kHz, mono or stereo, 1 to `rate`
/// samples (at most a second).
[[nodiscard]] bool ValidAudioFrame(const int16_t* pcm, size_t samples, int rate, int channels);
/// An external video frame the API accepts: tightly packed I420, even sizes up to
/// 3840x2160.
[[nodiscard]] bool ValidVideoFrame(const VideoFrame& f);

class Publishing {
 public:
  using Reply = CallLink::Reply;
  using Event = std::function<void(EngineEventListener&)>;

  /// What the publish side needs from the call. Engine thread.
  class Listener : public CallLink {
   public:
    /// An event for the application's listener.
    virtual void Notify(const Event& event) = 0;
    /// Changes when the call ends or its link changes: a media result that arrives
    /// after that is stale, like a reply to a request cut off.
    [[nodiscard]] virtual uint64_t Generation() const = 0;
    /// The screen share the application asked for did not start or is over.
    virtual void ScreenShareEnded() = 0;
    /// Runs `fn` on the engine thread after what is queued there (any thread).
    virtual void Post(std::function<void()> fn) = 0;
  };

  /// `config` is the call's: sources, encoder and ICE settings (read when publishing).
  Publishing(Listener& listener, media::MediaFactory& media, const EngineConfig& config, boost::asio::io_context& io)
      : listener_(listener), media_(media), config_(config), tick_timer_(io) {}

  /// The application's publish switch for track `k` (audio or camera).
  void Toggle(TrackKind k, bool enable);
  /// A fresh publish connection carrying `want`.
  void Publish(std::set<TrackKind> want);
  void StartScreenShare(const ScreenShareConfig& c);
  void StopScreenShare();
  /// The mute state (set first on the API thread with SetMuted) reaches the connection
  /// and, for a published track, the server.
  void Mute(TrackKind k, bool mute);
  void SetLocalWindow(uint64_t window);
  /// The server's publishLayers for the camera: which of its layers (smallest first)
  /// the connection encodes and sends (dual stream; nothing to do with one stream).
  void SetCameraLayers(const std::vector<bool>& active) {
    if (!connection_ || connection_->camera_layers() < 2) return;
    for (size_t i = 0; i < active.size(); ++i) connection_->SetCameraLayer(i, active[i]);
  }
  /// The local camera shown in the local window while it is not published
  /// (RtcEngine::StartPreview / StopPreview); once published, the publish pipeline
  /// shows what it sends instead.
  void SetPreview(bool on) {
    preview_on_ = on;
    UpdatePreview();
  }
  /// The camera's encoder settings changed: a published camera is published again.
  void VideoConfigChanged();
  void AudioConfigChanged();
  /// The source of track `k` (audio or camera) changed in the configuration: a
  /// published track switches to it in place when `in_place` (devices.hpp's
  /// SwapsInPlace) and the media can, else it is published again; "null" unpublishes.
  void SourceChanged(TrackKind k, bool in_place);
  /// Runs `op` (play, pause, seek) on the media file and reports what changed.
  void FileOp(const std::function<Status(media::FilePlayback&)>& op);
  /// The role is audience now: nothing is published any more.
  void StopPublishing();
  /// The server says the publish transport failed (`reason` as in transportFailed).
  /// Where the network is to blame (no ICE or DTLS through loss within the server's
  /// bound, consent lost) a new connection publishes the same tracks again; each such
  /// failure takes the server 10 s or more to declare, so retrying cannot spin. A
  /// refused handshake (dtls-failed) or a server error is not retried.
  void TransportFailed(const std::string& reason);

  /// The call ends (or leaves): the connection goes first, then the file (DropPlayer,
  /// or End, which also forgets the publish state).
  void DropConnection() {
    connection_.reset();
    UpdatePreview();
  }
  void DropPlayer() { player_.reset(); }
  void End();

  [[nodiscard]] const std::shared_ptr<media::PublishConnection>& connection() const { return connection_; }
  [[nodiscard]] const std::set<TrackKind>& announced() const { return announced_; }
  [[nodiscard]] const std::set<TrackKind>& published() const { return published_; }

  // Any thread:
  void SetMuted(TrackKind k, bool mute) { (k == TrackKind::kAudio ? mute_audio_ : mute_video_) = mute; }
  /// A media file is being published (the file calls fail fast otherwise).
  [[nodiscard]] bool file_active() const { return file_active_; }

 private:
  bool EnsurePlayer(bool audio, bool video);
  void SendPublish(const std::shared_ptr<media::PublishConnection>& holder, const std::set<TrackKind>& want,
                   const std::set<TrackKind>& added_kinds, const std::string& offer);
  void Unpublish(TrackKind k);
  void Republish() { Publish(announced_); }
  void StartTicks(std::chrono::milliseconds delay);
  /// Starts or stops the preview pipeline as the switch, the window, the source and
  /// what is published say (the camera opens in one pipeline at a time).
  void UpdatePreview();
  void Tick();

  Listener& listener_;
  media::MediaFactory& media_;
  const EngineConfig& config_;
  boost::asio::steady_timer tick_timer_;  ///< media file progress
  std::shared_ptr<media::PublishConnection> connection_;
  std::set<TrackKind> published_;  ///< what the server confirmed
  std::set<TrackKind> announced_;  ///< what publish requests sent so far (confirmed or in flight)
  ScreenShareConfig screen_;
  std::unique_ptr<media::FilePlayback> player_;
  bool file_started_ = false;
  uint64_t local_window_ = 0;
  bool preview_on_ = false;
  std::unique_ptr<media::CameraPreview> preview_;
  std::atomic<bool> file_active_{false};
  std::atomic<bool> mute_audio_{false}, mute_video_{false};
};

}  // namespace parley::sdk::call
