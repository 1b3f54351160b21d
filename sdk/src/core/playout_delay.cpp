#include "core/playout_delay.hpp"

namespace parley::sdk {

int PlayoutDelay::Sample(long long received, long long lost, uint64_t audio_samples, uint64_t audio_concealed) {
  const long long missing = lost > 0 ? lost : 0;
  const long long expected = received + missing;
  const double loss = expected >= kMinPackets ? static_cast<double>(missing) / static_cast<double>(expected) : -1;
  const double concealed = audio_samples >= kMinAudioSamples
                               ? static_cast<double>(audio_concealed) / static_cast<double>(audio_samples)
                               : -1;
  if (loss >= kRaiseLoss || concealed >= kRaiseConcealed) {
    ms_ = kLossyMs;
    clean_ = 0;
    return ms_;
  }
  // An interval with too little to judge (silence, nothing subscribed) neither counts
  // as clean nor breaks a clean run.
  if (loss < 0 && concealed < 0) return ms_;
  if (loss < kCleanLoss && concealed < kCleanConcealed) {
    if (ms_ != kNormalMs && ++clean_ >= kCleanIntervals) {
      ms_ = kNormalMs;
      clean_ = 0;
    }
  } else {
    clean_ = 0;
  }
  return ms_;
}

}  // namespace parley::sdk
