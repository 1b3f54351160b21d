#include "adapt/video_adapter.hpp"

#include <algorithm>

namespace parley::sdk::adapt {
namespace {

// Encoders want even dimensions (4:2:0 chroma).
int Even(double v) {
  return std::max(2, static_cast<int>(v) & ~1);
}

}  // namespace

VideoAdapter::VideoAdapter(Config config) : config_(config) {
  const int w = config_.width, h = config_.height, f = config_.fps;
  auto scaled = [&](double s, int fps) { return Level{Even(w * s), Even(h * s), std::max(1, fps)}; };
  // Resolution steps of 3/4, frame rate steps of 2/3, down to a quarter of the pixels
  // and 5 frames a second: below that video stops being worth its bits.
  switch (config_.preference) {
    case DegradationPreference::kMaintainFramerate:
      for (double s : {1.0, 0.75, 0.5, 0.375, 0.25}) levels_.push_back(scaled(s, f));
      levels_.push_back(scaled(0.25, f * 2 / 3));
      levels_.push_back(scaled(0.25, f / 2));
      break;
    case DegradationPreference::kMaintainResolution:
      for (int fps : {f, f * 2 / 3, f / 2, f / 3, f / 5}) levels_.push_back(scaled(1.0, std::max(fps, 5)));
      levels_.push_back(scaled(0.75, std::max(f / 5, 5)));
      levels_.push_back(scaled(0.5, std::max(f / 5, 5)));
      break;
    case DegradationPreference::kBalanced:
      levels_.push_back(scaled(1.0, f));
      levels_.push_back(scaled(1.0, f * 2 / 3));
      levels_.push_back(scaled(0.75, f * 2 / 3));
      levels_.push_back(scaled(0.75, f / 2));
      levels_.push_back(scaled(0.5, f / 2));
      levels_.push_back(scaled(0.5, std::max(f / 3, 5)));
      levels_.push_back(scaled(0.25, std::max(f / 3, 5)));
      break;
  }
  levels_.erase(std::unique(levels_.begin(), levels_.end(),
                            [](const Level& a, const Level& b) {
                              return a.width == b.width && a.height == b.height && a.fps == b.fps;
                            }),
                levels_.end());
  bps_ = config_.max_bps;
}

double VideoAdapter::BitsPerPixel(const Level& l, int64_t bps) const {
  double pixels_per_second = static_cast<double>(l.width) * l.height * l.fps;
  return pixels_per_second > 0 ? static_cast<double>(bps) / pixels_per_second : 0;
}

VideoSetting VideoAdapter::Update(int64_t now_us, int64_t video_bps) {
  bps_ = std::clamp(video_bps, config_.min_bps, config_.max_bps);
  // Down as far as needed, at once: a level that cannot be afforded freezes.
  bool stepped_down = false;
  while (level_ + 1 < levels_.size() &&
         (level_ < floor_ || BitsPerPixel(levels_[level_], bps_) < config_.low_bits_per_pixel)) {
    ++level_;
    stepped_down = true;
  }
  if (stepped_down) {
    last_down_us_ = now_us;
    affordable_since_us_ = -1;
    return current();
  }
  // Up one level at a time, once the level above has been affordable for a while.
  if (level_ > floor_ && BitsPerPixel(levels_[level_ - 1], bps_) >= config_.high_bits_per_pixel) {
    if (affordable_since_us_ < 0) affordable_since_us_ = now_us;
    bool settled = now_us - affordable_since_us_ >= config_.up_delay_us &&
                   (last_down_us_ < 0 || now_us - last_down_us_ >= config_.up_delay_us);
    if (settled) {
      --level_;
      affordable_since_us_ = -1;
    }
  } else {
    affordable_since_us_ = -1;
  }
  return current();
}

VideoSetting VideoAdapter::SetFloor(int64_t now_us, size_t floor) {
  floor = std::min(floor, levels_.size() - 1);
  const bool held_by_floor = floor < floor_ && level_ == floor_;
  floor_ = floor;
  // The levels the device's limit held (and the estimate affords) come back at once, in
  // one change: the overuse detector has already waited for room.
  if (held_by_floor && level_ > floor_ && BitsPerPixel(levels_[level_ - 1], bps_) >= config_.high_bits_per_pixel) {
    do {
      --level_;
    } while (level_ > floor_ && BitsPerPixel(levels_[level_ - 1], bps_) >= config_.high_bits_per_pixel);
    affordable_since_us_ = -1;
    return current();
  }
  return Update(now_us, bps_);
}

int64_t VideoAdapter::PixelRate(size_t level) const {
  const Level& l = levels_[std::min(level, levels_.size() - 1)];
  return static_cast<int64_t>(l.width) * l.height * l.fps;
}

VideoSetting VideoAdapter::current() const {
  const Level& l = levels_[level_];
  return {bps_, l.width, l.height, l.fps};
}

}  // namespace parley::sdk::adapt
