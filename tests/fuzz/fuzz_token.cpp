// Fuzzes the token decoders (access token / JWT and single-parameter) and the AuthInfo
// checks behind them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parley/proto/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = parley::DecodeSingleToken(text);
  if (decoded.ok()) {
    (void)parley::ValidateAuthInfo(*decoded);
    (void)parley::VerifyToken(*decoded, "key", 1);
    // Re-encoding what we decoded must decode to the same fields.
    auto again = parley::DecodeSingleToken(parley::EncodeSingleToken(*decoded));
    if (!again.ok() || again->app_id != decoded->app_id || again->token != decoded->token ||
        again->timestamp != decoded->timestamp)
      __builtin_trap();
  }
  std::string raw;
  (void)parley::Base64Decode(text, &raw);
  // Access tokens: decoding never crashes; what decodes re-mints to a token with the same
  // claims, and a token verifies only with the key that signed it.
  auto claims = parley::DecodeAccessToken(text);
  if (claims.ok()) {
    (void)parley::VerifyAccessToken(text, "key", 1);
    std::string minted = parley::MintAccessToken(*claims, "key");
    auto back = parley::VerifyAccessToken(minted, "key", 0);
    if (!back.ok() || back->app_id != claims->app_id || back->channel_id != claims->channel_id ||
        back->user_id != claims->user_id || back->expires_at != claims->expires_at || back->role != claims->role ||
        back->nonce != claims->nonce)
      __builtin_trap();
    if (parley::VerifyAccessToken(minted, "other-key", 0).ok()) __builtin_trap();
  }
  if (parley::Base64UrlDecode(text, &raw) && parley::Base64UrlEncode(raw) != text) __builtin_trap();
  return 0;
}
