#include "signal/handlers.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

void HandlePublish(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::PublishRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (s->role == Role::kAudience)
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kPublishWrongRole, "audience cannot publish; set role broadcaster"));
  for (Track t : req->tracks)
    if (s->published.count(t))
      return ctx.out.ReplyError(
          c, m,
          MakeError(t == Track::kScreen ? Errc::kAlreadyPublishingScreen : Errc::kAlreadyPublishing,
                    std::string(Name(t)) + " is already published"));
  json data;
  if (!req->sdp.empty()) {
    std::set<Track> all = s->published;  // the new connection carries every published track
    all.insert(req->tracks.begin(), req->tracks.end());
    auto answer = s->channel->media->Publish(s->id, req->sdp, all, s->platform, req->camera_layers);
    if (!answer) return ctx.out.ReplyError(c, m, answer.error());
    ctx.transport_failures.Start(s->id);  // a new transport: its failure and silence are watched anew
    ctx.media_aborts.Start(s->id, Clock::now());
    data["sdp"] = *answer;
  }
  for (Track t : req->tracks) s->published.insert(t);
  data["tracks"] = TrackList(s->published);
  ctx.out.Reply(c, m, Errc::kOk, "published", data);
  for (Track t : req->tracks)
    s->channel->Broadcast(ctx.out, {{"type", "trackPublished"}, {"userId", s->user_id}, {"track", Name(t)}}, s);
}

void HandleUpdatePublish(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::UpdatePublishRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (s->published.empty()) return ctx.out.ReplyError(c, m, MakeError(Errc::kNotPublishing, "nothing is published"));
  auto answer = s->channel->media->Publish(s->id, req->sdp, s->published, s->platform, req->camera_layers);
  if (!answer) return ctx.out.ReplyError(c, m, answer.error());
  ctx.transport_failures.Start(s->id);  // a new transport: its failure and silence are watched anew
  ctx.media_aborts.Start(s->id, Clock::now());
  ctx.out.Reply(c, m, Errc::kOk, "updated", {{"sdp", *answer}, {"tracks", TrackList(s->published)}});
}

void HandleUnpublish(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::UnpublishRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (Status p = CheckPublished(*s, req->tracks); !p) return ctx.out.ReplyError(c, m, p.error());
  for (Track t : req->tracks) {
    s->published.erase(t);
    s->muted.erase(t);
    for (auto& [uid, member] : s->channel->members) {
      auto sub = member->subscriptions.find(s->user_id);
      if (sub != member->subscriptions.end()) sub->second.erase(t);
      if (member != s) RetireOfferedTrack(ctx.out, *member, TrackId(s->user_id, t));
    }
  }
  // Routes go with the tracks; with nothing left published the transport closes too
  // (subscribers re-subscribe on trackPublished).
  s->channel->media->Unpublish(s->id, req->tracks, s->published.empty());
  ctx.out.Reply(c, m, Errc::kOk, "unpublished", {{"tracks", TrackList(s->published)}});
  for (Track t : req->tracks)
    s->channel->Broadcast(ctx.out, {{"type", "trackUnpublished"}, {"userId", s->user_id}, {"track", Name(t)}}, s);
}

void HandleSubscribe(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SubscribeRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (req->user_id == s->user_id)
    return ctx.out.ReplyError(c, m, MakeError(Errc::kSubscribeConfigInvalid, "a user cannot subscribe to itself"));
  auto it = s->channel->members.find(req->user_id);
  if (it == s->channel->members.end())
    return ctx.out.ReplyError(
        c, m, MakeError(Errc::kSubscribeRemoteStreamGone, "user " + req->user_id + " is not in the channel"));
  const Session& remote = *it->second;
  std::set<Track> want = req->tracks.empty() ? remote.published : req->tracks;  // no tracks = everything published
  if (want.empty())
    return ctx.out.ReplyError(
        c, m, MakeError(Errc::kSubscribeRemoteStreamGone, "user " + req->user_id + " publishes nothing"));
  for (Track t : want)
    if (!remote.published.count(t))
      return ctx.out.ReplyError(c, m,
                                MakeError(Errc::kSubscribeRemoteStreamGone,
                                          "user " + req->user_id + " does not publish " + std::string(Name(t))));
  json data;
  if (s->channel->media->IsPublishing(remote.id)) {
    auto offer = s->channel->media->Subscribe(s->id, remote.id, remote.user_id, want, s->platform,
                                              s->StreamTypeFor(remote.user_id));
    if (!offer) return ctx.out.ReplyError(c, m, offer.error());
    data["sdp"] = *offer;
  }
  auto& sub = s->subscriptions[req->user_id];
  sub.insert(want.begin(), want.end());
  data["userId"] = req->user_id;
  data["tracks"] = TrackList(sub);
  ctx.out.Reply(c, m, Errc::kOk, "subscribed", data);
}

