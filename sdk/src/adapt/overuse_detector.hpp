// Whether the device keeps up with video encoding, measured per window two ways: the
// share of wall-clock time the encoder is busy (from a frame entering it to its
// encoded output), and how late frames come out of it (from capture to encoded). A
// machine short of CPU shows one or the other: a slow encoder is busy all the time; a
// starved process (other load, a CPU quota) gets few frames through at all, each long
// after it was captured. A window is overused when the busy share is above `high` or
// the latest frame is more than `late_us` behind its capture. Overused for
// `overuse_windows` windows in a row, the encoder is overused:
// the caller degrades the video one level (and the app hears 0x01060101). Below `low`
// for `underuse_hold_us` it has room again: the caller gives levels back (at least one; usage() tells how much room
// there is). A window has room when the busy share is below `low` and frames are on time
// (`on_time_us`). A level given back that overuses again soon makes the next hold
// twice as long (up to
// `max_hold_us`), so a machine at its limit does not flap between two levels.
//
// Wall-clock time, not CPU time, because what matters is whether frames come out in
// time: a machine busy with other work cannot keep up either. Pure computation on
// times passed in (tested with synthetic frame sequences). One owner.
#pragma once

#include <cstdint>

namespace parley::sdk::adapt {

class OveruseDetector {
 public:
  struct Config {
    int64_t window_us = 1'000'000;
    double high = 0.85;            ///< busy share above which a window is overused
    double low = 0.45;             ///< busy share below which a window has room
    int64_t late_us = 300'000;     ///< a frame this far behind its capture: overused
    int64_t on_time_us = 100'000;  ///< frames within this of their capture: room
    int overuse_windows = 2;
    int64_t underuse_hold_us = 2'000'000;
    int64_t max_hold_us = 32'000'000;
    /// An overuse this soon after a level was given back doubles the next hold.
    int64_t failed_rampup_us = 10'000'000;
  };
  enum class Verdict { kNone, kOveruse, kUnderuse };

  OveruseDetector() : OveruseDetector(Config{}) {}
  explicit OveruseDetector(Config config);

  /// A frame came out of the encoder at `now_us` after `busy_us` in it, `late_us` after
  /// it was captured (-1: unknown).
  Verdict Frame(int64_t now_us, int64_t busy_us, int64_t late_us = -1);
  /// The busy share of the last complete window (0 before the first).
  [[nodiscard]] double usage() const { return usage_; }
  [[nodiscard]] int64_t hold_us() const { return hold_us_; }
  [[nodiscard]] const Config& config() const { return config_; }

 private:
  Config config_;
  int64_t window_start_us_ = -1;
  int64_t busy_us_ = 0;
  int64_t late_us_ = -1;  ///< the latest frame's, this window
  double usage_ = 0;
  int over_ = 0;                   ///< overused windows in a row
  int64_t room_since_us_ = -1;     ///< since when every window has had room
  int64_t last_underuse_us_ = -1;  ///< when a level was last given back
  int64_t hold_us_;
};

}  // namespace parley::sdk::adapt
