// How fast the sender may send: a bandwidth estimate from transport-wide congestion
// control feedback (draft-holmer-rmcat-transport-wide-cc-extensions: the receiver
// reports when each packet arrived, or that it did not).
// Two senders run it: libparley's publisher towards the SFU, and the SFU towards each
// subscriber (server/src/sfu/send_side_bwe.hpp).
//
// Two estimates, and the lower one wins (the approach of draft-ietf-rmcat-gcc):
// * delay-based: packets are grouped into bursts (sent within 5 ms); the change in
//   one-way delay between consecutive bursts is accumulated and smoothed, and the slope
//   of that curve (a least-squares trend over the last 20 bursts) says whether queues
//   are growing along the path. A trend above an adaptive threshold is overuse: the
//   rate drops to 85 % of what the receiver acknowledged. Below minus the threshold the
//   queues drain (hold); otherwise the rate grows, multiplicatively (12 % a second) far
//   from the last point of congestion and by about a packet per round trip near it,
//   never beyond 1.5 times what was acknowledged (an idle encoder does not earn a rate
//   it never used).
// * loss-based: over each window of at least 200 ms, under 2 % loss the rate grows by
//   12 % a second, never beyond 1.5 times what was acknowledged either. Loss alone is not taken for congestion: on
//   radio links and the lab's lossy profiles packets vanish at random whatever the rate, and FEC and NACK repair them;
//   lowering the rate would only make the picture worse without making the path better. Loss counts as congestion when
//   the path shows it is full: a queue grows (the delay trend overuses: what is sent exceeds what is delivered) or
//   stands (every packet of the window waited 30 ms longer than the path's lowest delay of the last 30 s, as behind a
//   full drop-tail queue). Congestive loss over 10 % cuts the rate by half the loss fraction (from what arrived, at
//   most once per round trip plus 300 ms); between 2 and 10 % it holds. Random loss lets the rate grow as if there were
//   none, up to 50 %: beyond that the path is broken and the rate comes down anyway.
//   The limit: a policer that drops without queueing (no delay to see) looks like
//   random loss, and is left to the delay-based part and the receiver's own limits.
// * the round trip comes from the feedback's own timing (round_trip_us()).
// * a probe's answer (OnProbe, probe_meter.hpp) above the estimate raises both parts to
//   it: how a sender that holds back learns that the path has room.
//
// Pure computation on times passed in: fed by the media layer's feedback, tested with
// synthetic links. Not thread-safe (one owner).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

namespace parley::congestion {

/// One packet the sender sent with a transport-wide sequence number, as the feedback
/// reported it. Times in microseconds: `send_us` on the sender's clock, `recv_us` on the
/// receiver's (only differences between packets are used), negative when lost.
struct PacketResult {
  uint16_t seq = 0;
  int64_t send_us = 0;
  int64_t recv_us = -1;
  uint32_t size = 0;  ///< bytes
  /// A probe packet (probe_meter.hpp): it counts for the delay trend and the loss, not
  /// for the acknowledged rate (padding sent once says nothing of the media rate).
  bool probe = false;
  [[nodiscard]] bool lost() const { return recv_us < 0; }
};

enum class BandwidthUsage { kNormal, kOverusing, kUnderusing };

/// The delay-based trend: inter-burst delay variation → trend → overuse detection.
class DelayTrend {
 public:
  /// Adds one packet's result (in send order); returns true when a burst completed and
  /// the usage was re-evaluated.
  bool Add(const PacketResult& p);
  [[nodiscard]] BandwidthUsage usage() const { return usage_; }
  /// The last trend (ms of delay growth per ms, scaled as the detector compares it).
  [[nodiscard]] double trend() const { return modified_trend_; }
  [[nodiscard]] double threshold() const { return threshold_; }

 private:
  struct Burst {
    int64_t first_send_us = -1, last_send_us = 0, last_recv_us = 0;
    size_t packets = 0;
  };
  void OnBurstDelta(double send_delta_ms, double recv_delta_ms, int64_t recv_us);
  void Detect(double trend, double send_delta_ms, int64_t now_us);

  Burst current_, previous_;
  // Trend over (arrival ms, smoothed accumulated delay ms).
  std::deque<std::pair<double, double>> window_;
  double accumulated_ms_ = 0, smoothed_ms_ = 0;
  int64_t first_recv_us_ = -1;
  size_t deltas_ = 0;
  double modified_trend_ = 0;
  double threshold_ = 12.5;
  int64_t last_threshold_update_us_ = -1;
  double overuse_ms_ = -1;
  int overuse_count_ = 0;
  double previous_trend_ = 0;
  BandwidthUsage usage_ = BandwidthUsage::kNormal;
};

/// The round trip from transport-wide feedback. A feedback message arrives a round trip
/// after the newest packet it acknowledges was sent, plus however long the receiver held
/// that packet before reporting (our SFU reports every 50 ms, so 0 to 50 ms; Chromium
/// and webrtcbin, receiving from the SFU, about as often or once a frame). The lowest
/// sample over the last second removes most of that wait while still following a queue
/// that builds up. RTCP receiver reports would give the round trip too, but only every
/// few seconds, through an asynchronous stats query on another thread; the feedback is
/// already here, on the thread that needs it, twenty times a second.
class RoundTrip {
 public:
  /// One sample: the newest acknowledged packet was sent at `send_us`, the feedback
  /// arrived at `now_us` (same clock). Samples out of range (clocks that disagree,
  /// more than 10 s) are ignored.
  void Add(int64_t now_us, int64_t send_us);
  [[nodiscard]] int64_t value() const { return value_; }

