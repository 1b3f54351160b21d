// parley join: a real client from the terminal. It joins a channel through libparley
// (GStreamer media), publishes test media, subscribes to everyone, and reports what
// it receives once a second — as text, or as one JSON event per line (--json).
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "commands/chat.hpp"
#include "commands/common.hpp"
#include "commands/join_options.hpp"
#include "commands/join_words.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::cli {
namespace {

using nlohmann::json;
std::atomic<bool> g_interrupted{false};

// The wire name ("audio", "camera", "screen"): what the JSON events and the browser call it.
std::string TrackName(TrackKind t) {
  return std::string(Name(t));
}

// Collects events and media counters from the engine's threads; the main thread prints.
class Session : public EngineEventListener, public MediaFrameObserver {
 public:
  explicit Session(bool json_out) : json_(json_out) {}

  void OnJoinChannelResult(int32_t result, const std::string& channel, const std::string& user, int ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    join_result_ = result;
    if (result == 0)
      Emit({{"event", "joined"}, {"channelId", channel}, {"userId", user}, {"elapsedMs", ms}},
           fmt::format("joined {} as {} in {} ms", channel, user, ms));
    cv_.notify_all();
  }
  void OnJoinChannelError(int32_t, int32_t detail, const std::string& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    join_detail_ = detail;
    join_message_ = message;
  }
  /// The failed join's detail code and message (OnJoinChannelError).
  Error JoinError(int32_t code) {
    std::lock_guard<std::mutex> lock(mu_);
    return MakeError(static_cast<Errc>(code), join_message_, static_cast<Errc>(join_detail_));
  }
  void OnLeaveChannelResult(int32_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    left_ = true;
    cv_.notify_all();
  }
  void OnRemoteUserOnline(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "userOnline"}, {"userId", id}}, id + " is online");
    std::erase(gone_, id);
  }
  void OnRemoteUserOffline(const std::string& id, const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "userOffline"}, {"userId", id}, {"reason", reason}}, id + " went offline (" + reason + ")");
    // Its totals stay in the reports; those of the oldest departures go, so that a long
    // call with many visitors keeps a bounded table.
    if (std::find(gone_.begin(), gone_.end(), id) == gone_.end()) gone_.push_back(id);
    while (gone_.size() > kKeepGone) {
      received_.erase(gone_.front());
      gone_.pop_front();
    }
  }
  void OnRemoteTrackAvailable(const std::string& id, TrackKind t) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "trackAvailable"}, {"userId", id}, {"track", TrackName(t)}},
         fmt::format("receiving {}'s {}", id, TrackName(t)));
  }
  void OnStartupPhase(StartupPhase phase, int elapsed_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    phases_.emplace_back(phase, elapsed_ms);
    if (json_) {
      Emit({{"event", "phase"}, {"phase", Name(phase)}, {"ms", elapsed_ms}}, "");
    } else if (phase == StartupPhase::kFirstFrame) {  // a person gets the breakdown once, with the picture
      std::string steps;
      for (const auto& [p, ms] : phases_)
        if (p != StartupPhase::kFirstFrame) steps += fmt::format("{}{} {} ms", steps.empty() ? "" : ", ", Name(p), ms);
      Emit({}, fmt::format("first remote picture {} ms after joining began ({})", elapsed_ms, steps));
    }
  }
  void OnActiveSpeaker(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "activeSpeaker"}, {"userId", id}}, id + " is speaking");
  }
  void OnMessage(const std::string& from, const std::string& data, bool direct) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "message"}, {"fromUserId", from}, {"data", data}, {"direct", direct}},
         fmt::format("message from {}{}: {}", from, direct ? " (to you)" : "", data));
  }
  void OnDataMessage(const std::string& from, const std::vector<uint8_t>& data, const DataMessageOptions& o) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string text = o.text ? std::string(data.begin(), data.end()) : "";
    json j = {{"event", "dataMessage"}, {"fromUserId", from},     {"bytes", data.size()},
              {"text", o.text},         {"reliable", o.reliable}, {"ordered", o.ordered}};
    if (o.text) j["data"] = text;
    Emit(j, o.text ? fmt::format("data message from {}: {}", from, text)
                   : fmt::format("data message from {}: {} bytes", from, data.size()));
  }
  void OnDataChannelStateChanged(DataChannelState s) override {
    static constexpr const char* kNames[] = {"closed", "connecting", "open", "failed"};
    std::lock_guard<std::mutex> lock(mu_);
    data_state_ = s;
    Emit({{"event", "dataChannelState"}, {"state", kNames[static_cast<int>(s)]}},
         fmt::format("data connection {}", kNames[static_cast<int>(s)]));
    cv_.notify_all();
  }
  /// Waits until the data connection is open; false after `timeout`.
  bool WaitDataOpen(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return data_state_ == DataChannelState::kOpen; });
  }
  void OnRemoteUserUpdated(const std::string& id, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "remoteUserUpdated"}, {"userId", id}, {"userName", name}},
         fmt::format("{} is now \"{}\"", id, name));
  }
  void OnRemoteUserRoleChanged(const std::string& id, ClientRole role) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "remoteRoleChanged"}, {"userId", id}, {"role", Name(role)}},
         fmt::format("{} is now {}", id, Name(role)));
  }
  /// What renews the token when it is about to expire (set when this client mints its
  /// own tokens), given the current expiry; runs on the engine thread.
  void SetRefresher(std::function<void(int64_t)> fn) { refresh_ = std::move(fn); }
  void OnAuthInfoWillExpire(int64_t expires_at) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Emit({{"event", "authInfoWillExpire"}, {"expiresAt", expires_at}, {"refreshing", static_cast<bool>(refresh_)}},
           fmt::format("the token expires at {} (Unix seconds){}", expires_at,
                       refresh_ ? ": minting a new one" : ": this client cannot renew a --token it was given"));
    }
    if (refresh_) refresh_(expires_at);
  }
  void OnAuthInfoExpired(int64_t remove_in_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "authInfoExpired"}, {"removeInMs", remove_in_ms}},
         fmt::format("the token has expired: the server ends this session in {} ms unless it is refreshed",
                     remove_in_ms));
  }
  void OnRemoteStreamResumed(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "remoteStreamResumed"}, {"userId", id}}, id + "'s media reaches the server again");
  }
  void OnNetworkQualityChanged(const std::string& id, NetworkQuality up, NetworkQuality down) override {
    static constexpr const char* kWords[] = {"excellent", "good", "poor", "bad", "very bad", "down", "unknown"};
    auto word = [](NetworkQuality q) { return kWords[std::min<size_t>(static_cast<size_t>(q), 6)]; };
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "networkQuality"}, {"userId", id}, {"up", static_cast<int>(up)}, {"down", static_cast<int>(down)}},
         fmt::format("network quality of {}: up {}, down {}", id.empty() ? "this client" : id, word(up), word(down)));
  }
  void OnOccurError(int32_t code, const std::string& message) override {
    Problem("error", code, message);
    if (code == static_cast<int32_t>(Errc::kMediaConnectionReconnectFailed)) {
      std::lock_guard<std::mutex> lock(mu_);
      lost_message_ = message;  // the "connection-lost" bye behind it ends the session
    }
    // A source that cannot open ends the session: what was asked cannot be done.
    if (code == static_cast<int32_t>(Errc::kMediaFileOpenFailed) ||
        code == static_cast<int32_t>(Errc::kPublishStreamStartError) ||
        code == static_cast<int32_t>(Errc::kCameraOpenFailed) ||
        code == static_cast<int32_t>(Errc::kAudioRecordDeviceOpenFailed)) {
      std::lock_guard<std::mutex> lock(mu_);
      fatal_ = code;
      fatal_message_ = message;
      cv_.notify_all();
    }
  }
  void OnOccurWarning(int32_t code, const std::string& message) override { Problem("warning", code, message); }
  void OnBye(const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    bye_ = reason;
    cv_.notify_all();
  }
  void OnRemoteVideoFrame(const std::string& id, TrackKind, const VideoFrame& f) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& r = received_[id];
    auto now = std::chrono::steady_clock::now();
    if (r.frames > 0) {
      auto gap =
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - r.last_frame).count());
      r.longest_gap_ms = std::max(r.longest_gap_ms, gap);
      if (gap > kFreezeMs) {
        ++r.freezes;
        r.frozen_ms += gap;
      }
    }
    r.last_frame = now;
    ++r.frames;
    r.width = f.width;
    r.height = f.height;
  }
  void OnRemoteAudioFrame(const std::string& id, const AudioFrame& f) override {
    std::lock_guard<std::mutex> lock(mu_);
    received_[id].audio_samples += f.samples;
    received_[id].audio_channels = f.channels;
  }
  void OnStats(const EngineStats& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = s;
    have_stats_ = true;
  }
  void OnRecordingStarted(const std::string& id, TrackKind t, const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", "recording"}, {"userId", id}, {"track", TrackName(t)}, {"path", path}},
         fmt::format("recording {}'s {} to {}", id, TrackName(t), path));
  }
  void OnMediaFileProgress(int64_t position_ms, int64_t duration_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    file_position_ms_ = position_ms;
    file_duration_ms_ = duration_ms;
  }
  void OnMediaFileStateChanged(MediaFileState state) override {
    std::lock_guard<std::mutex> lock(mu_);
    const char* name = state == MediaFileState::kPlaying  ? "playing"
                       : state == MediaFileState::kPaused ? "paused"
                                                          : "ended";
    Emit({{"event", "fileState"}, {"state", name}}, fmt::format("media file {}", name));
  }
  void OnAudioAccompanyStateChanged(AudioAccompanyState state, int32_t code) override {
    static constexpr const char* kNames[] = {"started", "stopped", "paused", "resumed", "ended", "failed"};
    std::lock_guard<std::mutex> lock(mu_);
    const char* name = kNames[static_cast<int>(state)];
    Emit({{"event", "accompaniment"}, {"state", name}, {"code", code}}, fmt::format("accompaniment {}", name));
  }
  void OnPublishStateChanged(TrackKind t, bool published) override {
    std::lock_guard<std::mutex> lock(mu_);
    Emit({{"event", published ? "published" : "unpublished"}, {"track", TrackName(t)}},
         fmt::format("{} {}", published ? "publishing" : "stopped publishing", TrackName(t)));
  }

  /// Waits for the join result; returns it (or the join timeout code).
  int32_t WaitJoined(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return join_result_ != kPending; });
    return join_result_ == kPending ? static_cast<int32_t>(Errc::kJoinTimeout) : join_result_;
  }
  bool WaitLeft(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return left_; });
  }
  /// Sleeps up to `d`; returns early (true) when the server said bye.
  bool SleepOrBye(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, d, [&] { return !bye_.empty() || fatal_ != 0; });
  }
  /// A fatal source error (its code and message), 0 if none.
  int32_t fatal(std::string* message) {
    std::lock_guard<std::mutex> lock(mu_);
    *message = fatal_message_;
    return fatal_;
  }
  [[nodiscard]] std::string bye() {
    std::lock_guard<std::mutex> lock(mu_);
    return bye_;
  }
  /// Why the engine gave up reconnecting (the 0x01050202 before a "connection-lost" bye).
  [[nodiscard]] std::string lost_message() {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_message_;
  }

  /// One line of per-user received frames and audio.
  void Report(double t) {
    std::lock_guard<std::mutex> lock(mu_);
    json users = json::object();
    std::string text = fmt::format("{:6.1f}s", t);
    for (auto& [id, r] : received_) {
      users[id] = {{"videoFrames", r.frames},
                   {"width", r.width},
                   {"height", r.height},
                   {"audioMs", r.audio_samples / 48},
                   {"audioChannels", r.audio_channels},
                   {"fps", r.frames - r.frames_before},
                   {"freezes", r.freezes},
                   {"frozenMs", r.frozen_ms},
                   {"longestGapMs", r.longest_gap_ms}};
      text += fmt::format("  {}: {}x{} {} fps, audio {} ms", id, r.width, r.height, r.frames - r.frames_before,
                          r.audio_samples / 48);
      r.frames_before = r.frames;
    }
    if (received_.empty()) text += "  (nothing received yet)";
    json file;
    if (file_position_ms_ >= 0) {
      file = {{"positionMs", file_position_ms_}, {"durationMs", file_duration_ms_}};
      text += "  " + ProgressBar(file_position_ms_, file_duration_ms_);
    }
    // Nothing is shown as a number before it has been measured.
    constexpr const char* kDash = "—";
    auto num = [&](bool known, const std::string& v) { return known ? v : std::string(kDash); };
    text += fmt::format("  | send {} kbps, recv {} kbps, loss {}, rtt {}, network {}",
                        num(have_stats_, std::to_string(stats_.send_kbps)),
                        num(have_stats_, std::to_string(stats_.receive_kbps)),
                        num(have_stats_, fmt::format("{:.1f}%", stats_.loss_rate * 100.0)),
                        num(stats_.rtt_ms >= 0, std::to_string(stats_.rtt_ms) + " ms"), QualityText(stats_.quality));
    if (stats_.audio_samples_received > 0)
      text += fmt::format(", audio concealed {:.1f}%", 100.0 * static_cast<double>(stats_.audio_samples_concealed) /
                                                           static_cast<double>(stats_.audio_samples_received));
    if (stats_.jitter_buffer_ms > 0) text += fmt::format(", jitter buffer {} ms", stats_.jitter_buffer_ms);
    if (!stats_.transport.empty()) text += ", over " + stats_.transport;
    Emit({{"event", "stats"},
          {"t", t},
          {"received", users},
          {"sendKbps", have_stats_ ? json(stats_.send_kbps) : json()},
          {"receiveKbps", have_stats_ ? json(stats_.receive_kbps) : json()},
          {"loss", have_stats_ ? json(stats_.loss_rate) : json()},
          {"rttMs", stats_.rtt_ms >= 0 ? json(stats_.rtt_ms) : json()},
          {"quality", stats_.quality},
          {"audioSamples", stats_.audio_samples_received},
          {"audioConcealed", stats_.audio_samples_concealed},
          {"jitterBufferMs", stats_.jitter_buffer_ms},
          {"transport", stats_.transport.empty() ? json() : json(stats_.transport)},
          {"qualityText", QualityWord(stats_.quality)},
          {"file", file}},
         text);
  }

 private:
  static constexpr int32_t kPending = -1;
  struct Received {
    uint64_t frames = 0, frames_before = 0, audio_samples = 0;
    int width = 0, height = 0, audio_channels = 0;
    // Video freezes: gaps of more than kFreezeMs between two rendered frames.
    std::chrono::steady_clock::time_point last_frame{};
    uint64_t freezes = 0, frozen_ms = 0, longest_gap_ms = 0;
  };
  static constexpr uint64_t kFreezeMs = 500;
  void Problem(const char* kind, int32_t code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    const ErrorInfo* info = FindError(code);
    std::string advice = info && info->advice_en != "-" ? std::string(info->advice_en) : "";
    Emit({{"event", kind}, {"code", code}, {"hex", FormatHex(code)}, {"message", message}, {"advice", advice}},
         fmt::format("{} {} ({}): {}{}", kind, FormatHex(code), code, message, advice.empty() ? "" : " — " + advice));
  }
  void Emit(const json& j, const std::string& text) {
    if (json_)
      fmt::print("{}\n", j.dump());
    else
      fmt::print("{}\n", text);
    std::fflush(stdout);
  }

  bool json_;
  std::vector<std::pair<StartupPhase, int>> phases_;  ///< reached so far, with their times
  std::mutex mu_;
  std::condition_variable cv_;
  int32_t join_result_ = kPending;
  DataChannelState data_state_ = DataChannelState::kClosed;
  bool left_ = false;
  std::string bye_;
  EngineStats stats_;
  bool have_stats_ = false;
  int32_t join_detail_ = 0;
  std::string join_message_;
  int32_t fatal_ = 0;
  std::string fatal_message_;
  std::string lost_message_;
  std::map<std::string, Received> received_;
  std::deque<std::string> gone_;  ///< users in received_ who went offline, oldest first
  static constexpr size_t kKeepGone = 8;
  int64_t file_position_ms_ = -1, file_duration_ms_ = -1;
  std::function<void(int64_t)> refresh_;
};

