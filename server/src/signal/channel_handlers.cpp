#include "signal/handlers.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

void HandleSetRole(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SetRoleRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  const Role role = req->role;
  if (s->channel->profile == Profile::kCommunication)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kUpdateRoleFailed, "roles do not apply in the communication profile"));
  if (role == s->role) return ctx.out.Reply(c, m, Errc::kOk, "role unchanged", {{"role", Name(role)}});
  if (role == Role::kBroadcaster && s->audience_only)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kUpdateRoleFailed, "this user's token grants the audience role only"));
  if (!s->published.empty())
    return ctx.out.ReplyError(c, m, MakeError(Errc::kUpdateRoleFailed, "stop publishing before changing the role"));
  s->role = role;
  ctx.out.Reply(c, m, Errc::kOk, "role updated", {{"role", Name(role)}});
  // The audience is not listed (Listed): a new broadcaster comes online for the others
  // before its role changes, one turning back to the audience goes offline after.
  json changed = {{"type", "roleUpdated"}, {"userId", s->user_id}, {"role", Name(role)}};
  if (role == Role::kBroadcaster) {
    s->channel->Broadcast(ctx.out, {{"type", "userOnline"}, {"user", UserJson(*s)}}, s);
    s->channel->Broadcast(ctx.out, changed, s);
  } else {
    s->channel->Broadcast(ctx.out, changed, s);
    s->channel->Broadcast(ctx.out, {{"type", "userOffline"}, {"userId", s->user_id}, {"reason", "becameAudience"}}, s);
  }
}

void HandleMute(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::MuteRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (Status p = CheckPublished(*s, req->tracks); !p) return ctx.out.ReplyError(c, m, p.error());
  for (Track t : req->tracks) {
    bool changed = req->muted ? s->muted.insert(t).second : s->muted.erase(t) > 0;
    if (changed)
      s->channel->Broadcast(
          ctx.out, {{"type", "trackMuted"}, {"userId", s->user_id}, {"track", Name(t)}, {"muted", req->muted}}, s);
  }
  ctx.out.Reply(c, m, Errc::kOk, "ok");
}

void HandleListUsers(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  ctx.out.Reply(c, m, Errc::kOk, "ok", ChannelSnapshot(*s, ctx.config.heartbeat_interval_ms));
}

void HandleSendMessage(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SendMessageRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (!s->messages.Take(Clock::now()))
    return ctx.out.ReplyError(
        c, m, MakeError(Errc::kRateLimited, "more than 10 messages a second (bursts of 20); wait and send again"));
  json note = {{"type", "message"}, {"fromUserId", s->user_id}, {"data", req->data}};
  if (!req->to_user_id.empty()) {
    auto it = s->channel->members.find(req->to_user_id);
    if (it == s->channel->members.end())
      return ctx.out.ReplyError(c, m,
                                MakeError(Errc::kInvalidField, "user " + req->to_user_id + " is not in the channel"));
    s->channel->SendDirect(ctx.out, *it->second, note);
  } else {
    s->channel->Broadcast(ctx.out, note, s);
  }
  ctx.out.Reply(c, m, Errc::kOk, "sent");
}

// volumeIndication for this session every intervalMs (0 stops it), rounded up to the
// level tick (--active-speaker-interval-ms): levels are taken once per tick.
void HandleSetVolumeIndication(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SetVolumeIndicationRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  const int tick = std::max(1, ctx.config.active_speaker_interval_ms);
  s->volume_interval_ms = req->interval_ms == 0 ? 0 : (req->interval_ms + tick - 1) / tick * tick;
  s->volume_due = Clock::now();
  ctx.out.Reply(c, m, Errc::kOk, "ok", {{"intervalMs", s->volume_interval_ms}});
}

void HandleUpdateUserInfo(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::UpdateUserInfoRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  s->user_name = req->user_name;
  ctx.out.Reply(c, m, Errc::kOk, "ok");
  if (Listed(*s)) s->channel->Broadcast(ctx.out, {{"type", "userUpdated"}, {"user", UserJson(*s)}}, s);
}

void RelayQuality(HubContext& ctx, Session& s) {
  s.quality_relayed_at = Clock::now();
  s.quality_unrelayed = false;
  if (Listed(s))
    s.channel->Broadcast(
        ctx.out, {{"type", "networkQuality"}, {"userId", s.user_id}, {"up", s.quality_up}, {"down", s.quality_down}},
        &s);
}

// A client's own network quality. It is stored (the user object carries it to those
// who join later) and relayed when it changed, at most once per second per user: a
// change within a second of the last relay waits for the end of that second (one
// timer per session, re-armed), so the channel never keeps a stale value and a client
// changing its value as fast as it can costs one broadcast a second.
void HandleReportStats(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::ReportStatsRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  bool changed = req->up != s->quality_up || req->down != s->quality_down;
  s->quality_up = req->up;
  s->quality_down = req->down;
  ctx.out.Reply(c, m, Errc::kOk, "ok");
  if (!changed) return;
  auto due = s->quality_relayed_at + std::chrono::seconds(1);
  if (Clock::now() >= due) return RelayQuality(ctx, *s);
  s->quality_unrelayed = true;
  if (!s->quality_timer) s->quality_timer = std::make_unique<boost::asio::steady_timer>(ctx.lifecycle.io());
  s->quality_timer->expires_at(due);
  // The session may be gone when the timer fires: it is looked up again by id (a
  // destroyed session's timer is cancelled and its handler sees the error).
  s->quality_timer->async_wait([&ctx, id = s->id](const boost::system::error_code& ec) {
    if (ec) return;
    Session* later = ctx.sessions.Find(id);
    if (later && later->channel && later->quality_unrelayed) RelayQuality(ctx, *later);
  });
}

}  // namespace

void RegisterChannelHandlers(Dispatcher& d, HubContext& ctx) {
  Register(d, ctx, "setRole", &HandleSetRole);
  Register(d, ctx, "mute", &HandleMute);
  Register(d, ctx, "listUsers", &HandleListUsers);
  Register(d, ctx, "sendMessage", &HandleSendMessage);
  Register(d, ctx, "setVolumeIndication", &HandleSetVolumeIndication);
  Register(d, ctx, "updateUserInfo", &HandleUpdateUserInfo);
  Register(d, ctx, "reportStats", &HandleReportStats);
}

}  // namespace parley::server
