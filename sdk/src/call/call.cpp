#include "call/call.hpp"

#include <algorithm>
#include <set>
#include <variant>

#include "call/devices.hpp"
#include "log.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::call {

namespace {
int ElapsedMs(Call::Clock::time_point t0) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Call::Clock::now() - t0).count());
}
}  // namespace

Call::Call(const EngineConfig& config, Host& host, media::MediaFactory& media, boost::asio::io_context& io,
           MakeSignal make_signal, CallTiming timing)
    : config_(config),
      host_(host),
      media_(media),
      make_signal_(std::move(make_signal)),
      timing_(timing),
      ping_timer_(io),
      reconnect_timer_(io),
      leave_timer_(io),
      publishing_(*this, media, config_, io),
      subscribing_(*this),
      devices_(*this, publishing_, media, config_),
      accompany_(*this, media, config_),
      data_(*this, media, io),
      reconnect_delay_(timing.first_retry) {}

// ---- join / leave -------------------------------------------------------------

int32_t Call::StartJoin(const proto::JoinCredentials& credentials, const std::string& channel, const std::string& user,
                        const std::string& name, bool h5_compatible) {
  ChannelProfile profile;
  ClientRole role;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    if (state_.joining || state_.in_call) return Code(Errc::kAlreadyInChannel);
    state_.joining = true;
    profile = config_.profile;
    role = config_.role;
  }
  proto::JoinRequest join;
  join.user_name = name;
  join.sdk_version = RtcEngine::SdkVersion();
  join.profile = profile;
  join.role = role;
  join.role_given = true;
  join.platform = Platform::kNative;
  join.h5_compatible = h5_compatible;
  Json fields = join.ToJson();
  fields["userName"] = name;  // sent even when empty, as always
  fields.update(credentials.ToJson());
  host_.Post([this, fields, channel, user] { DoJoin(fields, channel, user); });
  return 0;
}

void Call::JoinFailed(int32_t code, const std::string& message, const std::string& channel, const std::string& user,
                      Clock::time_point t0, int32_t detail) {
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.joining = false;
    if (state_.pending_role) config_.role = *state_.pending_role;  // the role of the next join
    state_.pending_role.reset();
  }
  ++signal_gen_;
  signal_.reset();
  SetStatus(ConnectionStatus::kFailed);
  Log().info("parley: join failed {} {}", FormatHex(code), message);  // the listener has it
  int elapsed = ElapsedMs(t0);
  Notify([&](EngineEventListener& l) {
    l.OnJoinChannelError(code, detail, message);
    l.OnJoinChannelResult(code, channel, user, elapsed);
  });
}

/// Connects, then sends the join: each step continues on the engine thread when the
/// one before it answers, and the engine thread never waits.
void Call::DoJoin(const Json& fields, const std::string& channel, const std::string& user) {
  auto t0 = Clock::now();
  join_t0_ = t0;
  phases_ = 0;
  SetStatus(ConnectionStatus::kConnecting);
  NewSignalChannel();
  signal_->Connect(config_.server_url, Timeout(),
                   [this, gen = signal_gen_, fields, channel, user, t0](const Status& st) {
                     if (gen != signal_gen_) return;  // left (or destroyed) while connecting
                     if (!st) return JoinFailed(Code(st.error().code), st.error().message, channel, user, t0);
                     SendJoin(fields, channel, user, t0);
                   });
}

void Call::SendJoin(const Json& fields, const std::string& channel, const std::string& user, Clock::time_point t0) {
  Ask("join", fields, Timeout(), Continue([this, channel, user, t0](int32_t code, const std::string& m, const Json& d) {
        if (code) return JoinFailed(code, m, channel, user, t0, d.is_object() ? d.value("detail", 0) : 0);
        Joined(d, channel, user, t0);
      }));
}

