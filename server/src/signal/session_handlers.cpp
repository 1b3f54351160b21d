#include "signal/handlers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "auth/turn_credentials.hpp"
#include "parley/proto/notifications.hpp"
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

/// A token's expiry in a live session. 30 s before it the client is told
/// (tokenWillExpire), at it again (tokenExpired), and --token-grace-ms later the session
/// is removed with 0x05040002 (detail 0x0F050001: token expired), unless a refreshToken
/// brought a later expiry (which starts the watch again). One timer per session, armed
/// for the next step; the session is looked up by id when it fires (a removed session's
/// timer is destroyed with it, and its handler sees the cancellation).
constexpr int64_t kTokenWarnMs = 30000;

void WatchToken(HubContext& ctx, Session& s) {
  if (s.token_expires_at <= 0) return;
  const int64_t now = NowUnixMs(), expiry = s.token_expires_at * 1000;
  const int64_t grace = ctx.config.token_grace_ms;
  auto tell = [&](const json& note) {
    if (s.conn) ctx.out.SendTo(*s.conn, note.dump());
  };
  if (s.token_stage == 0 && now >= expiry - kTokenWarnMs) {
    s.token_stage = 1;
    tell(proto::TokenWillExpire{s.token_expires_at}.ToJson());
  }
  if (s.token_stage == 1 && now >= expiry) {
    s.token_stage = 2;
    tell(proto::TokenExpired{s.token_expires_at, grace}.ToJson());
  }
  if (s.token_stage == 2 && now >= expiry + grace) {
    Error cause = MakeError(Errc::kChannelOverdue,
                            "token expired at " + std::to_string(s.token_expires_at) +
                                " (Unix seconds) and was not refreshed; mint a new one and join again",
                            Errc::kTokenExpired);
    ctx.lifecycle.Remove(s, "token-expired", true, true, &cause);
    return;
  }
  const int64_t next = s.token_stage == 0 ? expiry - kTokenWarnMs : s.token_stage == 1 ? expiry : expiry + grace;
  if (!s.token_timer) s.token_timer = std::make_unique<boost::asio::steady_timer>(ctx.lifecycle.io());
  s.token_timer->expires_after(std::chrono::milliseconds(std::max<int64_t>(0, next - now)));
  s.token_timer->async_wait([&ctx, id = s.id](const boost::system::error_code& ec) {
    if (ec) return;
    if (Session* later = ctx.sessions.Find(id); later && later->channel) WatchToken(ctx, *later);
  });
}

/// Reads the request's credentials and verifies them against the app store now.
Result<Credentials> Authenticate(HubContext& ctx, const json& body) {
  auto given = proto::JoinCredentials::Parse(body);
  if (!given) return given.error();
  return ctx.authenticator.Verify(*given, NowUnix());
}

void HandleHello(HubContext& ctx, Conn& c, const ClientMessage& m) {
  ctx.out.Reply(c, m, Errc::kOk, "ok",
                {{"protocol", kProtocolVersion},
                 {"server", std::string("parleyd ") + PARLEY_VERSION},
                 {"heartbeatIntervalMs", ctx.config.heartbeat_interval_ms},
                 {"heartbeatMisses", ctx.config.heartbeat_misses},
                 {"requestTimeoutMs", ctx.config.request_timeout_ms},
                 {"resumeGraceMs", ctx.config.resume_grace_ms},
                 {"maxMessageBytes", ctx.config.max_message_bytes}});
}

void HandlePing(HubContext& ctx, Conn& c, const ClientMessage& m) {
  ctx.out.Reply(c, m, Errc::kOk, "pong", {{"serverTimeMs", NowUnixMs()}});
}

