// Channel tokens. The default is the access token: a JWT (RFC 7519) signed with
// HS256 (HMAC-SHA256, RFC 7518 §3.2) over every claim, so no field can be edited or
// moved into another. The ARTC-compatible classic token (a hash of the fields
// concatenated without separators) and its single-parameter form are kept for apps
// that enable them; they are weaker (see docs/token.md and docs/security.md).
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

/// What an access token grants. `expires_at` is the JWT `exp` claim (Unix seconds).
struct AccessClaims {
  std::string app_id;
  std::string channel_id;
  std::string user_id;
  std::string nonce;       ///< optional, at most 128 characters
  std::string role;        ///< optional: "" (any), "broadcaster" or "audience"
  int64_t expires_at = 0;  ///< exp
  int64_t issued_at = 0;   ///< iat; 0 = not written
};

/// Mints an access token: base64url(header).base64url(claims).base64url(HMAC-SHA256).
/// The header is {"alg":"HS256","typ":"JWT"}; claims are appId, channelId, userId,
/// exp, and nonce / role / iat when set.
std::string MintAccessToken(const AccessClaims& claims, std::string_view app_key);

/// True when `token` has the shape of a JWT (three dot-separated parts). Single-parameter
/// tokens are plain base64 and never contain a dot.
bool IsAccessToken(std::string_view token);

/// Reads an access token's claims WITHOUT checking its signature (the server needs the
/// appId to find the key; an SDK reads channel and user). Malformed tokens, any `alg`
/// but HS256, a `crit` header, or claims that are missing, of the wrong type or out of
/// their character sets give kMalformedToken (or kInvalidAppId / kInvalidChannelId /
/// kInvalidUserId).
Result<AccessClaims> DecodeAccessToken(std::string_view token);

/// Decodes and verifies an access token against `app_key` at `now_unix`: a signature
/// that does not match is kTokenInvalid; a valid token whose exp is not after now is
/// kChannelOverdue (0x05040002, as the contract files expired tokens). Constant-time
/// signature comparison.
Result<AccessClaims> VerifyAccessToken(std::string_view token, std::string_view app_key, int64_t now_unix);

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
/// One character of [A-Za-z0-9_-].
bool IsIdChar(char c);

/// Checks the shape of AuthInfo before any network I/O: an empty appId, channelId,
/// userId or token, or timestamp <= 0, is kInvalidAuthInfo (0x01030101); a malformed
/// id is kInvalidAppId / kInvalidChannelId / kInvalidUserId; a nonce over 128
/// characters or outside A-Z a-z 0-9 _ - is kInvalidAuthInfo. Checking the character
/// sets before hashing keeps separators and other bytes out of the classic hash.
Status ValidateAuthInfo(const AuthInfo& auth);

/// Verifies a validated AuthInfo against the app's key at time `now_unix`: a token that
/// does not match is kTokenInvalid (0x02010205); a matching token whose timestamp is
/// not in the future is kChannelOverdue (0x05040002). The comparison is constant-time.
Status VerifyToken(const AuthInfo& auth, std::string_view app_key, int64_t now_unix);

/// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// Hex-encoded SHA-256 of `data`, lower-case.
std::string Sha256Hex(std::string_view data);

/// base64url without padding (RFC 4648 §5), as JWTs use, and its strict decoder
/// (only the URL-safe alphabet, no padding, no whitespace).
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view text, std::string* out);

/// HMAC-SHA256 of `data` with `key` (32 raw bytes).
std::string HmacSha256(std::string_view key, std::string_view data);

/// Standard base64 with padding, and a decoder that accepts standard or URL-safe
/// alphabets with or without padding (nullopt-like failure via bool).
std::string Base64Encode(std::string_view data);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace parley
