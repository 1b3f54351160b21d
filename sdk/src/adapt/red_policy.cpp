#include "adapt/red_policy.hpp"

namespace parley::sdk::adapt {

bool RedPolicy::Update(int64_t now_us, double loss, bool congested) {
  if (!started_) {  // the start counts as lossy: nothing was measured yet
    started_ = true;
    last_lossy_us_ = now_us;
  }
  if (congested) {
    seen_congestion_ = true;
    last_congested_us_ = now_us;
  }
  if (loss >= kLossyFraction) last_lossy_us_ = now_us;
  bool quiet = !seen_congestion_ || now_us - last_congested_us_ >= kQuietUs;
  on_ = quiet && now_us - last_lossy_us_ < kCleanUs;
  return on_;
}

}  // namespace parley::sdk::adapt
