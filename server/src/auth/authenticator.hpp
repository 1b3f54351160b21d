// The authenticator: decides whether join (and refreshToken) credentials let a user in,
// and what they grant. Access tokens and, for apps that allow them, classic AuthInfo
// tokens are checked against the app's key; the app must exist, be enabled and have
// quota left. Pure over the app store's in-memory copy: no I/O on the join path.
#pragma once

#include <cstdint>
#include <string>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "parley/proto/requests.hpp"
#include "parley/proto/result.hpp"
#include "parley/proto/token.hpp"

namespace parley::server {

/// What verified credentials grant.
struct Credentials {
  AuthInfo auth;     ///< app, channel, user, nonce; timestamp = expiry
  std::string role;  ///< the access token's role claim, "" when it has none
};

class Authenticator {
 public:
  /// Both are read at every call (an app disabled or rotated since is seen at once).
  Authenticator(const AppStore& store, const ServerConfig& config) : store_(store), config_(config) {}

  /// Verifies `given` at `now_unix` (Unix seconds). The refusal is the first thing
  /// wrong, in this order: the token's shape, the app (kAppIdNotExist, kAppIdInvalid),
  /// the signature and expiry, then the app's quota (kChannelOverdue / kQuotaExhausted).
  [[nodiscard]] Result<Credentials> Verify(const proto::JoinCredentials& given, int64_t now_unix) const;

 private:
  Result<const App*> FindApp(const std::string& app_id) const;

  const AppStore& store_;
  const ServerConfig& config_;
};

}  // namespace parley::server
