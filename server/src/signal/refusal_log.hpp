// Rate limit of the "request refused" log lines: a client sending a flood of bad
// requests must not be able to flood the server's log (and its disk) with them.
#pragma once

#include <cstdint>
#include <optional>

#include "signal/clock.hpp"

namespace parley::server {

/// A token bucket of log lines: a burst of kBurst lines, then kPerSecond lines a
/// second. Refusals past the allowance are counted, and the count is handed to the
/// next line that is admitted, so the log still says how many it left out.
class RefusalLog {
 public:
  static constexpr double kBurst = 50;
  static constexpr double kPerSecond = 10;

  /// One refusal at `now`. nullopt: do not log it (it was counted). Otherwise log it,
  /// after a line naming the returned number of refusals left out before it (if > 0).
  std::optional<uint64_t> Admit(Clock::time_point now);

 private:
  double tokens_ = kBurst;
  Clock::time_point at_{};  ///< when tokens_ was last refilled
  uint64_t skipped_ = 0;    ///< refusals not logged since the last admitted one
};

}  // namespace parley::server
