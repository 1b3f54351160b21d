// Fuzzes the single-parameter token decoder and the AuthInfo checks behind it.
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
  return 0;
}
