// The call: the state machine over one signalling link and the media. Join (connect,
// then the join request), leave (media stops first, then the server is told within a
// bound), the link dropping without a leave (resume with backoff, then reconcile the
// channel's snapshot), the server's notifications, heartbeats with the stats they
// carry, and the role. Its parts: Publishing, Subscribing, RemoteUsers, StatsWindow.
//
// It reaches the server only through a SignalChannel and the media only through the
// media seam, both given to it, so a test drives it with fakes on its own io_context.
// Threading: the engine thread (the thread running `io`), except where a method says
// otherwise.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "call/accompany.hpp"
#include "call/call_quality.hpp"
#include "call/credentials.hpp"
#include "call/data_messages.hpp"
#include "call/devices.hpp"
#include "call/ice_fallback.hpp"
#include "call/publishing.hpp"
#include "call/remote_users.hpp"
#include "call/stream_types.hpp"
#include "call/subscribing.hpp"
#include "core/playout_delay.hpp"
#include "core/stats.hpp"
#include "media/media.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/notifications.hpp"
#include "parley/proto/requests.hpp"
#include "signal_channel.hpp"

namespace parley::sdk::call {

/// The call's waits besides the request timeout (a test shortens them).
struct CallTiming {
  std::chrono::milliseconds first_retry{100};  ///< resume backoff: the first wait, doubled per failure
  std::chrono::milliseconds max_retry{2000};   ///< ... up to this
  std::chrono::milliseconds connect{2000};     ///< one resume's connect
  std::chrono::milliseconds leave_answer{2000};
  std::chrono::milliseconds leave_bound{2500};  ///< the leave ends by then, answered or not
};

/// The resume backoff: each failed attempt doubles the wait before the next, up to `max`.
[[nodiscard]] inline std::chrono::milliseconds NextRetry(std::chrono::milliseconds delay,
                                                         std::chrono::milliseconds max) {
  return std::min(delay * 2, max);
}

class Call final : private Subscribing::Listener, private Publishing::Listener, private DataMessages::Host {
 public:
  using Json = nlohmann::json;
  using Clock = std::chrono::steady_clock;
  using Event = std::function<void(EngineEventListener&)>;
  using Reply = SignalChannel::ReplyFn;
  /// A new signalling channel reporting to these callbacks (one per connection attempt).
  using MakeSignal = std::function<std::unique_ptr<SignalChannel>(SignalChannel::NotifyFn on_notify,
                                                                  SignalChannel::ClosedFn on_closed)>;
  /// Runs the loop until `done()` or the deadline (the last leave at teardown).
  using RunUntil = std::function<void(const std::function<bool()>& done, Clock::time_point deadline)>;

  /// What the call needs from its engine.
  class Host {
   public:
    virtual ~Host() = default;
    /// The application's listener now, or null. Loaded per event: a callback may
    /// replace it or destroy the engine.
    virtual EngineEventListener* listener() = 0;
    /// Runs `fn` on the engine thread after what is queued there. Any thread.
    virtual void Post(std::function<void()> fn) = 0;
    /// A decoded remote frame, for the frame observer (media threads).
    virtual void OnRemoteVideoFrame(const RemoteTrackInfo& track, const VideoFrame& frame) = 0;
    virtual void OnRemoteAudioFrame(const RemoteTrackInfo& track, const AudioFrame& frame) = 0;
  };

  /// What API threads read and write, under `mu` (together with config().role and
  /// config().profile).
  struct ApiState {
    mutable std::mutex mu;
    bool joining = false, in_call = false, leaving = false, screen_requested = false;
    std::optional<ClientRole> pending_role;  ///< set while joining, asked for once joined
  };

  Call(const EngineConfig& config, Host& host, media::MediaFactory& media, boost::asio::io_context& io,
       MakeSignal make_signal, CallTiming timing = {});
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Any thread:
  /// Starts a join (kAlreadyInChannel while joining or in a call): the request's
  /// fields are fixed now, the rest runs on the engine thread.
  int32_t StartJoin(const proto::JoinCredentials& credentials, const std::string& channel, const std::string& user,
                    const std::string& name, bool h5_compatible);
  ApiState& state() { return state_; }
  /// The role and profile under state().mu; the video encoder settings engine thread
  /// only; the rest fixed.
  EngineConfig& config() { return config_; }
  [[nodiscard]] std::vector<RemoteUser> RemoteUsersNow() const { return remote_.Snapshot(); }

