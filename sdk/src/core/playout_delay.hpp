// How long the subscriber's jitter buffers hold a packet back while the network
// repairs the ones missing before it. Every repair takes a round trip per try, and
// through a lossy network a packet can need several tries on each of two hops (the
// server repairs the publisher's losses first, then its own to the subscriber). The
// usual 200 ms plays fast; under heavy loss it gives up on packets whose repair was
// still on its way, and the decoder conceals them. So the delay grows to 400 ms as
// soon as one interval shows heavy loss or audible concealment, and comes back once
// the network has been clean for a while: each change costs one short glitch (the
// audio sink skips or waits once), so it changes rarely. A unit of its own, fed the
// heartbeat's counts, so its rules are tested without a network.
#pragma once

#include <cstdint>

namespace parley::sdk {

class PlayoutDelay {
 public:
  static constexpr int kNormalMs = 200;
  static constexpr int kLossyMs = 400;
  /// An interval whose received packets lost at least this share before repair (of at
  /// least kMinPackets), or whose audio the decoders concealed at least this share
  /// of, raises the delay.
  static constexpr double kRaiseLoss = 0.10;
  static constexpr double kRaiseConcealed = 0.02;
  /// Intervals in a row, each below both of these, bring it back.
  static constexpr double kCleanLoss = 0.03;
  static constexpr double kCleanConcealed = 0.005;
  static constexpr int kCleanIntervals = 5;
  static constexpr long long kMinPackets = 50;
  static constexpr uint64_t kMinAudioSamples = 48'000;  ///< one second at 48 kHz

  /// One interval's counts: packets received and lost (before the jitter buffer's
  /// repair), and remote audio samples decoded and concealed. Returns the delay to use
  /// from now on, in ms.
  int Sample(long long received, long long lost, uint64_t audio_samples, uint64_t audio_concealed);
  [[nodiscard]] int ms() const { return ms_; }

 private:
  int ms_ = kNormalMs;
  int clean_ = 0;
};

}  // namespace parley::sdk
