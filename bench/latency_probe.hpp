// The markers bench/latency puts into media and reads back after a call carried them,
// so that the delay of each is measured on the machine's one wall clock (the sender
// and the receiver may be different processes, or a browser: no log of sent markers is
// shared). web/tests/latency-probes.mjs draws and reads the same markers in Chromium.
//
// Video: the top of each frame is a grid of 8 x 4 blocks, black or white: the low 16
// bits of the capture time in ms (wall clock), then their complement, so that a frame
// read wrong (a block smeared by the codec) is rejected rather than mistimed. The
// receiver's delay is (its time - the code) mod 65536 ms.
// Audio: a 1 kHz tone burst of 50 ms starts on every whole wall-clock second, silence
// between; the receiver's delay is the onset time mod 1000 ms (delays stay below 1 s).
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace parley::bench {

/// Wall-clock time in µs since the epoch (what a browser's performance.timeOrigin +
/// performance.now() counts, in ms).
inline int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline constexpr int kMarkerCols = 8, kMarkerRows = 4;
inline constexpr int kMarkerHeightDiv = 3;  ///< the grid covers the top third of the frame

/// Draws `code` (and its complement) into the luma plane of a `w` x `h` frame.
inline void DrawVideoMarker(uint8_t* luma, int w, int h, uint16_t code) {
  const uint32_t bits = code | (static_cast<uint32_t>(static_cast<uint16_t>(~code)) << 16);
  const int grid_h = h / kMarkerHeightDiv;
  for (int y = 0; y < grid_h; ++y) {
    const int row = y * kMarkerRows / grid_h;
    for (int x = 0; x < w; ++x) {
      const int bit = row * kMarkerCols + x * kMarkerCols / w;
      luma[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)] = (bits >> bit) & 1 ? 235 : 16;
    }
  }
}

/// The code in a decoded frame's luma plane (any size: the blocks scale with it); none
/// when the frame carries no readable marker.
inline std::optional<uint16_t> ReadVideoMarker(const uint8_t* luma, int w, int h) {
  const int grid_h = h / kMarkerHeightDiv;
  const int bw = w / kMarkerCols, bh = grid_h / kMarkerRows;
  if (bw < 4 || bh < 4) return std::nullopt;
  uint32_t bits = 0;
  for (int bit = 0; bit < kMarkerCols * kMarkerRows; ++bit) {
    const int cx = (bit % kMarkerCols) * bw + bw / 2, cy = (bit / kMarkerCols) * bh + bh / 2;
    int sum = 0, n = 0;  // the block's middle, away from edges the codec blurs
    for (int y = cy - bh / 4; y <= cy + bh / 4; ++y)
      for (int x = cx - bw / 4; x <= cx + bw / 4; ++x, ++n)
        sum += luma[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)];
    const int mean = sum / n;
    if (mean > 80 && mean < 170) return std::nullopt;  // neither black nor white
    if (mean >= 170) bits |= 1U << bit;
  }
  const auto code = static_cast<uint16_t>(bits & 0xffff);
  if (static_cast<uint16_t>(~code) != static_cast<uint16_t>(bits >> 16)) return std::nullopt;
  return code;
}

/// The video marker's delay: a frame read at `now_us` that carries `code`.
inline double VideoDelayMs(int64_t now_us, uint16_t code) {
  const int64_t now_ms = now_us / 1000;
  return static_cast<double>((now_ms - code) & 0xffff) + static_cast<double>(now_us % 1000) / 1000.0;
}

inline constexpr int kBurstPeriodMs = 1000, kBurstMs = 50, kBurstHz = 1000;
inline constexpr int16_t kBurstAmplitude = 12000;

/// The sender's sample at wall-clock time `t_us` (the moment a microphone would have
/// captured it): the burst or silence.
inline int16_t AudioMarkerSample(int64_t t_us) {
  const int64_t in_period = t_us % (kBurstPeriodMs * 1000LL);
  if (in_period >= kBurstMs * 1000LL) return 0;
  const double s = std::sin(2 * M_PI * kBurstHz * static_cast<double>(in_period) / 1e6);
  return static_cast<int16_t>(kBurstAmplitude * s);
}

/// Finds each burst's onset in received audio: a sample louder than a quarter of the
/// burst at least 300 ms after the last loud one (by the time they play: a sender in
/// DTX sends nothing while silent, and a decoder may then hand over nothing either).
class AudioOnsets {
 public:
  /// `samples` interleaved frames (`channels` each) at `rate`, the first of them played
  /// at `first_us`. Returns the onset's delay in ms when one is in them.
  std::optional<double> Feed(const int16_t* pcm, size_t samples, int channels, int rate, int64_t first_us) {
    std::optional<double> found;
    for (size_t i = 0; i < samples; ++i) {
      const int v = std::abs(static_cast<int>(pcm[i * static_cast<size_t>(channels)]));
      if (v <= kBurstAmplitude / 4) continue;
      const int64_t at = first_us + static_cast<int64_t>(i) * 1'000'000 / rate;
      if (at - last_loud_us_ >= 300'000 && !found) found = static_cast<double>(at % (kBurstPeriodMs * 1000LL)) / 1000.0;
      last_loud_us_ = at;
    }
    return found;
  }

 private:
  int64_t last_loud_us_ = 0;
};

}  // namespace parley::bench