std::vector<media::IceServer> Call::IceServers(const Json& answer) {
  std::vector<media::IceServer> out;
  if (!answer.is_object() || !answer.contains("iceServers") || !answer["iceServers"].is_array()) return out;
  for (const auto& entry : answer["iceServers"]) {
    if (!entry.is_object() || out.size() >= 8) continue;
    media::IceServer s;
    const Json urls = entry.value("urls", Json());
    if (urls.is_string()) s.urls.push_back(urls.get<std::string>());
    if (urls.is_array())
      for (const auto& u : urls)
        if (u.is_string() && s.urls.size() < 8) s.urls.push_back(u.get<std::string>());
    if (s.urls.empty()) continue;
    if (entry.contains("username") && entry["username"].is_string()) s.username = entry["username"];
    if (entry.contains("credential") && entry["credential"].is_string()) s.credential = entry["credential"];
    out.push_back(std::move(s));
  }
  return out;
}

bool Call::HasRelays() const {
  for (const auto& s : ice_servers_)
    for (const auto& u : s.urls)
      if (u.rfind("turn", 0) == 0) return true;
  return false;
}

void Call::Joined(const Json& d, const std::string& channel, const std::string& user, Clock::time_point t0) {
  ClientRole role;  // what the join asked for
  std::optional<ClientRole> later;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.joining = false;
    state_.in_call = !state_.leaving;
    role = config_.role;
    later.swap(state_.pending_role);
    channel_id_ = channel;
    user_id_ = user;
  }
  in_call_ = true;
  remote_.SetSelf(user);
  resume_token_ = d.value("resumeToken", "");
  ice_servers_ = IceServers(d);
  SetStatus(ConnectionStatus::kConnected);
  int interval = std::max(100, d.value("heartbeatIntervalMs", 2000));
  ping_interval_ = std::chrono::milliseconds(interval);
  ScheduleHeartbeat();
  int elapsed = ElapsedMs(t0);
  Notify([&](EngineEventListener& l) { l.OnJoinChannelResult(0, channel, user, elapsed); });
  Phase(StartupPhase::kJoined);
  for (const auto& u : d.value("users", Json::array())) AddRemote(proto::UserInfo::FromJson(u));
  if (d.contains("activeSpeaker") && d["activeSpeaker"].is_string() && !d["activeSpeaker"].get<std::string>().empty())
    Notify([&](EngineEventListener& l) { l.OnActiveSpeaker(d["activeSpeaker"]); });
  if (volume_interval_ms_ > 0) EnableVolumeIndication(volume_interval_ms_, volume_smooth_);
  SendStreamTypes();
  data_.Joined();
  if (later && *later != role) {
    // Set while joining: the server has the join's role until asked.
    RequestRole(*later);
    role = *later;
  }
  if (config_.auto_publish && role == ClientRole::kBroadcaster) {
    std::set<TrackKind> want;
    if (config_.audio_source != "null") want.insert(TrackKind::kAudio);
    if (config_.video_source != "null") want.insert(TrackKind::kCamera);
    if (!want.empty()) publishing_.Publish(want);
  }
}

/// Whatever ended the call (leave, the server's bye, the connection lost): media,
/// heartbeats, remote users and the flags the API reads all go back to idle.
void Call::EndCall() {
  ping_timer_.cancel();
  publishing_.DropConnection();
  subscribing_.connection().reset();
  publishing_.End();
  data_.Ended();
  remote_.Clear();
  ForgetHeard();
  quality_.Clear();
  ice_fallback_.Reset();
  ice_servers_.clear();
  in_call_ = false;
  join_t0_ = {};
  reconnecting_ = false;
  resume_token_.clear();
  ++signal_gen_;  // replies still on their way belong to the call that ended
  ++resume_attempt_;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.in_call = false;
    state_.leaving = false;
    state_.joining = false;
    state_.screen_requested = false;
    if (state_.pending_role) config_.role = *state_.pending_role;  // left while joining: the next join's role
    state_.pending_role.reset();
  }
  SetStatus(ConnectionStatus::kDisconnected);  // the listener sees the engine idle
}

void Call::Leave(bool notify) {
  join_t0_ = {};  // a phase of a connection still closing is this call's no more
  publishing_.DropConnection();
  subscribing_.connection().reset();
  publishing_.DropPlayer();
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
  auto leave = std::make_shared<Leaving>();
  leave->notify = notify;
  leave_ = leave;
  Ask("leave", Json::object(), timing_.leave_answer,
      [this, leave](int32_t, const std::string&, const Json&) { FinishLeave(leave); });
  leave_timer_.expires_after(timing_.leave_bound);
  leave_timer_.async_wait([this, leave](const boost::system::error_code& ec) {
    if (!ec) FinishLeave(leave);
  });
}

