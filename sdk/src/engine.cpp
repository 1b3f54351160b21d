// RtcEngine: the state machine over the signalling client and the two webrtcbin
// connections. One engine thread runs every step in order (API calls post to it,
// signalling replies and notifications post to it) and calls the listener, so the
// listener sees events in order on one thread and may call back into the engine.
// Destroy from a callback (on the engine thread) cannot join that thread: the engine
// then stops calling out at once and finishes tearing down on its own thread once the
// callback returns, deleting itself.
#include "parley/engine.hpp"

#include <cstdlib>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <variant>

#include "call/devices.hpp"
#include "call/file_control.hpp"
#include "call/remote_users.hpp"
#include "call/subscribing.hpp"
#include "core/event_loop.hpp"
#include "core/stats.hpp"
#include "log.hpp"
#include "media/media.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/notifications.hpp"
#include "parley/proto/requests.hpp"
#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"
#include "signal_client.hpp"

namespace parley {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr int32_t kOk = 0;

std::atomic<bool> g_h5_mode{true};  ///< on by default: share channels with browsers
std::mutex g_create_mu;             ///< guards the globals below and changes of g_h5_mode
int32_t g_create_error = 0;
std::string g_create_message;
int g_live_engines = 0;  ///< created and not yet destroyed: the H5 mode is fixed while > 0
int g_tearing_down = 0;  ///< destroyed from their own thread and still finishing there
std::condition_variable g_torn_down_cv;
thread_local bool t_engine_thread = false;  ///< this thread is some engine's thread
thread_local bool t_in_observer = false;    ///< this thread is inside a MediaFrameObserver call

/// At exit, engines destroyed from their own callbacks get a moment to finish (they
/// leave the channel and stop their pipelines) before the process's statics go.
void WaitForEnginesTearingDown() {
  if (t_engine_thread) return;
  std::unique_lock<std::mutex> lock(g_create_mu);
  g_torn_down_cv.wait_for(lock, std::chrono::seconds(10), [] { return g_tearing_down == 0; });
}

int32_t Code(Errc e) {
  return static_cast<int32_t>(e);
}

class EngineImpl final : public RtcEngine, private sdk::call::Subscribing::Listener {
 public:
  explicit EngineImpl(const EngineConfig& config) : config_(config) {
    if (config_.ice_addresses.empty()) config_.ice_addresses = sdk::DefaultIceAddresses(config_.server_url);
    thread_ = std::thread([this] {
      t_engine_thread = true;
      loop_.Run();
      Teardown();
      if (!self_destroy_) return;  // the destroying thread joins this one
      thread_.detach();
      delete this;
      std::lock_guard<std::mutex> lock(g_create_mu);
      --g_tearing_down;
      g_torn_down_cv.notify_all();
    });
  }

  /// Destroy from another thread: the engine thread finishes the queued work, tears
  /// down (leaving the channel if needed) and is joined. From the engine thread
  /// itself (DestroyFromEngineThread) it has already ended.
  ~EngineImpl() override {
    if (thread_.joinable()) {
      loop_.Stop();
      thread_.join();
    }
    std::lock_guard<std::mutex> lock(g_create_mu);
    --g_live_engines;
  }

  [[nodiscard]] bool OnEngineThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  /// Destroy called on the engine thread (from a listener callback): no callback
  /// reaches the listener or the observer after this returns; the queued work runs,
  /// then Teardown, then the engine deletes itself on this thread.
  void DestroyFromEngineThread() {
    if (self_destroy_) return;
    self_destroy_ = true;
    listener_ = nullptr;
    SetMediaFrameObserver(nullptr);
    loop_.Stop();
    std::lock_guard<std::mutex> lock(g_create_mu);
    ++g_tearing_down;
    static const bool registered = std::atexit(WaitForEnginesTearingDown) == 0;
    (void)registered;
  }

  void SetEngineEventListener(EngineEventListener* l) override { listener_ = l; }
  void SetMediaFrameObserver(MediaFrameObserver* o) override {
    observer_ = o;
    // Frame callbacks that loaded the previous observer finish before this returns
    // (unless this is one of them).
    if (!t_in_observer) {
      std::unique_lock<std::shared_mutex> wait(observer_mu_);
    }
  }

  int32_t JoinChannel(const AuthInfo& given, const std::string& user_name) override {
    AuthInfo a = given;
    if (IsAccessToken(a.token)) {
      // An access token carries (and signs) app, channel, user and expiry: AuthInfo
      // fields may be left empty, and those given must agree with it.
      // The codes the server gives for the same token: one code per cause everywhere.
      auto claims = DecodeAccessToken(a.token);
      if (!claims) return claims.error().value();
      auto fill = [](std::string& field, const std::string& claim) {
        if (field.empty()) field = claim;
        return field == claim;
      };
      if (!fill(a.app_id, claims->app_id) || !fill(a.channel_id, claims->channel_id) ||
          !fill(a.user_id, claims->user_id))
        return Code(Errc::kTokenInvalid);
      if (a.timestamp <= 0) a.timestamp = claims->expires_at;
    }
    if (a.app_id.empty() || a.channel_id.empty() || a.user_id.empty() || a.token.empty() || a.timestamp <= 0)
      return Code(Errc::kInvalidAuthInfo);
    return StartJoin(proto::JoinCredentials{a.token, a}, a.channel_id, a.user_id, user_name);
  }

  int32_t JoinChannel(const std::string& token, const std::string& channel_id, const std::string& user_id,
                      const std::string& user_name) override {
    if (token.empty()) return Code(Errc::kInvalidAuthInfo);
    // An access token (the default) or an ARTC single-parameter token.
    std::string token_channel, token_user;
    // A token that does not parse, or names another channel or user, gets the code the
    // server would give it (0x0F020004, 0x02010205), before any I/O.
    if (IsAccessToken(token)) {
      auto claims = DecodeAccessToken(token);
      if (!claims) return claims.error().value();
      token_channel = claims->channel_id;
      token_user = claims->user_id;
    } else {
      auto decoded = DecodeSingleToken(token);
      if (!decoded) return decoded.error().value();
      token_channel = decoded->channel_id;
      token_user = decoded->user_id;
    }
    if ((!channel_id.empty() && channel_id != token_channel) || (!user_id.empty() && user_id != token_user))
      return Code(Errc::kTokenInvalid);
    return StartJoin(proto::JoinCredentials{token, std::nullopt}, token_channel, token_user, user_name);
  }

