#include "parley/congestion/bandwidth_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace parley::congestion {
namespace {

constexpr int64_t kBurstUs = 5'000;          // packets sent this close together form one burst
constexpr size_t kTrendWindow = 20;          // bursts the trend is fitted over
constexpr double kSmoothing = 0.9;           // of the accumulated delay
constexpr double kTrendGain = 4.0;           // the trend as the detector compares it
constexpr double kOveruseMs = 10.0;          // sustained this long before it counts
constexpr double kThresholdUp = 0.0087;      // threshold adaptation when the trend is above it
constexpr double kThresholdDown = 0.039;     // ... and below it
constexpr int64_t kAckedWindowUs = 500'000;  // acknowledged rate window
constexpr int64_t kLossWindowUs = 200'000;   // loss evaluation window
constexpr double kDecreaseFactor = 0.85;     // of the acknowledged rate, on overuse
constexpr double kIncreasePerSecond = 1.12;  // multiplicative growth far from congestion
constexpr int64_t kRttWindowUs = 1'000'000;  // the round trip is the lowest sample this recent
constexpr int64_t kMaxRttUs = 10'000'000;    // a sample beyond this is a clock mismatch
// A window whose every packet waited this much longer than the path's lowest delay is
// behind a standing queue: more than jitter leaves, less than a full drop-tail queue
// (hundreds of ms on the links we meet, 50 ms on shallow ones).
constexpr int64_t kQueueUs = 30'000;
constexpr int64_t kDelayBucketUs = 5'000'000;
constexpr double kHopelessLoss = 0.5;  // random or not, past this the rate comes down

}  // namespace

bool DelayTrend::Add(const PacketResult& p) {
  if (p.lost()) return false;
  if (current_.packets == 0) {
    current_ = {p.send_us, p.send_us, p.recv_us, 1};
    return false;
  }
  if (p.send_us < current_.first_send_us) return false;  // reordered into an earlier burst: ignored
  if (p.send_us - current_.first_send_us <= kBurstUs) {
    current_.last_send_us = std::max(current_.last_send_us, p.send_us);
    current_.last_recv_us = std::max(current_.last_recv_us, p.recv_us);
    ++current_.packets;
    return false;
  }
  bool evaluated = false;
  if (previous_.packets != 0) {
    OnBurstDelta(static_cast<double>(current_.last_send_us - previous_.last_send_us) / 1000.0,
                 static_cast<double>(current_.last_recv_us - previous_.last_recv_us) / 1000.0, current_.last_recv_us);
    evaluated = true;
  }
  previous_ = current_;
  current_ = {p.send_us, p.send_us, p.recv_us, 1};
  return evaluated;
}

void DelayTrend::OnBurstDelta(double send_delta_ms, double recv_delta_ms, int64_t recv_us) {
  if (first_recv_us_ < 0) first_recv_us_ = recv_us;
  accumulated_ms_ += recv_delta_ms - send_delta_ms;
  smoothed_ms_ = kSmoothing * smoothed_ms_ + (1 - kSmoothing) * accumulated_ms_;
  window_.emplace_back(static_cast<double>(recv_us - first_recv_us_) / 1000.0, smoothed_ms_);
  if (window_.size() > kTrendWindow) window_.pop_front();
  deltas_ = std::min<size_t>(deltas_ + 1, 1000);
  double trend = 0;
  if (window_.size() == kTrendWindow) {  // least-squares slope of delay over arrival time
    double mx = 0, my = 0;
    for (const auto& [x, y] : window_) {
      mx += x;
      my += y;
    }
    mx /= static_cast<double>(window_.size());
    my /= static_cast<double>(window_.size());
    double num = 0, den = 0;
    for (const auto& [x, y] : window_) {
      num += (x - mx) * (y - my);
      den += (x - mx) * (x - mx);
    }
    trend = den > 0 ? num / den : 0;
  }
  modified_trend_ = static_cast<double>(std::min<size_t>(deltas_, 60)) * trend * kTrendGain;
  Detect(modified_trend_, send_delta_ms, recv_us);
}