void Call::FinishLeave(const std::shared_ptr<Leaving>& leave) {
  if (leave != leave_) return;  // finished already (answered, or its bound passed)
  leave_.reset();
  leave_timer_.cancel();
  if (signal_) signal_->Close();
  bool was = in_call_;
  EndCall();
  if (leave->notify && was) Notify([](EngineEventListener& l) { l.OnLeaveChannelResult(0); });
}

void Call::Teardown(const RunUntil& run_until) {
  if (in_call_ && !leave_) Leave(false);
  if (leave_)
    run_until([this] { return !leave_; }, Clock::now() + timing_.leave_bound + std::chrono::milliseconds(100));
  if (auto leave = leave_) FinishLeave(leave);
  signal_.reset();
  publishing_.DropConnection();
  subscribing_.connection().reset();
  data_.Ended();
  publishing_.DropPlayer();  // before the feeds it pushes into
}

/// A fresh signalling channel; events of the ones before it are ignored.
void Call::NewSignalChannel() {
  uint64_t gen = ++signal_gen_;
  signal_.reset();
  // Its callbacks arrive on the engine thread, in the order of their causes.
  signal_ = make_signal_(
      [this, gen](const Json& note) {
        if (gen == signal_gen_) OnNote(note);
      },
      [this, gen](const std::string& why) {
        if (gen == signal_gen_) OnSignalClosed(why);
      });
}

void Call::SetStatus(ConnectionStatus s) {
  if (s == status_) return;
  status_ = s;
  Notify([s](EngineEventListener& l) { l.OnConnectionStatusChanged(s); });
}

void Call::RequestRole(ClientRole r) {
  if (!Live()) return;
  Ask("setRole", proto::SetRoleRequest{r}.ToJson(), Timeout(),
      Continue([this, r](int32_t code, const std::string& m, const Json&) {
        if (code) return Error(code == Code(Errc::kTimeoutSetRole) ? code : Code(Errc::kUpdateRoleFailed), m);
        {
          std::lock_guard<std::mutex> lock(state_.mu);
          config_.role = r;
        }
        if (r == ClientRole::kAudience && publishing_.connection()) publishing_.StopPublishing();
      }));
}

int32_t Call::RefreshToken(const JoinTarget& target) {
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    if ((!target.channel_id.empty() && target.channel_id != channel_id_) ||
        (!target.user_id.empty() && target.user_id != user_id_))
      return Code(Errc::kTokenInvalid);
  }
  host_.Post([this, fields = target.credentials.ToJson()] {
    if (!Live()) return;
    Request("refreshToken", fields, [this](int32_t code, const std::string& m, const Json&) {
      if (code) Error(code, "the new token was refused: " + m);
    });
  });
  return 0;
}

void Call::EnableVolumeIndication(int interval_ms, int smooth) {
  volume_interval_ms_ = interval_ms;
  volume_smooth_ = smooth;
  volumes_.clear();
  if (!Live()) return;  // asked at the join
  Request("setVolumeIndication", proto::SetVolumeIndicationRequest{interval_ms}.ToJson(),
          [this](int32_t code, const std::string& m, const Json&) {
            if (code) Error(code, "volume indication refused: " + m);
          });
}

// The server's volumes of the others, with this microphone's since the last one; each
// smoothed over the ones before.
void Call::On(const proto::VolumeIndication& n) {
  if (volume_interval_ms_ <= 0) return;
  const double keep = volume_smooth_ / 10.0;
  std::map<std::string, double> next;
  std::vector<AudioVolumeInfo> out;
  auto add = [&](const std::string& id, int v) {
    auto prev = volumes_.find(id);
    double s = prev == volumes_.end() ? v : keep * prev->second + (1 - keep) * v;
    next[id] = s;
    out.push_back({id, static_cast<int>(std::lround(s))});
  };
  if (const auto& pub = publishing_.connection(); pub && publishing_.published().count(TrackKind::kAudio))
    add("", proto::VolumeOfLevel(pub->TakeMicPeak()));
  for (const auto& e : n.speakers)
    if (remote_.Knows(e.user_id) && !next.count(e.user_id)) add(e.user_id, e.volume);
  volumes_ = std::move(next);
  Notify([&](EngineEventListener& l) { l.OnAudioVolumeIndication(out); });
}