void HandleJoin(HubContext& ctx, Conn& c, const ClientMessage& m) {
  auto start = Clock::now();
  auto fail = [&](const Error& e) {
    ++ctx.metrics.joins_by_code[e.value()];
    ctx.out.ReplyError(c, m, e);
  };
  if (c.session)
    return fail(
        MakeError(Errc::kAlreadyInChannel, "this session is already in channel " + c.session->channel->channel_id));
  auto req = proto::JoinRequest::Parse(m.body);
  if (!req) return fail(req.error());
  const Profile profile = req->profile;
  const Role role = req->role;
  const bool h5 = req->h5_compatible;
  if (ctx.join_limiter.Exceeded(c.join_failures, c.remote, Clock::now())) {
    ++ctx.metrics.joins_rate_limited_total;
    fail(MakeError(Errc::kRateLimited, "too many failed joins from this connection or address; wait and retry"));
    if (ctx.join_limiter.ConnectionSpent(c.join_failures)) c.link->Close();
    return;
  }
  auto creds = Authenticate(ctx, m.body);
  if (!creds) {
    ctx.join_limiter.CountFailure(c.join_failures, c.remote, Clock::now());
    return fail(creds.error());
  }
  const AuthInfo* auth = &creds->auth;
  if (creds->role == "audience" && role == Role::kBroadcaster)
    return fail(MakeError(Errc::kTokenInvalid, profile == Profile::kCommunication
                                                   ? "token grants the audience role only; join interactive-live "
                                                     "as audience"
                                                   : "token grants the audience role only; join as audience"));

  Channel* ch = ctx.channels.Find(auth->app_id, auth->channel_id);
  if (ch) {
    auto age = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - ch->created_at).count();
    if (age >= ctx.config.channel_max_age_s)
      return fail(MakeError(Errc::kChannelExpired, "channel has been live for more than " +
                                                       std::to_string(ctx.config.channel_max_age_s) + " s"));
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
      ctx.lifecycle.Remove(*old->second, "replaced", true, true);
    ch = ctx.channels.Find(auth->app_id, auth->channel_id);  // it closes if that was its last member
  }
  if (!ch)
    ch = &ctx.channels.Create(
        {auth->app_id, auth->channel_id, profile, h5, Clock::now(), NowUnix()});  // pinned to the least loaded worker

  Session* s = &ctx.sessions.Create(ctx.next_id++, RandomHex(16));
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
  ctx.lifecycle.UpdateGauges();

  json data = ChannelSnapshot(*sp, ctx.config.heartbeat_interval_ms);
  data["sessionId"] = std::to_string(sp->id);
  data["resumeToken"] = sp->resume_token;
  if (!ctx.config.turn_urls.empty())
    data["iceServers"] =
        IceServers(ctx.config.turn_urls, ctx.config.turn_secret, ctx.config.turn_ttl_s, sp->user_id, NowUnix());
  data["elapsedMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  ++ctx.metrics.joins_by_code[0];
  ctx.out.Reply(c, m, Errc::kOk, "joined", data);
  sp->token_expires_at = auth->timestamp;
  WatchToken(ctx, *sp);
  spdlog::info("{} joined channel {} of app {} as {} ({}, {}; {} in the channel)", sp->user_id, ch->channel_id,
               ch->app_id, Name(sp->role), sp->platform == Platform::kH5 ? "browser" : "native",
               ch->h5_compatible ? "H5-compatible" : "native-only", ch->members.size());
  if (Listed(*sp)) ch->Broadcast(ctx.out, {{"type", "userOnline"}, {"user", UserJson(*sp)}}, sp);
}

void HandleLeave(HubContext& ctx, Conn& c, const ClientMessage& m) {
  if (!c.session) {
    if (c.left)
      return ctx.out.ReplyError(c, m, MakeError(Errc::kAlreadyLeaving, "this session has already left its channel"));
    return ctx.out.ReplyError(c, m, MakeError(Errc::kNotInChannel, "leave needs a joined channel"));
  }
  Session& s = *c.session;
  c.session = nullptr;
  c.left = true;
  s.conn = nullptr;
  ctx.lifecycle.Remove(s, "left", false, false);
  ctx.out.Reply(c, m, Errc::kOk, "left");
}

