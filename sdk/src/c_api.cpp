// The C ABI over RtcEngine. Handles live in a registry: a call with a handle that was
// never created or was destroyed returns PARLEY_ERR_INVALID_STATE (0x01030204). Each
// entry point has one guard that turns any exception into a code.
#include <algorithm>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "parley/engine.hpp"
#include "parley/parley.h"
#include "parley/proto/errc.hpp"

namespace {
int DataFlags(const parley::DataMessageOptions& o) {
  return (o.text ? PARLEY_DATA_TEXT : 0) | (o.reliable ? 0 : PARLEY_DATA_UNRELIABLE) |
         (o.ordered ? 0 : PARLEY_DATA_UNORDERED);
}
}  // namespace

struct parley_engine : parley::EngineEventListener, parley::MediaFrameObserver {
  parley::RtcEngine* engine = nullptr;
  std::mutex cb_mu;
  int last_mile_quality_ = 6;  ///< engine thread: the probe's quality, told just before its result
  parley_callbacks cb{};

  parley_callbacks Callbacks() {
    std::lock_guard<std::mutex> lock(cb_mu);
    return cb;
  }
  void OnJoinChannelResult(int32_t r, const std::string& ch, const std::string& u, int ms) override {
    if (auto c = Callbacks(); c.on_join_result) c.on_join_result(c.user_data, r, ch.c_str(), u.c_str(), ms);
  }
  void OnLeaveChannelResult(int32_t r) override {
    if (auto c = Callbacks(); c.on_leave_result) c.on_leave_result(c.user_data, r);
  }
  void OnRemoteUserOnline(const std::string& u) override {
    if (auto c = Callbacks(); c.on_remote_user_online) c.on_remote_user_online(c.user_data, u.c_str());
  }
  void OnRemoteUserOffline(const std::string& u, const std::string& reason) override {
    if (auto c = Callbacks(); c.on_remote_user_offline)
      c.on_remote_user_offline(c.user_data, u.c_str(), reason.c_str());
  }
  void OnOccurError(int32_t code, const std::string& m) override {
    if (auto c = Callbacks(); c.on_error) c.on_error(c.user_data, code, m.c_str());
  }
  void OnOccurWarning(int32_t code, const std::string& m) override {
    if (auto c = Callbacks(); c.on_warning) c.on_warning(c.user_data, code, m.c_str());
  }
  void OnRemoteVideoFrame(const std::string& u, parley::TrackKind t, const parley::VideoFrame& f) override {
    if (auto c = Callbacks(); c.on_remote_video_frame)
      c.on_remote_video_frame(c.user_data, u.c_str(), static_cast<int>(t), f.width, f.height, f.timestamp_us, f.data,
                              f.size);
  }
  void OnRemoteAudioFrame(const std::string& u, const parley::AudioFrame& f) override {
    if (auto c = Callbacks(); c.on_remote_audio_frame)
      c.on_remote_audio_frame(c.user_data, u.c_str(), f.sample_rate, f.channels, f.samples, f.data);
  }
  void OnConnectionStatusChanged(parley::ConnectionStatus s) override {
    if (auto c = Callbacks(); c.on_connection_status) c.on_connection_status(c.user_data, static_cast<int>(s));
  }
  void OnRemoteTrackAvailable(const std::string& u, parley::TrackKind t) override {
    if (auto c = Callbacks(); c.on_remote_track) c.on_remote_track(c.user_data, u.c_str(), static_cast<int>(t), 1);
  }
  void OnRemoteTrackUnavailable(const std::string& u, parley::TrackKind t) override {
    if (auto c = Callbacks(); c.on_remote_track) c.on_remote_track(c.user_data, u.c_str(), static_cast<int>(t), 0);
  }
  void OnPublishStateChanged(parley::TrackKind t, bool published) override {
    if (auto c = Callbacks(); c.on_publish_state) c.on_publish_state(c.user_data, static_cast<int>(t), published);
  }
  void OnMediaFileProgress(int64_t position_ms, int64_t duration_ms) override {
    if (auto c = Callbacks(); c.on_media_file_progress) c.on_media_file_progress(c.user_data, position_ms, duration_ms);
  }
  void OnMediaFileStateChanged(parley::MediaFileState s) override {
    if (auto c = Callbacks(); c.on_media_file_state) c.on_media_file_state(c.user_data, static_cast<int>(s));
  }
  void OnRecordingStarted(const std::string& u, parley::TrackKind t, const std::string& path) override {
    if (auto c = Callbacks(); c.on_recording_started)
      c.on_recording_started(c.user_data, u.c_str(), static_cast<int>(t), path.c_str());
  }
  void OnBye(const std::string& reason) override {
    if (auto c = Callbacks(); c.on_bye) c.on_bye(c.user_data, reason.c_str());
  }
  void OnNetworkQualityChanged(const std::string& user_id, parley::NetworkQuality up,
                               parley::NetworkQuality down) override {
    if (auto c = Callbacks(); c.on_network_quality)
      c.on_network_quality(c.user_data, user_id.c_str(), static_cast<int>(up), static_cast<int>(down));
  }
  void OnMessage(const std::string& from, const std::string& data, bool direct) override {
    if (auto c = Callbacks(); c.on_message) c.on_message(c.user_data, from.c_str(), data.c_str(), direct ? 1 : 0);
  }
  void OnDataMessage(const std::string& from, const std::vector<uint8_t>& data,
                     const parley::DataMessageOptions& o) override {
    if (auto c = Callbacks(); c.on_data_message)
      c.on_data_message(c.user_data, from.c_str(), data.data(), data.size(), DataFlags(o));
  }
  void OnDataChannelStateChanged(parley::DataChannelState s) override {
    if (auto c = Callbacks(); c.on_data_channel_state) c.on_data_channel_state(c.user_data, static_cast<int>(s));
  }
  void OnStartupPhase(parley::StartupPhase phase, int elapsed_ms) override {
    if (auto c = Callbacks(); c.on_startup_phase) c.on_startup_phase(c.user_data, static_cast<int>(phase), elapsed_ms);
  }
  void OnRemoteUserUpdated(const std::string& user_id, const std::string& user_name) override {
    if (auto c = Callbacks(); c.on_remote_user_updated)
      c.on_remote_user_updated(c.user_data, user_id.c_str(), user_name.c_str());
  }
  void OnRemoteUserRoleChanged(const std::string& user_id, parley::ClientRole role) override {
    if (auto c = Callbacks(); c.on_remote_role_changed)
      c.on_remote_role_changed(c.user_data, user_id.c_str(),
                               role == parley::ClientRole::kAudience ? PARLEY_ROLE_AUDIENCE : PARLEY_ROLE_BROADCASTER);
  }
  void OnAudioVolumeIndication(const std::vector<parley::AudioVolumeInfo>& list) override {
    auto c = Callbacks();
    if (!c.on_volume_indication) return;
    std::vector<const char*> ids;
    std::vector<int> volumes;
    for (const auto& v : list) {
      ids.push_back(v.user_id.c_str());
      volumes.push_back(v.volume);
    }
    c.on_volume_indication(c.user_data, ids.data(), volumes.data(), list.size());
  }
  void OnAuthInfoWillExpire(int64_t expires_at) override {
    if (auto c = Callbacks(); c.on_token_will_expire) c.on_token_will_expire(c.user_data, expires_at);
  }
  void OnAuthInfoExpired(int64_t remove_in_ms) override {
    if (auto c = Callbacks(); c.on_token_expired) c.on_token_expired(c.user_data, remove_in_ms);
  }
  void OnSnapshotComplete(const std::string& u, parley::TrackKind t, const std::string& path, int32_t r) override {
    if (auto c = Callbacks(); c.on_snapshot)
      c.on_snapshot(c.user_data, u.c_str(), static_cast<int>(t), path.c_str(), r);
  }
  void OnDeviceStateChanged(const parley::DeviceInfo& d, parley::DeviceState s) override {
    if (auto c = Callbacks(); c.on_device_state)
      c.on_device_state(c.user_data, static_cast<int>(d.kind), d.id.c_str(), d.name.c_str(),
                        s == parley::DeviceState::kAdded ? 1 : 0);
  }
  void OnAudioAccompanyStateChanged(parley::AudioAccompanyState state, int32_t code) override {
    if (auto c = Callbacks(); c.on_audio_accompany_state)
      c.on_audio_accompany_state(c.user_data, static_cast<int>(state), code);
  }
  void OnLastMileDetectResult(parley::NetworkQuality quality) override {
    last_mile_quality_ = static_cast<int>(quality);
  }
  void OnLastMileProbeResult(int32_t code, const parley::LastMileProbeResult& r) override {
    const int quality = code == 0 ? last_mile_quality_ : static_cast<int>(parley::NetworkQuality::kUnknown);
    if (auto c = Callbacks(); c.on_last_mile_result) {
      const parley_last_mile_result out{static_cast<int>(r.state),
                                        r.rtt_ms,
                                        r.uplink.packet_loss_percent,
                                        r.uplink.jitter_ms,
                                        r.uplink.available_bandwidth_kbps,
                                        r.downlink.packet_loss_percent,
                                        r.downlink.jitter_ms,
                                        r.downlink.available_bandwidth_kbps};
      c.on_last_mile_result(c.user_data, code, quality, &out);
    }
  }
  void OnAudioCaptureTestLevel(int volume) override {
    if (auto c = Callbacks(); c.on_audio_capture_test_level) c.on_audio_capture_test_level(c.user_data, volume);
  }
  void OnRemoteStreamResumed(const std::string& user_id) override {
    if (auto c = Callbacks(); c.on_remote_stream_resumed) c.on_remote_stream_resumed(c.user_data, user_id.c_str());
  }
};

