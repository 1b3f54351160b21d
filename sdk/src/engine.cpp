// RtcEngine: the public API over one call (call/call.hpp). The API validates its
// arguments, checks the flags API threads may read, and hands the work to the engine
// thread, which runs every step of the call in order (API calls post to it, signalling
// replies and notifications post to it) and calls the listener, so the listener sees
// events in order on one thread and may call back into the engine. Destroy from a
// callback (on the engine thread) cannot join that thread: the engine then stops
// calling out at once and finishes tearing down on its own thread once the callback
// returns, deleting itself.
#include "parley/engine.hpp"

#include <unistd.h>

#include <cstdlib>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "call/call.hpp"
#include "call/credentials.hpp"
#include "call/devices.hpp"
#include "core/event_loop.hpp"
#include "log.hpp"
#include "media/media.hpp"
#include "parley/proto/envelope.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/requests.hpp"
#include "probe/last_mile.hpp"
#include "signal_client.hpp"

namespace parley {
namespace {

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

using sdk::call::Code;

class EngineImpl final : public RtcEngine, private sdk::call::Call::Host {
 public:
  explicit EngineImpl(const EngineConfig& config) : call_(WithIce(config), *this, *media_, loop_.io(), SignalMaker()) {
    thread_ = std::thread([this] {
      t_engine_thread = true;
      loop_.Run();
      call_.Teardown([this](const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
        loop_.RunUntil(done, deadline);
      });
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
    media_->CloseSnapshots();  // no answer is posted to the loop once it stops
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
  /// then the teardown, then the engine deletes itself on this thread.
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
    return StartJoin(sdk::call::JoinFor(given), user_name);
  }

  int32_t JoinChannel(const std::string& token, const std::string& channel_id, const std::string& user_id,
                      const std::string& user_name) override {
    return StartJoin(sdk::call::JoinFor(token, channel_id, user_id), user_name);
  }

  int32_t RefreshAuthInfo(const AuthInfo& given) override { return Refresh(sdk::call::JoinFor(given)); }
  int32_t RefreshAuthInfo(const std::string& token) override { return Refresh(sdk::call::JoinFor(token, "", "")); }

  int32_t LeaveChannel() override {
    std::lock_guard<std::mutex> lock(state_.mu);
    if (state_.leaving) return Code(Errc::kAlreadyLeaving);
    if (!state_.joining && !state_.in_call) return Code(Errc::kNotInChannel);
    state_.leaving = true;
    Post([this] { call_.Leave(true); });
    return kOk;
  }

  [[nodiscard]] bool IsInCall() const override {
    std::lock_guard<std::mutex> lock(state_.mu);
    return state_.in_call;
  }

  int32_t SetChannelProfile(ChannelProfile p) override {
    std::lock_guard<std::mutex> lock(state_.mu);
    if (state_.joining || state_.in_call) return Code(Errc::kInvalidState);
    config_.profile = p;
    return kOk;
  }

  /// Not in a channel: the role of the next join. Joining: the join request already
  /// carries the role, so this one is asked for once joined. In a channel: asked for
  /// now. config_.role is the role the server has (or will get with the join).
  int32_t SetClientRole(ClientRole r) override {
    std::lock_guard<std::mutex> lock(state_.mu);
    if (state_.in_call) {
      Post([this, r] { call_.RequestRole(r); });
    } else if (state_.joining) {
      state_.pending_role = r;
    } else {
      config_.role = r;
    }
    return kOk;
  }

  [[nodiscard]] std::vector<RemoteUser> GetOnlineRemoteUsers() const override { return call_.RemoteUsersNow(); }

  int32_t EnableAudioVolumeIndication(int interval_ms, int smooth) override {
    if ((interval_ms != 0 && (interval_ms < 100 || interval_ms > 60000)) || smooth < 0 || smooth > 9)
      return Code(Errc::kInvalidField);
    Post([this, interval_ms, smooth] { call_.EnableVolumeIndication(interval_ms, smooth); });
    return kOk;
  }

  int32_t SetRemoteVideoStreamType(const std::string& user_id, VideoStreamType type) override {
    return StreamType(user_id, type, false);
  }
  int32_t SetRemoteDefaultVideoStreamType(VideoStreamType type) override { return StreamType("", type, true); }
  int32_t EnableDualStreamMode(bool enabled) override {
    Post([this, enabled] {
      if (std::exchange(config_.dual_stream, enabled) != enabled) publishing_.VideoConfigChanged();
    });
    return kOk;
  }
  int32_t SetPlayoutVolume(int volume) override {
    if (volume < 0 || volume > 400) return Code(Errc::kInvalidField);
    media_->SetPlayoutVolume(volume);
    return kOk;
  }
  int32_t SetRemoteAudioVolume(const std::string& user_id, int volume) override {
    if (volume < 0 || volume > 400 || user_id.empty() || user_id.size() > kMaxIdLength)
      return Code(Errc::kInvalidField);
    media_->SetUserVolume(user_id, volume);
    return kOk;
  }
  int32_t MuteRemoteAudioPlaying(const std::string& user_id, bool mute) override {
    if (user_id.empty() || user_id.size() > kMaxIdLength) return Code(Errc::kInvalidField);
    media_->SetUserMuted(user_id, mute);
    return kOk;
  }

  int32_t SendMessage(const std::string& to_user_id, const std::string& data) override {
    if (data.size() > proto::kMaxMessageDataBytes) return Code(Errc::kMessageTooLarge);
    if (!proto::IsUtf8(data) || !proto::IsUtf8(to_user_id) || to_user_id.size() > kMaxIdLength)
      return Code(Errc::kInvalidField);
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
    }
    Post([this, to_user_id, data] { call_.SendMessage(to_user_id, data); });
    return kOk;
  }

  int32_t EnableDataMessages(bool enable) override {
    Post([this, enable] { call_.data().Enable(enable); });
    return kOk;
  }
  int32_t SendDataMessage(const std::string& to_user_id, const void* data, size_t size,
                          const DataMessageOptions& options) override {
    return call_.data().Send(to_user_id, data, size, options);
  }

  int32_t SetRecordingDevice(const std::string& source) override { return UseDevice(DeviceKind::kMicrophone, source); }
  int32_t SetCameraDevice(const std::string& source) override { return UseDevice(DeviceKind::kCamera, source); }
  int32_t SetPlayoutDevice(const std::string& playout) override { return UseDevice(DeviceKind::kSpeaker, playout); }

  int32_t StartAudioCaptureTest(const std::string& source) override {
    if (int32_t code = source.empty() ? kOk : CheckDeviceId(DeviceKind::kMicrophone, source)) return code;
    Post([this, source] { call_.devices().StartMicrophoneCheck(source); });
    return kOk;
  }
  int32_t StopAudioCaptureTest() override {
    Post([this] { call_.devices().StopMicrophoneCheck(); });
    return kOk;
  }
  int32_t StartAudioPlayoutTest(const std::string& playout) override {
    if (int32_t code = playout.empty() ? kOk : CheckDeviceId(DeviceKind::kSpeaker, playout)) return code;
    Post([this, playout] { call_.devices().StartSpeakerCheck(playout); });
    return kOk;
  }
  int32_t StopAudioPlayoutTest() override {
    Post([this] { call_.devices().StopSpeakerCheck(); });
    return kOk;
  }

  int32_t StartAudioAccompany(const std::string& path, const AudioAccompanyConfig& config) override {
    if (!sdk::call::ValidAccompanyConfig(config)) return Code(Errc::kPublishConfigInvalid);
    if (path.empty() || ::access(path.c_str(), R_OK) != 0) return Code(Errc::kMediaFileOpenFailed);
    call_.accompany().Asked();
    Post([this, path, config] { call_.accompany().Start(path, config); });
    return kOk;
  }
  int32_t StopAudioAccompany() override {
    return Accompany([](sdk::call::AccompanyControl& a) { a.Stop(); });
  }
  int32_t PauseAudioAccompany() override {
    return Accompany([](sdk::call::AccompanyControl& a) { a.Pause(); });
  }
  int32_t ResumeAudioAccompany() override {
    return Accompany([](sdk::call::AccompanyControl& a) { a.Resume(); });
  }
  int32_t SetAudioAccompanyVolume(int volume) override { return AccompanyVolumes(volume, volume); }
  int32_t SetAudioAccompanyPublishVolume(int volume) override { return AccompanyVolumes(volume, -1); }
  int32_t SetAudioAccompanyPlayoutVolume(int volume) override { return AccompanyVolumes(-1, volume); }
  int32_t SetAudioAccompanyPosition(int64_t position_ms) override {
    if (position_ms < 0) return Code(Errc::kPublishConfigInvalid);
    return Accompany([position_ms](sdk::call::AccompanyControl& a) { a.Seek(position_ms); });
  }
  [[nodiscard]] int64_t GetAudioAccompanyDuration() const override { return call_.accompany().DurationMs(); }
  [[nodiscard]] int64_t GetAudioAccompanyCurrentPosition() const override { return call_.accompany().PositionMs(); }

  int32_t StartLastMileDetect(const AuthInfo& given, const LastMileProbeConfig& c) override {
    return StartProbe(sdk::call::JoinFor(given), c);
  }
  int32_t StartLastMileDetect(const std::string& token, const LastMileProbeConfig& c) override {
    return StartProbe(sdk::call::JoinFor(token, "", ""), c);
  }
  int32_t StopLastMileDetect() override { return probe_.Stop(); }

  int32_t PublishLocalAudioStream(bool enable) override { return SetPublish(TrackKind::kAudio, enable); }
  int32_t PublishLocalVideoStream(bool enable) override { return SetPublish(TrackKind::kCamera, enable); }

  int32_t MuteLocalMic(bool mute) override { return SetMute(TrackKind::kAudio, mute); }
  int32_t MuteLocalCamera(bool mute) override { return SetMute(TrackKind::kCamera, mute); }

  int32_t StartScreenShare(const ScreenShareConfig& c) override {
    if (!sdk::call::ValidScreenShareConfig(c)) return Code(Errc::kPublishConfigInvalid);
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
      if (config_.role == ClientRole::kAudience) return Code(Errc::kPublishWrongRole);
      if (state_.screen_requested) return Code(Errc::kAlreadyPublishingScreen);
      state_.screen_requested = true;
    }
    Post([this, c] { publishing_.StartScreenShare(c); });
    return kOk;
  }