  int32_t LeaveChannel() override {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (leaving_) return Code(Errc::kAlreadyLeaving);
    if (!joining_ && !in_call_flag_) return Code(Errc::kNotInChannel);
    leaving_ = true;
    Post([this] { DoLeave(true); });
    return kOk;
  }

  [[nodiscard]] bool IsInCall() const override {
    std::lock_guard<std::mutex> lock(state_mu_);
    return in_call_flag_;
  }

  int32_t SetChannelProfile(ChannelProfile p) override {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (joining_ || in_call_flag_) return Code(Errc::kInvalidState);
    config_.profile = p;
    return kOk;
  }

  /// Not in a channel: the role of the next join. Joining: the join request already
  /// carries the role, so this one is asked for once joined. In a channel: asked for
  /// now. config_.role is the role the server has (or will get with the join).
  int32_t SetClientRole(ClientRole r) override {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (in_call_flag_) {
      Post([this, r] { RequestRole(r); });
    } else if (joining_) {
      pending_role_ = r;
    } else {
      config_.role = r;
    }
    return kOk;
  }

  [[nodiscard]] std::vector<RemoteUser> GetOnlineRemoteUsers() const override { return remote_.Snapshot(); }

  int32_t PublishLocalAudioStream(bool enable) override { return SetPublish(TrackKind::kAudio, enable); }
  int32_t PublishLocalVideoStream(bool enable) override { return SetPublish(TrackKind::kCamera, enable); }

  int32_t MuteLocalMic(bool mute) override { return SetMute(TrackKind::kAudio, mute); }
  int32_t MuteLocalCamera(bool mute) override { return SetMute(TrackKind::kCamera, mute); }

  int32_t StartScreenShare(const ScreenShareConfig& c) override {
    VideoEncoderConfig v{c.width, c.height, c.fps, c.bitrate_kbps, c.codec};
    if (!ValidVideo(v)) return Code(Errc::kPublishConfigInvalid);
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (!in_call_flag_) return Code(Errc::kNotInChannel);
      if (config_.role == ClientRole::kAudience) return Code(Errc::kPublishWrongRole);
      if (screen_requested_) return Code(Errc::kAlreadyPublishingScreen);
      screen_requested_ = true;
    }
    Post([this, c] {
      if (!Live()) return;
      screen_ = c;
      std::set<TrackKind> want = announced_;
      want.insert(TrackKind::kScreen);
      Publish(want);
    });
    return kOk;
  }