namespace {

// Calls hold g_mu shared for their whole duration and destroy takes it exclusively to
// unregister the handle, so a handle is never freed under a running call (a call from
// a callback during destroy finds it unregistered).
std::shared_mutex g_mu;
std::set<parley_engine*> g_live;

constexpr int32_t kInvalidState = static_cast<int32_t>(parley::Errc::kInvalidState);
constexpr int32_t kInvalidArg = static_cast<int32_t>(parley::Errc::kInvalidAuthInfo);
constexpr int32_t kInternal = static_cast<int32_t>(parley::Errc::kInternalError);

template <typename Fn>
int32_t Guard(parley_engine* e, Fn fn) {
  std::shared_lock<std::shared_mutex> lock(g_mu);
  if (!e || !g_live.count(e)) return kInvalidState;
  try {
    return fn(*e->engine);
  } catch (...) {
    return kInternal;
  }
}

std::string Str(const char* s) {
  return s ? s : "";
}

constexpr int32_t kInvalidSubscribe = static_cast<int32_t>(parley::Errc::kSubscribeConfigInvalid);

bool Tracks(const int* tracks, size_t count, std::vector<parley::TrackKind>* out) {
  if (!tracks && count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (tracks[i] < PARLEY_TRACK_AUDIO || tracks[i] > PARLEY_TRACK_SCREEN) return false;
    out->push_back(static_cast<parley::TrackKind>(tracks[i]));
  }
  return true;
}

}  // namespace

