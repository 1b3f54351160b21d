// The C ABI over RtcEngine. Handles live in a registry: a call with a handle that was
// never created or was destroyed returns PARLEY_ERR_INVALID_STATE (0x01030204). Each
// entry point has one guard that turns any exception into a code.
#include <mutex>
#include <set>
#include <string>

#include "parley/engine.hpp"
#include "parley/parley.h"
#include "parley/proto/errc.hpp"

struct parley_engine : parley::EngineEventListener, parley::MediaFrameObserver {
  parley::RtcEngine* engine = nullptr;
  std::mutex cb_mu;
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
};

namespace {

std::mutex g_mu;
std::set<parley_engine*> g_live;

constexpr int32_t kInvalidState = static_cast<int32_t>(parley::Errc::kInvalidState);
constexpr int32_t kInvalidArg = static_cast<int32_t>(parley::Errc::kInvalidAuthInfo);
constexpr int32_t kInternal = static_cast<int32_t>(parley::Errc::kInternalError);

bool Live(parley_engine* e) {
  std::lock_guard<std::mutex> lock(g_mu);
  return e && g_live.count(e);
}

template <typename Fn>
int32_t Guard(parley_engine* e, Fn fn) {
  if (!Live(e)) return kInvalidState;
  try {
    return fn(*e->engine);
  } catch (...) {
    return kInternal;
  }
}

std::string Str(const char* s) {
  return s ? s : "";
}

}  // namespace

extern "C" {

int32_t parley_engine_create(const parley_engine_config* config, parley_engine** out) {
  if (!config || !out || !config->server_url || !*config->server_url) return kInvalidArg;
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
    parley::RtcEngine* engine = parley::RtcEngine::Create(c);
    if (!engine) return parley::RtcEngine::LastCreateError();
    auto* h = new parley_engine();
    h->engine = engine;
    engine->SetEngineEventListener(h);
    engine->SetMediaFrameObserver(h);
    {
      std::lock_guard<std::mutex> lock(g_mu);
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
    std::lock_guard<std::mutex> lock(g_mu);
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

int32_t parley_set_h5_compatible_mode(int enable) {
  try {
    return parley::RtcEngine::SetH5CompatibleMode(enable != 0);
  } catch (...) {
    return kInternal;
  }
}

const char* parley_sdk_version(void) {
  return PARLEY_VERSION;
}

}  // extern "C"