  int32_t StopScreenShare() override {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (!in_call_flag_) return Code(Errc::kNotInChannel);
      if (!screen_requested_) return Code(Errc::kNotPublishing);
      screen_requested_ = false;
    }
    Post([this] {
      if (Live() && announced_.count(TrackKind::kScreen)) Unpublish(TrackKind::kScreen);
    });
    return kOk;
  }

  int32_t PushExternalAudioFrame(const int16_t* pcm, size_t samples, int rate, int channels) override {
    if (!pcm || samples == 0 || samples > static_cast<size_t>(rate) || rate < 8000 || rate > 48000 || channels < 1 ||
        channels > 2)
      return Code(Errc::kPublishConfigInvalid);
    if (config_.audio_source != "external") return Code(Errc::kPublishStreamNotExist);
    return media_->AudioInput().PushAudio(pcm, samples, rate, channels, true);
  }

  int32_t PushExternalVideoFrame(const VideoFrame& f) override {
    if (!f.data || f.width < 2 || f.height < 2 || f.width > 3840 || f.height > 2160 || (f.width % 2) ||
        (f.height % 2) || f.size != static_cast<size_t>(f.width) * static_cast<size_t>(f.height) * 3 / 2)
      return Code(Errc::kPublishConfigInvalid);
    if (config_.video_source != "external") return Code(Errc::kPublishStreamNotExist);
    return media_->VideoInput().PushVideo(f, true);
  }

  int32_t PauseMediaFile() override {
    return FileCall([](sdk::media::FilePlayback& p) { return p.Pause(); });
  }
  int32_t ResumeMediaFile() override {
    return FileCall([](sdk::media::FilePlayback& p) { return p.Play(); });
  }
  int32_t SeekMediaFile(int64_t position_ms) override {
    if (position_ms < 0) return Code(Errc::kPublishConfigInvalid);
    return FileCall([position_ms](sdk::media::FilePlayback& p) { return p.Seek(position_ms); });
  }

  int32_t SetRemoteVideoCanvas(const std::string& user_id, TrackKind track, uint64_t window) override {
    if (user_id.empty() || track == TrackKind::kAudio) return Code(Errc::kSubscribeConfigInvalid);
    Post([this, user_id, track, window] { subscribing_.SetWindow(user_id, track, window); });
    return kOk;
  }

  int32_t SetLocalVideoCanvas(uint64_t window) override {
    Post([this, window] {
      local_window_ = window;
      if (publisher_ && published_.count(TrackKind::kCamera))
        if (Status st = publisher_->SetPreviewWindow(window); !st) Error(Code(st.error().code), st.error().message);
    });
    return kOk;
  }

  static bool ValidVideo(const VideoEncoderConfig& c) {
    return c.width >= 16 && c.width <= 3840 && c.height >= 16 && c.height <= 2160 && c.fps >= 1 && c.fps <= 60 &&
           c.bitrate_kbps >= 50 && c.bitrate_kbps <= 20000 && c.width % 2 == 0 && c.height % 2 == 0;
  }

  int32_t SetVideoEncoderConfiguration(const VideoEncoderConfig& c) override {
    if (!ValidVideo(c)) return Code(Errc::kPublishConfigInvalid);
    Post([this, c] {
      config_.video = c;
      if (publisher_ && published_.count(TrackKind::kCamera)) Republish();
    });
    return kOk;
  }

  int32_t SubscribeRemoteUser(const std::string& user_id) override { return SubscribeCall(user_id, {}, true, false); }
  int32_t UnsubscribeRemoteUser(const std::string& user_id) override {
    return SubscribeCall(user_id, {}, false, false);
  }
  int32_t SubscribeRemoteTracks(const std::string& user_id, const std::vector<TrackKind>& tracks) override {
    return SubscribeCall(user_id, tracks, true, true);
  }
  int32_t UnsubscribeRemoteTracks(const std::string& user_id, const std::vector<TrackKind>& tracks) override {
    return SubscribeCall(user_id, tracks, false, true);
  }

 private:
  using Reply = sdk::SignalClient::ReplyFn;

  // ---- the engine thread ----------------------------------------------------
  /// Runs `fn` with the listener, if one is set. Loaded per call: a callback may
  /// replace the listener or destroy the engine.
  template <typename Fn>
  void Notify(Fn&& fn) {
    if (EngineEventListener* l = listener_.load()) fn(*l);
  }

  /// On a media thread: a frame for the observer.
  template <typename Fn>
  void ToObserver(Fn&& fn) {
    std::shared_lock<std::shared_mutex> lock(observer_mu_);
    if (MediaFrameObserver* o = observer_.load()) {
      t_in_observer = true;
      fn(*o);
      t_in_observer = false;
    }
  }

  /// Last on the engine thread: leave if in a call and drop the connections.
  /// The loop has stopped; it runs again for a leave still on its way (or the one
  /// started here) until it finishes, and the leave's own timer bounds that.
  void Teardown() {
    if (in_call_ && !leave_) DoLeave(false);
    if (leave_) loop_.RunUntil([this] { return !leave_; }, Clock::now() + std::chrono::milliseconds(2600));
    if (auto leave = leave_) FinishLeave(leave);
    signal_.reset();
    publisher_.reset();
    subscriber_.reset();
    player_.reset();  // before the feeds it pushes into
  }

  void Post(std::function<void()> fn) { loop_.Post(std::move(fn)); }

  /// The engine thread's one catch: a bug (or a malformed message) in one step is
  /// reported and the engine goes on.
  void OnException(const std::exception& e) {
    sdk::Log().error("parley: internal error on the engine thread: {}", e.what());
    Error(Code(Errc::kInternalError), std::string("internal error: ") + e.what());
  }

  /// Runs `fn` on the engine thread after `delay` (the reconnection chain: one at a
  /// time, a later one replaces it).
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

  /// Progress reports run every 500 ms from `delay` on, while a media file plays.
  void StartTicks(std::chrono::milliseconds delay) {
    tick_timer_.expires_after(delay);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Tick();
    });
  }

  /// Twice a second while a media file is published: its progress.
  void Tick() {
    if (!player_) return;
    StartTicks(std::chrono::milliseconds(500));
    Notify([&](EngineEventListener& l) { l.OnMediaFileProgress(player_->PositionMs(), player_->DurationMs()); });
  }

  /// Wraps a signalling reply (posted to the engine thread) so that it counts only for
  /// its link and call. A request cut off by a dropped link while the engine
  /// reconnects is not reported: the resume reconciles what it was about.
  Reply Continue(std::function<void(int32_t, const std::string&, const Json&)> fn) {
    uint64_t gen = signal_gen_;
    return [this, gen, fn = std::move(fn)](int32_t code, const std::string& m, const Json& d) {
      // Replies to another link (before a resume) or another call are stale.
      if (gen != signal_gen_) return;
      if (code == Code(Errc::kSignalRequestError) && (reconnecting_ || !signal_ || !signal_->connected())) return;
      fn(code, m, d);
    };
  }
  std::chrono::milliseconds Timeout() const { return std::chrono::milliseconds(config_.request_timeout_ms); }

  /// Sends request `type`; without a reply within `timeout` it fails with the type's
  /// catalog timeout code (protocol.tsv).
  void Ask(std::string_view type, Json body, std::chrono::milliseconds timeout, Reply reply) {
    signal_->Request(std::string(type), std::move(body), proto::TimeoutCode(type).value_or(Errc::kInternalError),
                     timeout, std::move(reply));
  }

  void Error(int32_t code, const std::string& message) override {
    sdk::Log().warn("parley: error {} {}", FormatHex(code), message);
    Notify([&](EngineEventListener& l) { l.OnOccurError(code, message); });
  }
  void Warn(int32_t code, const std::string& message) {
    Notify([&](EngineEventListener& l) { l.OnOccurWarning(code, message); });
  }

  // ---- join / leave ---------------------------------------------------------
  int32_t StartJoin(const proto::JoinCredentials& credentials, const std::string& channel, const std::string& user,
                    const std::string& name) {
    ChannelProfile profile;
    ClientRole role;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (joining_ || in_call_flag_) return Code(Errc::kAlreadyInChannel);
      joining_ = true;
      profile = config_.profile;
      role = config_.role;
    }
    proto::JoinRequest join;
    join.user_name = name;
    join.sdk_version = SdkVersion();
    join.profile = profile;
    join.role = role;
    join.role_given = true;
    join.platform = Platform::kNative;
    join.h5_compatible = g_h5_mode.load();
    Json fields = join.ToJson();
    fields["userName"] = name;  // sent even when empty, as always
    fields.update(credentials.ToJson());
    Post([this, fields, channel, user] { DoJoin(fields, channel, user); });
    return kOk;
  }

  void JoinFailed(int32_t code, const std::string& message, const std::string& channel, const std::string& user,
                  Clock::time_point t0, int32_t detail = 0) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      joining_ = false;
      if (pending_role_) config_.role = *pending_role_;  // the role of the next join
      pending_role_.reset();
    }
    ++signal_gen_;
    signal_.reset();
    SetStatus(ConnectionStatus::kFailed);
    sdk::Log().info("parley: join failed {} {}", FormatHex(code), message);  // the listener has it
    int elapsed = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
    Notify([&](EngineEventListener& l) {
      l.OnJoinChannelError(code, detail, message);
      l.OnJoinChannelResult(code, channel, user, elapsed);
    });
  }

  /// Connects, then sends the join: each step continues on the engine thread when the
  /// one before it answers, and the engine thread never waits.
  void DoJoin(const Json& fields, const std::string& channel, const std::string& user) {
    auto t0 = Clock::now();
    SetStatus(ConnectionStatus::kConnecting);
    NewSignalClient();
    signal_->Connect(config_.server_url, Timeout(),
                     [this, gen = signal_gen_, fields, channel, user, t0](const Status& st) {
                       if (gen != signal_gen_) return;  // left (or destroyed) while connecting
                       if (!st) return JoinFailed(Code(st.error().code), st.error().message, channel, user, t0);
                       SendJoin(fields, channel, user, t0);
                     });
  }

  void SendJoin(const Json& fields, const std::string& channel, const std::string& user, Clock::time_point t0) {
    Ask("join", fields, Timeout(),
        Continue([this, channel, user, t0](int32_t code, const std::string& m, const Json& d) {
          if (code) return JoinFailed(code, m, channel, user, t0, d.is_object() ? d.value("detail", 0) : 0);
          ClientRole role;  // what the join asked for
          std::optional<ClientRole> later;
          {
            std::lock_guard<std::mutex> lock(state_mu_);
            joining_ = false;
            in_call_flag_ = !leaving_;
            role = config_.role;
            later.swap(pending_role_);
          }
          in_call_ = true;
          channel_ = channel;
          user_ = user;
          remote_.SetSelf(user);
          resume_token_ = d.value("resumeToken", "");
          SetStatus(ConnectionStatus::kConnected);
          int interval = std::max(100, d.value("heartbeatIntervalMs", 2000));
          ping_interval_ = std::chrono::milliseconds(interval);
          ScheduleHeartbeat();
          int elapsed =
              static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
          Notify([&](EngineEventListener& l) { l.OnJoinChannelResult(0, channel, user, elapsed); });
          for (const auto& u : d.value("users", Json::array())) AddRemote(proto::UserInfo::FromJson(u));
          if (d.contains("activeSpeaker") && d["activeSpeaker"].is_string() &&
              !d["activeSpeaker"].get<std::string>().empty())
            Notify([&](EngineEventListener& l) { l.OnActiveSpeaker(d["activeSpeaker"]); });
          if (later && *later != role) {
            // Set while joining: the server has the join's role until asked.
            RequestRole(*later);
            role = *later;
          }
          if (config_.auto_publish && role == ClientRole::kBroadcaster) {
            std::set<TrackKind> want;
            if (config_.audio_source != "null") want.insert(TrackKind::kAudio);
            if (config_.video_source != "null") want.insert(TrackKind::kCamera);
            if (!want.empty()) Publish(want);
          }
        }));
  }

  /// Whatever ended the call (leave, the server's bye, the connection lost): media,
  /// heartbeats, remote users and the flags the API reads all go back to idle.
  void EndCall() {
    ping_timer_.cancel();
    tick_timer_.cancel();
    publisher_.reset();
    subscriber_.reset();
    player_.reset();
    file_started_ = false;
    file_active_ = false;
    published_.clear();
    announced_.clear();
    remote_.Clear();
    in_call_ = false;
    reconnecting_ = false;
    resume_token_.clear();
    ++signal_gen_;  // replies still on their way belong to the call that ended
    ++resume_attempt_;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      in_call_flag_ = false;
      leaving_ = false;
      joining_ = false;
      screen_requested_ = false;
      if (pending_role_) config_.role = *pending_role_;  // left while joining: the next join's role
      pending_role_.reset();
    }
    SetStatus(ConnectionStatus::kDisconnected);  // the listener sees the engine idle
  }

  /// A leave request on its way: the call ends when it is answered or after its bound.
  struct Leave {
    bool notify = false;
  };

  /// Media stops first, then the server is told (best effort: 2 s for the answer, 2.5 s
  /// in all), then the link closes whatever the answer. The engine thread does not
  /// wait: the call ends in FinishLeave.
  void DoLeave(bool notify) {
    publisher_.reset();
    subscriber_.reset();
    player_.reset();
    if (!signal_ || !signal_->connected() || !in_call_) {
      if (signal_) signal_->Close();
      bool was = in_call_;
      EndCall();
      if (notify && was) Notify([](EngineEventListener& l) { l.OnLeaveChannelResult(0); });
      return;
    }
    // From here the call's events are not acted on (as after EndCall): notifications,
    // replies, a dropped link, heartbeats and resume attempts.
    ++signal_gen_;
    ++resume_attempt_;
    ping_timer_.cancel();
    auto leave = std::make_shared<Leave>();
    leave->notify = notify;
    leave_ = leave;
    Ask("leave", Json::object(), std::chrono::milliseconds(2000),
        [this, leave](int32_t, const std::string&, const Json&) { FinishLeave(leave); });
    leave_timer_.expires_after(std::chrono::milliseconds(2500));
    leave_timer_.async_wait([this, leave](const boost::system::error_code& ec) {
      if (!ec) FinishLeave(leave);
    });
  }

  void FinishLeave(const std::shared_ptr<Leave>& leave) {
    if (leave != leave_) return;  // finished already (answered, or its bound passed)
    leave_.reset();
    leave_timer_.cancel();
    if (signal_) signal_->Close();
    bool was = in_call_;
    EndCall();
    if (leave->notify && was) Notify([](EngineEventListener& l) { l.OnLeaveChannelResult(0); });
  }

  /// A fresh signalling client; events of the ones before it are ignored.
  void NewSignalClient() {
    uint64_t gen = ++signal_gen_;
    signal_.reset();
    // Its callbacks arrive on the engine thread, in the order of their causes.
    signal_ = std::make_unique<sdk::SignalClient>(
        loop_.io(),
        [this, gen](const Json& note) {
          if (gen == signal_gen_) OnNote(note);
        },
        [this, gen](const std::string& why) {
          if (gen == signal_gen_) OnSignalClosed(why);
        });
  }

  void SetStatus(ConnectionStatus s) {
    if (s == status_) return;
    status_ = s;
    Notify([s](EngineEventListener& l) { l.OnConnectionStatusChanged(s); });
  }

  // ---- reconnection ----------------------------------------------------------
  // The signalling link dropped without a leave: the server keeps the session (and
  // its media transports, which never went through this link) for its grace period,
  // so the engine reconnects and resumes; media keeps flowing meanwhile.
  void OnSignalClosed(const std::string& why) {
    if (!in_call_ || reconnecting_) return;
    if (resume_token_.empty() || config_.reconnect_timeout_ms <= 0) {
      EndCall();
      Error(Code(Errc::kSignalRequestError), "signalling connection lost: " + why);
      return;
    }
    reconnecting_ = true;
    reconnect_deadline_ = Clock::now() + std::chrono::milliseconds(config_.reconnect_timeout_ms);
    reconnect_delay_ = std::chrono::milliseconds(100);
    ping_timer_.cancel();
    Warn(Code(Errc::kLocalNetworkDisconnected), "signalling connection lost (" + why + "); reconnecting");
    SetStatus(ConnectionStatus::kReconnecting);
    uint64_t attempt = ++resume_attempt_;
    RunAfter(reconnect_delay_, [this, attempt] { TryResume(attempt); });
  }

  void RetryResume(uint64_t attempt) {
    reconnect_delay_ = std::min(reconnect_delay_ * 2, std::chrono::milliseconds(2000));
    RunAfter(reconnect_delay_, [this, attempt] { TryResume(attempt); });
  }

  /// One reconnection attempt of the chain `attempt` (a later drop or the end of the
  /// call starts another chain or none, and this one stops).
  void TryResume(uint64_t attempt) {
    if (!in_call_ || !reconnecting_ || attempt != resume_attempt_) return;
    if (Clock::now() >= reconnect_deadline_) {
      EndCall();
      Error(Code(Errc::kSignalRequestError), "signalling connection lost and not restored within " +
                                                 std::to_string(config_.reconnect_timeout_ms) + " ms");
      return;
    }
    NewSignalClient();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(reconnect_deadline_ - Clock::now());
    uint64_t gen = signal_gen_;
    signal_->Connect(config_.server_url, std::min(left, std::chrono::milliseconds(2000)),
                     [this, gen, attempt](const Status& st) {
                       if (gen != signal_gen_ || attempt != resume_attempt_ || !reconnecting_) return;
                       if (!st) return RetryResume(attempt);
                       // Not through Continue: a resume cut off by another drop must retry, not vanish.
                       Ask("resume", proto::ResumeRequest{resume_token_}.ToJson(), Timeout(),
                           [this, gen, attempt](int32_t code, const std::string& m, const Json& d) {
                             OnResumeReply(gen, attempt, code, m, d);
                           });
                     });
  }

  void OnResumeReply(uint64_t gen, uint64_t attempt, int32_t code, const std::string& m, const Json& d) {
    if (gen != signal_gen_ || attempt != resume_attempt_ || !reconnecting_) return;
    if (code == Code(Errc::kSessionRemoved)) {
      // Too late: the server removed the session.
      EndCall();
      Error(code, m);
      Notify([](EngineEventListener& l) { l.OnBye("connection-lost"); });
      return;
    }
    if (code) return RetryResume(attempt);
    reconnecting_ = false;
    resume_token_ = d.value("resumeToken", resume_token_);
    SetStatus(ConnectionStatus::kConnected);
    Warn(Code(Errc::kLocalNetworkConnected), "signalling connection restored");
    ScheduleHeartbeat();
    Reconcile(d.value("users", Json::array()));
  }

  /// After a resume: notifications sent while the link was down are lost, so the
  /// channel's snapshot decides who is there and what they publish.
  void Reconcile(const Json& users) {
    std::vector<proto::UserInfo> snapshot;
    for (const auto& u : users) snapshot.push_back(proto::UserInfo::FromJson(u));
    for (const auto& c : remote_.Reconcile(snapshot)) {
      switch (c.kind) {
        case sdk::call::RemoteUsers::Change::Kind::kOnline: Online(c.user_id, c.has_tracks); break;
        case sdk::call::RemoteUsers::Change::Kind::kNewTracks:
          if (config_.auto_subscribe) subscribing_.Subscribe(c.user_id);
          break;
        case sdk::call::RemoteUsers::Change::Kind::kOffline:
          Notify([&](EngineEventListener& l) { l.OnRemoteUserOffline(c.user_id, "left"); });
          break;
      }
    }
  }

  void ScheduleHeartbeat() {
    ping_timer_.expires_after(ping_interval_);
    ping_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Ping();
    });
  }

  void Ping() {
    if (!in_call_ || !signal_) return;
    ScheduleHeartbeat();
    ReportStats();
    Ask("ping", Json::object(), ping_interval_ * 3, Continue([this](int32_t code, const std::string& m, const Json&) {
          if (code == Code(Errc::kHeartbeatTimeout)) Error(code, m);
        }));
  }

  /// Asks both connections for their totals, then reports.
  void ReportStats() {
    auto with_pub = [this](sdk::media::RtpTotals pub) {
      if (!subscriber_) return StatsReady(pub, {});
      subscriber_->CollectStats([this, pub](sdk::media::RtpTotals sub) { StatsReady(pub, sub); });
    };
    if (publisher_)
      publisher_->CollectStats(with_pub);
    else
      with_pub({});
  }

  /// Deltas of the connections' totals since the last report, plus decoded frames
  /// (core/stats.hpp).
  void StatsReady(const sdk::media::RtpTotals& pub, const sdk::media::RtpTotals& sub) {
    if (!in_call_) return;  // left while the totals were collected
    auto report = stats_.Add(pub, sub, {frames_.load(), width_.load(), height_.load()}, Clock::now());
    if (!report) return;
    Notify([&](EngineEventListener& l) { l.OnStats(report->stats); });
    if (report->warning) Warn(report->warning->code, report->warning->message);
  }

  // ---- remote users -----------------------------------------------------------
  void AddRemote(const proto::UserInfo& u) {
    if (remote_.Add(u)) Online(u.user_id, !u.tracks.empty());
  }
  void Online(const std::string& id, bool has_tracks) {
    Notify([&](EngineEventListener& l) { l.OnRemoteUserOnline(id); });
    if (config_.auto_subscribe && has_tracks) subscribing_.Subscribe(id);
  }

  /// In a channel with a live signalling connection and not leaving it: work queued
  /// before a leave or a disconnect is dropped instead of failing.
  [[nodiscard]] bool Live() const override { return in_call_ && !leave_ && signal_ && signal_->connected(); }

  /// A notification from the current signalling client. It counts even when that
  /// link has closed since (the close is handled next, in order): the server writes
  /// sessionRemoved just before it closes, and that notice decides the close is final.
  void OnNote(const Json& m) {
    if (!in_call_) return;
    std::visit([this](const auto& n) { On(n); }, proto::ParseNotification(m));
  }
  void On(const std::monostate&) {}  // a word this client does not know
  void On(const proto::UserOnline& n) { AddRemote(n.user); }
  void On(const proto::UserOffline& n) {
    remote_.Remove(n.user_id);
    Notify([&](EngineEventListener& l) { l.OnRemoteUserOffline(n.user_id, n.reason); });
  }
  void On(const proto::TrackPublished& n) {
    if (n.track) remote_.AddTrack(n.user_id, *n.track);
    if (config_.auto_subscribe) subscribing_.Subscribe(n.user_id);
  }
  void On(const proto::TrackUnpublished& n) {
    if (n.track && remote_.RemoveTrack(n.user_id, *n.track))
      Notify([&](EngineEventListener& l) { l.OnRemoteTrackUnavailable(n.user_id, *n.track); });
  }
  void On(const proto::TrackMuted& n) {
    if (n.track) Notify([&](EngineEventListener& l) { l.OnRemoteTrackMuted(n.user_id, *n.track, n.muted); });
  }
  void On(const proto::SubscribeOffer& n) { subscribing_.ApplyOffer(n.sdp); }
  void On(const proto::ActiveSpeaker& n) {
    Notify([&](EngineEventListener& l) { l.OnActiveSpeaker(n.user_id); });
  }
  void On(const proto::UserNetwork& n) { Warn(n.code, n.user_id + ": " + n.state); }
  void On(const proto::PublishAborted& n) { Error(n.code, n.message); }
  void On(const proto::TransportFailed& n) { Error(n.code, n.message); }
  void On(const proto::StreamAborted& n) { Warn(n.code, n.user_id + ": " + n.message); }
  void On(const proto::SubscribeAborted& n) {
    Error(n.code, n.message);
    subscribing_.Aborted(n.users);
  }
  void On(const proto::SessionRemoved& n) {
    // Final: the server closes the link next; that close is not a drop to recover
    // from (EndCall moves on from this client's events; closing it here makes the
    // end ours too).
    EndCall();
    if (signal_) signal_->Close();
    Error(n.code ? n.code : Code(Errc::kSessionRemoved),
          n.message.empty() ? "session removed: " + n.reason : n.message);
    Notify([&](EngineEventListener& l) { l.OnBye(n.reason); });
  }
  // Not acted on by this SDK (yet).
  void On(const proto::UserUpdated&) {}
  void On(const proto::RoleUpdated&) {}
  void On(const proto::StreamResumed&) {}
  void On(const proto::Message&) {}

  // ---- publish ----------------------------------------------------------------
  int32_t SetPublish(TrackKind k, bool enable) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (!in_call_flag_) return Code(Errc::kNotInChannel);
      if (enable && config_.role == ClientRole::kAudience) return Code(Errc::kPublishWrongRole);
    }
    Post([this, k, enable] {
      if (!Live()) return;
      if (enable == (announced_.count(k) > 0))
        return Error(Code(enable ? Errc::kAlreadyPublishing : Errc::kNotPublishing), std::string(Name(k)));
      if (enable) {
        std::set<TrackKind> want = announced_;
        want.insert(k);
        Publish(want);
      } else {
        Unpublish(k);
      }
    });
    return kOk;
  }

  void Unpublish(TrackKind k) {
    announced_.erase(k);
    Ask("unpublish", proto::UnpublishRequest{{k}}.ToJson(), Timeout(),
        Continue([this, k](int32_t code, const std::string& m, const Json&) {
          if (code) {
            if (published_.count(k)) announced_.insert(k);  // still published
            return Error(code, m);
          }
          published_.erase(k);
          Notify([&](EngineEventListener& l) { l.OnPublishStateChanged(k, false); });
          if (published_.empty())
            publisher_.reset();
          else
            Republish();
        }));
  }

  int32_t SetMute(TrackKind k, bool mute) {
    (k == TrackKind::kAudio ? mute_audio_ : mute_video_) = mute;
    Post([this, k, mute] {
      if (publisher_) publisher_->Mute(k, mute);
      if (Live() && published_.count(k))
        Ask("mute", proto::MuteRequest{{k}, mute}.ToJson(), Timeout(),
            Continue([this](int32_t code, const std::string& m, const Json&) {
              if (code) Error(code, m);
            }));
    });
    return kOk;
  }

  template <typename Fn>
  int32_t FileCall(Fn fn) {
    if (!file_active_) return Code(Errc::kPublishStreamNotExist);
    Post([this, fn] {
      if (!player_) return Error(Code(Errc::kPublishStreamNotExist), "no media file is being published");
      auto changed = sdk::call::RunFileOp(*player_, fn);
      if (!changed) return Error(Code(changed.error().code), changed.error().message);
      if (*changed) Notify([&](EngineEventListener& l) { l.OnMediaFileStateChanged(**changed); });
    });
    return kOk;
  }

  bool MissingDevice(DeviceKind kind, const std::string& source) {
    return sdk::call::MissingDevice(source, [&] { return media_->EnumerateDevices(kind); });
  }

  /// Opens the media file the sources name (once per call); false when it cannot be
  /// played (the error is raised).
  bool EnsurePlayer(bool audio, bool video) {
    if (player_) return true;
    auto file = sdk::call::FileFor(config_.audio_source, config_.video_source, audio, video);
    if (!file) {
      Error(Code(file.error().code), file.error().message);
      return false;
    }
    if (!*file) return true;
    auto player =
        media_->OpenFile((*file)->path, (*file)->feeds_audio, (*file)->feeds_video,
                         [this] {
                           Post([this] {
                             if (!player_) return;
                             Notify([&](EngineEventListener& l) {
                               l.OnMediaFileProgress(player_->DurationMs(), player_->DurationMs());
                             });
                             Notify([](EngineEventListener& l) { l.OnMediaFileStateChanged(MediaFileState::kEnded); });
                           });
                         },
                         [this](int32_t code, const std::string& m) { Post([this, code, m] { Error(code, m); }); });
    if (!player) {
      Error(Code(player.error().code), player.error().message);
      return false;
    }
    player_ = std::move(*player);
    file_active_ = true;
    return true;
  }

  /// A fresh publish connection carrying `want` (the server moves subscribers to it).
  void Publish(std::set<TrackKind> want) {
    if (!Live()) return;
    if (!EnsurePlayer(want.count(TrackKind::kAudio) > 0, want.count(TrackKind::kCamera) > 0)) {
      // The file cannot play: publish the rest.
      if (sdk::call::IsFileSource(config_.audio_source)) want.erase(TrackKind::kAudio);
      if (sdk::call::IsFileSource(config_.video_source)) want.erase(TrackKind::kCamera);
      if (want.empty()) return;
    }
    if (want.count(TrackKind::kAudio) && MissingDevice(DeviceKind::kMicrophone, config_.audio_source)) {
      Error(Code(Errc::kAudioRecordDeviceNotFound), "no microphone " + config_.audio_source.substr(7));
      want.erase(TrackKind::kAudio);
      if (want.empty()) return;
    }
    bool new_player = player_ && player_->state() == sdk::media::FileState::kPaused && !file_started_;
    sdk::media::PublishOptions o;
    o.audio = want.count(TrackKind::kAudio) > 0;
    o.video = want.count(TrackKind::kCamera) > 0;
    o.screen = want.count(TrackKind::kScreen) > 0;
    o.audio_source = config_.audio_source;
    o.video_source = config_.video_source;
    o.video_config = config_.video;
    VideoEncoderConfig screen{screen_.width,        screen_.height, screen_.fps,
                              screen_.bitrate_kbps, screen_.codec,  screen_.degradation_preference};
    o.screen_options = {screen_.display, screen_.window_id, screen};
    o.ice_addresses = config_.ice_addresses;
    o.mute_audio = mute_audio_;
    o.mute_video = mute_video_;
    auto pub = media_->CreatePublisher(
        o, [this](int32_t code, const std::string& m) { Post([this, code, m] { Error(code, m); }); });
    if (!pub) {
      if (want.count(TrackKind::kScreen)) {
        std::lock_guard<std::mutex> lock(state_mu_);
        screen_requested_ = false;
      }
      return Error(Code(pub.error().code), pub.error().message);
    }
    if (new_player) {
      file_started_ = true;
      if (Status st = player_->Play(); !st) Error(Code(st.error().code), st.error().message);
      Notify([](EngineEventListener& l) { l.OnMediaFileStateChanged(MediaFileState::kPlaying); });
      StartTicks(std::chrono::milliseconds(0));
    }
    // What the server is told is what was announced before this answer arrives: a
    // second publish (screen share right after joining) must not repeat the first's.
    // Announced now, before the offer exists, so that a publish queued behind this one
    // (or an unpublish's republish) already counts these tracks.
    std::set<TrackKind> added_kinds;
    for (TrackKind k : want)
      if (announced_.insert(k).second) added_kinds.insert(k);
    std::shared_ptr<sdk::media::PublishConnection> holder(std::move(*pub));
    uint64_t gen = signal_gen_;
    holder->CreateOffer([this, gen, holder, want, added_kinds](Result<std::string> offer) {
      if (gen != signal_gen_) return;  // the call ended or its link changed: like a request cut off
      if (!offer || !Live()) {
        for (TrackKind k : added_kinds) announced_.erase(k);  // never sent
        if (!offer) Error(Code(offer.error().code), offer.error().message);
        return;
      }
      SendPublish(holder, want, added_kinds, *offer);
    });
  }

  /// Tells the server about the publish connection `holder` (its offer), then applies
  /// the answer and makes it the one that sends.
  void SendPublish(const std::shared_ptr<sdk::media::PublishConnection>& holder, const std::set<TrackKind>& want,
                   const std::set<TrackKind>& added_kinds, const std::string& offer) {
    sdk::Log().debug("parley: publish offer\n{}", offer);
    auto on_answer = Continue([this, holder, want, added_kinds](int32_t code, const std::string& m, const Json& d) {
      if (code) {
        for (TrackKind k : added_kinds) announced_.erase(k);
        if (added_kinds.count(TrackKind::kScreen)) {
          std::lock_guard<std::mutex> lock(state_mu_);
          screen_requested_ = false;
        }
        return Error(code, m);
      }
      sdk::Log().debug("parley: publish answer\n{}", d.value("sdp", ""));
      holder->SetAnswer(d.value("sdp", ""), [this, gen = signal_gen_, holder, want](const Status& st) {
        if (gen != signal_gen_) return;
        if (!st)  // the connection is dropped
          return Error(Code(sdk::media::TimedOut(st.error()) ? st.error().code : Errc::kPublishStreamStartError),
                       st.error().message);
        publisher_ = holder;
        publisher_->AttachInputs();  // the previous connection fed until now
        if (local_window_ && want.count(TrackKind::kCamera))
          if (Status pst = publisher_->SetPreviewWindow(local_window_); !pst)
            Error(Code(pst.error().code), pst.error().message);
        for (TrackKind k : want)
          if (published_.insert(k).second) Notify([k](EngineEventListener& l) { l.OnPublishStateChanged(k, true); });
      });
    });
    if (added_kinds.empty())
      Ask("updatePublish", proto::UpdatePublishRequest{offer}.ToJson(), Timeout(), on_answer);
    else
      Ask("publish", proto::PublishRequest{added_kinds, offer}.ToJson(), Timeout(), on_answer);
  }

  void Republish() { Publish(announced_); }

  void StopPublishing() {
    publisher_.reset();
    announced_.clear();
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      screen_requested_ = false;
    }
    for (TrackKind k : published_) Notify([k](EngineEventListener& l) { l.OnPublishStateChanged(k, false); });
    published_.clear();
  }

  /// Asks the server for role `r`; the engine acts on it once the server agrees.
  void RequestRole(ClientRole r) {
    if (!Live()) return;
    Ask("setRole", proto::SetRoleRequest{r}.ToJson(), Timeout(),
        Continue([this, r](int32_t code, const std::string& m, const Json&) {
          if (code) return Error(code == Code(Errc::kTimeoutSetRole) ? code : Code(Errc::kUpdateRoleFailed), m);
          {
            std::lock_guard<std::mutex> lock(state_mu_);
            config_.role = r;
          }
          if (r == ClientRole::kAudience && publisher_) StopPublishing();
        }));
  }

  // ---- subscribe --------------------------------------------------------------
  int32_t SubscribeCall(const std::string& user_id, const std::vector<TrackKind>& tracks, bool subscribe,
                        bool explicit_tracks) {
    std::set<TrackKind> unique(tracks.begin(), tracks.end());
    if (user_id.empty() || (explicit_tracks && (tracks.empty() || unique.size() != tracks.size())))
      return Code(Errc::kSubscribeConfigInvalid);
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (!in_call_flag_) return Code(Errc::kNotInChannel);
    }
    Post([this, user_id, set = TrackSet(tracks.begin(), tracks.end()), subscribe] {
      if (subscribe) return subscribing_.Subscribe(user_id, set);
      subscribing_.Unsubscribe(user_id, set);
    });
    return kOk;
  }

  // ---- Subscribing::Listener ---------------------------------------------------
  void Request(std::string_view type, Json body, Reply reply) override {
    Ask(type, std::move(body), Timeout(), Continue(std::move(reply)));
  }

  Result<std::unique_ptr<sdk::media::SubscribeConnection>> NewSubscribeConnection() override {
    sdk::media::SubscribeOptions so;
    so.ice_addresses = config_.ice_addresses;
    so.record_dir = config_.record_dir;
    so.playout = config_.audio_playout;
    if (MissingDevice(DeviceKind::kSpeaker, so.playout)) {
      Error(Code(Errc::kAudioPlayDeviceNotFound), "no speaker " + so.playout.substr(7));
      so.playout = "null";
    }
    sdk::media::SubscribeCallbacks cb;
    cb.on_video = [this](const sdk::RemoteTrackInfo& i, const VideoFrame& f) {
      frames_.fetch_add(1, std::memory_order_relaxed);
      width_.store(f.width, std::memory_order_relaxed);
      height_.store(f.height, std::memory_order_relaxed);
      ToObserver([&](MediaFrameObserver& o) { o.OnRemoteVideoFrame(i.user_id, i.track, f); });
    };
    cb.on_audio = [this](const sdk::RemoteTrackInfo& i, const AudioFrame& f) {
      ToObserver([&](MediaFrameObserver& o) { o.OnRemoteAudioFrame(i.user_id, f); });
    };
    cb.on_track = [this](const sdk::RemoteTrackInfo& i) {
      Post([this, i] { Notify([&](EngineEventListener& l) { l.OnRemoteTrackAvailable(i.user_id, i.track); }); });
    };
    cb.on_record = [this](const sdk::RemoteTrackInfo& i, const std::string& path) {
      Post(
          [this, i, path] { Notify([&](EngineEventListener& l) { l.OnRecordingStarted(i.user_id, i.track, path); }); });
    };
    // One remote stream failing (or ending abruptly when its sender leaves) does
    // not end the call: the others keep playing, so it is a warning. The
    // renderer and the speaker are the app's own: those are errors.
    cb.on_error = [this](int32_t code, const std::string& m) {
      bool device = code == Code(Errc::kRenderOpenFailed) || code == Code(Errc::kRenderError) ||
                    code == Code(Errc::kAudioPlayDeviceOpenFailed) || code == Code(Errc::kAudioPlayError);
      Post([this, code, m, device] { device ? Error(code, m) : Warn(code, m); });
    };
    return media_->CreateSubscriber(so, std::move(cb));
  }

  EngineConfig config_;  ///< role and profile under state_mu_; the rest fixed or engine thread only
  /// Declared before everything that holds its connections or posted work, so it goes
  /// last; its inputs are used from any thread.
  std::unique_ptr<sdk::media::MediaFactory> media_ =
      sdk::media::MakeMediaFactory([this](std::function<void()> fn) { Post(std::move(fn)); });
  std::atomic<EngineEventListener*> listener_{nullptr};
  std::atomic<MediaFrameObserver*> observer_{nullptr};
  std::shared_mutex observer_mu_;  ///< held shared by media threads while they call the observer
  bool self_destroy_ = false;      ///< engine thread: Destroy came from a callback
  std::thread thread_;
  /// After media_ (work it still holds may reference the media inputs when it goes),
  /// before the timers on it.
  sdk::EventLoop loop_{[this](const std::exception& e) { OnException(e); }};
  boost::asio::steady_timer ping_timer_{loop_.io()};       ///< heartbeat (and stats)
  boost::asio::steady_timer tick_timer_{loop_.io()};       ///< media file progress
  boost::asio::steady_timer reconnect_timer_{loop_.io()};  ///< the next resume attempt
  boost::asio::steady_timer leave_timer_{loop_.io()};      ///< the bound of a leave
  std::shared_ptr<Leave> leave_;                           ///< engine thread: the leave on its way
  std::chrono::milliseconds ping_interval_{2000};

  mutable std::mutex state_mu_;  ///< guards the flags API calls read
  bool joining_ = false, in_call_flag_ = false, leaving_ = false, screen_requested_ = false;
  std::optional<ClientRole> pending_role_;  ///< set while joining, asked for once joined

  // Engine thread only:
  std::unique_ptr<sdk::SignalClient> signal_;
  std::shared_ptr<sdk::media::PublishConnection> publisher_;
  sdk::call::Subscribing subscribing_{*this};
  std::shared_ptr<sdk::media::SubscribeConnection>& subscriber_ = subscribing_.connection();  ///< read by the stats
  std::set<TrackKind> published_;  ///< what the server confirmed
  std::set<TrackKind> announced_;  ///< what publish requests sent so far (confirmed or in flight)
  sdk::call::RemoteUsers remote_;  ///< its snapshot is read by API threads
  ScreenShareConfig screen_;
  std::unique_ptr<sdk::media::FilePlayback> player_;
  bool file_started_ = false;
  uint64_t local_window_ = 0;
  // Any thread:
  std::atomic<bool> file_active_{false};
  std::atomic<bool> mute_audio_{false}, mute_video_{false};
  sdk::StatsWindow stats_;           ///< the totals of the last report (engine thread)
  std::atomic<uint64_t> frames_{0};  ///< written on media threads
  std::atomic<int> width_{0}, height_{0};
  bool in_call_ = false;
  std::string channel_, user_;
  ConnectionStatus status_ = ConnectionStatus::kDisconnected;
  uint64_t signal_gen_ = 0;  ///< which signalling client's events count
  std::string resume_token_;
  bool reconnecting_ = false;
  uint64_t resume_attempt_ = 0;  ///< the reconnection chain that may run
  Clock::time_point reconnect_deadline_{};
  std::chrono::milliseconds reconnect_delay_{100};
};

}  // namespace

