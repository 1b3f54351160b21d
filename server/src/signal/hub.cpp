#include "signal/hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "parley/proto/token.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every track named must be published (0x01010402 otherwise).
Status CheckPublished(const Session& s, const std::set<Track>& tracks) {
  for (Track t : tracks)
    if (!s.published.count(t)) return MakeError(Errc::kNotPublishing, std::string(Name(t)) + " is not published");
  return {};
}

using proto::TrackList;

}  // namespace

SignalHub::SignalHub(boost::asio::io_context& io, const ServerConfig& config, AppStore& store, Metrics& metrics,
                     sfu::MediaPlane* plane)
    : io_(io),
      own_plane_(plane ? nullptr : std::make_unique<sfu::MediaPlane>(std::vector<sfu::MediaWorker*>{}, "")),
      plane_(plane ? plane : own_plane_.get()),
      config_(config),
      store_(store),
      metrics_(metrics),
      authenticator_(store, config),
      join_limiter_(
          JoinLimits{config.join_failures_per_connection, config.join_failure_burst, config.join_failure_refill_per_s}),
      heartbeat_(
          std::chrono::milliseconds(static_cast<int64_t>(config.heartbeat_interval_ms) * config.heartbeat_misses),
          *this),
      media_aborts_(std::chrono::milliseconds(config.media_abort_ms), *this),
      transport_failures_(media_status_, *this),
      speakers_(*this),
      channels_(*plane_),
      heartbeat_timer_(io),
      metering_timer_(io),
      media_timer_(io),
      speaker_timer_(io) {
  handlers_ = {
      {"hello", &SignalHub::HandleHello},
      {"join", &SignalHub::HandleJoin},
      {"leave", &SignalHub::HandleLeave},
      {"ping", &SignalHub::HandlePing},
      {"resume", &SignalHub::HandleResume},
      {"publish", &SignalHub::HandlePublish},
      {"unpublish", &SignalHub::HandleUnpublish},
      {"subscribe", &SignalHub::HandleSubscribe},
      {"unsubscribe", &SignalHub::HandleUnsubscribe},
      {"subscribeAnswer", &SignalHub::HandleSubscribeAnswer},
      {"updatePublish", &SignalHub::HandleUpdatePublish},
      {"setRole", &SignalHub::HandleSetRole},
      {"mute", &SignalHub::HandleMute},
      {"listUsers", &SignalHub::HandleListUsers},
      {"sendMessage", &SignalHub::HandleSendMessage},
      {"updateUserInfo", &SignalHub::HandleUpdateUserInfo},
      {"refreshToken", &SignalHub::HandleRefreshToken},
  };
}

SignalHub::~SignalHub() = default;

void SignalHub::Start() {
  ArmRepeating(heartbeat_timer_, config_.heartbeat_interval_ms, &SignalHub::CheckHeartbeats);
  ArmRepeating(metering_timer_, config_.usage_flush_ms, &SignalHub::MeterUsage);
  if (plane_->worker_count() > 0) {
    ArmRepeating(media_timer_, std::max(50, config_.media_abort_ms / 4), &SignalHub::CheckMediaAborts);
    ArmRepeating(speaker_timer_, config_.active_speaker_interval_ms, &SignalHub::CheckActiveSpeakers);
  }
}

void SignalHub::Stop() {
  stopped_ = true;
  heartbeat_timer_.cancel();
  metering_timer_.cancel();
  media_timer_.cancel();
  speaker_timer_.cancel();
  MeterUsage();
  for (auto& [id, s] : sessions_)
    if (s->grace_timer) s->grace_timer->cancel();
  for (auto& [id, c] : conns_) c->link->Close();
}

void SignalHub::ArmRepeating(boost::asio::steady_timer& timer, int interval_ms, void (SignalHub::*tick)()) {
  if (stopped_) return;
  timer.expires_after(std::chrono::milliseconds(interval_ms));
  timer.async_wait([this, &timer, interval_ms, tick](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    (this->*tick)();
    ArmRepeating(timer, interval_ms, tick);
  });
}

