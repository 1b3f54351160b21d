#include "core/audio_concealment.hpp"

namespace parley::sdk {

uint32_t OpusPacketSamples48k(const uint8_t* data, size_t size) {
  if (!data || size == 0) return 0;
  const unsigned config = data[0] >> 3;
  // Frame duration in 48 kHz samples: SILK-only (configs 0-11) 10/20/40/60 ms,
  // hybrid (12-15) 10/20 ms, CELT-only (16-31) 2.5/5/10/20 ms.
  uint32_t frame = 0;
  if (config < 12) {
    static constexpr uint32_t kSilk[4] = {480, 960, 1920, 2880};
    frame = kSilk[config & 3];
  } else if (config < 16) {
    frame = (config & 1) ? 960 : 480;
  } else {
    static constexpr uint32_t kCelt[4] = {120, 240, 480, 960};
    frame = kCelt[config & 3];
  }
  uint32_t frames = 0;
  switch (data[0] & 3) {
    case 0: frames = 1; break;
    case 1:
    case 2: frames = 2; break;
    default:
      if (size < 2) return 0;
      frames = data[1] & 0x3F;
      break;
  }
  const uint32_t total = frames * frame;
  return total <= 5760 ? total : 0;  // a packet holds at most 120 ms
}

}  // namespace parley::sdk