void Call::SendMessage(const std::string& to_user_id, const std::string& data) {
  if (!Live()) return Error(Code(Errc::kNotInChannel), "message not sent: not connected to the channel");
  Request("sendMessage", proto::SendMessageRequest{data, to_user_id}.ToJson(),
          [this, to_user_id](int32_t code, const std::string& m, const Json&) {
            if (code)
              Error(code,
                    "message to " + (to_user_id.empty() ? std::string("the channel") : to_user_id) + " not sent: " + m);
          });
}

void Call::ScreenShareEnded() {
  std::lock_guard<std::mutex> lock(state_.mu);
  state_.screen_requested = false;
}

// ---- signalling -----------------------------------------------------------------

/// Wraps a signalling reply (posted to the engine thread) so that it counts only for
/// its link and call. A request cut off by a dropped link while the call reconnects is
/// not reported: the resume reconciles what it was about.
Call::Reply Call::Continue(Reply fn) {
  uint64_t gen = signal_gen_;
  return [this, gen, fn = std::move(fn)](int32_t code, const std::string& m, const Json& d) {
    // Replies to another link (before a resume) or another call are stale.
    if (gen != signal_gen_) return;
    if (code == Code(Errc::kSignalRequestError) && (reconnecting_ || !signal_ || !signal_->connected())) return;
    fn(code, m, d);
  };
}

/// Sends request `type`; without a reply within `timeout` it fails with the type's
/// catalog timeout code (protocol.tsv).
void Call::Ask(std::string_view type, Json body, std::chrono::milliseconds timeout, Reply reply) {
  signal_->Request(std::string(type), std::move(body), proto::TimeoutCode(type).value_or(Errc::kInternalError), timeout,
                   std::move(reply));
}

void Call::Request(std::string_view type, Json body, Reply reply) {
  Ask(type, std::move(body), Timeout(), Continue(std::move(reply)));
}

void Call::Error(int32_t code, const std::string& message) {
  Log().warn("parley: error {} {}", FormatHex(code), message);
  Notify([&](EngineEventListener& l) { l.OnOccurError(code, message); });
}

void Call::Warn(int32_t code, const std::string& message) {
  Notify([&](EngineEventListener& l) { l.OnOccurWarning(code, message); });
}

/// In a channel with a live signalling connection and not leaving it: work queued
/// before a leave or a disconnect is dropped instead of failing.
bool Call::Live() const {
  return in_call_ && !leave_ && signal_ && signal_->connected();
}

// ---- reconnection -----------------------------------------------------------------
// The signalling link dropped without a leave: the server keeps the session (and its
// media transports, which never went through this link) for its grace period, so the
// call reconnects and resumes; media keeps flowing meanwhile.

void Call::OnSignalClosed(const std::string& why) {
  if (!in_call_ || reconnecting_) return;
  if (resume_token_.empty() || config_.reconnect_timeout_ms <= 0) {
    EndCall();
    Error(Code(Errc::kSignalRequestError), "signalling connection lost: " + why);
    return;
  }
  reconnecting_ = true;
  reconnect_deadline_ = Clock::now() + std::chrono::milliseconds(config_.reconnect_timeout_ms);
  reconnect_delay_ = timing_.first_retry;
  resume_tries_ = 0;
  resume_timeout_reported_ = false;
  ping_timer_.cancel();
  Warn(Code(Errc::kLocalNetworkDisconnected), "signalling connection lost (" + why + "); reconnecting");
  SetStatus(ConnectionStatus::kReconnecting);
  LocalQuality(quality_.LinkLost());
  uint64_t attempt = ++resume_attempt_;
  RunAfter(reconnect_delay_, [this, attempt] { TryResume(attempt); });
}

/// Runs `fn` on the engine thread after `delay` (the reconnection chain: one at a
/// time, a later one replaces it).
void Call::RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

void Call::RetryResume(uint64_t attempt) {
  reconnect_delay_ = NextRetry(reconnect_delay_, timing_.max_retry);
  RunAfter(reconnect_delay_, [this, attempt] { TryResume(attempt); });
}

