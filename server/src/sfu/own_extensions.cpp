#include "sfu/own_extensions.hpp"

namespace parley::sfu {

size_t WriteOwnExtensions(uint8_t* out, const OwnExtensions& ext) {
  // RFC 8285's one-byte form: abs-send-time (1 + 3 bytes), transport-wide sequence
  // (1 + 2), zero-padded to a word.
  size_t len = 4;
  out[0] = 0xBE;
  out[1] = 0xDE;
  out[2] = 0;
  if (ext.abs_send_time_id) {
    const uint32_t ast = AbsSendTime(ext.send_us);
    out[len++] = static_cast<uint8_t>((ext.abs_send_time_id << 4) | 2);
    out[len++] = static_cast<uint8_t>(ast >> 16);
    out[len++] = static_cast<uint8_t>(ast >> 8);
    out[len++] = static_cast<uint8_t>(ast);
  }
  if (ext.transport_cc_id) {
    out[len++] = static_cast<uint8_t>((ext.transport_cc_id << 4) | 1);
    out[len++] = static_cast<uint8_t>(ext.transport_seq >> 8);
    out[len++] = static_cast<uint8_t>(ext.transport_seq);
  }
  while (len % 4) out[len++] = 0;
  out[3] = static_cast<uint8_t>((len - 4) / 4);
  return len;
}

}  // namespace parley::sfu
