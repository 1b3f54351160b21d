// The call's subscribe side as the media sees it: the subscribe connection's options
// and media callbacks, and the startup phases (OnStartupPhase) the call reports.
#include <algorithm>

#include "call/call.hpp"
#include "call/devices.hpp"

namespace parley::sdk::call {

void Call::ReachPhase(StartupPhase phase, Clock::time_point at) {
  const uint32_t bit = 1u << static_cast<unsigned>(phase);
  if (join_t0_ == Clock::time_point{} || (phases_ & bit) != 0) return;
  phases_ |= bit;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at - join_t0_).count();
  const int elapsed = static_cast<int>(std::max<int64_t>(ms, 0));
  Notify([&](EngineEventListener& l) { l.OnStartupPhase(phase, elapsed); });
}

// ---- the subscribe connection's options and media callbacks --------------------------

Result<std::unique_ptr<media::SubscribeConnection>> Call::NewSubscribeConnection() {
  media::SubscribeOptions so;
  so.ice = Ice(media::IceUse::kSubscribe);
  so.record_dir = config_.record_dir;
  so.playout = config_.audio_playout;
  if (MissingDevice(so.playout, [this] { return media_.EnumerateDevices(DeviceKind::kSpeaker); })) {
    Error(Code(Errc::kAudioPlayDeviceNotFound), "no speaker " + so.playout.substr(7));
    so.playout = "null";
  }
  media::SubscribeCallbacks cb;
  cb.on_video = [this](const RemoteTrackInfo& i, const VideoFrame& f) {
    frames_.fetch_add(1, std::memory_order_relaxed);
    quality_.OnVideoFrame(i.user_id, i.track, NowUs());
    width_.store(f.width, std::memory_order_relaxed);
    height_.store(f.height, std::memory_order_relaxed);
    host_.OnRemoteVideoFrame(i, f);
  };
  cb.on_audio = [this](const RemoteTrackInfo& i, const AudioFrame& f) { host_.OnRemoteAudioFrame(i, f); };
  cb.on_phase = [this](StartupPhase p, Clock::time_point at) { Post([this, p, at] { ReachPhase(p, at); }); };
  cb.on_track = [this](const RemoteTrackInfo& i) {
    Post([this, i] { Notify([&](EngineEventListener& l) { l.OnRemoteTrackAvailable(i.user_id, i.track); }); });
  };
  cb.on_record = [this](const RemoteTrackInfo& i, const std::string& path) {
    Post([this, i, path] { Notify([&](EngineEventListener& l) { l.OnRecordingStarted(i.user_id, i.track, path); }); });
  };
  // One remote stream failing (or ending abruptly when its sender leaves) does not end
  // the call: the others keep playing, so it is a warning. The renderer and the
  // speaker are the application's own: those are errors.
  cb.on_error = [this](int32_t code, const std::string& m) {
    bool device = code == Code(Errc::kRenderOpenFailed) || code == Code(Errc::kRenderError) ||
                  code == Code(Errc::kAudioPlayDeviceOpenFailed) || code == Code(Errc::kAudioPlayError);
    Post([this, code, m, device] { device ? Error(code, m) : Warn(code, m); });
  };
  return media_.CreateSubscriber(so, std::move(cb));
}

}  // namespace parley::sdk::call
