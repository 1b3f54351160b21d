#include "adapt/overuse_detector.hpp"

#include <algorithm>

namespace parley::sdk::adapt {

OveruseDetector::OveruseDetector(Config config) : config_(config), hold_us_(config.underuse_hold_us) {}

OveruseDetector::Verdict OveruseDetector::Frame(int64_t now_us, int64_t busy_us, int64_t late_us) {
  busy_us = std::max<int64_t>(0, busy_us);
  if (window_start_us_ < 0 || now_us < window_start_us_ || now_us - window_start_us_ > 4 * config_.window_us) {
    // The first frame, or the first after a pause (muted, republished): a new start.
    window_start_us_ = now_us - std::min(busy_us, config_.window_us);
    busy_us_ = busy_us;
    late_us_ = late_us;
    over_ = 0;
    room_since_us_ = -1;
    return Verdict::kNone;
  }
  busy_us_ += busy_us;
  late_us_ = late_us;
  const int64_t elapsed = now_us - window_start_us_;
  if (elapsed < config_.window_us) return Verdict::kNone;
  usage_ = static_cast<double>(busy_us_) / static_cast<double>(elapsed);
  const int64_t started = window_start_us_;
  window_start_us_ = now_us;
  busy_us_ = 0;

  const bool behind = late_us_ > config_.late_us;
  const bool on_time = late_us_ < config_.on_time_us;
  if (usage_ > config_.high || behind) {
    room_since_us_ = -1;
    if (++over_ < config_.overuse_windows) return Verdict::kNone;
    over_ = 0;
    if (last_underuse_us_ >= 0 && now_us - last_underuse_us_ < config_.failed_rampup_us)
      hold_us_ = std::min(hold_us_ * 2, config_.max_hold_us);
    last_underuse_us_ = -1;
    return Verdict::kOveruse;
  }
  over_ = 0;
  if (usage_ >= config_.low || !on_time) {
    room_since_us_ = -1;
    return Verdict::kNone;
  }
  if (room_since_us_ < 0) room_since_us_ = started;
  if (now_us - room_since_us_ < hold_us_) return Verdict::kNone;
  room_since_us_ = now_us;  // the next level back needs a hold of its own
  last_underuse_us_ = now_us;
  return Verdict::kUnderuse;
}

}  // namespace parley::sdk::adapt
