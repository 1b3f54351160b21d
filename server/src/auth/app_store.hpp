// The app store: apps (AppId, AppKey, state, quota, usage) and the admin key, in SQLite.
// Every write is committed (WAL, synchronous=FULL) before it is acknowledged, so a
// crash never loses an acknowledged change. Reads come from an in-memory copy, so the
// join path never touches the disk. Not thread-safe: owned by the control-plane thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/proto/result.hpp"

struct sqlite3;

namespace parley::server {

struct App {
  std::string app_id;
  std::string app_key;
  std::string name;
  bool enabled = true;
  int64_t created_at = 0;                ///< Unix seconds
  std::optional<int64_t> quota_minutes;  ///< nullopt = unlimited
  int64_t used_seconds = 0;              ///< metered user-seconds in channels
  /// Accepts the ARTC classic token (and its single-parameter form) besides access
  /// tokens. Off for new apps: the classic hash is weaker (docs/token.md).
  bool classic_tokens = false;

  /// The usage quota is exhausted.
  [[nodiscard]] bool Overdue() const { return quota_minutes && used_seconds >= *quota_minutes * 60; }
};

class AppStore {
 public:
  /// Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<AppStore>> Open(const std::string& path);
  ~AppStore();
  AppStore(const AppStore&) = delete;
  AppStore& operator=(const AppStore&) = delete;

  Result<App> Create(const std::string& name, bool classic_tokens = false);
  [[nodiscard]] const App* Find(const std::string& app_id) const;
  [[nodiscard]] const std::map<std::string, App>& Apps() const { return apps_; }
  Status SetEnabled(const std::string& app_id, bool enabled);
  Result<App> RotateKey(const std::string& app_id);
  Status Delete(const std::string& app_id);
  Status SetClassicTokens(const std::string& app_id, bool allowed);
  Status SetQuota(const std::string& app_id, std::optional<int64_t> minutes);
  /// Adds metered user-seconds per app in one transaction.
  Status AddUsage(const std::map<std::string, int64_t>& seconds_by_app);

  /// Sets the admin key to `key` when given; otherwise creates a random one if the
  /// store has none. Returns the key when this call created or set it (to print once),
  /// an empty string when an existing key was kept. Only a hash is stored.
  Result<std::string> EnsureAdminKey(const std::optional<std::string>& key);
  [[nodiscard]] bool CheckAdminKey(std::string_view key) const;

 private:
  explicit AppStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  Status LoadAll();
  bool HasColumn(const char* table, const char* column);
  Status WriteApp(const App& app);
  /// Applies `change` to a copy of the app, stores it, then keeps it in memory.
  Status Update(const std::string& app_id, const std::function<void(App&)>& change);

  sqlite3* db_;
  std::map<std::string, App> apps_;
  std::string admin_key_hash_;
};

/// Random lower-case hex of `bytes` random bytes (OpenSSL RAND_bytes).
std::string RandomHex(size_t bytes);

}  // namespace parley::server
