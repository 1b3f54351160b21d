#include "parley/proto/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "parley/proto/vocabulary.hpp"

namespace parley {

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  unsigned int len = 0;
  // EVP_Digest is a one-shot, allocation-free (after first use) SHA-256.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

std::string ComputeClassicToken(std::string_view app_id, std::string_view app_key, std::string_view channel_id,
                                std::string_view user_id, std::string_view nonce, int64_t timestamp) {
  std::string material;
  material.reserve(app_id.size() + app_key.size() + channel_id.size() + user_id.size() + nonce.size() + 20);
  material.append(app_id).append(app_key).append(channel_id).append(user_id).append(nonce);
  material += std::to_string(timestamp);
  return Sha256Hex(material);
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  std::string s;
  s.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '=')
      continue;  // re-padded below
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
    s += c;
  }
  if (s.size() % 4 == 1) return false;
  size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string buf(s.size() / 4 * 3 + 1, '\0');
  // EVP_DecodeBlock ignores padding in its length, so strip the pad bytes it produced.
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return false;
  buf.resize(static_cast<size_t>(n) - pad);
  *out = std::move(buf);
  return true;
}

namespace {

// A string member of a token's JSON: absent is fine unless required; present must be a string.
bool ReadString(const nlohmann::json& j, const char* key, std::string* dst, bool required) {
  auto it = j.find(key);
  if (it == j.end()) return !required;
  if (!it->is_string()) return false;
  *dst = it->get<std::string>();
  return true;
}

}  // namespace

std::string EncodeSingleToken(const AuthInfo& auth) {
  nlohmann::ordered_json j;
  j["appid"] = auth.app_id;
  j["channelid"] = auth.channel_id;
  j["userid"] = auth.user_id;
  j["nonce"] = auth.nonce;
  j["timestamp"] = auth.timestamp;
  j["token"] = auth.token;
  return Base64Encode(j.dump());
}

Result<AuthInfo> DecodeSingleToken(std::string_view token) {
  if (token.empty()) return MakeError(Errc::kInvalidAuthInfo, "token is empty");
  if (token.size() > kMaxSingleTokenLength)
    return MakeError(Errc::kMalformedToken, "single-parameter token is longer than 4096 characters");
  std::string raw;
  if (!Base64Decode(token, &raw)) return MakeError(Errc::kMalformedToken, "token is not base64");
  nlohmann::json j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return MakeError(Errc::kMalformedToken, "token does not decode to a JSON object");
  AuthInfo a;
  auto str = [&](const char* key, std::string* dst, bool required) { return ReadString(j, key, dst, required); };
  if (!str("appid", &a.app_id, true) || !str("channelid", &a.channel_id, true) || !str("userid", &a.user_id, true) ||
      !str("nonce", &a.nonce, false) || !str("token", &a.token, true))
    return MakeError(Errc::kMalformedToken,
                     "token JSON needs string fields appid, channelid, userid, token (and optional nonce)");
  auto ts = j.find("timestamp");
  if (ts == j.end()) return MakeError(Errc::kMalformedToken, "token JSON has no timestamp");
  if (ts->is_number_integer()) {
    a.timestamp = ts->get<int64_t>();
  } else if (ts->is_string()) {
    // Some token minters write the timestamp as a string of digits; accept exactly that.
    const auto& s = ts->get_ref<const std::string&>();
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
      return MakeError(Errc::kMalformedToken, "token timestamp is not an integer");
    a.timestamp = std::stoll(s);
  } else {
    return MakeError(Errc::kMalformedToken, "token timestamp is not an integer");
  }
  return a;
}

std::string Base64UrlEncode(std::string_view data) {
  std::string out = Base64Encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  // Only the canonical encoding: the unused low bits of the last character must be
  // zero, so one token has one spelling (RFC 4648 §3.5).
  return Base64Decode(text, out) && Base64UrlEncode(*out) == text;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), mac, &len))
    return {};
  return std::string(reinterpret_cast<const char*>(mac), len);
}

namespace {

// The one header we write and the only algorithm we accept: a verifier that honours
// other `alg` values (none, RS256 with the HMAC key as a public key) is the classic
// JWT hole (RFC 8725 §2.1, §3.1).
constexpr std::string_view kAccessHeader = R"({"alg":"HS256","typ":"JWT"})";

Status CheckRole(const std::string& role) {
  if (role.empty() || ParseRole(role)) return {};
  return MakeError(Errc::kMalformedToken, "token claim 'role' must be \"broadcaster\" or \"audience\"");
}

}  // namespace

std::string MintAccessToken(const AccessClaims& c, std::string_view app_key) {
  nlohmann::ordered_json j;
  j["appId"] = c.app_id;
  j["channelId"] = c.channel_id;
  j["userId"] = c.user_id;
  j["exp"] = c.expires_at;
  if (c.issued_at > 0) j["iat"] = c.issued_at;
  if (!c.nonce.empty()) j["nonce"] = c.nonce;
  if (!c.role.empty()) j["role"] = c.role;
  std::string signing_input = Base64UrlEncode(kAccessHeader) + "." + Base64UrlEncode(j.dump());
  return signing_input + "." + Base64UrlEncode(HmacSha256(app_key, signing_input));
}

bool IsAccessToken(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2;
}

