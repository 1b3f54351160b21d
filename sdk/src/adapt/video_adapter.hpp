// What the video encoder should produce for a bandwidth estimate: bitrate, frame rate
// and resolution, stepped down when the bits per pixel get too few and back up when
// the estimate allows, with the app's degradation preference deciding which gives way
// first (keep fluency: resolution drops; keep clarity: frame rate drops; balanced:
// both in turn). Changes in resolution or frame rate restart the encoder's rate
// control, so stepping up waits until the estimate has allowed the next level for a
// while, and never happens within a few seconds of stepping down.
//
// Pure computation on times passed in (tested with bitrate sequences). One owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::sdk::adapt {

enum class DegradationPreference {
  kMaintainFramerate,   ///< keep fluency: lower the resolution first (calls, screen motion)
  kMaintainResolution,  ///< keep clarity: lower the frame rate first (documents, slides)
  kBalanced,            ///< a little of each, in turn
};

struct VideoSetting {
  int64_t bitrate_bps = 0;
  int width = 0, height = 0, fps = 0;
  bool operator==(const VideoSetting& o) const {
    return bitrate_bps == o.bitrate_bps && width == o.width && height == o.height && fps == o.fps;
  }
};

class VideoAdapter {
 public:
  struct Config {
    int width = 640, height = 360, fps = 30;  ///< what the app asked for: the top level
    int64_t max_bps = 1'200'000;              ///< the app's video bitrate ceiling
    int64_t min_bps = 50'000;                 ///< the encoder is never asked for less
    DegradationPreference preference = DegradationPreference::kMaintainFramerate;
    /// Below this many bits per pixel (per frame) a level looks bad: step down.
    double low_bits_per_pixel = 0.04;
    /// A level is entered again only above this (hysteresis against flapping).
    double high_bits_per_pixel = 0.07;
    int64_t up_delay_us = 4'000'000;  ///< the next level must be affordable this long
  };
  explicit VideoAdapter(Config config);

  /// The setting for the video share of the estimate at `now_us`.
  VideoSetting Update(int64_t now_us, int64_t video_bps);
  [[nodiscard]] VideoSetting current() const;
  /// The least degraded level allowed, whatever the estimate (the device's limit when
  /// the encoder cannot keep up; 0: none). Raising it above the current level steps
  /// down at once; lowering it gives back the level it held at once when the estimate
  /// affords it (otherwise the estimate steps up as usual).
  VideoSetting SetFloor(int64_t now_us, size_t floor);
  [[nodiscard]] size_t floor() const { return floor_; }
  /// Level `level`'s pixels per second (width x height x fps): what encoding it costs,
  /// roughly.
  [[nodiscard]] int64_t PixelRate(size_t level) const;
  /// 0 = the app's setting; higher = more degraded.
  [[nodiscard]] size_t level() const { return level_; }
  [[nodiscard]] size_t levels() const { return levels_.size(); }

 private:
  struct Level {
    int width, height, fps;
  };
  [[nodiscard]] double BitsPerPixel(const Level& l, int64_t bps) const;

  Config config_;
  std::vector<Level> levels_;
  size_t level_ = 0;
  size_t floor_ = 0;
  int64_t bps_ = 0;
  int64_t affordable_since_us_ = -1;  ///< since when the next level up has been affordable
  int64_t last_down_us_ = -1;
};

}  // namespace parley::sdk::adapt
