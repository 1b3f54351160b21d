// The live channels, by app and channel id, and the media worker each is pinned to.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "channel/channel.hpp"
#include "sfu/media_plane.hpp"

namespace parley::server {

/// Spreads channels over the media workers: a new channel goes to the worker with the
/// fewest channels and stays there for its lifetime (all its transports share one
/// worker thread, so routing never crosses threads).
class WorkerPlacement {
 public:
  explicit WorkerPlacement(size_t workers) : channels_(workers, 0) {}
  /// The least loaded worker (the first of equals), now counted one channel busier.
  /// Without workers, 0 and nothing is counted.
  size_t Pick();
  /// A channel on `worker` closed.
  void Release(size_t worker);
  [[nodiscard]] size_t load(size_t worker) const { return worker < channels_.size() ? channels_[worker] : 0; }

 private:
  std::vector<size_t> channels_;  ///< channels per worker
};

/// What a channel is created with: the first member's choices.
struct ChannelSpec {
  std::string app_id, channel_id;
  Profile profile = Profile::kCommunication;
  bool h5_compatible = false;
  Clock::time_point now;
  int64_t now_unix = 0;
};

class ChannelRegistry {
 public:
  using Key = std::pair<std::string, std::string>;  ///< app id, channel id
  using Map = std::map<Key, std::unique_ptr<Channel>>;

  /// `plane` must outlive the registry (channels' media post to its workers).
  explicit ChannelRegistry(sfu::MediaPlane& plane) : plane_(plane), placement_(plane.worker_count()) {}
  /// The media plane the channels' media live on (last-mile probes use it directly).
  sfu::MediaPlane& plane() { return plane_; }

  /// Channel ids are scoped by app: two apps never share a channel.
  [[nodiscard]] Channel* Find(const std::string& app_id, const std::string& channel_id) const;
  /// A new empty channel, pinned to a worker and given its media there.
  Channel& Create(const ChannelSpec& spec);
  /// Destroys the channel (its media closes every transport left): the reference is
  /// dangling afterwards.
  void Close(Channel& ch);
  /// The app's live channels.
  [[nodiscard]] std::vector<Channel*> ForApp(const std::string& app_id) const;

  [[nodiscard]] size_t size() const { return channels_.size(); }
  Map::iterator begin() { return channels_.begin(); }
  Map::iterator end() { return channels_.end(); }
  [[nodiscard]] Map::const_iterator begin() const { return channels_.begin(); }
  [[nodiscard]] Map::const_iterator end() const { return channels_.end(); }
  [[nodiscard]] const WorkerPlacement& placement() const { return placement_; }

 private:
  sfu::MediaPlane& plane_;
  WorkerPlacement placement_;
  Map channels_;
};

}  // namespace parley::server
