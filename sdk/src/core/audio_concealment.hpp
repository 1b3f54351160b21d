// How much of the remote audio the decoders had to make up. Counted where the Opus
// packets enter the decoder, after the jitter buffer and retransmission: a packet that
// arrived counts its samples as received; a loss the jitter buffer gave up on arrives
// as a gap whose samples the decoder produces from the next packet's in-band FEC or by
// concealment, and counts as concealed (and as received: it is played out too). The
// ratio is what the W3C stats call concealedSamples / totalSamplesReceived, except
// that FEC-restored audio counts as concealed here: from outside the decoder the two
// cannot be told apart, so this is the upper bound. GStreamer-free and lock-free:
// the counts are bumped on a streaming thread and read on the engine thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley::sdk {

/// The number of 48 kHz samples an Opus packet decodes to (RFC 6716 section 3.1:
/// the TOC byte's frame size and frame count), or 0 for a packet that is empty or
/// malformed.
uint32_t OpusPacketSamples48k(const uint8_t* data, size_t size);

class ConcealmentCounter {
 public:
  /// An Opus packet reached the decoder.
  void Packet(const uint8_t* data, size_t size) {
    samples_.fetch_add(OpusPacketSamples48k(data, size), std::memory_order_relaxed);
  }
  /// The jitter buffer declared `duration_ns` of audio lost.
  void Gap(uint64_t duration_ns) {
    uint64_t n = duration_ns * 48 / 1000000;  // 48 samples per ms
    samples_.fetch_add(n, std::memory_order_relaxed);
    concealed_.fetch_add(n, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t concealed() const { return concealed_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> samples_{0}, concealed_{0};
};

}  // namespace parley::sdk
