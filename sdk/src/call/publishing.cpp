#include "call/publishing.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "call/devices.hpp"
#include "call/file_control.hpp"
#include "log.hpp"
#include "parley/proto/requests.hpp"

namespace parley::sdk::call {

bool ValidVideoConfig(const VideoEncoderConfig& c) {
  return c.width >= 16 && c.width <= 3840 && c.height >= 16 && c.height <= 2160 && c.fps >= 1 && c.fps <= 60 &&
         c.bitrate_kbps >= 50 && c.bitrate_kbps <= 20000 && c.width % 2 == 0 && c.height % 2 == 0;
}

bool ValidScreenShareConfig(const ScreenShareConfig& c) {
  if (!ValidVideoConfig({c.width, c.height, c.fps, c.bitrate_kbps, c.codec})) return false;
  const bool whole = c.region_width == 0 && c.region_height == 0 && c.region_x == 0 && c.region_y == 0;
  const bool region = c.region_x >= 0 && c.region_y >= 0 && c.region_width >= 16 && c.region_height >= 16 &&
                      c.region_width % 2 == 0 && c.region_height % 2 == 0 && c.region_width <= 16384 &&
                      c.region_height <= 16384;
  const bool audio = c.audio_source.empty() || (c.audio_source.rfind("device:", 0) == 0 && c.audio_source.size() > 7);
  return (whole || region) && (!c.share_audio || audio);
}

bool ValidAudioConfig(const AudioEncoderConfig& c) {
  return static_cast<int>(c.profile) <= static_cast<int>(AudioProfile::kStereoSuperHighQuality) &&
         static_cast<int>(c.scenario) <= static_cast<int>(AudioScenario::kMusic);
}

bool ValidAudioFrame(const int16_t* pcm, size_t samples, int rate, int channels) {
  return pcm && samples != 0 && samples <= static_cast<size_t>(rate) && rate >= 8000 && rate <= 48000 &&
         channels >= 1 && channels <= 2;
}

bool ValidVideoFrame(const VideoFrame& f) {
  return f.data && f.width >= 2 && f.height >= 2 && f.width <= 3840 && f.height <= 2160 && f.width % 2 == 0 &&
         f.height % 2 == 0 && f.size == static_cast<size_t>(f.width) * static_cast<size_t>(f.height) * 3 / 2;
}

void Publishing::Toggle(TrackKind k, bool enable) {
  if (!listener_.Live()) return;
  if (enable == (announced_.count(k) > 0))
    return listener_.Error(Code(enable ? Errc::kAlreadyPublishing : Errc::kNotPublishing), std::string(Name(k)));
  if (enable) {
    std::set<TrackKind> want = announced_;
    want.insert(k);
    Publish(want);
  } else {
    Unpublish(k);
  }
}

void Publishing::StartScreenShare(const ScreenShareConfig& c) {
  if (!listener_.Live()) return;
  screen_ = c;
  std::set<TrackKind> want = announced_;
  want.insert(TrackKind::kScreen);
  Publish(want);
}

void Publishing::StopScreenShare() {
  if (listener_.Live() && announced_.count(TrackKind::kScreen)) Unpublish(TrackKind::kScreen);
}

void Publishing::Unpublish(TrackKind k) {
  announced_.erase(k);
  listener_.Request("unpublish", proto::UnpublishRequest{{k}}.ToJson(),
                    [this, k](int32_t code, const std::string& m, const nlohmann::json&) {
                      if (code) {
                        if (published_.count(k)) announced_.insert(k);  // still published
                        return listener_.Error(code, m);
                      }
                      published_.erase(k);
                      listener_.Notify([&](EngineEventListener& l) { l.OnPublishStateChanged(k, false); });
                      if (published_.empty()) {
                        connection_.reset();
                        UpdatePreview();
                      } else {
                        Republish();
                      }
                    });
}

void Publishing::Mute(TrackKind k, bool mute) {
  if (connection_) connection_->Mute(k, mute);
  if (listener_.Live() && published_.count(k))
    listener_.Request("mute", proto::MuteRequest{{k}, mute}.ToJson(),
                      [this](int32_t code, const std::string& m, const nlohmann::json&) {
                        if (code) listener_.Error(code, m);
                      });
}

void Publishing::UpdatePreview() {
  const bool camera_sent =
      announced_.count(TrackKind::kCamera) || (connection_ && published_.count(TrackKind::kCamera));
  if (!preview_on_ || !local_window_ || camera_sent || config_.video_source == "null") {
    preview_.reset();
    return;
  }
  if (preview_) return;
  auto p = media_.StartCameraPreview(config_.video_source, local_window_, [this](int32_t code, const std::string& m) {
    listener_.Post([this, code, m] { listener_.Error(code, m); });
  });
  if (!p) return listener_.Error(Code(p.error().code), p.error().message);
  preview_ = std::move(*p);
}

void Publishing::SetLocalWindow(uint64_t window) {
  local_window_ = window;
  preview_.reset();  // into the new window, if it shows
  UpdatePreview();
  if (connection_ && published_.count(TrackKind::kCamera))
    if (Status st = connection_->SetPreviewWindow(window); !st)
      listener_.Error(Code(st.error().code), st.error().message);
}

void Publishing::VideoConfigChanged() {
  if (connection_ && published_.count(TrackKind::kCamera)) Republish();
}

void Publishing::AudioConfigChanged() {
  if (connection_ && published_.count(TrackKind::kAudio)) Republish();
}

void Publishing::SourceChanged(TrackKind k, bool in_place) {
  if (k == TrackKind::kCamera) {  // a preview shows the new camera
    preview_.reset();
    UpdatePreview();
  }
  if (!connection_ || !published_.count(k)) return;  // the next publish takes the new source
  const std::string& id = k == TrackKind::kAudio ? config_.audio_source : config_.video_source;
  if (id == "null") return Unpublish(k);
  if (in_place) {
    Status st = connection_->SwapSource(k, id);
    if (st) return;
    Log().warn("parley: the {} source did not switch in place ({}); publishing again", Name(k), st.error().message);
  }
  Republish();
}

void Publishing::FileOp(const std::function<Status(media::FilePlayback&)>& op) {
  if (!player_) return listener_.Error(Code(Errc::kPublishStreamNotExist), "no media file is being published");
  auto changed = RunFileOp(*player_, op);
  if (!changed) return listener_.Error(Code(changed.error().code), changed.error().message);
  if (*changed) listener_.Notify([&](EngineEventListener& l) { l.OnMediaFileStateChanged(**changed); });
}

void Publishing::StopPublishing() {
  connection_.reset();
  announced_.clear();
  listener_.ScreenShareEnded();
  for (TrackKind k : published_) listener_.Notify([k](EngineEventListener& l) { l.OnPublishStateChanged(k, false); });
  published_.clear();
  UpdatePreview();
}

void Publishing::TransportFailed(const std::string& reason) {
  if (reason != "ice-timeout" && reason != "dtls-timeout" && reason != "consent-lost") return;
  if (!listener_.Live() || announced_.empty()) return;
  Log().info("parley: the publish transport failed ({}): publishing again on a new connection", reason);
  Republish();
}

void Publishing::End() {
  tick_timer_.cancel();
  player_.reset();
  file_started_ = false;
  file_active_ = false;
  published_.clear();
  announced_.clear();
  UpdatePreview();
}

/// Progress reports run every 500 ms from `delay` on, while a media file plays.
void Publishing::StartTicks(std::chrono::milliseconds delay) {
  tick_timer_.expires_after(delay);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

/// Twice a second while a media file is published: its progress.
void Publishing::Tick() {
  if (!player_) return;
  StartTicks(std::chrono::milliseconds(500));
  listener_.Notify(
      [&](EngineEventListener& l) { l.OnMediaFileProgress(player_->PositionMs(), player_->DurationMs()); });
}

/// Opens the media file the sources name (once per call); false when it cannot be
/// played (the error is raised).
bool Publishing::EnsurePlayer(bool audio, bool video) {
  if (player_) return true;
  auto file = FileFor(config_.audio_source, config_.video_source, audio, video);
  if (!file) {
    listener_.Error(Code(file.error().code), file.error().message);
    return false;
  }
  if (!*file) return true;
  auto player = media_.OpenFile(
      (*file)->path, (*file)->feeds_audio, (*file)->feeds_video,
      [this] {
        listener_.Post([this] {
          if (!player_) return;
          listener_.Notify(
              [&](EngineEventListener& l) { l.OnMediaFileProgress(player_->DurationMs(), player_->DurationMs()); });
          listener_.Notify([](EngineEventListener& l) { l.OnMediaFileStateChanged(MediaFileState::kEnded); });
        });
      },
      [this](int32_t code, const std::string& m) { listener_.Post([this, code, m] { listener_.Error(code, m); }); });
  if (!player) {
    listener_.Error(Code(player.error().code), player.error().message);
    return false;
  }
  player_ = std::move(*player);
  file_active_ = true;
  return true;
}

void Publishing::Publish(std::set<TrackKind> want) {
  if (!listener_.Live()) return;
  if (!EnsurePlayer(want.count(TrackKind::kAudio) > 0, want.count(TrackKind::kCamera) > 0)) {
    // The file cannot play: publish the rest.
    if (IsFileSource(config_.audio_source)) want.erase(TrackKind::kAudio);
    if (IsFileSource(config_.video_source)) want.erase(TrackKind::kCamera);
    if (want.empty()) return;
  }
  if (want.count(TrackKind::kAudio) &&
      MissingDevice(config_.audio_source, [&] { return media_.EnumerateDevices(DeviceKind::kMicrophone); })) {
    listener_.Error(Code(Errc::kAudioRecordDeviceNotFound), "no microphone " + config_.audio_source.substr(7));
    want.erase(TrackKind::kAudio);
    if (want.empty()) return;
  }
  bool new_player = player_ && player_->state() == media::FileState::kPaused && !file_started_;
  media::PublishOptions o;
  o.audio = want.count(TrackKind::kAudio) > 0;
  o.video = want.count(TrackKind::kCamera) > 0;
  o.screen = want.count(TrackKind::kScreen) > 0;
  o.audio_source = config_.audio_source;
  o.video_source = config_.video_source;
  o.video_config = config_.video;
  VideoEncoderConfig screen{screen_.width,        screen_.height, screen_.fps,
                            screen_.bitrate_kbps, screen_.codec,  screen_.degradation_preference};
  o.screen_options.display = screen_.display;
  o.screen_options.window_id = screen_.window_id;
  o.screen_options.video = screen;
  o.screen_options.region_x = screen_.region_x;
  o.screen_options.region_y = screen_.region_y;
  o.screen_options.region_width = screen_.region_width;
  o.screen_options.region_height = screen_.region_height;
  if (screen_.share_audio) o.screen_options.audio = screen_.audio_source;
  o.ice = listener_.Ice(media::IceUse::kPublish);
  o.mute_audio = mute_audio_;
  o.mute_video = mute_video_;
  o.dual_stream = config_.dual_stream;
  o.small_video = config_.small_video;
  o.processing = config_.audio_processing;
  o.audio_config = config_.audio;
  o.playout = config_.audio_playout;
  if (o.video) preview_.reset();  // the publish pipeline opens the camera now
  auto pub = media_.CreatePublisher(
      o, [this](int32_t code, const std::string& m) { listener_.Post([this, code, m] { listener_.Error(code, m); }); });
  if (!pub) {
    if (want.count(TrackKind::kScreen)) listener_.ScreenShareEnded();
    listener_.Error(Code(pub.error().code), pub.error().message);
    return UpdatePreview();
  }
  if (new_player) {
    file_started_ = true;
    if (Status st = player_->Play(); !st) listener_.Error(Code(st.error().code), st.error().message);
    listener_.Notify([](EngineEventListener& l) { l.OnMediaFileStateChanged(MediaFileState::kPlaying); });
    StartTicks(std::chrono::milliseconds(0));
  }
  // What the server is told is what was announced before this answer arrives: a
  // second publish (screen share right after joining) must not repeat the first's.
  // Announced now, before the offer exists, so that a publish queued behind this one
  // (or an unpublish's republish) already counts these tracks.
  std::set<TrackKind> added_kinds;
  for (TrackKind k : want)
    if (announced_.insert(k).second) added_kinds.insert(k);
  std::shared_ptr<media::PublishConnection> holder(std::move(*pub));
  uint64_t gen = listener_.Generation();
  holder->CreateOffer([this, gen, holder, want, added_kinds](Result<std::string> offer) {
    if (gen != listener_.Generation()) return;  // the call ended or its link changed: like a request cut off
    if (!offer || !listener_.Live()) {
      for (TrackKind k : added_kinds) announced_.erase(k);  // never sent
      if (!offer) listener_.Error(Code(offer.error().code), offer.error().message);
      return UpdatePreview();
    }
    SendPublish(holder, want, added_kinds, *offer);
  });
}

/// Tells the server about the publish connection `holder` (its offer), then applies
/// the answer and makes it the one that sends.
void Publishing::SendPublish(const std::shared_ptr<media::PublishConnection>& holder, const std::set<TrackKind>& want,
                             const std::set<TrackKind>& added_kinds, const std::string& offer) {
  Log().debug("parley: publish offer\n{}", offer);
  auto on_answer = [this, holder, want, added_kinds](int32_t code, const std::string& m, const nlohmann::json& d) {
    if (code) {
      for (TrackKind k : added_kinds) announced_.erase(k);
      if (added_kinds.count(TrackKind::kScreen)) listener_.ScreenShareEnded();
      listener_.Error(code, m);
      return UpdatePreview();
    }
    Log().debug("parley: publish answer\n{}", d.value("sdp", ""));
    listener_.Phase(StartupPhase::kPublishAnswered);
    holder->SetAnswer(d.value("sdp", ""), [this, gen = listener_.Generation(), holder, want](const Status& st) {
      if (gen != listener_.Generation()) return;
      if (!st)  // the connection is dropped
        return listener_.Error(Code(media::TimedOut(st.error()) ? st.error().code : Errc::kPublishStreamStartError),
                               st.error().message);
      connection_ = holder;
      connection_->AttachInputs();  // the previous connection fed until now
      UpdatePreview();              // the camera is no longer sent: shown here again
      if (local_window_ && want.count(TrackKind::kCamera))
        if (Status pst = connection_->SetPreviewWindow(local_window_); !pst)
          listener_.Error(Code(pst.error().code), pst.error().message);
      for (TrackKind k : want)
        if (published_.insert(k).second)
          listener_.Notify([k](EngineEventListener& l) { l.OnPublishStateChanged(k, true); });
    });
  };
  // With dual stream the camera's layers are its first video sections (small first).
  const int layers = want.count(TrackKind::kCamera) ? holder->camera_layers() : 1;
  if (added_kinds.empty())
    listener_.Request("updatePublish", proto::UpdatePublishRequest{offer, layers}.ToJson(), on_answer);
  else
    listener_.Request("publish", proto::PublishRequest{added_kinds, offer, layers}.ToJson(), on_answer);
}

}  // namespace parley::sdk::call
