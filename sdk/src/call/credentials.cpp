#include "call/credentials.hpp"

namespace parley::sdk::call {

Result<JoinTarget> JoinFor(const AuthInfo& given) {
  AuthInfo a = given;
  if (IsAccessToken(a.token)) {
    // The codes the server gives for the same token: one code per cause everywhere.
    auto claims = DecodeAccessToken(a.token);
    if (!claims) return claims.error();
    auto fill = [](std::string& field, const std::string& claim) {
      if (field.empty()) field = claim;
      return field == claim;
    };
    if (!fill(a.app_id, claims->app_id) || !fill(a.channel_id, claims->channel_id) || !fill(a.user_id, claims->user_id))
      return MakeError(Errc::kTokenInvalid);
    if (a.timestamp <= 0) a.timestamp = claims->expires_at;
  }
  if (a.app_id.empty() || a.channel_id.empty() || a.user_id.empty() || a.token.empty() || a.timestamp <= 0)
    return MakeError(Errc::kInvalidAuthInfo);
  return JoinTarget{proto::JoinCredentials{a.token, a}, a.channel_id, a.user_id};
}

Result<JoinTarget> JoinFor(const std::string& token, const std::string& channel_id, const std::string& user_id) {
  if (token.empty()) return MakeError(Errc::kInvalidAuthInfo);
  std::string token_channel, token_user;
  // 0x0F020004 (does not parse), 0x02010205 (names another channel or user).
  if (IsAccessToken(token)) {
    auto claims = DecodeAccessToken(token);
    if (!claims) return claims.error();
    token_channel = claims->channel_id;
    token_user = claims->user_id;
  } else {
    auto decoded = DecodeSingleToken(token);
    if (!decoded) return decoded.error();
    token_channel = decoded->channel_id;
    token_user = decoded->user_id;
  }
  if ((!channel_id.empty() && channel_id != token_channel) || (!user_id.empty() && user_id != token_user))
    return MakeError(Errc::kTokenInvalid);
  return JoinTarget{proto::JoinCredentials{token, std::nullopt}, token_channel, token_user};
}

}  // namespace parley::sdk::call