  int32_t StopScreenShare() override {
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
      if (!state_.screen_requested) return Code(Errc::kNotPublishing);
      state_.screen_requested = false;
    }
    Post([this] { publishing_.StopScreenShare(); });
    return kOk;
  }

  int32_t PushExternalAudioFrame(const int16_t* pcm, size_t samples, int rate, int channels) override {
    if (!sdk::call::ValidAudioFrame(pcm, samples, rate, channels)) return Code(Errc::kPublishConfigInvalid);
    if (!call_.devices().external_audio()) return Code(Errc::kPublishStreamNotExist);
    return media_->AudioInput().PushAudio(pcm, samples, rate, channels, true);
  }

  int32_t PushExternalVideoFrame(const VideoFrame& f) override {
    if (!sdk::call::ValidVideoFrame(f)) return Code(Errc::kPublishConfigInvalid);
    if (!call_.devices().external_video()) return Code(Errc::kPublishStreamNotExist);
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
    Post([this, user_id, track, window] { call_.subscribing().SetWindow(user_id, track, window); });
    return kOk;
  }

  int32_t SetLocalVideoCanvas(uint64_t window) override {
    Post([this, window] { publishing_.SetLocalWindow(window); });
    return kOk;
  }

  int32_t StartPreview() override {
    Post([this] { publishing_.SetPreview(true); });
    return kOk;
  }
  int32_t StopPreview() override {
    Post([this] { publishing_.SetPreview(false); });
    return kOk;
  }

