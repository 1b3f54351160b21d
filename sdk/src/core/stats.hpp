// The engine's statistics and network quality (OnStats, the weak-network warning and
// the recovered notice), computed from the totals the connections report at each
// heartbeat: rates are deltas over the elapsed time, quality bands come from the loss
// and the round-trip time. A unit of its own, driven by `now`, so its rules are
// tested without a network or a clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "media/media.hpp"
#include "parley/types.hpp"

namespace parley::sdk {

class StatsWindow {
 public:
  using Clock = std::chrono::steady_clock;

  /// What one sample says, besides the totals: decoded remote video frames so far (all
  /// streams) and the size of the last one.
  struct Frames {
    uint64_t decoded = 0;
    int width = 0, height = 0;
  };
  /// A warning for the application (OnOccurWarning).
  struct Warning {
    int32_t code = 0;
    std::string message;
  };
  struct Report {
    EngineStats stats;
    std::optional<Warning> warning;  ///< network weak (once) or recovered (once)
  };

  /// The quality band: 1 excellent .. 5 very bad, from the loss rate (0..1) and the
  /// round-trip time (ms; <0 unknown, taken as 0).
  static int Quality(double loss_rate, int rtt_ms);

  /// Adds the totals measured at `now`. The first sample only starts the window
  /// (nullopt); each later one reports the deltas since the one before. Totals that go
  /// backwards (a new connection) count as nothing sent or received.
  std::optional<Report> Add(const media::RtpTotals& pub, const media::RtpTotals& sub, const Frames& frames,
                            Clock::time_point now);

 private:
  Clock::time_point at_{};
  media::RtpTotals pub_, sub_;
  uint64_t frames_ = 0;
  bool weak_ = false;
};

}  // namespace parley::sdk
