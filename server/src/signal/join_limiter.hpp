// Failed-join limits: a client guessing tokens is slowed down before any token work is
// done for it. Two limits: a count per connection (past it the connection is closed)
// and a token bucket per remote address (--join-failure-burst failures, refilled at
// --join-failure-refill-per-s), so reconnecting does not reset the allowance.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

#include "signal/clock.hpp"

namespace parley::server {

struct JoinLimits {
  int per_connection = 20;     ///< failed joins a connection may make
  double burst = 30;           ///< failed joins an address may make at once
  double refill_per_s = 1;     ///< ... and how fast that allowance returns
  size_t max_buckets = 65536;  ///< addresses tracked one by one; past it they share a bucket
};

class JoinLimiter {
 public:
  explicit JoinLimiter(JoinLimits limits) : limits_(limits) {}

  /// Whether a join from a connection with `connection_failures` failed joins, at
  /// `address`, must be refused now (kRateLimited) without looking at its credentials.
  bool Exceeded(int connection_failures, const std::string& address, Clock::time_point now);
  /// Whether a connection with that many failures has used its allowance for good
  /// (the refused connection is then closed).
  [[nodiscard]] bool ConnectionSpent(int connection_failures) const {
    return connection_failures >= limits_.per_connection;
  }
  /// A join failed its credentials: counts it for the connection and its address.
  void CountFailure(int& connection_failures, const std::string& address, Clock::time_point now);
  /// Forgets addresses whose bucket is full again: they would start from a full one.
  void Sweep(Clock::time_point now);

  /// Addresses tracked (the shared bucket included).
  [[nodiscard]] size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at;
  };
  Bucket& BucketOf(const std::string& address, Clock::time_point now);
  void Refill(Bucket& b, Clock::time_point now) const;

  JoinLimits limits_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace parley::server