  int32_t SetVideoEncoderConfiguration(const VideoEncoderConfig& c) override {
    if (!sdk::call::ValidVideoConfig(c)) return Code(Errc::kPublishConfigInvalid);
    Post([this, c] {
      config_.video = c;
      publishing_.VideoConfigChanged();
    });
    return kOk;
  }

  int32_t SetAudioProfile(AudioProfile profile, AudioScenario scenario) override {
    if (!sdk::call::ValidAudioConfig({profile, scenario})) return Code(Errc::kPublishConfigInvalid);
    Post([this, profile, scenario] {
      config_.audio = {profile, scenario};
      publishing_.AudioConfigChanged();
    });
    return kOk;
  }

  int32_t TakeSnapshot(const std::string& user_id, TrackKind track, const std::string& path) override {
    const sdk::media::ImageType type = sdk::media::ImageTypeOf(path);
    if (track == TrackKind::kAudio || type == sdk::media::ImageType::kNone) return Code(Errc::kInvalidField);
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
    }
    // Answered on the snapshot thread; told on the engine thread.
    media_->Snapshot(user_id, track, path, type, [this, user_id, track, path](int32_t code, const std::string& why) {
      Post([this, user_id, track, path, code, why] {
        if (code) sdk::Log().info("parley: snapshot of {}/{} failed: {}", user_id, Name(track), why);
        if (EngineEventListener* l = listener()) l->OnSnapshotComplete(user_id, track, path, code);
      });
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
  static EngineConfig WithIce(EngineConfig config) {
    if (config.ice_addresses.empty()) config.ice_addresses = sdk::DefaultIceAddresses(config.server_url);
    return config;
  }

  /// The call's signalling channels: WebSocket clients on the engine's loop.
  sdk::call::Call::MakeSignal SignalMaker() {
    return [this](sdk::SignalChannel::NotifyFn on_notify, sdk::SignalChannel::ClosedFn on_closed) {
      return std::make_unique<sdk::SignalClient>(loop_.io(), std::move(on_notify), std::move(on_closed));
    };
  }

  /// A last-mile probe: not while in a call.
  int32_t StartProbe(const Result<sdk::call::JoinTarget>& target, const LastMileProbeConfig& c) {
    if (!sdk::ValidLastMileConfig(c)) return Code(Errc::kPublishConfigInvalid);
    if (!target) return target.error().value();
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (state_.joining || state_.in_call) return Code(Errc::kInvalidState);
    }
    return probe_.Start(target->credentials, c);
  }

  int32_t StartJoin(const Result<sdk::call::JoinTarget>& target, const std::string& name) {
    if (!target) return target.error().value();
    return call_.StartJoin(target->credentials, target->channel_id, target->user_id, name, g_h5_mode.load());
  }

  // A device choice: checked here (its form, and that the system has it), made on the engine thread.
  int32_t UseDevice(DeviceKind kind, const std::string& id) {
    if (int32_t code = CheckDeviceId(kind, id)) return code;
    Post([this, kind, id] { call_.devices().Use(kind, id); });
    return kOk;
  }
  // An accompaniment call: refused when none was asked for.
  int32_t Accompany(std::function<void(sdk::call::AccompanyControl&)> op) {
    if (!call_.accompany().active()) return Code(Errc::kInvalidState);
    Post([this, op = std::move(op)] { op(call_.accompany()); });
    return kOk;
  }
  int32_t AccompanyVolumes(int publish, int playout) {
    if (publish > 100 || playout > 100 || (publish < 0 && playout < 0)) return Code(Errc::kPublishConfigInvalid);
    return Accompany([publish, playout](sdk::call::AccompanyControl& a) { a.SetVolumes(publish, playout); });
  }

  static int32_t CheckDeviceId(DeviceKind kind, const std::string& id) {
    return sdk::call::CheckDeviceId(kind, id, [kind] { return RtcEngine::EnumerateDevices(kind); });
  }
  int32_t StreamType(const std::string& user_id, VideoStreamType type, bool by_default) {
    if (int32_t code = sdk::call::CheckStreamType(user_id, type, by_default)) return code;
    Post([this, user_id, type] { call_.SetStreamType(user_id, type); });
    return kOk;
  }

  int32_t SetPublish(TrackKind k, bool enable) {
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
      if (enable && config_.role == ClientRole::kAudience) return Code(Errc::kPublishWrongRole);
    }
    Post([this, k, enable] { publishing_.Toggle(k, enable); });
    return kOk;
  }

