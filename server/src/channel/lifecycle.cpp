#include "channel/lifecycle.hpp"

#include <spdlog/spdlog.h>

#include "parley/proto/errc.hpp"

namespace parley::server {

using nlohmann::json;

SessionLifecycle::SessionLifecycle(boost::asio::io_context& io, std::chrono::milliseconds resume_grace,
                                   SessionTable& sessions, ChannelRegistry& channels, UsageMeter& usage, Notifier& out,
                                   Metrics& metrics, Listener& listener)
    : io_(io),
      resume_grace_(resume_grace),
      sessions_(sessions),
      channels_(channels),
      usage_(usage),
      out_(out),
      metrics_(metrics),
      listener_(listener) {}

void SessionLifecycle::ConnectionLost(Conn& c, std::string_view reason) {
  Session* s = c.session;
  if (!s) return;
  s->conn = nullptr;
  c.session = nullptr;
  if (!s->channel || stopped_) return;
  json note = {{"type", "userNetwork"},
               {"userId", s->user_id},
               {"state", "disconnected"},
               {"code", static_cast<int32_t>(Errc::kRemoteNetworkDisconnected)}};
  if (Listed(*s)) s->channel->Broadcast(out_, note, s);
  s->grace_timer = std::make_unique<boost::asio::steady_timer>(io_);
  s->grace_timer->expires_after(resume_grace_);
  uint64_t sid = s->id;
  s->grace_timer->async_wait([this, sid, why = std::string(reason)](const boost::system::error_code& ec) {
    if (ec) return;
    Session* gone = sessions_.Find(sid);
    if (gone && !gone->conn) Remove(*gone, why, false, false);
  });
}

void SessionLifecycle::Detach(Session& s, std::string_view reason) {
  Channel* ch = s.channel;
  if (!ch) return;
  const bool listed = Listed(s);
  s.channel = nullptr;
  ch->media->CloseSession(s.id);
  auto it = ch->members.find(s.user_id);
  if (it != ch->members.end() && it->second == &s) ch->members.erase(it);
  // Subscriptions of others to this user end with it; their sections go inactive.
  for (auto& [uid, member] : ch->members) {
    member->subscriptions.erase(s.user_id);
    for (Track t : {Track::kAudio, Track::kCamera, Track::kScreen})
      RetireOfferedTrack(out_, *member, TrackId(s.user_id, t));
  }
  if (ch->members.empty()) {
    channels_.Close(*ch);
    return;
  }
  for (Track t : s.published)
    ch->Broadcast(out_, {{"type", "trackUnpublished"}, {"userId", s.user_id}, {"track", Name(t)}});
  if (listed) ch->Broadcast(out_, {{"type", "userOffline"}, {"userId", s.user_id}, {"reason", reason}});
}

void SessionLifecycle::Remove(Session& s, std::string_view reason, bool notify_client, bool close_link,
                              const Error* cause) {
  ++metrics_.sessions_removed_by_reason[std::string(reason)];
  if (s.channel)
    spdlog::info("{} left channel {} of app {} ({})", s.user_id, s.channel->channel_id, s.channel->app_id, reason);
  // Count the time it spent in the channel before it leaves the meter.
  if (s.channel) AccumulateUsage(Clock::now());
  Detach(s, reason);
  if (s.grace_timer) s.grace_timer->cancel();
  if (Conn* c = s.conn) {
    c->session = nullptr;
    if (notify_client) {
      json note = {{"type", "sessionRemoved"},
                   {"code", static_cast<int32_t>(Errc::kSessionRemoved)},
                   {"reason", reason},
                   {"message", std::string(Describe(Errc::kSessionRemoved)) + ": " + std::string(reason)}};
      if (cause) {
        note["code"] = cause->value();
        note["message"] = cause->What();
        if (cause->detail != Errc::kOk) note["detail"] = static_cast<int32_t>(cause->detail);
      }
      out_.SendTo(*c, note.dump());
    }
    if (close_link) c->link->Close();
  }
  listener_.OnSessionRemoved(s.id);
  sessions_.Erase(s);
  UpdateGauges();
}

void SessionLifecycle::AccumulateUsage(Clock::time_point now) {
  for (auto& [key, ch] : channels_) usage_.Count(ch->app_id, ch->members.size(), ch->metered_at, now);
}

void SessionLifecycle::UpdateGauges() {
  metrics_.sessions = sessions_.size();
  metrics_.channels = channels_.size();
}

void SessionLifecycle::Stop() {
  stopped_ = true;
  for (auto& [id, s] : sessions_)
    if (s->grace_timer) s->grace_timer->cancel();
}

}  // namespace parley::server
