// One direction of an emulated link: packets are offered at a time, an Impairment
// decides their fate (lost, queued behind a bandwidth cap, delayed, duplicated), and
// TakeDue(now) hands out those whose delivery time has come, in delivery order.
// Deterministic for a seed and the times it is given; the emulator (netem_main.cpp)
// drives it with the steady clock, the tests with made-up times.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <vector>

#include "impairment.hpp"

namespace parley::netlab {

using TimePoint = std::chrono::steady_clock::time_point;

struct DirectionStats {
  uint64_t offered = 0, delivered = 0, delivered_bytes = 0;
  uint64_t lost_random = 0, lost_burst = 0, lost_queue = 0, lost_outage = 0, duplicated = 0;
};

class Direction {
 public:
  /// At most this many packets wait at once (delayed or queued); more are dropped as
  /// queue losses, so a long delay on a fast link cannot take unbounded memory.
  static constexpr size_t kMaxInFlight = 20000;

  explicit Direction(uint64_t seed) : rng_(seed) {}

  /// Takes effect for packets offered from now on; going down also loses every packet
  /// in flight (a cut cable loses what was on it).
  void Configure(const Impairment& impairment);
  const Impairment& impairment() const { return imp_; }

  void Offer(std::span<const uint8_t> packet, TimePoint now);
  /// Packets due at or before `now`, earliest first (equal times in offer order).
  std::vector<std::vector<uint8_t>> TakeDue(TimePoint now);
  std::optional<TimePoint> NextDue() const;
  size_t in_flight() const { return heap_.size(); }
  const DirectionStats& stats() const { return stats_; }

 private:
  struct Pending {
    TimePoint due;
    uint64_t order;
    std::vector<uint8_t> bytes;
    bool operator>(const Pending& o) const { return due != o.due ? due > o.due : order > o.order; }
  };
  bool Chance(double p) { return p > 0 && (p >= 1 || uniform_(rng_) < p); }
  void Schedule(std::vector<uint8_t> bytes, TimePoint due);

  Impairment imp_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  bool burst_bad_ = false;
  TimePoint link_free_at_{};  ///< when the capped link finishes sending what it holds
  TimePoint last_due_{};      ///< the latest delivery time so far (no reordering)
  uint64_t next_order_ = 0;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> heap_;
  DirectionStats stats_;
};

}  // namespace parley::netlab