void HandleResume(HubContext& ctx, Conn& c, const ClientMessage& m) {
  auto req = proto::ResumeRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (c.session) return ctx.out.ReplyError(c, m, MakeError(Errc::kAlreadyInChannel, "this connection has a session"));
  Session* found = ctx.sessions.ByResumeToken(req->resume_token);
  if (!found)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kSessionRemoved, "no session to resume (it was removed or expired)"));
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
  ++ctx.metrics.resumes_total;
  json data = ChannelSnapshot(s, ctx.config.heartbeat_interval_ms);
  if (!ctx.config.turn_urls.empty())  // fresh credentials: a resumed call may outlive the first ones
    data["iceServers"] =
        IceServers(ctx.config.turn_urls, ctx.config.turn_secret, ctx.config.turn_ttl_s, s.user_id, NowUnix());
  ctx.out.Reply(c, m, Errc::kOk, "resumed", data);
  if (Listed(s))
    s.channel->Broadcast(ctx.out,
                         {{"type", "userNetwork"},
                          {"userId", s.user_id},
                          {"state", "connected"},
                          {"code", static_cast<int32_t>(Errc::kRemoteNetworkConnected)}},
                         &s);
}

void HandleRefreshToken(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto creds = Authenticate(ctx, m.body);
  if (!creds) return ctx.out.ReplyError(c, m, creds.error());
  const AuthInfo* auth = &creds->auth;
  if (auth->channel_id != s->channel->channel_id || auth->user_id != s->user_id || auth->app_id != s->channel->app_id)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kTokenInvalid, "the new token is for another app, channel or user"));
  ctx.out.Reply(c, m, Errc::kOk, "token accepted", {{"expiresAt", auth->timestamp}});
  // A later expiry starts the watch again; an earlier one changes nothing (the session
  // keeps what it already has).
  if (auth->timestamp > s->token_expires_at) {
    s->token_expires_at = auth->timestamp;
    s->token_stage = 0;
    WatchToken(ctx, *s);
  }
}

/// A last-mile probe before joining (docs/protocol.md): the join's credentials, checked
/// like a join's (and its failures counted against the same limits), buy one probe per
/// connection per probe lifetime; the media plane caps probes server-wide.
void HandleLastMileProbe(HubContext& ctx, Conn& c, const ClientMessage& m) {
  if (c.session)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kAlreadyInChannel, "lastMileProbe is for before joining; leave first"));
  auto req = proto::LastMileProbeRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  const auto now = Clock::now();
  if (ctx.join_limiter.Exceeded(c.join_failures, c.remote, now))
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kRateLimited,
                                        "too many failed joins from this connection or "
                                        "address; wait and retry"));
  auto creds = Authenticate(ctx, m.body);
  if (!creds) {
    ctx.join_limiter.CountFailure(c.join_failures, c.remote, now);
    return ctx.out.ReplyError(c, m, creds.error());
  }
  if (now < c.next_probe)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kRateLimited,
                                        "one last-mile probe per connection at a time; "
                                        "wait for the last one to end"));
  auto target = ctx.channels.plane().OpenProbe(static_cast<uint32_t>(req->uplink_kbps),
                                               static_cast<uint32_t>(req->downlink_kbps), now);
  if (!target) return ctx.out.ReplyError(c, m, target.error());
  c.next_probe = now + std::chrono::milliseconds(target->lifetime_ms);
  spdlog::info("last-mile probe for user {} of app {} from {}: udp {}:{}, up {} kbit/s, down {} kbit/s",
               creds->auth.user_id, creds->auth.app_id, c.remote, target->address, target->port, req->uplink_kbps,
               req->downlink_kbps);
  ctx.out.Reply(c, m, Errc::kOk, "ok",
                {{"cookie", target->cookie_hex},
                 {"address", target->address},
                 {"port", target->port},
                 {"uplinkKbps", req->uplink_kbps},
                 {"downlinkKbps", req->downlink_kbps},
                 {"maxDurationMs", sfu::ProbeSessions::kMaxDownMs},
                 {"lifetimeMs", target->lifetime_ms}});
}

}  // namespace

void RegisterSessionHandlers(Dispatcher& d, HubContext& ctx) {
  Register(d, ctx, "hello", &HandleHello);
  Register(d, ctx, "ping", &HandlePing);
  Register(d, ctx, "join", &HandleJoin);
  Register(d, ctx, "leave", &HandleLeave);
  Register(d, ctx, "resume", &HandleResume);
  Register(d, ctx, "refreshToken", &HandleRefreshToken);
  Register(d, ctx, "lastMileProbe", &HandleLastMileProbe);
}

}  // namespace parley::server