int Run(JoinOptions o) {
  const GlobalOptions& g = Globals();
  const bool json_out = g.json;
  if (!o.source.empty()) {
    if (o.source == "test") {
      o.audio_source = "test:tone";
      o.video_source = "test:pattern";
    } else if (o.source.rfind("file:", 0) == 0 || o.source == "device" || o.source.rfind("device:", 0) == 0) {
      o.audio_source = o.source.rfind("device:", 0) == 0 ? "device" : o.source;  // device:ID names the camera
      o.video_source = o.source;
    } else {
      fmt::print(stderr, "parley join: --source is test, file:PATH or device[:ID]\n");
      return kExitUsage;
    }
  }
  // H5-compatible is the default: browsers and native clients share any channel.
  RtcEngine::SetH5CompatibleMode(o.h5);
  EngineConfig cfg;
  cfg.server_url = SignalUrl(g.server);
  cfg.log_level = o.log_level;
  cfg.audio_source = o.publish.find("audio") != std::string::npos ? o.audio_source : "null";
  cfg.video_source = o.publish.find("video") != std::string::npos ? o.video_source : "null";
  cfg.auto_subscribe = !o.no_subscribe;
  cfg.ice_addresses = o.ice_addresses;
  cfg.relay_only = o.relay_only;
  cfg.record_dir = o.record_dir;
  cfg.audio_playout = o.speaker;
  if (o.no_audio_processing) cfg.audio_processing = {false, false, false};
  cfg.audio = {ParseAudioProfile(o.audio_profile), o.music ? AudioScenario::kMusic : AudioScenario::kSpeech};
  // Both were checked against the same names when the options were parsed.
  cfg.role = ParseRole(o.role).value_or(ClientRole::kBroadcaster);
  cfg.profile = ParseProfile(o.profile, Aliases::kStrict).value_or(ChannelProfile::kCommunication);
  cfg.video = {o.width, o.height, o.fps, o.bitrate_kbps, o.codec == "h264" ? VideoCodec::kH264 : VideoCodec::kVp8};
  std::optional<DegradationPreference> degradation = ParseDegradation(o.degradation);
  if (degradation) cfg.video.degradation_preference = *degradation;
  cfg.dual_stream = o.dual_stream;
  RtcEngine* engine = RtcEngine::Create(cfg);
  if (!engine) {
    std::string message;
    int32_t code = RtcEngine::LastCreateError(&message);
    PrintError(MakeError(static_cast<Errc>(code), message));
    return kExitFailure;
  }
  Session session(json_out);
  engine->SetEngineEventListener(&session);
  engine->SetMediaFrameObserver(&session);
  if (int32_t rc = engine->SetVideoEncoderConfiguration(cfg.video); rc != 0) {
    PrintError(MakeError(static_cast<Errc>(rc), "bad video settings (size 16..3840 x 16..2160, even; fps 1..60)"));
    RtcEngine::Destroy(engine);
    return kExitFailure;
  }
  if (auto type = ParseVideoStreamType(o.video_stream)) (void)engine->SetRemoteDefaultVideoStreamType(*type);
  int32_t rc;
  if (!o.token.empty()) {
    rc = engine->JoinChannel(o.token, o.channel, o.user, o.user_name.empty() ? o.user : o.user_name);
  } else {
    // Minted here from the AppKey: an access token for this user and channel, valid for
    // --token-ttl, and minted again when the server says it is about to expire, for
    // --token-ttl past the old expiry (so a short one still moves it later).
    auto mint = [app_id = g.app_id, key = g.app_key, o](int64_t old_expiry) {
      AuthInfo a{app_id, o.channel, o.user, o.nonce, 0, ""};
      int64_t now =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      a.timestamp = std::max(now, old_expiry) + o.token_ttl;
      if (!key.empty())
        a.token = MintAccessToken({a.app_id, a.channel_id, a.user_id, a.nonce, "", a.timestamp, now}, key);
      return a;
    };
    if (!g.app_key.empty())
      session.SetRefresher([engine, mint](int64_t expiry) { engine->RefreshAuthInfo(mint(expiry)); });
    rc = engine->JoinChannel(mint(0), o.user_name.empty() ? o.user : o.user_name);
  }
  if (rc != 0) {
    // Refused before any I/O: the token or the fields given cannot work.
    PrintError(MakeError(static_cast<Errc>(rc), o.token.empty() ? "the AuthInfo fields are incomplete or invalid"
                                                                : "the --token cannot be used: " +
                                                                      std::string(Describe(static_cast<Errc>(rc)))));
    RtcEngine::Destroy(engine);
    return kExitFailure;
  }
  rc = session.WaitJoined(std::chrono::seconds(15));
  if (rc != 0) {
    Error e = session.JoinError(rc);
    if (e.message.empty()) e.message = "could not join the channel";
    PrintJoinFailure(e, g.server);
    RtcEngine::Destroy(engine);
    return kExitFailure;
  }
  if (o.publish.find("screen") != std::string::npos) {
    ScreenShareConfig sc;
    sc.display = o.screen_display;
    sc.window_id = o.screen_window;
    ParseRegion(o.screen_region, &sc);  // checked as an option
    sc.share_audio = o.screen_audio;
    sc.codec = cfg.video.codec;
    if (degradation) sc.degradation_preference = *degradation;
    if (int32_t code = engine->StartScreenShare(sc); code != 0) {
      PrintError(MakeError(static_cast<Errc>(code), "cannot share the screen"));
      engine->LeaveChannel();
      session.WaitLeft(std::chrono::seconds(3));
      RtcEngine::Destroy(engine);
      return kExitFailure;
    }
  }
  if (!o.accompany.empty()) {
    AudioAccompanyConfig ac;
    ac.loop_cycles = o.accompany_loops;
    if (int32_t code = engine->StartAudioAccompany(o.accompany, ac); code != 0)
      PrintError(MakeError(static_cast<Errc>(code), "cannot play " + o.accompany));
  }
  // Messages: each refusal is reported by the SDK (OnOccurError) or right here.
  auto send = [&](const std::string& line) {
    auto [to, text] = MessageTarget(line);
    if (int32_t code = engine->SendMessage(to, text); code != 0)
      PrintError(MakeError(static_cast<Errc>(code), "message not sent"));
  };
  for (const auto& m : o.messages) send(m);
  if (o.data || !o.data_messages.empty()) engine->EnableDataMessages(true);
  if (!o.data_messages.empty() && !session.WaitDataOpen(std::chrono::seconds(10)))
    PrintError(MakeError(Errc::kDataChannelNotOpen, "the data connection did not open: no data message sent"));
  for (const auto& m : o.data_messages) {
    auto [to, text] = MessageTarget(m);
    DataMessageOptions options;
    options.text = true;
    if (int32_t code = engine->SendDataMessage(to, text.data(), text.size(), options); code != 0)
      PrintError(MakeError(static_cast<Errc>(code), "data message not sent"));
  }
  std::optional<ChatReader> chat;
  if (o.chat) chat.emplace(send);
  std::signal(SIGINT, [](int) { g_interrupted = true; });
  std::signal(SIGTERM, [](int) { g_interrupted = true; });
  auto start = std::chrono::steady_clock::now();
  int status = kExitOk;
  for (int tick = 1;; ++tick) {
    auto until = start + std::chrono::milliseconds(1000 * tick);
    bool bye = false;
    while (!g_interrupted && std::chrono::steady_clock::now() < until && !bye)
      bye = session.SleepOrBye(std::chrono::milliseconds(100));
    if (bye) {
      std::string message;
      if (int32_t code = session.fatal(&message); code != 0) {
        PrintError(MakeError(static_cast<Errc>(code), message));
        status = kExitFailure;
        engine->LeaveChannel();
        session.WaitLeft(std::chrono::seconds(3));
        break;
      }
      // The engine could not reconnect; any other bye is the server removing us.
      if (session.bye() == "connection-lost" && !session.lost_message().empty())
        PrintError(MakeError(Errc::kMediaConnectionReconnectFailed, session.lost_message()));
      else if (session.bye() == "token-expired")
        PrintError(MakeError(Errc::kChannelOverdue,
                             "the token expired and was not renewed: mint a new one (parley token), or join with "
                             "--app-id/--app-key so this client renews its own",
                             Errc::kTokenExpired));
      else
        PrintError(MakeError(Errc::kSessionRemoved, "removed by the server: " + session.bye()));
      status = kExitFailure;
      break;
    }
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    session.Report(t);
    if (g_interrupted || (o.duration > 0 && t + 0.05 >= o.duration)) break;
  }
  chat.reset();
  if (status == kExitOk && engine->LeaveChannel() == 0) {
    session.WaitLeft(std::chrono::seconds(3));
    if (json_out) fmt::print("{}\n", json{{"event", "left"}}.dump());
  }
  RtcEngine::Destroy(engine);
  return status;
}

}  // namespace

int RunJoin(JoinOptions o) {
  return Run(std::move(o));
}

}  // namespace parley::cli