  int32_t Refresh(const Result<sdk::call::JoinTarget>& target) {
    if (!target) return target.error().value();
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
    }
    return call_.RefreshToken(*target);
  }

  int32_t SetMute(TrackKind k, bool mute) {
    publishing_.SetMuted(k, mute);
    Post([this, k, mute] { publishing_.Mute(k, mute); });
    return kOk;
  }

  int32_t FileCall(std::function<Status(sdk::media::FilePlayback&)> op) {
    if (!publishing_.file_active()) return Code(Errc::kPublishStreamNotExist);
    Post([this, op = std::move(op)] { publishing_.FileOp(op); });
    return kOk;
  }

  int32_t SubscribeCall(const std::string& user_id, const std::vector<TrackKind>& tracks, bool subscribe,
                        bool explicit_tracks) {
    std::set<TrackKind> unique(tracks.begin(), tracks.end());
    if (user_id.empty() || (explicit_tracks && (tracks.empty() || unique.size() != tracks.size())))
      return Code(Errc::kSubscribeConfigInvalid);
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      if (!state_.in_call) return Code(Errc::kNotInChannel);
    }
    Post([this, user_id, set = TrackSet(tracks.begin(), tracks.end()), subscribe] {
      if (subscribe) return call_.subscribing().Subscribe(user_id, set);
      call_.subscribing().Unsubscribe(user_id, set);
    });
    return kOk;
  }

  // ---- Call::Host --------------------------------------------------------------
  EngineEventListener* listener() override { return listener_.load(); }
  void Post(std::function<void()> fn) override { loop_.Post(std::move(fn)); }
  void OnRemoteVideoFrame(const sdk::RemoteTrackInfo& i, const VideoFrame& f) override {
    ToObserver([&](MediaFrameObserver& o) { o.OnRemoteVideoFrame(i.user_id, i.track, f); });
  }
  void OnRemoteAudioFrame(const sdk::RemoteTrackInfo& i, const AudioFrame& f) override {
    ToObserver([&](MediaFrameObserver& o) { o.OnRemoteAudioFrame(i.user_id, f); });
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

  /// The engine thread's one catch: a bug (or a malformed message) in one step is
  /// reported and the engine goes on.
  void OnException(const std::exception& e) {
    sdk::Log().error("parley: internal error on the engine thread: {}", e.what());
    call_.Error(Code(Errc::kInternalError), std::string("internal error: ") + e.what());
  }

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
  /// before the call's timers on it.
  sdk::EventLoop loop_{[this](const std::exception& e) { OnException(e); }};
  sdk::call::Call call_;
  sdk::call::Call::ApiState& state_ = call_.state();  ///< the flags API calls read, under state_.mu
  /// The role and profile under state_.mu; the rest fixed or engine thread only.
  EngineConfig& config_ = call_.config();
  sdk::call::Publishing& publishing_ = call_.publishing();
  /// Last-mile probes; after loop_, whose sockets they hold.
  sdk::LastMileControl probe_{loop_.io(), config_.server_url, [this] { return listener(); },
                              [this](std::function<void()> fn) { Post(std::move(fn)); }};
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
  if (!sdk::call::ValidAudioConfig(config.audio) || !sdk::call::ValidVideoConfig(config.video) ||
      !sdk::call::ValidVideoConfig(config.small_video)) {
    g_create_error = static_cast<int32_t>(Errc::kPublishConfigInvalid);
    g_create_message = "the audio or video encoder configuration is invalid";
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

}  // namespace parley
