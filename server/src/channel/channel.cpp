#include "channel/channel.hpp"

#include "parley/proto/envelope.hpp"
#include "parley/proto/requests.hpp"

namespace parley::server {

using nlohmann::json;

void Channel::Broadcast(Notifier& out, json note, const Session* except) {
  note["channelId"] = channel_id;
  note["seq"] = ++seq;
  std::string text = proto::DumpSafe(note);
  for (auto& [uid, member] : members)
    if (member != except && member->conn) out.SendTo(*member->conn, text);
}

void Channel::SendDirect(Notifier& out, const Session& to, json note) const {
  note["channelId"] = channel_id;
  if (to.conn) out.SendTo(*to.conn, proto::DumpSafe(note));
}

json UserJson(const Session& s, bool with_media) {
  json muted = json::array();
  for (Track t : s.muted) muted.push_back(Name(t));
  json u = {{"userId", s.user_id},
            {"userName", s.user_name},
            {"role", Name(s.role)},
            {"platform", s.platform == Platform::kH5 ? "h5" : "native"},
            {"tracks", proto::TrackList(s.published)},
            {"muted", muted},
            {"online", s.conn != nullptr},
            {"networkQuality", {{"up", s.quality_up}, {"down", s.quality_down}}}};
  if (!with_media) return u;
  if (!s.channel) return u;
  sfu::MediaSnapshot snap = s.channel->media->Snapshot(s.id);
  if (const auto& p = snap.publish)
    u["media"] = {{"state", sfu::Name(p->state)},       {"rtpPackets", p->rtp_packets},
                  {"rtpBytes", p->rtp_bytes},           {"nacksSent", p->nacks_sent},
                  {"twccFeedbacks", p->twcc_feedbacks}, {"senderReports", p->sender_reports},
                  {"redPackets", p->red_packets},       {"trackKbps", p->track_kbps},
                  {"pausedLayers", p->paused_layers},   {"transport", p->over_tcp ? "tcp" : "udp"}};
  if (const auto& sub = snap.subscribe)
    u["subscribeMedia"] = {{"state", sfu::Name(sub->state)},
                           {"rtpPackets", sub->sent_packets},
                           {"rtpBytes", sub->sent_bytes},
                           {"nacksReceived", sub->nacks_in},
                           {"retransmitted", sub->retransmitted},
                           {"senderReports", sub->sender_reports},
                           {"fractionLost", sub->fraction_lost},
                           {"downstreamBps", sub->downstream_bps},
                           {"sentBps", sub->sent_bps},
                           {"videoPaused", sub->video_paused},
                           {"videoPauses", sub->video_pauses},
                           {"videoTrials", sub->video_trials},
                           {"layerSwitches", sub->layer_switches},
                           {"layerTrials", sub->layer_trials},
                           {"layerProbes", sub->layer_probes},
                           {"probeBps", sub->probe_bps},
                           {"twccFeedbacks", sub->twcc_feedbacks},
                           {"transport", sub->over_tcp ? "tcp" : "udp"}};
  return u;
}

json ChannelSnapshot(const Session& self, int heartbeat_interval_ms) {
  const Channel& ch = *self.channel;
  json users = json::array();
  for (const auto& [uid, member] : ch.members)
    if (member != &self && Listed(*member)) users.push_back(UserJson(*member));
  // The last active speaker, while still a member the others see (not one who left or
  // turned audience since).
  std::string speaker;
  if (auto it = ch.members.find(ch.active_speaker); it != ch.members.end() && Listed(*it->second))
    speaker = ch.active_speaker;
  return {{"channelId", ch.channel_id},
          {"userId", self.user_id},
          {"profile", Name(ch.profile)},
          {"role", Name(self.role)},
          {"h5Compatible", ch.h5_compatible},
          {"channelCreatedAt", ch.created_at_unix},
          {"seq", ch.seq},
          {"heartbeatIntervalMs", heartbeat_interval_ms},
          {"activeSpeaker", speaker},
          {"users", users}};
}

void RetireOfferedTrack(Notifier& out, Session& sub, const std::string& track_id) {
  if (!sub.channel) return;
  sfu::ChannelMedia& media = *sub.channel->media;
  // A resuming client gets the current offer with its next subscribe: the offer's
  // version is taken only when it is sent.
  if (media.RetireTrack(sub.id, track_id) && sub.conn)
    out.SendTo(*sub.conn, json{{"type", "subscribeOffer"}, {"sdp", media.NextSubscribeOffer(sub.id)}}.dump());
}

}  // namespace parley::server