RtcEngine* RtcEngine::Create(const EngineConfig& config) {
  std::lock_guard<std::mutex> lock(g_create_mu);
  sdk::ConfigureLog(config.log_level, config.log_dir);
  if (Status st = sdk::media::InitMedia(); !st) {
    g_create_error = static_cast<int32_t>(st.error().code);
    g_create_message = st.error().message;
    sdk::Log().error("parley: cannot create the engine: {}", g_create_message);
    return nullptr;
  }
  g_create_error = 0;
  g_create_message.clear();
  auto* engine = new EngineImpl(config);
  ++g_live_engines;
  return engine;
}

void RtcEngine::Destroy(RtcEngine* engine) {
  if (auto* impl = dynamic_cast<EngineImpl*>(engine); impl && impl->OnEngineThread())
    return impl->DestroyFromEngineThread();
  delete engine;
}

std::vector<DeviceInfo> RtcEngine::EnumerateDevices(DeviceKind kind) {
  if (!sdk::media::InitMedia()) return {};
  return sdk::media::ListDevices(kind);
}

int32_t RtcEngine::LastCreateError(std::string* message) {
  std::lock_guard<std::mutex> lock(g_create_mu);
  if (message) *message = g_create_message;
  return g_create_error;
}

int32_t RtcEngine::SetH5CompatibleMode(bool enable) {
  std::lock_guard<std::mutex> lock(g_create_mu);
  if (g_live_engines > 0) return static_cast<int32_t>(Errc::kH5CompatibleModeConfig);
  g_h5_mode = enable;
  return 0;
}

bool RtcEngine::IsH5CompatibleMode() {
  return g_h5_mode;
}

std::string RtcEngine::SdkVersion() {
  return PARLEY_VERSION;
}

}  // namespace parley