void SignalHub::UpdateGauges() {
  metrics_.sessions = sessions_.size();
  metrics_.channels = channels_.size();
}

uint64_t SignalHub::OnOpen(std::shared_ptr<SignalConnection> link, std::string remote) {
  auto c = std::make_unique<Conn>();
  c->id = next_id_++;
  c->link = std::move(link);
  c->remote = std::move(remote);
  uint64_t id = c->id;
  conns_[id] = std::move(c);
  heartbeat_.Seen(id, Clock::now());
  ++metrics_.ws_connections_total;
  metrics_.ws_open = conns_.size();
  return id;
}

void SignalHub::OnClose(uint64_t conn_id) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (Session* s = c.session) {
    // The connection dropped without a leave: keep the user in the channel for the
    // grace period so a network blip does not look like leaving (RFC-free, our rule).
    s->conn = nullptr;
    c.session = nullptr;
    if (s->channel && !stopped_) {
      json note = {{"type", "userNetwork"},
                   {"userId", s->user_id},
                   {"state", "disconnected"},
                   {"code", static_cast<int32_t>(Errc::kRemoteNetworkDisconnected)}};
      s->channel->Broadcast(*this, note, s);
      s->grace_timer = std::make_unique<boost::asio::steady_timer>(io_);
      s->grace_timer->expires_after(std::chrono::milliseconds(config_.resume_grace_ms));
      uint64_t sid = s->id;
      s->grace_timer->async_wait([this, sid](const boost::system::error_code& ec) {
        if (ec) return;
        Session* gone = sessions_.Find(sid);
        if (gone && !gone->conn) RemoveSession(*gone, "connection-lost", false, false);
      });
    }
  }
  conns_.erase(it);
  heartbeat_.Forget(conn_id);
  metrics_.ws_open = conns_.size();
}

void SignalHub::SendTo(Conn& c, std::string text) {
  ++metrics_.messages_out_total;
  c.link->Send(std::move(text));
}

void SignalHub::Reply(Conn& c, const ClientMessage& m, Errc code, std::string_view message, const json& data) {
  SendTo(c, MakeResponse(m.id, m.type, code, message, data));
}

void SignalHub::ReplyError(Conn& c, const ClientMessage& m, const Error& e) {
  LogRefusal(c, m.type, e);
  SendTo(c, MakeErrorResponse(m.id, m.type, e));
}

void SignalHub::LogRefusal(const Conn& c, std::string_view request, const Error& e) {
  auto skipped = refusal_log_.Admit(Clock::now());
  if (!skipped) return;
  if (*skipped > 0)
    spdlog::info("{} refused requests were not logged (at most {} lines a second)", *skipped, RefusalLog::kPerSecond);
  std::string who = "connection " + std::to_string(c.id);
  if (c.session && c.session->channel)
    who =
        c.session->user_id + " in channel " + c.session->channel->channel_id + " of app " + c.session->channel->app_id;
  spdlog::info("{} refused for {} from {}: {}{} {}", request.empty() ? "message" : std::string(request), who,
               c.remote.empty() ? "?" : c.remote, FormatHex(e.value()),
               e.detail == Errc::kOk ? "" : " / " + FormatHex(static_cast<int32_t>(e.detail)), e.What());
}

void SignalHub::OnMessage(uint64_t conn_id, std::string_view text) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  heartbeat_.Seen(conn_id, Clock::now());
  ++metrics_.messages_in_total;
  json id;
  auto parsed = ParseClientMessage(text, config_.max_message_bytes, &id);
  if (!parsed) {
    ++metrics_.bad_messages_total;
    LogRefusal(c, "", parsed.error());
    SendTo(c, MakeErrorResponse(id, "", parsed.error()));
    return;
  }
  const ClientMessage& m = *parsed;
  auto h = handlers_.find(m.type);
  if (h == handlers_.end() && !test_handlers_.count(m.type)) {
    ++metrics_.bad_messages_total;
    ReplyError(c, m, MakeError(Errc::kUnknownMessageType, "unknown message type '" + m.type + "'"));
    return;
  }
  Dispatch(c, m, h == handlers_.end() ? nullptr : h->second);
}