void DelayTrend::Detect(double trend, double send_delta_ms, int64_t now_us) {
  if (window_.size() < kTrendWindow) {
    usage_ = BandwidthUsage::kNormal;
    return;
  }
  if (trend > threshold_) {
    overuse_ms_ = overuse_ms_ < 0 ? send_delta_ms / 2 : overuse_ms_ + send_delta_ms;
    ++overuse_count_;
    // Sustained, more than one burst, and not already easing off.
    if (overuse_ms_ > kOveruseMs && overuse_count_ > 1 && trend >= previous_trend_) {
      overuse_ms_ = 0;
      overuse_count_ = 0;
      usage_ = BandwidthUsage::kOverusing;
    }
  } else if (trend < -threshold_) {
    overuse_ms_ = -1;
    overuse_count_ = 0;
    usage_ = BandwidthUsage::kUnderusing;
  } else {
    overuse_ms_ = -1;
    overuse_count_ = 0;
    usage_ = BandwidthUsage::kNormal;
  }
  previous_trend_ = trend;
  // The threshold follows the trend's own size, so that competing flows and noisy links
  // do not keep it triggering (slowly up, faster down); spikes far above it are ignored.
  if (last_threshold_update_us_ < 0) last_threshold_update_us_ = now_us;
  double magnitude = std::fabs(trend);
  double dt_ms = std::min(static_cast<double>(now_us - last_threshold_update_us_) / 1000.0, 100.0);
  last_threshold_update_us_ = now_us;
  if (magnitude > threshold_ + 15.0) return;
  double k = magnitude < threshold_ ? kThresholdDown : kThresholdUp;
  threshold_ = std::clamp(threshold_ + k * (magnitude - threshold_) * std::max(dt_ms, 0.0), 6.0, 600.0);
}

void RoundTrip::Add(int64_t now_us, int64_t send_us) {
  int64_t rtt = now_us - send_us;
  if (rtt < 0 || rtt > kMaxRttUs) return;
  samples_[next_] = {now_us, rtt};
  next_ = (next_ + 1) % kSlots;
  count_ = std::min(count_ + 1, kSlots);
  int64_t lowest = rtt;
  for (size_t i = 0; i < count_; ++i)
    if (samples_[i].first >= now_us - kRttWindowUs) lowest = std::min(lowest, samples_[i].second);
  value_ = lowest;
}

BandwidthEstimator::BandwidthEstimator(Config config)
    : config_(config), delay_bps_(config.start_bps), loss_bps_(config.start_bps) {}

int64_t BandwidthEstimator::Clamp(int64_t bps) const {
  return std::clamp(bps, config_.min_bps, config_.max_bps);
}

int64_t BandwidthEstimator::target_bps() const {
  return Clamp(std::min(delay_bps_, loss_bps_));
}

void BandwidthEstimator::OnFeedback(int64_t now_us, std::span<const PacketResult> packets) {
  int64_t newest_send_us = INT64_MIN;
  for (const PacketResult& p : packets) {
    ++window_sent_;
    if (p.lost()) {
      ++window_lost_;
      continue;
    }
    newest_send_us = std::max(newest_send_us, p.send_us);
    if (!p.probe) UpdateAcked(p);
    (void)trend_.Add(p);
    int64_t delay_us = p.recv_us - p.send_us;  // receiver's clock minus ours: only compared
    delivered_.min_delay_us = delivered_.packets == 0 ? delay_us : std::min(delivered_.min_delay_us, delay_us);
    ++delivered_.packets;
  }
  if (newest_send_us != INT64_MIN) rtt_.Add(now_us, newest_send_us);
  UpdateDelayBased(now_us);
  UpdateLossBased(now_us);
}

void BandwidthEstimator::OnProbe(int64_t bps) {
  bps = Clamp(bps);
  if (bps <= target_bps()) return;
  delay_bps_ = std::max(delay_bps_, bps);
  loss_bps_ = std::max(loss_bps_, bps);
  // Far above the last point of congestion: growth from here is multiplicative again.
  if (link_capacity_kbps_ > 0 && static_cast<double>(bps) / 1000.0 > 1.5 * link_capacity_kbps_)
    link_capacity_kbps_ = -1;
}

