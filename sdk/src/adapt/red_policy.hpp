// When the audio sender puts a redundant copy in each packet (RED, RFC 2198).
//
// Redundancy doubles what audio sends (Opus at 32 kbit/s becomes about 64). On a path
// that loses packets at random that buys back most of the loss; on a path that loses
// them because it is full (a bandwidth cap, a drop-tail queue) it adds to the queue
// that drops them, and on a clean path it buys nothing. So, from what the bandwidth
// estimate's loss windows say (congestion/: bandwidth_estimator.hpp):
//   * on from the start: a call's first seconds are where loss hurts most, before any
//     loss was measured (a clean path turns it off after kCleanUs);
//   * off while the path looks full: for kQuietUs after the last window that showed a
//     queue (congested), whatever the loss;
//   * off once no window lost kLossyFraction or more for kCleanUs;
//   * on again when a window loses that much and no queue was seen for kQuietUs.
// Pure and deterministic: time is passed in.
#pragma once

#include <cstdint>

namespace parley::sdk::adapt {

class RedPolicy {
 public:
  static constexpr double kLossyFraction = 0.02;
  static constexpr int64_t kQuietUs = 3'000'000;
  static constexpr int64_t kCleanUs = 10'000'000;

  /// One loss window's verdict at `now_us`: the share of packets it lost and whether
  /// the path looked full. Returns whether redundancy is on now.
  bool Update(int64_t now_us, double loss, bool congested);
  [[nodiscard]] bool on() const { return on_; }

 private:
  bool started_ = false;
  bool on_ = true;
  int64_t last_congested_us_ = 0;
  int64_t last_lossy_us_ = 0;
  bool seen_congestion_ = false;
};

}  // namespace parley::sdk::adapt