extern "C" {

int32_t parley_engine_create(const parley_engine_config* config, parley_engine** out) {
  if (!config || !out || !config->server_url || !*config->server_url) return kInvalidArg;
  if (config->degradation_preference < PARLEY_DEGRADATION_MAINTAIN_FRAMERATE ||
      config->degradation_preference > PARLEY_DEGRADATION_BALANCED)
    return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  try {
    parley::EngineConfig c;
    c.server_url = config->server_url;
    if (config->audio_source) c.audio_source = config->audio_source;
    if (config->video_source) c.video_source = config->video_source;
    if (config->width) c.video.width = config->width;
    if (config->height) c.video.height = config->height;
    if (config->fps) c.video.fps = config->fps;
    if (config->bitrate_kbps) c.video.bitrate_kbps = config->bitrate_kbps;
    c.auto_publish = !config->no_auto_publish;
    c.auto_subscribe = !config->no_auto_subscribe;
    if (config->codec == PARLEY_CODEC_H264) c.video.codec = parley::VideoCodec::kH264;
    // The same order as the C++ enum (checked above).
    c.video.degradation_preference = static_cast<parley::DegradationPreference>(config->degradation_preference);
    if (config->audio_playout) c.audio_playout = config->audio_playout;
    if (config->record_dir) c.record_dir = config->record_dir;
    c.audio_processing = {!config->no_echo_cancellation, !config->no_noise_suppression, !config->no_auto_gain_control};
    if (config->reconnect_timeout_ms) c.reconnect_timeout_ms = std::max(0, config->reconnect_timeout_ms);
    parley::RtcEngine* engine = parley::RtcEngine::Create(c);
    if (!engine) return parley::RtcEngine::LastCreateError();
    auto* h = new parley_engine();
    h->engine = engine;
    engine->SetEngineEventListener(h);
    engine->SetMediaFrameObserver(h);
    {
      std::unique_lock<std::shared_mutex> lock(g_mu);
      g_live.insert(h);
    }
    *out = h;
    return 0;
  } catch (...) {
    return kInternal;
  }
}

void parley_engine_destroy(parley_engine* e) {
  {
    std::unique_lock<std::shared_mutex> lock(g_mu);
    if (!e || !g_live.erase(e)) return;
  }
  try {
    parley::RtcEngine::Destroy(e->engine);
  } catch (...) {
  }
  delete e;
}

int32_t parley_engine_set_callbacks(parley_engine* e, const parley_callbacks* cb) {
  return Guard(e, [&](parley::RtcEngine&) {
    std::lock_guard<std::mutex> lock(e->cb_mu);
    e->cb = cb ? *cb : parley_callbacks{};
    return 0;
  });
}

int32_t parley_engine_join(parley_engine* e, const char* app_id, const char* channel_id, const char* user_id,
                           const char* nonce, int64_t timestamp, const char* token, const char* user_name) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::AuthInfo a{Str(app_id), Str(channel_id), Str(user_id), Str(nonce), timestamp, Str(token)};
    return engine.JoinChannel(a, Str(user_name));
  });
}