 private:
  static constexpr size_t kSlots = 64;
  std::pair<int64_t, int64_t> samples_[kSlots] = {};  // (at, rtt) ring
  size_t next_ = 0, count_ = 0;
  int64_t value_ = 0;
};

class BandwidthEstimator {
 public:
  struct Config {
    int64_t min_bps = 60'000;
    int64_t start_bps = 800'000;
    int64_t max_bps = 2'500'000;
  };
  explicit BandwidthEstimator(Config config);

  /// The results one feedback message carried (in sequence order), received at `now_us`
  /// on the sender's clock (the clock of `send_us`).
  void OnFeedback(int64_t now_us, std::span<const PacketResult> packets);
  /// A probe cluster's answer (probe_meter.hpp): the path carried `bps`. An answer above
  /// the estimate raises it there at once (growth from feedback is bounded by what was
  /// acknowledged, which a sender holding back never raises); a lower one changes
  /// nothing (the delay and loss rules bring an estimate down, a probe does not).
  void OnProbe(int64_t bps);

  /// What the sender may send now (bits per second), within the configured bounds.
  [[nodiscard]] int64_t target_bps() const;
  [[nodiscard]] int64_t delay_based_bps() const { return delay_bps_; }
  [[nodiscard]] int64_t loss_based_bps() const { return loss_bps_; }
  /// What the receiver acknowledged over the last half second (0 = not known yet).
  [[nodiscard]] int64_t acked_bps() const { return acked_bps_; }
  /// Loss over the last completed loss window, 0..1.
  [[nodiscard]] double loss_fraction() const { return last_loss_; }
  [[nodiscard]] BandwidthUsage usage() const { return trend_.usage(); }
  /// The round trip, measured from the feedback: the time from sending the newest packet
  /// a feedback acknowledges to receiving that feedback, the lowest over the last second
  /// (0 = not measured yet). See RoundTrip below for why this and not RTCP's.
  [[nodiscard]] int64_t round_trip_us() const { return rtt_.value(); }
  /// Packets in the acknowledged-rate window (at most kMaxAcked).
  [[nodiscard]] size_t acked_window() const { return acked_.size(); }
  /// Whether the last completed loss window looked like a full path (see above).
  [[nodiscard]] bool congested() const { return last_congested_; }

 private:
  void UpdateAcked(const PacketResult& p);
  void UpdateDelayBased(int64_t now_us);
  void UpdateLossBased(int64_t now_us);
  [[nodiscard]] bool WindowShowsAFullPath(int64_t now_us);
  [[nodiscard]] int64_t Clamp(int64_t bps) const;

  Config config_;
  DelayTrend trend_;
  int64_t delay_bps_, loss_bps_;
  // Acknowledged rate: received bytes over a sliding 500 ms of receive time, at most
  // kMaxAcked packets (500 ms at 90 Mbit/s of 1,200-byte packets).
  static constexpr size_t kMaxAcked = 4096;
  std::deque<std::pair<int64_t, uint32_t>> acked_;  // (recv_us, bytes)
  int64_t acked_bytes_ = 0, acked_bps_ = 0;
  // Rate control.
  enum class State { kHold, kIncrease, kDecrease } state_ = State::kIncrease;
  int64_t last_update_us_ = -1;
  double link_capacity_kbps_ = -1, link_capacity_var_ = 0.4;  ///< around the rates at congestion
  // Loss window.
  int64_t loss_window_start_us_ = -1, last_loss_update_us_ = -1, last_loss_decrease_us_ = INT64_MIN / 2;
  size_t window_sent_ = 0, window_lost_ = 0;
  double last_loss_ = 0, smoothed_loss_ = 0;
  bool last_congested_ = false;
  RoundTrip rtt_;
  // What the window's delivered packets say about queues along the path.
  struct Delivered {
    int64_t min_delay_us = 0;  ///< lowest one-way delay (receiver's clock minus ours)
    size_t packets = 0;
  } delivered_;
  // Lowest one-way delay, in 5 s buckets over the last 30 s.
  static constexpr size_t kDelayBuckets = 6;
  int64_t bucket_min_us_[kDelayBuckets] = {};
  int64_t bucket_start_us_ = -1;
  size_t bucket_ = 0, buckets_used_ = 0;
};

}  // namespace parley::congestion