void SignalHub::Dispatch(Conn& c, const ClientMessage& m, Handler h) {
  try {
    if (h)
      (this->*h)(c, m);
    else
      test_handlers_.at(m.type)(m.body);
  } catch (const std::exception& e) {
    // Rules below must not throw; if one does, its state may be half-changed, so the
    // connection goes (its session follows the lost-connection path) and others stay.
    ++metrics_.signal_handler_exceptions_total;
    spdlog::error("signalling: '{}' on connection {} threw: {}", m.type, c.id, e.what());
    ReplyError(c, m, MakeError(Errc::kInternalError, "internal error while handling '" + m.type + "'"));
    c.link->Close();
  } catch (...) {
    ++metrics_.signal_handler_exceptions_total;
    spdlog::error("signalling: '{}' on connection {} threw a non-exception", m.type, c.id);
    ReplyError(c, m, MakeError(Errc::kInternalError, "internal error while handling '" + m.type + "'"));
    c.link->Close();
  }
}

void SignalHub::AddHandlerForTesting(const std::string& type, std::function<void(const json&)> handler) {
  test_handlers_[type] = std::move(handler);
}

Session* SignalHub::RequireJoined(Conn& c, const ClientMessage& m) {
  if (c.session) return c.session;
  ReplyError(c, m, MakeError(Errc::kNotInChannel, m.type + " needs a joined channel"));
  return nullptr;
}

void SignalHub::HandleHello(Conn& c, const ClientMessage& m) {
  Reply(c, m, Errc::kOk, "ok",
        {{"protocol", kProtocolVersion},
         {"server", std::string("parleyd ") + PARLEY_VERSION},
         {"heartbeatIntervalMs", config_.heartbeat_interval_ms},
         {"heartbeatMisses", config_.heartbeat_misses},
         {"requestTimeoutMs", config_.request_timeout_ms},
         {"resumeGraceMs", config_.resume_grace_ms},
         {"maxMessageBytes", config_.max_message_bytes}});
}

void SignalHub::HandlePing(Conn& c, const ClientMessage& m) {
  Reply(c, m, Errc::kOk, "pong", {{"serverTimeMs", NowUnixMs()}});
}

Result<Credentials> SignalHub::Authenticate(const json& body) {
  auto given = proto::JoinCredentials::Parse(body);
  if (!given) return given.error();
  return authenticator_.Verify(*given, NowUnix());
}

