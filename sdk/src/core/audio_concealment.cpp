#include "core/audio_concealment.hpp"

#include <algorithm>

namespace parley::sdk {
namespace {

// Frame duration in 48 kHz samples from the TOC's configuration: SILK-only (0-11)
// 10/20/40/60 ms, hybrid (12-15) 10/20 ms, CELT-only (16-31) 2.5/5/10/20 ms.
uint32_t FrameSamples(unsigned config) {
  if (config < 12) {
    static constexpr uint32_t kSilk[4] = {480, 960, 1920, 2880};
    return kSilk[config & 3];
  }
  if (config < 16) return (config & 1) ? 960 : 480;
  static constexpr uint32_t kCelt[4] = {120, 240, 480, 960};
  return kCelt[config & 3];
}

// Where the first frame's data starts (RFC 6716 section 3.2), or 0 when it does not.
size_t FirstFrameOffset(const uint8_t* data, size_t size) {
  size_t pos = 1;
  switch (data[0] & 3) {
    case 0:
    case 1: break;
    case 2:  // the first frame's length, in one or two bytes
      if (size < 2) return 0;
      pos += data[1] < 252 ? 1 : 2;
      break;
    default: {
      if (size < 2) return 0;
      const bool vbr = data[1] & 0x80, padded = data[1] & 0x40;
      const unsigned frames = data[1] & 0x3F;
      pos = 2;
      if (padded) {  // padding length: bytes of 255 add 254 each, the last its value
        while (pos < size && data[pos] == 255) ++pos;
        ++pos;
      }
      if (vbr)  // the lengths of all frames but the last
        for (unsigned i = 0; i + 1 < frames && pos < size; ++i) pos += data[pos] < 252 ? 1 : 2;
      break;
    }
  }
  return pos < size ? pos : 0;
}

}  // namespace

uint32_t OpusPacketSamples48k(const uint8_t* data, size_t size) {
  if (!data || size == 0) return 0;
  const uint32_t frame = FrameSamples(data[0] >> 3);
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

bool OpusPacketHasFec(const uint8_t* data, size_t size) {
  if (!data || size < 2) return false;
  const unsigned config = data[0] >> 3;
  if (config >= 16) return false;  // CELT-only: no SILK layer, no LBRR
  const size_t at = FirstFrameOffset(data, size);
  if (!at) return false;
  // One VAD flag per 20 ms SILK frame in the Opus frame (one for 10 and 20 ms frames),
  // then the LBRR flag; a stereo packet repeats both for the side channel.
  const unsigned silk_frames = std::max(1u, FrameSamples(config) / 960);
  const unsigned b = data[at];
  bool lbrr = (b >> (7 - silk_frames)) & 1;
  if (data[0] & 0x04) lbrr = lbrr || ((b >> (6 - 2 * silk_frames)) & 1);
  return lbrr;
}

void ConcealmentCounter::Packet(const uint8_t* data, size_t size, uint64_t pts_ns) {
  const uint32_t n = OpusPacketSamples48k(data, size);
  samples_.fetch_add(n, std::memory_order_relaxed);
  // Only packets with nothing lost between them tell a pause from a loss.
  if (pts_ns != kNoTime && last_end_ns_ != kNoTime && !last_gap_)
    paused_ = pts_ns > last_end_ns_ && pts_ns - last_end_ns_ > kPauseNs;
  if (n) last_samples_ = n;
  last_end_ns_ = pts_ns == kNoTime ? kNoTime : pts_ns + uint64_t{n} * 1000000 / 48;
  // opusdec decodes the lost frame just before this packet from its FEC.
  if (last_gap_ && OpusPacketHasFec(data, size))
    restored_.fetch_add(std::min<uint64_t>(last_gap_, n), std::memory_order_relaxed);
  last_gap_ = 0;
}

void ConcealmentCounter::Gap(uint64_t duration_ns) {
  if (!last_samples_) return;  // before the stream's first packet nothing was playing to conceal
  uint64_t n = duration_ns / 1000000 * 48 + duration_ns % 1000000 * 48 / 1000000;  // 48 samples per ms
  if (paused_ && last_samples_) n = std::min(n, last_samples_);                    // one packet of a pause
  samples_.fetch_add(n, std::memory_order_relaxed);
  lost_.fetch_add(n, std::memory_order_relaxed);
  last_gap_ = n;
}

}  // namespace parley::sdk
