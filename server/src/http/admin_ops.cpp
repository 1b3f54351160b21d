#include "http/admin_ops.hpp"

#include <vector>

#include "channel/channel.hpp"

namespace parley::server {

using nlohmann::json;

json AdminOps::ListChannels(const std::string& app_id_filter) const {
  json out = json::array();
  for (const auto& [key, ch] : channels_) {
    if (!app_id_filter.empty() && ch->app_id != app_id_filter) continue;
    json users = json::array();
    for (const auto& [uid, s] : ch->members) users.push_back(UserJson(*s, true));
    out.push_back({{"appId", ch->app_id},
                   {"channelId", ch->channel_id},
                   {"profile", Name(ch->profile)},
                   {"h5Compatible", ch->h5_compatible},
                   {"createdAt", ch->created_at_unix},
                   {"mediaWorker", ch->worker},
                   {"activeSpeaker", ch->active_speaker},
                   {"users", users}});
  }
  return out;
}

Status AdminOps::Kick(const std::string& app_id, const std::string& channel_id, const std::string& user_id) {
  Channel* ch = channels_.Find(app_id, channel_id);
  if (!ch) return MakeError(Errc::kAdminNotFound, "no live channel " + channel_id);
  auto m = ch->members.find(user_id);
  if (m == ch->members.end()) return MakeError(Errc::kAdminNotFound, "no user " + user_id + " in channel");
  remover_.RemoveSession(*m->second, "kicked");
  return {};
}

Status AdminOps::CloseChannel(const std::string& app_id, const std::string& channel_id) {
  Channel* ch = channels_.Find(app_id, channel_id);
  if (!ch) return MakeError(Errc::kAdminNotFound, "no live channel " + channel_id);
  RemoveAll({ch}, "channel-closed");
  return {};
}

void AdminOps::RemoveAll(const std::vector<Channel*>& channels, std::string_view reason) {
  // Collected first: removing the last member closes (destroys) its channel.
  std::vector<Session*> doomed;
  for (Channel* ch : channels)
    for (auto& [uid, s] : ch->members) doomed.push_back(s);
  for (Session* s : doomed) remover_.RemoveSession(*s, reason);
}

void AdminOps::OnAppKeyRotated(const std::string& app_id) {
  RemoveAll(channels_.ForApp(app_id), "key-rotated");
}

void AdminOps::OnAppRevoked(const std::string& app_id) {
  RemoveAll(channels_.ForApp(app_id), "app-disabled");
  usage_.Forget(app_id);
}

}  // namespace parley::server
