#include "signal/join_limiter.hpp"

#include <algorithm>

namespace parley::server {

bool JoinLimiter::Exceeded(int connection_failures, const std::string& address, Clock::time_point now) {
  if (ConnectionSpent(connection_failures)) return true;
  Bucket& b = BucketOf(address, now);
  Refill(b, now);
  return b.tokens < 1.0;
}

void JoinLimiter::CountFailure(int& connection_failures, const std::string& address, Clock::time_point now) {
  ++connection_failures;
  Bucket& b = BucketOf(address, now);
  Refill(b, now);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

JoinLimiter::Bucket& JoinLimiter::BucketOf(const std::string& address, Clock::time_point now) {
  auto it = buckets_.find(address);
  if (it != buckets_.end()) return it->second;
  // Bounded: past the cap, unknown addresses share one bucket (they are throttled
  // together rather than growing the map without limit).
  const std::string& key = buckets_.size() >= limits_.max_buckets ? std::string() : address;
  auto [slot, fresh] = buckets_.try_emplace(key);
  if (fresh) {
    slot->second.tokens = limits_.burst;
    slot->second.at = now;
  }
  return slot->second;
}

void JoinLimiter::Refill(Bucket& b, Clock::time_point now) const {
  double secs = std::chrono::duration<double>(now - b.at).count();
  b.at = now;
  b.tokens = std::min<double>(limits_.burst, b.tokens + secs * limits_.refill_per_s);
}

void JoinLimiter::Sweep(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    if (it->second.tokens >= limits_.burst)
      it = buckets_.erase(it);
    else
      ++it;
  }
}

}  // namespace parley::server