/// One reconnection attempt of the chain `attempt` (a later drop or the end of the
/// call starts another chain or none, and this one stops).
void Call::TryResume(uint64_t attempt) {
  if (!in_call_ || !reconnecting_ || attempt != resume_attempt_) return;
  if (Clock::now() >= reconnect_deadline_) {
    return GiveUp("the reconnection budget of " + std::to_string(config_.reconnect_timeout_ms) + " ms is spent after " +
                  std::to_string(resume_tries_) + (resume_tries_ == 1 ? " attempt" : " attempts"));
  }
  ++resume_tries_;
  NewSignalChannel();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(reconnect_deadline_ - Clock::now());
  uint64_t gen = signal_gen_;
  signal_->Connect(config_.server_url, std::min(left, timing_.connect), [this, gen, attempt](const Status& st) {
    if (gen != signal_gen_ || attempt != resume_attempt_ || !reconnecting_) return;
    if (!st) return RetryResume(attempt);
    // Not through Continue: a resume cut off by another drop must retry, not vanish.
    Ask("resume", proto::ResumeRequest{resume_token_}.ToJson(), Timeout(),
        [this, gen, attempt](int32_t code, const std::string& m, const Json& d) {
          OnResumeReply(gen, attempt, code, m, d);
        });
  });
}

void Call::OnResumeReply(uint64_t gen, uint64_t attempt, int32_t code, const std::string& m, const Json& d) {
  if (gen != signal_gen_ || attempt != resume_attempt_ || !reconnecting_) return;
  // Too late: the server's grace ended and it removed the session.
  if (code == Code(Errc::kSessionRemoved)) return GiveUp("the server had already removed the session (" + m + ")");
  // No answer in time: the app hears of it once per reconnection (as of any other
  // request that timed out), and the next attempt goes on a fresh link.
  if (code == Code(Errc::kTimeoutResume) && !resume_timeout_reported_) {
    resume_timeout_reported_ = true;
    Error(code, m);
  }
  if (code) return RetryResume(attempt);
  reconnecting_ = false;
  resume_token_ = d.value("resumeToken", resume_token_);
  if (d.contains("iceServers")) ice_servers_ = IceServers(d);
  SetStatus(ConnectionStatus::kConnected);
  Warn(Code(Errc::kLocalNetworkConnected), "signalling connection restored");
  ScheduleHeartbeat();
  Reconcile(d.value("users", Json::array()));
}

/// The call cannot be resumed: it ends with 0x01050202 (why: the budget, or the server),
/// and the app hears the bye the server could not send.
void Call::GiveUp(const std::string& why) {
  EndCall();
  Error(Code(Errc::kMediaConnectionReconnectFailed), "reconnection failed: " + why);
  Notify([](EngineEventListener& l) { l.OnBye("connection-lost"); });
}

/// After a resume: notifications sent while the link was down are lost, so the
/// channel's snapshot decides who is there and what they publish.
void Call::Reconcile(const Json& users) {
  std::vector<proto::UserInfo> snapshot;
  for (const auto& u : users) snapshot.push_back(proto::UserInfo::FromJson(u));
  for (const auto& c : remote_.Reconcile(snapshot)) {
    switch (c.kind) {
      case RemoteUsers::Change::Kind::kOnline: Online(c.user_id, c.has_tracks); break;
      case RemoteUsers::Change::Kind::kNewTracks:
        if (config_.auto_subscribe) subscribing_.Subscribe(c.user_id);
        break;
      case RemoteUsers::Change::Kind::kOffline:
        quality_.Forget(c.user_id);
        Notify([&](EngineEventListener& l) { l.OnRemoteUserOffline(c.user_id, "left"); });
        break;
    }
  }
  // Qualities relayed while the link was down are in the snapshot.
  for (const auto& u : snapshot) {
    RemoteQuality(u.user_id, quality_.Remote(u.user_id, u.quality_up, u.quality_down));
    RemoteQuality(u.user_id, u.online ? quality_.RemoteLinkBack(u.user_id) : quality_.RemoteLinkLost(u.user_id));
  }
}

// ---- remote users and notifications --------------------------------------------------

