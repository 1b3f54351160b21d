// Fuzzes the error-code parser and lookups (the input of `parley errors <code>`).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parley/proto/errc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = parley::ParseCodeValue(text)) {
    // A parsed value printed as hex must parse back to itself.
    if (parley::ParseCodeValue(parley::FormatHex(*v)) != v) __builtin_trap();
  }
  const parley::ErrorInfo* e = parley::LookupCode(text);
  if (e && parley::FindError(e->value()) != e) __builtin_trap();
  (void)parley::SearchErrors(text);
  return 0;
}