void SignalHub::HandleJoin(Conn& c, const ClientMessage& m) {
  auto start = Clock::now();
  auto fail = [&](const Error& e) {
    ++metrics_.joins_by_code[e.value()];
    ReplyError(c, m, e);
  };
  if (c.session)
    return fail(
        MakeError(Errc::kAlreadyInChannel, "this session is already in channel " + c.session->channel->channel_id));
  auto req = proto::JoinRequest::Parse(m.body);
  if (!req) return fail(req.error());
  const Profile profile = req->profile;
  const Role role = req->role;
  const bool h5 = req->h5_compatible;
  if (join_limiter_.Exceeded(c.join_failures, c.remote, Clock::now())) {
    ++metrics_.joins_rate_limited_total;
    fail(MakeError(Errc::kRateLimited, "too many failed joins from this connection or address; wait and retry"));
    if (join_limiter_.ConnectionSpent(c.join_failures)) c.link->Close();
    return;
  }
  auto creds = Authenticate(m.body);
  if (!creds) {
    join_limiter_.CountFailure(c.join_failures, c.remote, Clock::now());
    return fail(creds.error());
  }
  const AuthInfo* auth = &creds->auth;
  if (creds->role == "audience" && role == Role::kBroadcaster)
    return fail(MakeError(Errc::kTokenInvalid, profile == Profile::kCommunication
                                                   ? "token grants the audience role only; join interactive-live "
                                                     "as audience"
                                                   : "token grants the audience role only; join as audience"));

  Channel* ch = channels_.Find(auth->app_id, auth->channel_id);
  if (ch) {
    auto age = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - ch->created_at).count();
    if (age >= config_.channel_max_age_s)
      return fail(MakeError(Errc::kChannelExpired,
                            "channel has been live for more than " + std::to_string(config_.channel_max_age_s) + " s"));
    if (ch->profile != profile)
      return fail(MakeError(Errc::kInvalidChannelProfile, "channel profile is " + std::string(Name(ch->profile)) +
                                                              ", join asked for " + std::string(Name(profile))));
    if (ch->h5_compatible != h5)
      return fail(MakeError(Errc::kH5NotCompatible,
                            ch->h5_compatible ? "channel is H5-compatible and this client turned H5-compatible "
                                                "mode off: leave it on (the default; drop --no-h5 / "
                                                "SetH5CompatibleMode(false))"
                                              : "channel is native-only: its members turned H5-compatible "
                                                "mode off (--no-h5 / SetH5CompatibleMode(false)); browsers "
                                                "and H5-compatible clients cannot join it"));
  }

  // Same user elsewhere: the newest connection wins (reason "replaced").
  if (ch) {
    if (auto old = ch->members.find(auth->user_id); old != ch->members.end())
      RemoveSession(*old->second, "replaced", true, true);
    ch = channels_.Find(auth->app_id, auth->channel_id);  // it closes if that was its last member
  }
  if (!ch)
    ch = &channels_.Create(
        {auth->app_id, auth->channel_id, profile, h5, Clock::now(), NowUnix()});  // pinned to the least loaded worker

  Session* s = &sessions_.Create(next_id_++, RandomHex(16));
  s->conn = &c;
  s->channel = ch;
  s->user_id = auth->user_id;
  s->user_name = req->user_name;
  s->sdk_version = req->sdk_version;
  s->role = role;
  s->audience_only = creds->role == "audience";
  s->platform = req->platform;
  s->joined_at = Clock::now();
  Session* sp = s;
  c.session = sp;
  c.left = false;
  ch->members[sp->user_id] = sp;
  UpdateGauges();

  json data = ChannelSnapshot(*sp, config_.heartbeat_interval_ms);
  data["sessionId"] = std::to_string(sp->id);
  data["resumeToken"] = sp->resume_token;
  data["elapsedMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  ++metrics_.joins_by_code[0];
  Reply(c, m, Errc::kOk, "joined", data);
  spdlog::info("{} joined channel {} of app {} as {} ({}, {}; {} in the channel)", sp->user_id, ch->channel_id,
               ch->app_id, Name(sp->role), sp->platform == Platform::kH5 ? "browser" : "native",
               ch->h5_compatible ? "H5-compatible" : "native-only", ch->members.size());
  ch->Broadcast(*this, {{"type", "userOnline"}, {"user", UserJson(*sp)}}, sp);
}

void SignalHub::HandleLeave(Conn& c, const ClientMessage& m) {
  if (!c.session) {
    if (c.left) return ReplyError(c, m, MakeError(Errc::kAlreadyLeaving, "this session has already left its channel"));
    return ReplyError(c, m, MakeError(Errc::kNotInChannel, "leave needs a joined channel"));
  }
  Session& s = *c.session;
  c.session = nullptr;
  c.left = true;
  s.conn = nullptr;
  RemoveSession(s, "left", false, false);
  Reply(c, m, Errc::kOk, "left");
}

