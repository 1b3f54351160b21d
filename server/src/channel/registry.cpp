#include "channel/registry.hpp"

#include <algorithm>

namespace parley::server {

size_t WorkerPlacement::Pick() {
  if (channels_.empty()) return 0;
  auto worker = static_cast<size_t>(std::min_element(channels_.begin(), channels_.end()) - channels_.begin());
  ++channels_[worker];
  return worker;
}

void WorkerPlacement::Release(size_t worker) {
  if (worker < channels_.size() && channels_[worker] > 0) --channels_[worker];
}

Channel* ChannelRegistry::Find(const std::string& app_id, const std::string& channel_id) const {
  auto it = channels_.find({app_id, channel_id});
  return it == channels_.end() ? nullptr : it->second.get();
}

Channel& ChannelRegistry::Create(const ChannelSpec& spec) {
  auto ch = std::make_unique<Channel>();
  ch->app_id = spec.app_id;
  ch->channel_id = spec.channel_id;
  ch->profile = spec.profile;
  ch->h5_compatible = spec.h5_compatible;
  ch->created_at = spec.now;
  ch->created_at_unix = spec.now_unix;
  ch->metered_at = spec.now;
  ch->worker = placement_.Pick();
  ch->media = plane_.OpenChannel(ch->worker);
  Channel& out = *ch;
  channels_[{spec.app_id, spec.channel_id}] = std::move(ch);
  return out;
}

void ChannelRegistry::Close(Channel& ch) {
  placement_.Release(ch.worker);
  channels_.erase({ch.app_id, ch.channel_id});
}

std::vector<Channel*> ChannelRegistry::ForApp(const std::string& app_id) const {
  std::vector<Channel*> out;
  for (const auto& [key, ch] : channels_)
    if (ch->app_id == app_id) out.push_back(ch.get());
  return out;
}

}  // namespace parley::server
