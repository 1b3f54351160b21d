#include "auth/authenticator.hpp"

namespace parley::server {

Result<const App*> Authenticator::FindApp(const std::string& app_id) const {
  const App* app = store_.Find(app_id);
  if (!app) return MakeError(Errc::kAppIdNotExist, "no app with AppId " + app_id);
  if (!app->enabled) return MakeError(Errc::kAppIdInvalid, "app " + app_id + " is disabled");
  return app;
}

Result<Credentials> Authenticator::Verify(const proto::JoinCredentials& given, int64_t now_unix) const {
  // The app is found by its id alone and one token is checked against one key: the cost
  // of a failed join does not grow with the number of apps, and a failure says nothing
  // about any other app (a token made with another app's key is just invalid).
  const std::string& token = given.token;
  Credentials out;
  const App* app = nullptr;
  if (IsAccessToken(token)) {
    auto shape = DecodeAccessToken(token);
    if (!shape) return shape.error();
    auto found = FindApp(shape->app_id);
    if (!found) return found.error();
    app = *found;
    auto claims = VerifyAccessToken(token, app->app_key, now_unix);
    if (!claims) return claims.error();
    // AuthInfo fields sent beside an access token must name what it grants.
    if (const auto& f = given.fields; f && ((!f->app_id.empty() && f->app_id != claims->app_id) ||
                                            (!f->channel_id.empty() && f->channel_id != claims->channel_id) ||
                                            (!f->user_id.empty() && f->user_id != claims->user_id)))
      return MakeError(Errc::kTokenInvalid, "AuthInfo names another app, channel or user than its token");
    out.auth = AuthInfo{claims->app_id, claims->channel_id, claims->user_id, claims->nonce, claims->expires_at, token};
    out.role = claims->role;
  } else {
    AuthInfo auth;
    if (given.fields) {
      auth = *given.fields;
    } else {
      auto decoded = DecodeSingleToken(token);
      if (!decoded) return decoded.error();
      auth = std::move(*decoded);
    }
    if (Status s = ValidateAuthInfo(auth); !s) return s.error();
    auto found = FindApp(auth.app_id);
    if (!found) return found.error();
    app = *found;
    // The classic hash concatenates its fields without separators, so characters can
    // move between them (docs/security.md): only apps that ask for it accept one, and
    // never one that claims to live longer than the configured maximum (a nonce digit
    // moved into the timestamp multiplies it by ten).
    if (!app->classic_tokens)
      return MakeError(Errc::kTokenInvalid,
                       "classic tokens are turned off for this app: use an access token (parley token, docs/token.md)",
                       Errc::kClassicTokensOff);
    if (auth.timestamp > now_unix + config_.max_classic_token_lifetime_s)
      return MakeError(Errc::kTokenInvalid, "classic token expires more than " +
                                                std::to_string(config_.max_classic_token_lifetime_s) +
                                                " s from now (--max-classic-token-lifetime)");
    if (Status v = VerifyToken(auth, app->app_key, now_unix); !v) return v.error();
    out.auth = std::move(auth);
  }
  if (app->Overdue())
    return MakeError(Errc::kChannelOverdue, "app " + app->app_id + " has used up its usage quota",
                     Errc::kQuotaExhausted);
  return out;
}

}  // namespace parley::server