void SignalHub::DetachFromChannel(Session& s, std::string_view reason) {
  Channel* ch = s.channel;
  if (!ch) return;
  s.channel = nullptr;
  ch->media->CloseSession(s.id);
  auto it = ch->members.find(s.user_id);
  if (it != ch->members.end() && it->second == &s) ch->members.erase(it);
  // Subscriptions of others to this user end with it; their sections go inactive.
  for (auto& [uid, member] : ch->members) {
    member->subscriptions.erase(s.user_id);
    for (Track t : {Track::kAudio, Track::kCamera, Track::kScreen})
      RetireOfferedTrack(*this, *member, TrackId(s.user_id, t));
  }
  if (ch->members.empty()) {
    channels_.Close(*ch);
    return;
  }
  for (Track t : s.published)
    ch->Broadcast(*this, {{"type", "trackUnpublished"}, {"userId", s.user_id}, {"track", Name(t)}});
  ch->Broadcast(*this, {{"type", "userOffline"}, {"userId", s.user_id}, {"reason", reason}});
}

void SignalHub::RemoveSession(Session& s, std::string_view reason, bool notify_client, bool close_link) {
  ++metrics_.sessions_removed_by_reason[std::string(reason)];
  if (s.channel)
    spdlog::info("{} left channel {} of app {} ({})", s.user_id, s.channel->channel_id, s.channel->app_id, reason);
  // Count the time it spent in the channel before it leaves the meter.
  if (s.channel) AccumulateUsage();
  DetachFromChannel(s, reason);
  if (s.grace_timer) s.grace_timer->cancel();
  if (Conn* c = s.conn) {
    c->session = nullptr;
    if (notify_client) {
      json note = {{"type", "sessionRemoved"},
                   {"code", static_cast<int32_t>(Errc::kSessionRemoved)},
                   {"reason", reason},
                   {"message", std::string(Describe(Errc::kSessionRemoved)) + ": " + std::string(reason)}};
      SendTo(*c, note.dump());
    }
    if (close_link) c->link->Close();
  }
  media_aborts_.Forget(s.id);
  transport_failures_.Forget(s.id);
  sessions_.Erase(s);
  UpdateGauges();
}

void SignalHub::HandleResume(Conn& c, const ClientMessage& m) {
  auto req = proto::ResumeRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (c.session) return ReplyError(c, m, MakeError(Errc::kAlreadyInChannel, "this connection has a session"));
  Session* found = sessions_.ByResumeToken(req->resume_token);
  if (!found)
    return ReplyError(c, m, MakeError(Errc::kSessionRemoved, "no session to resume (it was removed or expired)"));
  Session& s = *found;
  if (s.conn) {
    // The client noticed the broken link before we did: the new connection takes over.
    Conn* old = s.conn;
    old->session = nullptr;
    old->link->Close();
  }
  if (s.grace_timer) s.grace_timer->cancel();
  s.grace_timer.reset();
  s.conn = &c;
  c.session = &s;
  c.left = false;
  ++metrics_.resumes_total;
  Reply(c, m, Errc::kOk, "resumed", ChannelSnapshot(s, config_.heartbeat_interval_ms));
  s.channel->Broadcast(*this,
                       {{"type", "userNetwork"},
                        {"userId", s.user_id},
                        {"state", "connected"},
                        {"code", static_cast<int32_t>(Errc::kRemoteNetworkConnected)}},
                       &s);
}

void SignalHub::HandleUpdatePublish(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::UpdatePublishRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (s->published.empty()) return ReplyError(c, m, MakeError(Errc::kNotPublishing, "nothing is published"));
  auto answer = s->channel->media->Publish(s->id, req->sdp, s->published);
  if (!answer) return ReplyError(c, m, answer.error());
  transport_failures_.Start(s->id);  // a new transport: its failure and silence are watched anew
  media_aborts_.Start(s->id, Clock::now());
  Reply(c, m, Errc::kOk, "updated", {{"sdp", *answer}, {"tracks", TrackList(s->published)}});
}

void SignalHub::HandleSubscribeAnswer(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::SubscribeAnswerRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (Status st = s->channel->media->Answer(s->id, req->sdp); !st) return ReplyError(c, m, st.error());
  Reply(c, m, Errc::kOk, "ok");
}