int32_t parley_engine_join_token(parley_engine* e, const char* token, const char* user_name) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.JoinChannel(Str(token), "", "", Str(user_name)); });
}

int32_t parley_engine_leave(parley_engine* e) {
  return Guard(e, [](parley::RtcEngine& engine) { return engine.LeaveChannel(); });
}

int parley_engine_is_in_call(parley_engine* e) {
  int32_t r = Guard(e, [](parley::RtcEngine& engine) { return engine.IsInCall() ? 1 : 0; });
  return r == 0 || r == 1 ? r : -1;
}

int32_t parley_engine_publish_audio(parley_engine* e, int enable) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.PublishLocalAudioStream(enable != 0); });
}

int32_t parley_engine_publish_video(parley_engine* e, int enable) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.PublishLocalVideoStream(enable != 0); });
}

int32_t parley_engine_subscribe(parley_engine* e, const char* user_id) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SubscribeRemoteUser(Str(user_id)); });
}

int32_t parley_engine_unsubscribe(parley_engine* e, const char* user_id) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.UnsubscribeRemoteUser(Str(user_id)); });
}

int32_t parley_engine_subscribe_tracks(parley_engine* e, const char* user_id, const int* tracks, size_t count) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    std::vector<parley::TrackKind> list;
    if (!Tracks(tracks, count, &list)) return kInvalidSubscribe;
    return engine.SubscribeRemoteTracks(Str(user_id), list);
  });
}

int32_t parley_engine_unsubscribe_tracks(parley_engine* e, const char* user_id, const int* tracks, size_t count) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    std::vector<parley::TrackKind> list;
    if (!Tracks(tracks, count, &list)) return kInvalidSubscribe;
    return engine.UnsubscribeRemoteTracks(Str(user_id), list);
  });
}