void HandleUnsubscribe(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::UnsubscribeRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  auto it = s->subscriptions.find(req->user_id);
  if (it == s->subscriptions.end())
    return ctx.out.ReplyError(c, m, MakeError(Errc::kSubscribeStreamNotExist, "not subscribed to " + req->user_id));
  std::set<Track> dropping = req->tracks.empty() ? it->second : req->tracks;
  auto remote = s->channel->members.find(req->user_id);
  if (remote != s->channel->members.end()) s->channel->media->Unsubscribe(s->id, remote->second->id, dropping);
  for (Track t : dropping) {
    it->second.erase(t);
    RetireOfferedTrack(ctx.out, *s, TrackId(req->user_id, t));
  }
  if (it->second.empty()) s->subscriptions.erase(it);
  ctx.out.Reply(c, m, Errc::kOk, "unsubscribed", {{"userId", req->user_id}});
}

void HandleSetRemoteVideoStreamType(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SetRemoteVideoStreamTypeRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (req->user_id.empty()) {
    s->default_stream_type = req->type;
  } else if (req->user_id == s->user_id) {
    return ctx.out.ReplyError(c, m, MakeError(Errc::kSubscribeConfigInvalid, "a user does not receive its own video"));
  } else if (s->stream_types.size() >= Session::kMaxStreamTypes && !s->stream_types.count(req->user_id)) {
    return ctx.out.ReplyError(c, m,
                              MakeError(Errc::kInvalidField, "at most 256 users may have a stream type of their own"));
  } else {
    s->stream_types[req->user_id] = req->type;
  }
  // Routes already open follow at once: the named user's, or with the default every
  // user's without a type of their own.
  for (const auto& [uid, member] : s->channel->members) {
    if (member == s || !s->subscriptions.count(uid)) continue;
    if (req->user_id.empty() ? s->stream_types.count(uid) != 0 : uid != req->user_id) continue;
    s->channel->media->SetStreamType(s->id, member->id, req->type);
  }
  json data = {{"streamType", Name(req->type)}};
  if (!req->user_id.empty()) data["userId"] = req->user_id;
  ctx.out.Reply(c, m, Errc::kOk, "ok", data);
}

// The data connection (issue #15): any member, broadcaster or audience, may open one;
// it carries data messages to and from the channel's other data connections.
void HandleOpenData(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::OpenDataRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  auto answer = s->channel->media->OpenData(s->id, s->user_id, req->sdp, s->platform);
  if (!answer) return ctx.out.ReplyError(c, m, answer.error());
  ctx.out.Reply(c, m, Errc::kOk, "ok", {{"sdp", *answer}});
}

void HandleSubscribeAnswer(HubContext& ctx, Conn& c, const ClientMessage& m) {
  Session* s = RequireJoined(ctx, c, m);
  if (!s) return;
  auto req = proto::SubscribeAnswerRequest::Parse(m.body);
  if (!req) return ctx.out.ReplyError(c, m, req.error());
  if (Status st = s->channel->media->Answer(s->id, req->sdp); !st) return ctx.out.ReplyError(c, m, st.error());
  ctx.out.Reply(c, m, Errc::kOk, "ok");
}

}  // namespace

void RegisterMediaHandlers(Dispatcher& d, HubContext& ctx) {
  Register(d, ctx, "publish", &HandlePublish);
  Register(d, ctx, "setRemoteVideoStreamType", &HandleSetRemoteVideoStreamType);
  Register(d, ctx, "updatePublish", &HandleUpdatePublish);
  Register(d, ctx, "unpublish", &HandleUnpublish);
  Register(d, ctx, "subscribe", &HandleSubscribe);
  Register(d, ctx, "unsubscribe", &HandleUnsubscribe);
  Register(d, ctx, "subscribeAnswer", &HandleSubscribeAnswer);
  Register(d, ctx, "openData", &HandleOpenData);
}

}  // namespace parley::server
