// Fuzzes the checks of publishers' payloads (Opus, VP8, H.264 with its SPS reader): the
// first byte picks the format, the rest is the payload. Nothing may read past it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfu/payload_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // An exact-size copy, so that ASan sees any read past the payload.
  std::vector<uint8_t> payload(data + 1, data + size);
  auto format = static_cast<parley::sfu::PayloadFormat>(data[0] % 4);
  (void)parley::sfu::PayloadWellFormed(format, payload);
  uint32_t width = 0, height = 0;
  if (parley::sfu::H264SpsPictureSize(payload, &width, &height) && (width == 0 || height == 0)) __builtin_trap();
  return 0;
}
