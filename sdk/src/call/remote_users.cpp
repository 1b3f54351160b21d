#include "call/remote_users.hpp"

#include <algorithm>
#include <set>

namespace parley::sdk::call {

namespace {
std::vector<TrackKind> Kinds(const TrackSet& tracks) {
  return {tracks.begin(), tracks.end()};
}
}  // namespace

bool RemoteUsers::Add(const proto::UserInfo& u) {
  if (u.user_id.empty() || u.user_id == self_) return false;
  RemoteUser r;
  r.user_id = u.user_id;
  r.user_name = u.user_name;
  r.tracks = Kinds(u.tracks);
  r.role = u.role.value_or(ClientRole::kBroadcaster);
  users_[u.user_id] = r;
  Publish(r);
  return true;
}

bool RemoteUsers::Remove(const std::string& id) {
  bool known = users_.erase(id) > 0;
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.erase(id);
  return known;
}

void RemoteUsers::AddTrack(const std::string& id, TrackKind kind) {
  auto& r = users_[id];
  r.user_id = id;
  r.tracks.push_back(kind);
  Publish(r);
}

template <typename T>
bool RemoteUsers::Update(const std::string& id, T RemoteUser::*member, const T& value) {
  auto it = users_.find(id);
  if (it == users_.end() || it->second.*member == value) return false;
  it->second.*member = value;
  Publish(it->second);
  return true;
}

bool RemoteUsers::Rename(const std::string& id, const std::string& name) {
  return Update(id, &RemoteUser::user_name, name);
}

bool RemoteUsers::SetRole(const std::string& id, ClientRole role) {
  return Update(id, &RemoteUser::role, role);
}

bool RemoteUsers::RemoveTrack(const std::string& id, TrackKind kind) {
  auto it = users_.find(id);
  if (it == users_.end()) return false;
  auto& t = it->second.tracks;
  t.erase(std::remove(t.begin(), t.end(), kind), t.end());
  return true;
}

std::vector<RemoteUsers::Change> RemoteUsers::Reconcile(const std::vector<proto::UserInfo>& users) {
  std::vector<Change> changes;
  std::set<std::string> present;
  for (const auto& u : users) {
    const std::string& id = u.user_id;
    if (id.empty() || id == self_) continue;
    present.insert(id);
    auto it = users_.find(id);
    if (it == users_.end()) {
      Add(u);
      changes.push_back({Change::Kind::kOnline, id, !u.tracks.empty()});
      continue;
    }
    std::vector<TrackKind> tracks = Kinds(u.tracks);
    bool added = std::any_of(tracks.begin(), tracks.end(), [&](TrackKind k) {
      return std::find(it->second.tracks.begin(), it->second.tracks.end(), k) == it->second.tracks.end();
    });
    it->second.tracks = tracks;
    Publish(it->second);
    if (added) changes.push_back({Change::Kind::kNewTracks, id, true});
  }
  for (auto it = users_.begin(); it != users_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    std::string id = it->first;
    it = users_.erase(it);
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot_.erase(id);
    }
    changes.push_back({Change::Kind::kOffline, id, false});
  }
  return changes;
}

std::vector<RemoteUser> RemoteUsers::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RemoteUser> out;
  for (const auto& [id, u] : snapshot_) out.push_back(u);
  return out;
}

void RemoteUsers::Clear() {
  users_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.clear();
}

void RemoteUsers::Publish(const RemoteUser& r) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_[r.user_id] = r;
}

}  // namespace parley::sdk::call