  // Engine thread:
  /// Media stops first, then the server is told (best effort: the answer within
  /// CallTiming::leave_answer, all within leave_bound), then the link closes whatever the
  /// answer. Nothing waits: the call ends when the leave finishes.
  void Leave(bool notify);
  /// Asks the server for role `r`; the call acts on it once the server agrees.
  void RequestRole(ClientRole r);
  /// Any thread: a new token for this call (refreshToken); kTokenInvalid at once when
  /// it names another channel or user. The request goes from the engine thread; a
  /// refusal is reported with OnOccurError.
  int32_t RefreshToken(const JoinTarget& target);
  /// Volume indication every `interval_ms` (0: off), smoothed by `smooth` (0..9); asked
  /// of the server now when in a call, else at the join.
  void EnableVolumeIndication(int interval_ms, int smooth);
  /// The layer of `user_id`'s simulcast video to receive ("" = the default), asked of
  /// the server now when in a call and at every join (call/stream_types.cpp).
  void SetStreamType(const std::string& user_id, VideoStreamType type);
  /// Sends a message (sendMessage) to `to_user_id` or, when empty, the channel; a
  /// refusal is reported with OnOccurError. The caller checked size and encoding.
  void SendMessage(const std::string& to_user_id, const std::string& data);
  /// Last: leaves if in a call, letting `run_until` run the loop for the leave's
  /// exchange, and drops the link and the media.
  void Teardown(const RunUntil& run_until);
  [[nodiscard]] bool Live() const override;
  Publishing& publishing() { return publishing_; }
  DeviceControl& devices() { return devices_; }
  AccompanyControl& accompany() { return accompany_; }
  [[nodiscard]] const AccompanyControl& accompany() const { return accompany_; }
  Subscribing& subscribing() { return subscribing_; }
  /// Data messages (call_data.cpp): Enable on the engine thread, Send on any.
  DataMessages& data() { return data_; }
  void Error(int32_t code, const std::string& message) override;
  void Phase(StartupPhase phase) override { ReachPhase(phase, Clock::now()); }
  media::IceSetup Ice(media::IceUse use) override {
    return ice_fallback_.Apply({config_.ice_addresses, ice_servers_, config_.relay_only, false}, use);
  }
  /// Whether the join answer gave a TURN server (STUN alone relays nothing).
  [[nodiscard]] bool HasRelays() const;
  /// The TURN and STUN servers of a join or resume answer (its iceServers; entries
  /// that are not objects with a list or string of URLs are skipped).
  static std::vector<media::IceServer> IceServers(const Json& answer);
  /// Reports `phase` (reached at `at`) once per JoinChannel (OnStartupPhase).
  void ReachPhase(StartupPhase phase, Clock::time_point at);
  void Warn(int32_t code, const std::string& message);

  /// A known member, or an unlisted one (a live channel's audience) heard from (any
  /// thread; DataMessages::Host).
  [[nodiscard]] bool IsMember(const std::string& user) const override;

 private:
  struct Leaving {
    bool notify = false;
  };
  // For call.cpp and call_stats.cpp alike.
  static int64_t NowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
  }

  // Subscribing::Listener and Publishing::Listener
  void Request(std::string_view type, Json body, Reply reply) override;
  Result<std::unique_ptr<media::SubscribeConnection>> NewSubscribeConnection() override;
  void Notify(const Event& event) override {
    if (EngineEventListener* l = host_.listener()) event(*l);
  }
  [[nodiscard]] uint64_t Generation() const override { return signal_gen_; }
  void ScreenShareEnded() override;
  void Post(std::function<void()> fn) override { host_.Post(std::move(fn)); }

