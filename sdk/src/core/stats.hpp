// The engine's statistics (OnStats), computed from the totals the connections report
// at each heartbeat: rates are deltas over the elapsed time. Each report also carries
// the interval's counts as the network quality samples (core/network_quality.hpp). A
// unit of its own, driven by `now`, so its rules are tested without a network or a
// clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/network_quality.hpp"
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
  struct Report {
    EngineStats stats;  ///< `quality` is left for the caller (the filtered bands)
    UplinkSample up;    ///< sent and reported lost, rtt; the caller adds the rest
    DownlinkSample down;
    /// The subscribe connection's totals went backwards (a new connection): its counts
    /// in this interval mean nothing.
    bool subscribe_restarted = false;
    /// Remote audio that reached the decoders in this interval, and the part of it they
    /// concealed (48 kHz samples; a new connection's counts are added, not lost).
    uint64_t audio_samples = 0, audio_concealed = 0;
  };

  /// Adds the totals measured at `now`. The first sample only starts the window
  /// (nullopt); each later one reports the deltas since the one before. Totals that go
  /// backwards (a new connection) count as nothing sent or received.
  std::optional<Report> Add(const media::RtpTotals& pub, const media::RtpTotals& sub, const Frames& frames,
                            Clock::time_point now);

 private:
  Clock::time_point at_{};
  media::RtpTotals pub_, sub_;
  uint64_t frames_ = 0;
  uint64_t audio_samples_ = 0, audio_concealed_ = 0;  ///< since the call began, over connections
};

}  // namespace parley::sdk