int32_t parley_engine_mute_mic(parley_engine* e, int mute) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.MuteLocalMic(mute != 0); });
}

int32_t parley_engine_mute_camera(parley_engine* e, int mute) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.MuteLocalCamera(mute != 0); });
}

int32_t parley_engine_enable_volume_indication(parley_engine* e, int interval_ms, int smooth) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.EnableAudioVolumeIndication(interval_ms, smooth); });
}

static_assert(static_cast<int>(parley::VideoStreamType::kAuto) == PARLEY_VIDEO_STREAM_AUTO);  // big 0, small 1
static_assert(static_cast<int>(parley::DataChannelState::kFailed) == PARLEY_DATA_CHANNEL_FAILED);
static_assert(static_cast<int>(parley::StartupPhase::kFirstFrame) == PARLEY_PHASE_FIRST_FRAME);
static_assert(static_cast<int>(parley::StartupPhase::kDtlsConnected) == PARLEY_PHASE_DTLS_CONNECTED);
int32_t parley_engine_set_remote_video_stream_type(parley_engine* e, const char* user_id, int type) {
  if (type < PARLEY_VIDEO_STREAM_BIG || type > PARLEY_VIDEO_STREAM_AUTO) return kInvalidSubscribe;
  return Guard(e, [&, t = static_cast<parley::VideoStreamType>(type)](parley::RtcEngine& engine) {
    return user_id ? engine.SetRemoteVideoStreamType(user_id, t) : engine.SetRemoteDefaultVideoStreamType(t);
  });
}

int32_t parley_engine_enable_dual_stream(parley_engine* e, int enabled) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.EnableDualStreamMode(enabled != 0); });
}

int32_t parley_engine_set_playout_volume(parley_engine* e, int volume) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetPlayoutVolume(volume); });
}

static_assert(static_cast<int>(parley::AudioProfile::kStereoSuperHighQuality) ==
              PARLEY_AUDIO_PROFILE_STEREO_SUPER_HIGH_QUALITY);
static_assert(static_cast<int>(parley::AudioProfile::kStereoHighQuality) == PARLEY_AUDIO_PROFILE_STEREO_HIGH_QUALITY);
static_assert(static_cast<int>(parley::AudioScenario::kMusic) == PARLEY_AUDIO_SCENARIO_MUSIC);
static_assert(static_cast<int>(parley::DeviceKind::kCamera) == PARLEY_DEVICE_CAMERA &&
              static_cast<int>(parley::DeviceKind::kSpeaker) == PARLEY_DEVICE_SPEAKER);

int32_t parley_engine_set_audio_profile(parley_engine* e, int profile, int scenario) {
  if (profile < PARLEY_AUDIO_PROFILE_LOW_QUALITY || profile > PARLEY_AUDIO_PROFILE_STEREO_SUPER_HIGH_QUALITY ||
      scenario < PARLEY_AUDIO_SCENARIO_SPEECH || scenario > PARLEY_AUDIO_SCENARIO_MUSIC)
    return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  // The same numbers as the C++ enums (checked above).
  return Guard(e, [&](parley::RtcEngine& engine) {
    return engine.SetAudioProfile(static_cast<parley::AudioProfile>(profile),
                                  static_cast<parley::AudioScenario>(scenario));
  });
}

int32_t parley_engine_set_recording_device(parley_engine* e, const char* source) {
  if (!source) return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetRecordingDevice(source); });
}

int32_t parley_engine_set_camera_device(parley_engine* e, const char* source) {
  if (!source) return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetCameraDevice(source); });
}

int32_t parley_engine_set_playout_device(parley_engine* e, const char* playout) {
  if (!playout) return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetPlayoutDevice(playout); });
}

int32_t parley_engine_start_audio_capture_test(parley_engine* e, const char* source) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StartAudioCaptureTest(source ? source : ""); });
}

int32_t parley_engine_stop_audio_capture_test(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StopAudioCaptureTest(); });
}