void BandwidthEstimator::UpdateAcked(const PacketResult& p) {
  // Arrival times are the receiver's word. One that goes back by more than the window
  // (its clock jumped) starts the window again; and the window never holds more than
  // kMaxAcked packets, whatever times it is told.
  if (!acked_.empty() && p.recv_us < acked_.back().first - kAckedWindowUs) {
    acked_.clear();
    acked_bytes_ = 0;
  }
  if (acked_.size() >= kMaxAcked) {
    acked_bytes_ -= acked_.front().second;
    acked_.pop_front();
  }
  acked_.emplace_back(p.recv_us, p.size);
  acked_bytes_ += p.size;
  while (!acked_.empty() && acked_.front().first < p.recv_us - kAckedWindowUs) {
    acked_bytes_ -= acked_.front().second;
    acked_.pop_front();
  }
  int64_t span = acked_.back().first - acked_.front().first;
  if (span >= kAckedWindowUs / 2) acked_bps_ = acked_bytes_ * 8 * 1'000'000 / span;
}

void BandwidthEstimator::UpdateDelayBased(int64_t now_us) {
  int64_t rtt_us = rtt_.value();
  int64_t dt_us = last_update_us_ < 0 ? 0 : std::clamp<int64_t>(now_us - last_update_us_, 0, 1'000'000);
  last_update_us_ = now_us;
  switch (trend_.usage()) {
    case BandwidthUsage::kOverusing:
      if (state_ != State::kDecrease) {
        double base = acked_bps_ > 0 ? static_cast<double>(acked_bps_) : static_cast<double>(delay_bps_);
        delay_bps_ = std::min(delay_bps_, static_cast<int64_t>(kDecreaseFactor * base));
        // Where congestion happened: growth slows down near it next time.
        double kbps = base / 1000.0;
        if (link_capacity_kbps_ < 0) {
          link_capacity_kbps_ = kbps;
        } else {
          link_capacity_kbps_ = 0.95 * link_capacity_kbps_ + 0.05 * kbps;
          double err = link_capacity_kbps_ - kbps;
          link_capacity_var_ =
              std::clamp(0.95 * link_capacity_var_ + 0.05 * err * err / std::max(link_capacity_kbps_, 1.0), 0.4, 2.5);
        }
      }
      state_ = State::kDecrease;  // one decrease per overuse episode
      return;
    case BandwidthUsage::kUnderusing:
      state_ = State::kHold;  // queues are draining: let them
      return;
    case BandwidthUsage::kNormal: state_ = State::kIncrease; break;
  }
  if (dt_us == 0) return;
  int64_t before = delay_bps_;
  double kbps = static_cast<double>(delay_bps_) / 1000.0;
  double sigma = std::sqrt(link_capacity_var_ * std::max(link_capacity_kbps_, 1.0));
  if (link_capacity_kbps_ > 0 && kbps > link_capacity_kbps_ + 3 * sigma) link_capacity_kbps_ = -1;  // the link grew
  if (link_capacity_kbps_ > 0 && std::fabs(kbps - link_capacity_kbps_) < 3 * sigma) {
    // Near the last congestion point: about one packet per response time.
    double response_us = static_cast<double>(std::max<int64_t>(rtt_us, 0) + 100'000);
    double step = std::max(1000.0, 1200.0 * 8 * static_cast<double>(dt_us) / response_us);
    delay_bps_ += static_cast<int64_t>(step);
  } else {
    double factor = std::pow(kIncreasePerSecond, static_cast<double>(dt_us) / 1e6);
    delay_bps_ = static_cast<int64_t>(static_cast<double>(delay_bps_) * factor) + 1000;
  }
  // Never far beyond what the receiver saw arrive: an encoder that sends less (a still
  // picture) must not earn a rate the network never carried.
  if (acked_bps_ > 0) delay_bps_ = std::min(delay_bps_, std::max(before, acked_bps_ * 3 / 2 + 10'000));
  delay_bps_ = Clamp(delay_bps_);
}

bool BandwidthEstimator::WindowShowsAFullPath(int64_t now_us) {
  const Delivered& d = delivered_;
  if (d.packets == 0) return true;  // nothing arrived at all: no sign that the loss is random
  // The path's delay without a queue: the lowest one-way delay of the last 30 s (the
  // first packets of a call find the queue empty, so even an overshoot from the very
  // start is seen). The window's own lowest delay says whether every packet of it
  // waited: jitter alone leaves some packet near the bottom, a standing queue none.
  if (bucket_start_us_ < 0 || now_us - bucket_start_us_ >= kDelayBucketUs) {
    bucket_ = buckets_used_ == 0 ? 0 : (bucket_ + 1) % kDelayBuckets;
    buckets_used_ = std::min(buckets_used_ + 1, kDelayBuckets);
    bucket_min_us_[bucket_] = d.min_delay_us;
    bucket_start_us_ = now_us;
  }
  bucket_min_us_[bucket_] = std::min(bucket_min_us_[bucket_], d.min_delay_us);
  int64_t base_us = d.min_delay_us;
  for (size_t i = 0; i < buckets_used_; ++i) base_us = std::min(base_us, bucket_min_us_[i]);
  bool standing_queue = d.min_delay_us - base_us > kQueueUs;
  // A queue that is growing (what was sent faster than the path delivers, the
  // acknowledged rate falling behind the send rate) shows in the delay trend first.
  return standing_queue || trend_.usage() == BandwidthUsage::kOverusing || state_ == State::kDecrease;
}

void BandwidthEstimator::UpdateLossBased(int64_t now_us) {
  if (loss_window_start_us_ < 0) loss_window_start_us_ = last_loss_update_us_ = now_us;
  if (now_us - loss_window_start_us_ < kLossWindowUs || window_sent_ < 10) return;
  double loss = static_cast<double>(window_lost_) / static_cast<double>(window_sent_);
  last_loss_ = loss;
  // Whether the path is hopeless is a question for more than one window: 20 packets at
  // 30 % random loss lose over half of them now and then.
  smoothed_loss_ = 0.8 * smoothed_loss_ + 0.2 * loss;
  last_congested_ = WindowShowsAFullPath(now_us);
  // Loss on a path that shows no queue is random: repaired by FEC and retransmission,
  // and no reason to send less (see the header).
  bool random = !last_congested_ && smoothed_loss_ <= kHopelessLoss;
  double counted = random ? 0.0 : loss;
  if (counted < 0.02) {
    double dt = static_cast<double>(std::min<int64_t>(now_us - last_loss_update_us_, 1'000'000)) / 1e6;
    int64_t grown =
        Clamp(static_cast<int64_t>(static_cast<double>(loss_bps_) * std::pow(kIncreasePerSecond, dt)) + 1000);
    // Growth (as if lossless under random loss), but, like the delay-based part, not far
    // beyond what was sent (what arrived, with any random loss added back): an estimate
    // the path never carried is worth nothing. A sender that holds back (a subscriber on
    // a small layer) would otherwise see this part climb without bound after a loss-
    // based cut, and with it the estimate wherever the delay trend never saw the queue
    // (a drop-tail queue that filled within the trend's first bursts). It only stops
    // growth, never cuts: an encoder that sends less than it may (a still picture) would
    // otherwise drag the estimate down with it, step by step. Probes raise it
    // (OnProbe).
    if (acked_bps_ > 0) {
      double sent_bps = static_cast<double>(acked_bps_);
      if (random && loss > 0) sent_bps /= std::max(1 - smoothed_loss_, 1 - kHopelessLoss);
      grown = std::min(grown, std::max(loss_bps_, static_cast<int64_t>(1.5 * sent_bps) + 10'000));
    }
    loss_bps_ = grown;
    last_loss_update_us_ = now_us;
  } else if (counted > 0.10) {
    // At most once per round trip plus 300 ms (the loss of one decision must show before
    // the next), and from what actually arrived: a rate far above the link (an overshoot
    // into a drop-tail queue) comes down to the link, not just by half the loss.
    if (now_us - last_loss_decrease_us_ >= 300'000 + rtt_.value()) {
      int64_t base = acked_bps_ > 0 ? std::min(target_bps(), acked_bps_) : target_bps();
      loss_bps_ = Clamp(static_cast<int64_t>(static_cast<double>(base) * (1 - 0.5 * counted)));
      last_loss_decrease_us_ = now_us;
    }
    last_loss_update_us_ = now_us;
  } else {
    last_loss_update_us_ = now_us;  // hold
  }
  loss_window_start_us_ = now_us;
  window_sent_ = window_lost_ = 0;
  delivered_.packets = 0;
}

}  // namespace parley::congestion
