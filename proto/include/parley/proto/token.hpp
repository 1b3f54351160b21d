// Channel tokens: the ARTC-compatible classic token and the single-parameter token.
// Format and examples: docs/token.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/proto/result.hpp"

namespace parley {

/// What a user presents to join a channel. `timestamp` is the token's expiry in Unix seconds.
struct AuthInfo {
  std::string app_id;
  std::string channel_id;
  std::string user_id;
  std::string nonce;  ///< may be empty
  int64_t timestamp = 0;
  std::string token;
};

/// Longest accepted id (app, channel, user) and the largest single-parameter token we decode.
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxNonceLength = 128;
inline constexpr size_t kMaxSingleTokenLength = 4096;

/// hex(sha256(appId + appKey + channelId + userId + nonce + timestamp)), lower-case.
std::string ComputeClassicToken(std::string_view app_id, std::string_view app_key, std::string_view channel_id,
                                std::string_view user_id, std::string_view nonce, int64_t timestamp);

/// base64 of {"appid","channelid","userid","nonce","timestamp","token"}.
std::string EncodeSingleToken(const AuthInfo& auth);

/// Decodes a single-parameter token (standard or URL-safe base64, padding optional).
/// Malformed input gives kMalformedToken; the fields are not validated here.
Result<AuthInfo> DecodeSingleToken(std::string_view token);

/// 1-64 characters of [A-Za-z0-9_-].
bool IsValidId(std::string_view id);

/// Checks the shape of AuthInfo before any network I/O: an empty appId, channelId,
/// userId or token, or timestamp <= 0, is kInvalidAuthInfo (0x01030101); a malformed
/// id is kInvalidAppId / kInvalidChannelId / kInvalidUserId; an overlong nonce
/// is kInvalidAuthInfo.
Status ValidateAuthInfo(const AuthInfo& auth);

/// Verifies a validated AuthInfo against the app's key at time `now_unix`: a token that
/// does not match is kTokenInvalid (0x02010205); a matching token whose timestamp is
/// not in the future is kChannelOverdue (0x05040002). The comparison is constant-time.
Status VerifyToken(const AuthInfo& auth, std::string_view app_key, int64_t now_unix);

/// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// Hex-encoded SHA-256 of `data`, lower-case.
std::string Sha256Hex(std::string_view data);

/// Standard base64 with padding, and a decoder that accepts standard or URL-safe
/// alphabets with or without padding (nullopt-like failure via bool).
std::string Base64Encode(std::string_view data);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace parley
