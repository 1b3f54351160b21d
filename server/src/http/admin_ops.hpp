// The admin API's operations on live channels (list, kick, close) and what happens to
// the users of an app that is revoked or rotates its key. They sit beside the admin
// routes; the signalling side only lends them the registry, the meter and a way to
// remove a session. Control thread only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "auth/usage_meter.hpp"
#include "channel/registry.hpp"
#include "channel/session.hpp"
#include "parley/proto/result.hpp"

namespace parley::server {

class AdminOps {
 public:
  /// How a session is removed for good: its client is sent sessionRemoved with the
  /// reason and disconnected, and it leaves its channel (which closes when empty).
  class SessionRemover {
   public:
    virtual ~SessionRemover() = default;
    virtual void RemoveSession(Session& s, std::string_view reason) = 0;
  };

  AdminOps(ChannelRegistry& channels, UsageMeter& usage, SessionRemover& remover)
      : channels_(channels), usage_(usage), remover_(remover) {}

  /// Every live channel (of one app when `app_id_filter` is not empty), its members
  /// with their media counters.
  [[nodiscard]] nlohmann::json ListChannels(const std::string& app_id_filter) const;
  /// Removes one user (reason "kicked"); kAdminNotFound when the channel or user is not live.
  Status Kick(const std::string& app_id, const std::string& channel_id, const std::string& user_id);
  /// Removes every member (reason "channel-closed"), so the channel closes.
  Status CloseChannel(const std::string& app_id, const std::string& channel_id);
  /// An app was disabled or deleted: its users are removed (reason "app-disabled") and
  /// its usage not yet stored is dropped.
  void OnAppRevoked(const std::string& app_id);
  /// The app's key was rotated: every session of the app joined with a token of the
  /// old key, so all are removed (reason "key-rotated").
  void OnAppKeyRotated(const std::string& app_id);

 private:
  void RemoveAll(const std::vector<Channel*>& channels, std::string_view reason);

  ChannelRegistry& channels_;
  UsageMeter& usage_;
  SessionRemover& remover_;
};

}  // namespace parley::server
