// Fuzzes the RTP parser, header-extension lookup and in-place rewriting.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfu/rtp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  (void)parley::sfu::Classify(buf);
  auto v = parley::sfu::ParseRtp(buf);
  if (!v) return 0;
  if (v->payload_offset + v->payload_length > buf.size()) __builtin_trap();
  for (uint8_t id = 0; id < 16; ++id) {
    auto e = v->Extension(id);
    if (e && (e->data() < buf.data() || e->data() + e->size() > buf.data() + buf.size())) __builtin_trap();
  }
  v->SetSequence(static_cast<uint16_t>(v->sequence + 1));
  v->SetSsrc(0x12345678);
  v->SetTimestamp(v->timestamp + 960);
  auto again = parley::sfu::ParseRtp(buf);
  if (!again || again->ssrc != 0x12345678 || again->payload_length != v->payload_length) __builtin_trap();
  return 0;
}