void SignalHub::HandlePublish(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::PublishRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (s->role == Role::kAudience)
    return ReplyError(c, m, MakeError(Errc::kPublishWrongRole, "audience cannot publish; set role broadcaster"));
  for (Track t : req->tracks)
    if (s->published.count(t))
      return ReplyError(c, m,
                        MakeError(t == Track::kScreen ? Errc::kAlreadyPublishingScreen : Errc::kAlreadyPublishing,
                                  std::string(Name(t)) + " is already published"));
  json data;
  if (!req->sdp.empty()) {
    std::set<Track> all = s->published;  // the new connection carries every published track
    all.insert(req->tracks.begin(), req->tracks.end());
    auto answer = s->channel->media->Publish(s->id, req->sdp, all);
    if (!answer) return ReplyError(c, m, answer.error());
    transport_failures_.Start(s->id);  // a new transport: its failure and silence are watched anew
    media_aborts_.Start(s->id, Clock::now());
    data["sdp"] = *answer;
  }
  for (Track t : req->tracks) s->published.insert(t);
  data["tracks"] = TrackList(s->published);
  Reply(c, m, Errc::kOk, "published", data);
  for (Track t : req->tracks)
    s->channel->Broadcast(*this, {{"type", "trackPublished"}, {"userId", s->user_id}, {"track", Name(t)}}, s);
}

void SignalHub::HandleUnpublish(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::UnpublishRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (Status p = CheckPublished(*s, req->tracks); !p) return ReplyError(c, m, p.error());
  for (Track t : req->tracks) {
    s->published.erase(t);
    s->muted.erase(t);
    for (auto& [uid, member] : s->channel->members) {
      auto sub = member->subscriptions.find(s->user_id);
      if (sub != member->subscriptions.end()) sub->second.erase(t);
      if (member != s) RetireOfferedTrack(*this, *member, TrackId(s->user_id, t));
    }
  }
  // Routes go with the tracks; with nothing left published the transport closes too
  // (subscribers re-subscribe on trackPublished).
  s->channel->media->Unpublish(s->id, req->tracks, s->published.empty());
  Reply(c, m, Errc::kOk, "unpublished", {{"tracks", TrackList(s->published)}});
  for (Track t : req->tracks)
    s->channel->Broadcast(*this, {{"type", "trackUnpublished"}, {"userId", s->user_id}, {"track", Name(t)}}, s);
}

void SignalHub::HandleSubscribe(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::SubscribeRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (req->user_id == s->user_id)
    return ReplyError(c, m, MakeError(Errc::kSubscribeConfigInvalid, "a user cannot subscribe to itself"));
  auto it = s->channel->members.find(req->user_id);
  if (it == s->channel->members.end())
    return ReplyError(c, m,
                      MakeError(Errc::kSubscribeRemoteStreamGone, "user " + req->user_id + " is not in the channel"));
  const Session& remote = *it->second;
  std::set<Track> want = req->tracks.empty() ? remote.published : req->tracks;  // no tracks = everything published
  if (want.empty())
    return ReplyError(c, m, MakeError(Errc::kSubscribeRemoteStreamGone, "user " + req->user_id + " publishes nothing"));
  for (Track t : want)
    if (!remote.published.count(t))
      return ReplyError(c, m,
                        MakeError(Errc::kSubscribeRemoteStreamGone,
                                  "user " + req->user_id + " does not publish " + std::string(Name(t))));
  json data;
  if (s->channel->media->IsPublishing(remote.id)) {
    auto offer = s->channel->media->Subscribe(s->id, remote.id, remote.user_id, want);
    if (!offer) return ReplyError(c, m, offer.error());
    data["sdp"] = *offer;
  }
  auto& sub = s->subscriptions[req->user_id];
  sub.insert(want.begin(), want.end());
  data["userId"] = req->user_id;
  data["tracks"] = TrackList(sub);
  Reply(c, m, Errc::kOk, "subscribed", data);
}

