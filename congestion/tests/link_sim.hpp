// A synthetic path for the bandwidth estimator's tests: a sender pacing 1200-byte
// packets at the estimator's target, a bottleneck of a given capacity with a drop-tail
// queue, random loss, a fixed propagation delay, and transport-cc feedback every 50 ms
// reporting, in order, every packet whose fate the receiver knew when it sent the
// feedback, which takes `return_us` to come back. Deterministic (seeded).
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "parley/congestion/bandwidth_estimator.hpp"

namespace parley::congestion {

class LinkSim {
 public:
  int64_t capacity_bps = 1'000'000;
  double loss = 0;                   ///< random loss before the bottleneck, 0..1
  int64_t queue_limit_us = 300'000;  ///< drop-tail: a packet that would wait longer is lost
  int64_t propagation_us = 20'000;
  int64_t return_us = 20'000;  ///< the feedback's way back
  int64_t app_limit_bps = 0;   ///< the sender has no more than this to send (0: no limit)

  explicit LinkSim(BandwidthEstimator& bwe, uint32_t seed = 7) : bwe_(bwe), rng_(seed) {}

  /// Runs the sender, link and feedback for `duration_us`; records the target every
  /// feedback in `trace` (time, bps) when given.
  void Run(int64_t duration_us, std::vector<std::pair<int64_t, int64_t>>* trace = nullptr) {
    int64_t end = now_ + duration_us;
    while (now_ < end) {
      int64_t next_feedback = now_ + 50'000;
      while (next_send_ < next_feedback) Send(next_send_);
      now_ = next_feedback;
      Feedback();
      if (trace) trace->emplace_back(now_, bwe_.target_bps());
    }
  }
  [[nodiscard]] int64_t now() const { return now_; }
  /// Bits the bottleneck delivered over the last Run (for "settles near the cap").
  [[nodiscard]] int64_t delivered_bytes() const { return delivered_bytes_; }

 private:
  void Send(int64_t t) {
    constexpr uint32_t kSize = 1200;
    PacketResult p{seq_++, t, -1, kSize};
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) >= loss) {
      int64_t start = std::max(t, link_free_us_);
      if (start - t <= queue_limit_us) {
        link_free_us_ = start + static_cast<int64_t>(kSize) * 8 * 1'000'000 / capacity_bps;
        p.recv_us = link_free_us_ + propagation_us;
        delivered_bytes_ += kSize;
      }
    }
    pending_.push_back(p);
    int64_t rate = app_limit_bps > 0 ? std::min(bwe_.target_bps(), app_limit_bps) : bwe_.target_bps();
    next_send_ = t + static_cast<int64_t>(kSize) * 8 * 1'000'000 / std::max<int64_t>(rate, 1);
  }
  void Feedback() {
    std::vector<PacketResult> report;
    while (!pending_.empty()) {
      const PacketResult& p = pending_.front();
      int64_t reported_at = now_ - return_us;  // when the receiver wrote this feedback
      bool known = p.lost() ? p.send_us + propagation_us <= reported_at : p.recv_us <= reported_at;
      if (!known) break;
      report.push_back(p);
      pending_.pop_front();
    }
    if (!report.empty()) bwe_.OnFeedback(now_, report);
  }

  BandwidthEstimator& bwe_;
  std::mt19937 rng_;
  int64_t now_ = 0, next_send_ = 0, link_free_us_ = 0, delivered_bytes_ = 0;
  uint16_t seq_ = 0;
  std::deque<PacketResult> pending_;
};

}  // namespace parley::congestion