  // DataMessages::Host (call_data.cpp)
  void AskOpenData(const std::string& offer,
                   std::function<void(int32_t, const std::string&, const std::string&)> reply) override;
  void PostToEngine(std::function<void()> fn) override { host_.Post(std::move(fn)); }
  void DataMessage(const std::string& from, const std::vector<uint8_t>& data,
                   const DataMessageOptions& options) override;
  void DataState(DataChannelState state) override;
  void DataError(int32_t code, const std::string& message) override { Error(code, message); }
  /// `user` sent us a message or a data message (call_data.cpp): an audience member is
  /// never listed, and this is how a host may answer it directly. At most kMaxHeard.
  void Heard(const std::string& user);
  void ForgetHeard();
  [[nodiscard]] bool InCall() const override;

  // join / leave
  void DoJoin(const Json& fields, const std::string& channel, const std::string& user);
  void SendJoin(const Json& fields, const std::string& channel, const std::string& user, Clock::time_point t0);
  void Joined(const Json& d, const std::string& channel, const std::string& user, Clock::time_point t0);
  void JoinFailed(int32_t code, const std::string& message, const std::string& channel, const std::string& user,
                  Clock::time_point t0, int32_t detail = 0);
  void EndCall();
  void FinishLeave(const std::shared_ptr<Leaving>& leave);
  void NewSignalChannel();
  void SetStatus(ConnectionStatus s);

  // signalling
  Reply Continue(Reply fn);
  void Ask(std::string_view type, Json body, std::chrono::milliseconds timeout, Reply reply);
  [[nodiscard]] std::chrono::milliseconds Timeout() const {
    return std::chrono::milliseconds(config_.request_timeout_ms);
  }