void SignalHub::HandleUnsubscribe(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::UnsubscribeRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  auto it = s->subscriptions.find(req->user_id);
  if (it == s->subscriptions.end())
    return ReplyError(c, m, MakeError(Errc::kSubscribeStreamNotExist, "not subscribed to " + req->user_id));
  std::set<Track> dropping = req->tracks.empty() ? it->second : req->tracks;
  auto remote = s->channel->members.find(req->user_id);
  if (remote != s->channel->members.end()) s->channel->media->Unsubscribe(s->id, remote->second->id, dropping);
  for (Track t : dropping) {
    it->second.erase(t);
    RetireOfferedTrack(*this, *s, TrackId(req->user_id, t));
  }
  if (it->second.empty()) s->subscriptions.erase(it);
  Reply(c, m, Errc::kOk, "unsubscribed", {{"userId", req->user_id}});
}

void SignalHub::HandleSetRole(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::SetRoleRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  const Role role = req->role;
  if (s->channel->profile == Profile::kCommunication)
    return ReplyError(c, m, MakeError(Errc::kUpdateRoleFailed, "roles do not apply in the communication profile"));
  if (role == s->role) return Reply(c, m, Errc::kOk, "role unchanged", {{"role", Name(role)}});
  if (role == Role::kBroadcaster && s->audience_only)
    return ReplyError(c, m, MakeError(Errc::kUpdateRoleFailed, "this user's token grants the audience role only"));
  if (!s->published.empty())
    return ReplyError(c, m, MakeError(Errc::kUpdateRoleFailed, "stop publishing before changing the role"));
  s->role = role;
  Reply(c, m, Errc::kOk, "role updated", {{"role", Name(role)}});
  s->channel->Broadcast(*this, {{"type", "roleUpdated"}, {"userId", s->user_id}, {"role", Name(role)}}, s);
}

void SignalHub::HandleMute(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::MuteRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  if (Status p = CheckPublished(*s, req->tracks); !p) return ReplyError(c, m, p.error());
  for (Track t : req->tracks) {
    bool changed = req->muted ? s->muted.insert(t).second : s->muted.erase(t) > 0;
    if (changed)
      s->channel->Broadcast(
          *this, {{"type", "trackMuted"}, {"userId", s->user_id}, {"track", Name(t)}, {"muted", req->muted}}, s);
  }
  Reply(c, m, Errc::kOk, "ok");
}

void SignalHub::HandleListUsers(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  Reply(c, m, Errc::kOk, "ok", ChannelSnapshot(*s, config_.heartbeat_interval_ms));
}

void SignalHub::HandleSendMessage(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::SendMessageRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  json note = {{"type", "message"}, {"fromUserId", s->user_id}, {"data", req->data}};
  if (!req->to_user_id.empty()) {
    auto it = s->channel->members.find(req->to_user_id);
    if (it == s->channel->members.end())
      return ReplyError(c, m, MakeError(Errc::kInvalidField, "user " + req->to_user_id + " is not in the channel"));
    s->channel->SendDirect(*this, *it->second, note);
  } else {
    s->channel->Broadcast(*this, note, s);
  }
  Reply(c, m, Errc::kOk, "sent");
}

void SignalHub::HandleUpdateUserInfo(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto req = proto::UpdateUserInfoRequest::Parse(m.body);
  if (!req) return ReplyError(c, m, req.error());
  s->user_name = req->user_name;
  Reply(c, m, Errc::kOk, "ok");
  s->channel->Broadcast(*this, {{"type", "userUpdated"}, {"user", UserJson(*s)}}, s);
}

void SignalHub::HandleRefreshToken(Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(c, m);
  if (!s) return;
  auto creds = Authenticate(m.body);
  if (!creds) return ReplyError(c, m, creds.error());
  const AuthInfo* auth = &creds->auth;
  if (auth->channel_id != s->channel->channel_id || auth->user_id != s->user_id || auth->app_id != s->channel->app_id)
    return ReplyError(c, m, MakeError(Errc::kTokenInvalid, "the new token is for another app, channel or user"));
  Reply(c, m, Errc::kOk, "token accepted", {{"expiresAt", auth->timestamp}});
}

void SignalHub::CheckHeartbeats() {
  auto now = Clock::now();
  join_limiter_.Sweep(now);
  heartbeat_.Tick(now);
}

