// How much of the remote audio the decoders had to make up. Counted where the Opus
// packets enter the decoder, after the jitter buffer and retransmission: a packet that
// arrived counts its samples as received; a loss the jitter buffer gave up on arrives
// as a gap whose samples the decoder must produce too (they are played out). When the
// packet right after a gap carries in-band FEC (its SILK layer's LBRR flag), opusdec
// rebuilds the lost frame from it: those samples count as restored. The rest of the
// gap is concealment. concealed / samples is what the W3C stats call
// concealedSamples / totalSamplesReceived.
//
// A sender with discontinuous transmission (DTX: libparley and browsers, as the server
// asks with usedtx=1) sends one small comfort-noise packet every ~400 ms in silence,
// with consecutive sequence numbers; the jitter buffer spreads a loss over the whole
// pause. The counter knows the stream is paused when a packet starts well after the
// one before ended with no loss between, and then counts a loss as one packet of the
// last packet's duration: the sender's silence is neither received nor concealed
// audio. GStreamer-free; the counts are bumped on one streaming thread and read on the
// engine thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley::sdk {

/// The number of 48 kHz samples an Opus packet decodes to (RFC 6716 section 3.1:
/// the TOC byte's frame size and frame count), or 0 for a packet that is empty or
/// malformed.
uint32_t OpusPacketSamples48k(const uint8_t* data, size_t size);

/// Whether an Opus packet carries in-band FEC for the frame before it: a SILK or hybrid
/// packet whose first frame sets the LBRR flag (RFC 6716 section 4.2.3: the header
/// bits after the VAD flags, one per channel). CELT-only packets never do.
bool OpusPacketHasFec(const uint8_t* data, size_t size);

class ConcealmentCounter {
 public:
  static constexpr uint64_t kNoTime = ~uint64_t{0};
  /// A packet starting this long after the one before ended means a sender's pause.
  static constexpr uint64_t kPauseNs = 60'000'000;

  /// An Opus packet reached the decoder, presented at `pts_ns` (kNoTime: unknown).
  void Packet(const uint8_t* data, size_t size, uint64_t pts_ns = kNoTime);
  /// The jitter buffer declared `duration_ns` of audio lost. Before the first packet
  /// (a stream setting up) this counts nothing.
  void Gap(uint64_t duration_ns);
  /// All samples that reached the decoder, received or made up.
  [[nodiscard]] uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  /// Lost samples the decoder concealed (not restored from FEC).
  [[nodiscard]] uint64_t concealed() const {
    uint64_t lost = lost_.load(std::memory_order_relaxed), restored = restored_.load(std::memory_order_relaxed);
    return lost > restored ? lost - restored : 0;
  }
  /// Lost samples rebuilt from the next packet's in-band FEC.
  [[nodiscard]] uint64_t restored() const { return restored_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> samples_{0}, lost_{0}, restored_{0};
  // The streaming thread's: the samples of a gap just before, the last packet's
  // samples and end, and whether the sender is pausing (DTX).
  uint64_t last_gap_ = 0;
  uint64_t last_samples_ = 0;
  uint64_t last_end_ns_ = kNoTime;
  bool paused_ = false;
};

}  // namespace parley::sdk
