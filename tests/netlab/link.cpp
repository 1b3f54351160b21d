#include "link.hpp"

#include <algorithm>

namespace parley::netlab {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

void Direction::Configure(const Impairment& impairment) {
  if (impairment.down && !imp_.down) {
    stats_.lost_outage += heap_.size();
    heap_ = {};
  }
  if (impairment.rate_bps != imp_.rate_bps) link_free_at_ = {};
  imp_ = impairment;
}

void Direction::Offer(std::span<const uint8_t> packet, TimePoint now) {
  ++stats_.offered;
  if (imp_.down) {
    ++stats_.lost_outage;
    return;
  }
  if (imp_.burst_p > 0) {
    // One step of the Gilbert–Elliott chain per packet, then the state decides.
    burst_bad_ = burst_bad_ ? !Chance(imp_.burst_r) : Chance(imp_.burst_p);
    if (burst_bad_) {
      ++stats_.lost_burst;
      return;
    }
  }
  if (Chance(imp_.loss)) {
    ++stats_.lost_random;
    return;
  }
  if (heap_.size() >= kMaxInFlight) {
    ++stats_.lost_queue;
    return;
  }
  TimePoint sent = now;
  if (imp_.rate_bps) {
    // A serial link: the packet starts when the ones before it are out. What waits is
    // the queue; a packet that would overfill it is dropped (drop-tail).
    TimePoint start = std::max(now, link_free_at_);
    const double rate = static_cast<double>(imp_.rate_bps), size = static_cast<double>(packet.size());
    double queued_bytes = static_cast<double>(duration_cast<microseconds>(start - now).count()) * 1e-6 * rate / 8;
    if (queued_bytes + size > imp_.queue_bytes) {
      ++stats_.lost_queue;
      return;
    }
    link_free_at_ = start + microseconds(static_cast<int64_t>(size * 8 * 1e6 / rate));
    sent = link_free_at_;
  }
  auto delay = microseconds(static_cast<int64_t>(imp_.delay_ms) * 1000);
  if (imp_.jitter_ms) {
    double j = (uniform_(rng_) * 2 - 1) * imp_.jitter_ms * 1000;
    delay = std::max(microseconds(0), delay + microseconds(static_cast<int64_t>(j)));
  }
  TimePoint due = sent + delay;
  if (!imp_.reorder) due = std::max(due, last_due_);
  last_due_ = std::max(last_due_, due);
  std::vector<uint8_t> bytes(packet.begin(), packet.end());
  if (Chance(imp_.duplicate) && heap_.size() + 1 < kMaxInFlight) {
    ++stats_.duplicated;
    Schedule(bytes, due);
  }
  Schedule(std::move(bytes), due);
}

void Direction::Schedule(std::vector<uint8_t> bytes, TimePoint due) {
  heap_.push(Pending{due, next_order_++, std::move(bytes)});
}

std::vector<std::vector<uint8_t>> Direction::TakeDue(TimePoint now) {
  std::vector<std::vector<uint8_t>> out;
  while (!heap_.empty() && heap_.top().due <= now) {
    // top() is const; the element is removed right after, so moving its bytes is safe.
    auto& top = const_cast<Pending&>(heap_.top());
    stats_.delivered_bytes += top.bytes.size();
    out.push_back(std::move(top.bytes));
    heap_.pop();
  }
  stats_.delivered += out.size();
  return out;
}

std::optional<TimePoint> Direction::NextDue() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().due;
}

}  // namespace parley::netlab