Result<AccessClaims> DecodeAccessToken(std::string_view token) {
  auto bad = [](const std::string& why) { return MakeError(Errc::kMalformedToken, "access token: " + why); };
  if (token.empty()) return MakeError(Errc::kInvalidAuthInfo, "token is empty");
  if (token.size() > kMaxSingleTokenLength) return bad("longer than 4096 characters");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return bad("not three dot-separated parts");
  std::string header_raw, payload_raw, sig;
  if (!Base64UrlDecode(token.substr(0, d1), &header_raw) ||
      !Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload_raw) || !Base64UrlDecode(token.substr(d2 + 1), &sig))
    return bad("a part is not base64url");
  if (sig.size() != 32) return bad("the signature is not 32 bytes (HMAC-SHA256)");
  auto header = nlohmann::json::parse(header_raw, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return bad("header is not a JSON object");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256")
    return bad("alg must be HS256");
  if (auto typ = header.find("typ"); typ != header.end() && (!typ->is_string() || *typ != "JWT"))
    return bad("typ must be JWT");
  if (header.contains("crit")) return bad("critical header extensions are not supported");
  auto j = nlohmann::json::parse(payload_raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("claims are not a JSON object");
  AccessClaims c;
  auto str = [&](const char* key, std::string* dst, bool required) { return ReadString(j, key, dst, required); };
  if (!str("appId", &c.app_id, true) || !str("channelId", &c.channel_id, true) || !str("userId", &c.user_id, true) ||
      !str("nonce", &c.nonce, false) || !str("role", &c.role, false))
    return bad("needs string claims appId, channelId, userId (and optional nonce, role)");
  auto exp = j.find("exp");
  if (exp == j.end() || !exp->is_number_integer() || exp->get<int64_t>() <= 0)
    return bad("needs an integer claim exp > 0 (expiry, Unix seconds)");
  c.expires_at = exp->get<int64_t>();
  if (auto iat = j.find("iat"); iat != j.end()) {
    if (!iat->is_number_integer()) return bad("iat must be an integer");
    c.issued_at = iat->get<int64_t>();
  }
  if (Status s = CheckRole(c.role); !s) return s.error();
  AuthInfo shape{c.app_id, c.channel_id, c.user_id, c.nonce, c.expires_at, "-"};
  if (Status s = ValidateAuthInfo(shape); !s) return s.error();
  return c;
}

namespace {
// "token expired at 2026-12-02 03:03:50 UTC (1796180630), 42 s ago": the time a person
// reads and the number the token carries.
std::string ExpiredMessage(int64_t expires_at, int64_t now_unix) {
  std::time_t t = static_cast<std::time_t>(expires_at);
  std::tm tm{};
  char when[32] = "?";
  if (gmtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return "token expired at " + std::string(when) + " (" + std::to_string(expires_at) + "), " +
         std::to_string(now_unix - expires_at) + " s ago";
}
}  // namespace

Result<AccessClaims> VerifyAccessToken(std::string_view token, std::string_view app_key, int64_t now_unix) {
  auto claims = DecodeAccessToken(token);
  if (!claims) return claims;
  size_t d2 = token.rfind('.');
  std::string sig;
  Base64UrlDecode(token.substr(d2 + 1), &sig);  // checked by DecodeAccessToken
  std::string expected = HmacSha256(app_key, token.substr(0, d2));
  if (!ConstantTimeEquals(expected, sig))
    return MakeError(Errc::kTokenInvalid, "token signature does not match this app's AppKey", Errc::kTokenKeyMismatch);
  if (claims->expires_at <= now_unix)
    return MakeError(Errc::kChannelOverdue, ExpiredMessage(claims->expires_at, now_unix), Errc::kTokenExpired);
  return claims;
}

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsValidId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && std::all_of(id.begin(), id.end(), IsIdChar);
}

Status ValidateAuthInfo(const AuthInfo& auth) {
  if (auth.app_id.empty()) return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.appId is empty");
  if (auth.channel_id.empty()) return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.channelId is empty");
  if (auth.user_id.empty()) return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.userId is empty");
  if (auth.token.empty()) return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.token is empty");
  if (auth.timestamp <= 0) return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.timestamp must be > 0");
  if (auth.nonce.size() > kMaxNonceLength)
    return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.nonce is longer than 128 characters");
  if (!std::all_of(auth.nonce.begin(), auth.nonce.end(), IsIdChar))
    return MakeError(Errc::kInvalidAuthInfo, "AuthInfo.nonce may only hold A-Z a-z 0-9 _ -");
  if (!IsValidId(auth.app_id))
    return MakeError(Errc::kInvalidAppId, "appId must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (!IsValidId(auth.channel_id))
    return MakeError(Errc::kInvalidChannelId, "channelId must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (!IsValidId(auth.user_id))
    return MakeError(Errc::kInvalidUserId, "userId must be 1-64 characters of A-Z a-z 0-9 _ -");
  return {};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status VerifyToken(const AuthInfo& auth, std::string_view app_key, int64_t now_unix) {
  std::string expected =
      ComputeClassicToken(auth.app_id, app_key, auth.channel_id, auth.user_id, auth.nonce, auth.timestamp);
  // Hex is case-insensitive; minters in other languages sometimes print upper case.
  std::string given = auth.token;
  for (char& c : given)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  if (!ConstantTimeEquals(expected, given))
    return MakeError(Errc::kTokenInvalid, "token does not match the AuthInfo for this app", Errc::kTokenKeyMismatch);
  if (auth.timestamp <= now_unix)
    return MakeError(Errc::kChannelOverdue, ExpiredMessage(auth.timestamp, now_unix), Errc::kTokenExpired);
  return {};
}

}  // namespace parley