int32_t parley_engine_start_audio_playout_test(parley_engine* e, const char* playout) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StartAudioPlayoutTest(playout ? playout : ""); });
}

int32_t parley_engine_stop_audio_playout_test(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StopAudioPlayoutTest(); });
}

int32_t parley_engine_start_audio_accompany(parley_engine* e, const char* path, const parley_accompany_config* c) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::AudioAccompanyConfig config;
    if (c) {
      config.local_play = c->local_play != 0;
      config.replace_mic = c->replace_mic != 0;
      config.loop_cycles = c->loop_cycles;
      config.start_position_ms = c->start_position_ms;
      config.publish_volume = c->publish_volume;
      config.playout_volume = c->playout_volume;
    }
    return engine.StartAudioAccompany(Str(path), config);
  });
}

int32_t parley_engine_start_last_mile_detect(parley_engine* e, const char* token, const parley_last_mile_config* c) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::LastMileProbeConfig config;
    if (c) config = {c->probe_uplink != 0, c->probe_downlink != 0, c->expected_uplink_kbps, c->expected_downlink_kbps};
    return engine.StartLastMileDetect(Str(token), config);
  });
}

int32_t parley_engine_stop_last_mile_detect(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StopLastMileDetect(); });
}

int32_t parley_engine_stop_audio_accompany(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StopAudioAccompany(); });
}

int32_t parley_engine_pause_audio_accompany(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.PauseAudioAccompany(); });
}

int32_t parley_engine_resume_audio_accompany(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.ResumeAudioAccompany(); });
}

int32_t parley_engine_set_audio_accompany_volume(parley_engine* e, int volume) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetAudioAccompanyVolume(volume); });
}

int32_t parley_engine_set_audio_accompany_publish_volume(parley_engine* e, int volume) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetAudioAccompanyPublishVolume(volume); });
}

int32_t parley_engine_set_audio_accompany_playout_volume(parley_engine* e, int volume) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetAudioAccompanyPlayoutVolume(volume); });
}

int32_t parley_engine_set_audio_accompany_position(parley_engine* e, int64_t position_ms) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetAudioAccompanyPosition(position_ms); });
}

int32_t parley_engine_get_audio_accompany_duration(parley_engine* e, int64_t* out_ms) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    if (!out_ms) return kInvalidArg;
    *out_ms = engine.GetAudioAccompanyDuration();
    return 0;
  });
}

int32_t parley_engine_get_audio_accompany_position(parley_engine* e, int64_t* out_ms) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    if (!out_ms) return kInvalidArg;
    *out_ms = engine.GetAudioAccompanyCurrentPosition();
    return 0;
  });
}

int32_t parley_engine_set_remote_audio_volume(parley_engine* e, const char* user_id, int volume) {
  return Guard(e,
               [&](parley::RtcEngine& engine) { return engine.SetRemoteAudioVolume(user_id ? user_id : "", volume); });
}

int32_t parley_engine_mute_remote_audio_playing(parley_engine* e, const char* user_id, int mute) {
  return Guard(
      e, [&](parley::RtcEngine& engine) { return engine.MuteRemoteAudioPlaying(user_id ? user_id : "", mute != 0); });
}

int32_t parley_engine_refresh_token(parley_engine* e, const char* token) {
  if (!token) return static_cast<int32_t>(parley::Errc::kInvalidAuthInfo);
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.RefreshAuthInfo(std::string(token)); });
}

int32_t parley_engine_send_message(parley_engine* e, const char* to_user_id, const char* data) {
  if (!data) return static_cast<int32_t>(parley::Errc::kInvalidField);
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SendMessage(to_user_id ? to_user_id : "", data); });
}

int32_t parley_engine_enable_data_messages(parley_engine* e, int enable) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.EnableDataMessages(enable != 0); });
}

int32_t parley_engine_send_data_message(parley_engine* e, const char* to_user_id, const void* data, size_t size,
                                        int flags) {
  parley::DataMessageOptions o;
  o.text = (flags & PARLEY_DATA_TEXT) != 0;
  o.reliable = (flags & PARLEY_DATA_UNRELIABLE) == 0;
  o.ordered = (flags & PARLEY_DATA_UNORDERED) == 0;
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SendDataMessage(Str(to_user_id), data, size, o); });
}

