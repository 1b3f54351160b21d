// The other members of the channel as this engine knows them: who is there and what
// they publish, from the join's snapshot, the notifications, and after a resume the
// channel's snapshot again (Reconcile), since notifications sent while the link was
// down are lost. The engine acts on what changed (listener events, subscriptions).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "parley/proto/notifications.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

/// Engine thread, except Snapshot (any thread: the API's GetOnlineRemoteUsers).
class RemoteUsers {
 public:
  /// This engine's own user id, never listed.
  void SetSelf(std::string user_id) { self_ = std::move(user_id); }
  /// `u` is online (a userOnline notice or the join's snapshot); false when it names
  /// no one or this engine itself.
  bool Add(const proto::UserInfo& u);
  /// `id` went offline; false when it was not known.
  bool Remove(const std::string& id);
  /// `id` published `kind` (a user not known yet is listed with it).
  void AddTrack(const std::string& id, TrackKind kind);
  /// A known user's display name changed (userUpdated); false when `id` is not known
  /// or the name is the same.
  bool Rename(const std::string& id, const std::string& name);
  /// A known user's role changed (roleUpdated); false when `id` is not known or the
  /// role is the same.
  bool SetRole(const std::string& id, ClientRole role);
  /// `id` unpublished `kind`; false when `id` is not known. Snapshot keeps listing the
  /// track, as the engine always did (only the notices and the resume change it).
  bool RemoveTrack(const std::string& id, TrackKind kind);

  /// What a resume's snapshot changed, in the order the engine reports it.
  struct Change {
    enum class Kind : uint8_t {
      kOnline,     ///< not known before; `has_tracks`: it publishes something
      kNewTracks,  ///< known, and publishes a track it did not before
      kOffline,    ///< known, and no longer in the channel
    };
    Kind kind;
    std::string user_id;
    bool has_tracks = false;
    bool operator==(const Change&) const = default;
  };
  /// The channel's snapshot after a resume decides who is there and what they publish.
  std::vector<Change> Reconcile(const std::vector<proto::UserInfo>& users);

  [[nodiscard]] bool Knows(const std::string& id) const { return users_.count(id) > 0; }
  /// Any thread: whether `id` is in the snapshot.
  [[nodiscard]] bool KnowsNow(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshot_.count(id) > 0;
  }
  [[nodiscard]] std::vector<RemoteUser> Snapshot() const;
  void Clear();

 private:
  void Publish(const RemoteUser& r);  ///< into the snapshot
  /// Sets a known user's `member` to `value` and publishes it; false when `id` is not
  /// known or the value is the same.
  template <typename T>
  bool Update(const std::string& id, T RemoteUser::*member, const T& value);

  std::string self_;
  std::map<std::string, RemoteUser> users_;
  mutable std::mutex mu_;                       ///< guards snapshot_
  std::map<std::string, RemoteUser> snapshot_;  ///< what API threads read
};

}  // namespace parley::sdk::call
