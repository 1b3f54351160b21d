// The usage meter: user-time in channels, per app, for quotas and billing. It counts
// milliseconds in memory as channels are metered and stores whole user-seconds in
// batches, so the join path and the timers never wait for the disk on every change.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "auth/app_store.hpp"
#include "parley/proto/result.hpp"
#include "signal/clock.hpp"

namespace parley::server {

/// Where metered usage is stored.
class UsageSink {
 public:
  virtual ~UsageSink() = default;
  /// Whether the app still exists (usage of a deleted app is kept, never stored).
  [[nodiscard]] virtual bool Knows(const std::string& app_id) const = 0;
  /// Adds user-seconds per app, all or nothing.
  virtual Status AddUsage(const std::map<std::string, int64_t>& seconds_by_app) = 0;
};

/// The app store as a usage sink.
class AppStoreUsage final : public UsageSink {
 public:
  explicit AppStoreUsage(AppStore& store) : store_(store) {}
  [[nodiscard]] bool Knows(const std::string& app_id) const override { return store_.Find(app_id) != nullptr; }
  Status AddUsage(const std::map<std::string, int64_t>& seconds_by_app) override {
    return store_.AddUsage(seconds_by_app);
  }

 private:
  AppStore& store_;
};

class UsageMeter {
 public:
  /// Counts a channel of app `app_id` with `members` users from `metered_at` to `now`,
  /// and moves `metered_at` (the channel's own mark) to `now`.
  void Count(const std::string& app_id, size_t members, Clock::time_point& metered_at, Clock::time_point now);
  /// Stores the whole seconds of every app the sink knows and keeps the remainders.
  /// When the sink fails nothing is taken: the next flush retries all of it.
  Status Flush(UsageSink& sink);
  /// An app was revoked: its pending usage is dropped.
  void Forget(const std::string& app_id) { pending_ms_.erase(app_id); }

  /// Metered but not yet stored, in milliseconds.
  [[nodiscard]] int64_t PendingMs(const std::string& app_id) const;

 private:
  std::map<std::string, int64_t> pending_ms_;
};

}  // namespace parley::server
