// Fuzzes the RED (RFC 2198) parser and its payload check: whatever the bytes, the
// layout it returns stays inside the payload, its blocks tile the payload after the
// headers, and renumbering the blocks changes nothing but their payload types.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfu/payload_check.hpp"
#include "sfu/red.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> payload(data, data + size);  // exact size: ASan sees any overread
  (void)parley::sfu::RedPayloadWellFormed(parley::sfu::PayloadFormat::kOpus, 111, payload);
  auto layout = parley::sfu::ParseRed(payload);
  if (!layout) return 0;
  if (layout->count == 0 || layout->count > parley::sfu::RedLayout::kMaxBlocks) __builtin_trap();
  size_t at = layout->headers_length;
  for (size_t i = 0; i < layout->count; ++i) {
    const auto& b = layout->blocks[i];
    if (b.offset != at || b.offset + b.length > payload.size()) __builtin_trap();
    at += b.length;
  }
  if (at != payload.size()) __builtin_trap();
  std::vector<uint8_t> renumbered = payload;
  parley::sfu::SetRedBlockPayloadTypes(renumbered, *layout, 5);
  auto again = parley::sfu::ParseRed(renumbered);
  if (!again || again->count != layout->count || again->primary().length != layout->primary().length) __builtin_trap();
  for (size_t i = layout->headers_length; i < payload.size(); ++i)
    if (renumbered[i] != payload[i]) __builtin_trap();
  return 0;
}