void SignalHub::OnSilent(uint64_t conn_id) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.session)
    RemoveSession(*c.session, "heartbeat-lost", true, true);
  else
    c.link->Close();
}

void SignalHub::OnPublishFailed(Session& s, sfu::Failure why, Errc code) {
  ++metrics_.media_transport_failures_total;
  if (s.conn)
    SendTo(*s.conn, json{{"type", "transportFailed"},
                         {"transport", "publish"},
                         {"reason", sfu::Name(why)},
                         {"code", static_cast<int32_t>(code)},
                         {"message", "the publish media transport failed: " + std::string(sfu::Name(why))}}
                        .dump());
}

void SignalHub::OnSubscribeFailed(Session& s, sfu::Failure why, const std::vector<std::string>& users) {
  ++metrics_.media_transport_failures_total;
  if (s.conn)
    SendTo(*s.conn,
           json{{"type", "subscribeAborted"},
                {"reason", sfu::Name(why)},
                {"code", static_cast<int32_t>(Errc::kSubscribeStreamAbort)},
                {"users", users},
                {"message", "the server's media transport to this subscriber failed: " + std::string(sfu::Name(why))}}
               .dump());
}

void SignalHub::CheckActiveSpeakers() {
  std::vector<ActiveSpeakerMonitor::Member> members;
  for (auto& [key, ch] : channels_) {
    members.clear();
    for (auto& [uid, m] : ch->members)
      members.push_back({m->id, m->user_id, m->published.count(Track::kAudio) && !m->muted.count(Track::kAudio)});
    if (auto speaker = speakers_.Tick(ch->active_speaker, members))
      ch->Broadcast(*this,
                    {{"type", "activeSpeaker"}, {"userId", speaker->user_id}, {"levelDbov", speaker->level_dbov}});
  }
}

std::optional<uint32_t> SignalHub::TakeAudioPeak(uint64_t session_id) {
  Session* s = sessions_.Find(session_id);
  if (!s) return std::nullopt;
  return media_status_.TakeAudioPeak(*s);
}

void SignalHub::CheckMediaAborts() {
  auto now = Clock::now();
  transport_failures_.Tick(now, sessions_);
  media_aborts_.Tick(now);
}

std::optional<MediaAbortMonitor::Sample> SignalHub::SamplePublisher(uint64_t session_id) {
  const Session* found = sessions_.Find(session_id);
  if (!found) return std::nullopt;
  const Session& s = *found;
  auto st = media_status_.Publish(s);
  if (!st) return std::nullopt;
  return MediaAbortMonitor::Sample{st->rtp_packets, st->state == sfu::Transport::State::kConnected};
}

void SignalHub::OnAborted(uint64_t session_id) {
  Session* found = sessions_.Find(session_id);
  if (!found || !found->channel) return;
  Session& s = *found;
  int32_t code = static_cast<int32_t>(Errc::kPublishStreamAbort);
  std::string message = "no media from this publisher for " + std::to_string(config_.media_abort_ms) + " ms";
  if (s.conn) SendTo(*s.conn, json{{"type", "publishAborted"}, {"code", code}, {"message", message}}.dump());
  s.channel->Broadcast(*this, {{"type", "streamAborted"}, {"userId", s.user_id}, {"code", code}, {"message", message}},
                       &s);
}

void SignalHub::OnResumed(uint64_t session_id) {
  Session* s = sessions_.Find(session_id);
  if (!s || !s->channel) return;
  s->channel->Broadcast(*this, {{"type", "streamResumed"}, {"userId", s->user_id}});
}

void SignalHub::AccumulateUsage() {
  auto now = Clock::now();
  for (auto& [key, ch] : channels_) usage_.Count(ch->app_id, ch->members.size(), ch->metered_at, now);
}

void SignalHub::MeterUsage() {
  AccumulateUsage();
  AppStoreUsage sink(store_);
  if (Status s = usage_.Flush(sink); !s) spdlog::error("metering: {}", s.error().What());
}

}  // namespace parley::server