void Call::AddRemote(const proto::UserInfo& u) {
  if (!remote_.Add(u)) return;
  Online(u.user_id, !u.tracks.empty());
  RemoteQuality(u.user_id, quality_.Remote(u.user_id, u.quality_up, u.quality_down));
  if (!u.online) RemoteQuality(u.user_id, quality_.RemoteLinkLost(u.user_id));
}

void Call::Online(const std::string& id, bool has_tracks) {
  Notify([&](EngineEventListener& l) { l.OnRemoteUserOnline(id); });
  if (config_.auto_subscribe && has_tracks) subscribing_.Subscribe(id);
}

/// A notification from the current signalling channel. It counts even when that link
/// has closed since (the close is handled next, in order): the server writes
/// sessionRemoved just before it closes, and that notice decides the close is final.
void Call::OnNote(const Json& m) {
  if (!in_call_) return;
  std::visit([this](const auto& n) { On(n); }, proto::ParseNotification(m));
}

void Call::On(const proto::UserOffline& n) {
  remote_.Remove(n.user_id);
  quality_.Forget(n.user_id);  // its media ended on purpose
  Notify([&](EngineEventListener& l) { l.OnRemoteUserOffline(n.user_id, n.reason); });
}

void Call::On(const proto::TrackPublished& n) {
  if (n.track) remote_.AddTrack(n.user_id, *n.track);
  if (config_.auto_subscribe) subscribing_.Subscribe(n.user_id);
}

void Call::On(const proto::TrackUnpublished& n) {
  if (n.track && *n.track != TrackKind::kAudio) quality_.MediaEndedOnPurpose(n.user_id, *n.track);
  if (n.track && remote_.RemoveTrack(n.user_id, *n.track))
    Notify([&](EngineEventListener& l) { l.OnRemoteTrackUnavailable(n.user_id, *n.track); });
}

void Call::On(const proto::TrackMuted& n) {
  if (n.track && *n.track != TrackKind::kAudio && remote_.Knows(n.user_id))
    quality_.RemoteVideoMuted(n.user_id, n.muted, NowUs());
  if (n.track) Notify([&](EngineEventListener& l) { l.OnRemoteTrackMuted(n.user_id, *n.track, n.muted); });
}

void Call::On(const proto::UserUpdated& n) {
  const std::string& id = n.user.user_id;
  if (remote_.Rename(id, n.user.user_name))
    Notify([&](EngineEventListener& l) { l.OnRemoteUserUpdated(id, n.user.user_name); });
}

void Call::On(const proto::RoleUpdated& n) {
  if (n.role && remote_.SetRole(n.user_id, *n.role))
    Notify([&](EngineEventListener& l) { l.OnRemoteUserRoleChanged(n.user_id, *n.role); });
}

void Call::On(const proto::StreamResumed& n) {
  if (remote_.Knows(n.user_id)) Notify([&](EngineEventListener& l) { l.OnRemoteStreamResumed(n.user_id); });
}

void Call::On(const proto::Message& n) {
  // The server names the sender, a member: a listed one or a live channel's audience.
  Heard(n.from_user_id);
  Notify([&](EngineEventListener& l) { l.OnMessage(n.from_user_id, n.data, n.direct); });
}

void Call::On(const proto::ActiveSpeaker& n) {
  Notify([&](EngineEventListener& l) { l.OnActiveSpeaker(n.user_id); });
}

void Call::On(const proto::SubscribeAborted& n) {
  if (n.reason == "ice-timeout" || n.reason == "dtls-timeout")
    ice_fallback_.Failed(media::IceUse::kSubscribe, HasRelays());
  Error(n.code, n.message);
  subscribing_.Aborted(n.users);
}

void Call::On(const proto::SessionRemoved& n) {
  // Final: the server closes the link next; that close is not a drop to recover from
  // (EndCall moves on from this channel's events; closing it here makes the end ours
  // too).
  EndCall();
  if (signal_) signal_->Close();
  Error(n.code ? n.code : Code(Errc::kSessionRemoved), n.message.empty() ? "session removed: " + n.reason : n.message);
  Notify([&](EngineEventListener& l) { l.OnBye(n.reason); });
}

}  // namespace parley::sdk::call