int32_t parley_engine_start_screen_share(parley_engine* e, const char* display, uint64_t window_id, int width,
                                         int height, int fps, int bitrate_kbps) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::ScreenShareConfig c;
    c.display = Str(display);
    c.window_id = window_id;
    if (width) c.width = width;
    if (height) c.height = height;
    if (fps) c.fps = fps;
    if (bitrate_kbps) c.bitrate_kbps = bitrate_kbps;
    return engine.StartScreenShare(c);
  });
}

int32_t parley_engine_start_preview(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StartPreview(); });
}

int32_t parley_engine_stop_preview(parley_engine* e) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.StopPreview(); });
}

int32_t parley_engine_start_screen_share_with(parley_engine* e, const parley_screen_share_config* config) {
  if (!config) return static_cast<int32_t>(parley::Errc::kPublishConfigInvalid);
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::ScreenShareConfig c;
    c.display = Str(config->display);
    c.window_id = config->window_id;
    if (config->width) c.width = config->width;
    if (config->height) c.height = config->height;
    if (config->fps) c.fps = config->fps;
    if (config->bitrate_kbps) c.bitrate_kbps = config->bitrate_kbps;
    c.region_x = config->region_x;
    c.region_y = config->region_y;
    c.region_width = config->region_width;
    c.region_height = config->region_height;
    c.share_audio = config->share_audio != 0;
    c.audio_source = Str(config->audio_source);
    return engine.StartScreenShare(c);
  });
}

int32_t parley_engine_stop_screen_share(parley_engine* e) {
  return Guard(e, [](parley::RtcEngine& engine) { return engine.StopScreenShare(); });
}

int32_t parley_engine_push_audio(parley_engine* e, const int16_t* pcm, size_t samples, int sample_rate, int channels) {
  return Guard(
      e, [&](parley::RtcEngine& engine) { return engine.PushExternalAudioFrame(pcm, samples, sample_rate, channels); });
}

int32_t parley_engine_push_video(parley_engine* e, const uint8_t* i420, size_t size, int width, int height) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    parley::VideoFrame f;
    f.width = width;
    f.height = height;
    f.data = i420;
    f.size = size;
    return engine.PushExternalVideoFrame(f);
  });
}

int32_t parley_engine_pause_media_file(parley_engine* e) {
  return Guard(e, [](parley::RtcEngine& engine) { return engine.PauseMediaFile(); });
}

int32_t parley_engine_resume_media_file(parley_engine* e) {
  return Guard(e, [](parley::RtcEngine& engine) { return engine.ResumeMediaFile(); });
}

int32_t parley_engine_seek_media_file(parley_engine* e, int64_t position_ms) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SeekMediaFile(position_ms); });
}

int32_t parley_engine_set_remote_canvas(parley_engine* e, const char* user_id, int track, uint64_t window) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    if (track < PARLEY_TRACK_AUDIO || track > PARLEY_TRACK_SCREEN) return kInvalidSubscribe;
    return engine.SetRemoteVideoCanvas(Str(user_id), static_cast<parley::TrackKind>(track), window);
  });
}

int32_t parley_engine_take_snapshot(parley_engine* e, const char* user_id, int track, const char* path) {
  return Guard(e, [&](parley::RtcEngine& engine) {
    if (track < PARLEY_TRACK_AUDIO || track > PARLEY_TRACK_SCREEN)
      return static_cast<int32_t>(parley::Errc::kInvalidField);
    return engine.TakeSnapshot(Str(user_id), static_cast<parley::TrackKind>(track), Str(path));
  });
}

int32_t parley_engine_set_local_canvas(parley_engine* e, uint64_t window) {
  return Guard(e, [&](parley::RtcEngine& engine) { return engine.SetLocalVideoCanvas(window); });
}

}  // extern "C"