  // reconnection
  void OnSignalClosed(const std::string& why);
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> fn);
  void RetryResume(uint64_t attempt);
  void TryResume(uint64_t attempt);
  void OnResumeReply(uint64_t gen, uint64_t attempt, int32_t code, const std::string& m, const Json& d);
  void GiveUp(const std::string& why);
  void Reconcile(const Json& users);

  // heartbeat and stats
  void ScheduleHeartbeat();
  void Ping();
  void ReportStats();
  void StatsReady(const media::RtpTotals& pub, const media::RtpTotals& sub);
  void DeviceLoad(const media::RtpTotals& pub);
  /// The subscriber's jitter buffers wait longer through heavy loss (core/playout_delay.hpp).
  void AdaptPlayoutDelay(const StatsWindow::Report& r);

  // notifications
  void AddRemote(const proto::UserInfo& u);
  void Online(const std::string& id, bool has_tracks);
  void OnNote(const Json& m);
  void On(const std::monostate&) {}  // a word this client does not know
  void On(const proto::UserOnline& n) { AddRemote(n.user); }
  void On(const proto::UserOffline& n);
  void On(const proto::TrackPublished& n);
  void On(const proto::TrackUnpublished& n);
  void On(const proto::TrackMuted& n);
  void On(const proto::SubscribeOffer& n) { subscribing_.ApplyOffer(n.sdp); }
  void On(const proto::ActiveSpeaker& n);
  void On(const proto::UserNetwork& n);
  void On(const proto::NetworkQuality& n) {
    if (remote_.Knows(n.user_id)) RemoteQuality(n.user_id, quality_.Remote(n.user_id, n.up, n.down));
  }
  /// Tells the application a remote user's pair, when there is news.
  void RemoteQuality(const std::string& user_id, std::optional<CallQuality::Pair> q);
  /// The local pair changed: the application and the server are told.
  void LocalQuality(const CallQuality::Local& q);
  void On(const proto::PublishAborted& n) { Error(n.code, n.message); }
  void On(const proto::TransportFailed& n) {
    if (n.reason == "ice-timeout" || n.reason == "dtls-timeout")
      ice_fallback_.Failed(media::IceUse::kPublish, HasRelays());
    Error(n.code, n.message);
    if (n.transport == "publish") publishing_.TransportFailed(n.reason);
  }
  void On(const proto::StreamAborted& n) { Warn(n.code, n.user_id + ": " + n.message); }
  void On(const proto::SubscribeAborted& n);
  void On(const proto::SessionRemoved& n);
  // Not acted on by this SDK (yet).
  void On(const proto::UserUpdated& n);
  void On(const proto::RoleUpdated& n);
  void On(const proto::StreamResumed& n);
  void On(const proto::Message& n);
  void On(const proto::VolumeIndication& n);
  // Dual stream: a camera layer nobody watches stops being encoded.
  void On(const proto::PublishLayers& n) {
    if (n.track != TrackKind::kCamera) return;
    std::vector<bool> active;
    for (const auto& l : n.layers) active.push_back(l.active);
    publishing_.SetCameraLayers(active);
  }
  void On(const proto::TokenWillExpire& n) {
    Notify([&](EngineEventListener& l) { l.OnAuthInfoWillExpire(n.expires_at); });
  }
  void On(const proto::TokenExpired& n) {
    Notify([&](EngineEventListener& l) { l.OnAuthInfoExpired(n.remove_in_ms); });
  }

  EngineConfig config_;
  Host& host_;
  media::MediaFactory& media_;
  MakeSignal make_signal_;
  CallTiming timing_;
  ApiState state_;
  boost::asio::steady_timer ping_timer_;       ///< heartbeat (and stats)
  boost::asio::steady_timer reconnect_timer_;  ///< the next resume attempt
  boost::asio::steady_timer leave_timer_;      ///< the bound of a leave
  std::shared_ptr<Leaving> leave_;             ///< the leave on its way
  std::chrono::milliseconds ping_interval_{2000};
  std::unique_ptr<SignalChannel> signal_;
  Publishing publishing_;
  Subscribing subscribing_;
  DeviceControl devices_;       ///< device choices and the system's device changes
  AccompanyControl accompany_;  ///< an audio file mixed into the microphone
  DataMessages data_;           ///< the data connection
  RemoteUsers remote_;          ///< its snapshot is read by API threads
  static constexpr size_t kMaxHeard = 4096;
  mutable std::mutex heard_mu_;
  std::set<std::string> heard_;      ///< guarded by heard_mu_ (IsMember runs on API threads)
  StatsWindow stats_;                ///< the totals of the last report
  CallQuality quality_;              ///< network quality, local and remote
  PlayoutDelay playout_;             ///< how long the subscriber's jitter buffers wait
  bool device_limited_ = false;      ///< the video is lowered for the device's load (0x01060101 said)
  std::atomic<uint64_t> frames_{0};  ///< written on media threads
  std::atomic<int> width_{0}, height_{0};
  bool in_call_ = false;
  ConnectionStatus status_ = ConnectionStatus::kDisconnected;
  uint64_t signal_gen_ = 0;  ///< which signalling channel's events count
  std::string resume_token_;
  std::vector<media::IceServer> ice_servers_;  ///< of the last join or resume answer
  IceFallback ice_fallback_;                   ///< the way the next connection tries after ICE failures
  int volume_interval_ms_ = 0, volume_smooth_ = 0;
  std::map<std::string, VideoStreamType> stream_types_;  ///< SetStreamType's ("" = the default)
  void SendStreamTypes();
  void SendStreamType(const std::string& user_id, VideoStreamType type);
  std::map<std::string, double> volumes_;  ///< the last smoothed volume per user ("" local)
  std::string channel_id_, user_id_;       ///< of the call (set at join; API threads read them under state_.mu)
  bool reconnecting_ = false;
  uint64_t resume_attempt_ = 0;  ///< the reconnection chain that may run
  Clock::time_point reconnect_deadline_{};
  Clock::time_point join_t0_{};  ///< when JoinChannel began this call (startup phases count from it)
  uint32_t phases_ = 0;          ///< the startup phases reported since (bit per StartupPhase)
  std::chrono::milliseconds reconnect_delay_{100};
  int resume_tries_ = 0;                  ///< attempts of the current reconnection
  bool resume_timeout_reported_ = false;  ///< a resume timeout is reported once per reconnection
};

}  // namespace parley::sdk::call
