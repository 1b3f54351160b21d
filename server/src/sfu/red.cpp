#include "sfu/red.hpp"

namespace parley::sfu {

std::optional<RedLayout> ParseRed(std::span<const uint8_t> payload) {
  RedLayout out;
  size_t pos = 0;
  size_t data = 0;  // bytes the redundant blocks take
  for (;;) {
    if (pos >= payload.size() || out.count == RedLayout::kMaxBlocks) return std::nullopt;
    uint8_t first = payload[pos];
    RedBlock& b = out.blocks[out.count++];
    b.payload_type = first & 0x7F;
    if (!(first & 0x80)) {  // the primary's header ends the list
      ++pos;
      break;
    }
    if (payload.size() - pos < 4) return std::nullopt;
    b.timestamp_offset = static_cast<uint16_t>((payload[pos + 1] << 6) | (payload[pos + 2] >> 2));
    b.length = (size_t{payload[pos + 2] & 0x03u} << 8) | payload[pos + 3];
    data += b.length;
    pos += 4;
  }
  out.headers_length = pos;
  if (data > payload.size() - pos) return std::nullopt;
  size_t at = pos;
  for (size_t i = 0; i + 1 < out.count; ++i) {
    out.blocks[i].offset = at;
    at += out.blocks[i].length;
  }
  RedBlock& primary = out.blocks[out.count - 1];
  primary.offset = at;
  primary.length = payload.size() - at;
  return out;
}

void SetRedBlockPayloadTypes(std::span<uint8_t> payload, const RedLayout& layout, uint8_t pt) {
  size_t pos = 0;
  for (size_t i = 0; i < layout.count && pos < payload.size(); ++i) {
    payload[pos] = static_cast<uint8_t>((payload[pos] & 0x80) | (pt & 0x7F));
    pos += i + 1 < layout.count ? 4 : 1;
  }
}

}  // namespace parley::sfu
