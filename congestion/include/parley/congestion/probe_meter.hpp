// What a probe cluster says the path carries.
//
// An estimate from feedback can only confirm rates that were actually sent: a sender
// that sends little (a subscriber held on a small layer) never learns that its path has
// room for more, and trying the larger rate with real media costs seconds of queue when
// it does not fit. A probe cluster answers the question cheaply: a few dozen small
// packets (padding, nothing to decode) sent over some 25 ms at the rate in question,
// numbered like media so that the receiver's feedback says when each arrived.
//
// The measure (ours, after the idea of GCC's probing): over the cluster, the rate the
// packets left at (bytes but the last over the send span) and the rate they arrived at
// (bytes but the first over the arrival span). A bottleneck slower than the cluster
// spreads the arrivals, and the arrival rate is what it carries; a faster one leaves the
// spacing alone and the send rate is the answer. So:
//   * fewer than kMinReceived of the packets arrived (or under 4): no answer (a lossy
//     or broken cluster says nothing reliable);
//   * arrivals slower than 90 % of the send rate: the path is the limit, and the answer
//     is 95 % of the arrival rate (a little under, the queue just built must drain);
//   * else the lower of the two rates;
//   * an arrival rate more than twice the send rate (the receiver's clock or batching
//     compressed the arrivals) is no answer either.
// The answer concerns the probe packets alone: media sent alongside took its share of
// the path, so a path-limited answer is low by that much (on the safe side).
//
// Fixed memory (kClusters clusters tracked at once; a new one replaces the oldest), no
// allocation, no throw. Pure computation on the times passed in. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "parley/congestion/bandwidth_estimator.hpp"

namespace parley::congestion {

class ProbeMeter {
 public:
  static constexpr size_t kClusters = 4;
  static constexpr double kMinReceived = 0.8;       ///< of the cluster's packets
  static constexpr int64_t kTimeoutUs = 2'000'000;  ///< a cluster not fully reported by then is given up

  /// A cluster of `packets` packets with id `id` (not 0) is being sent, from `now_us`.
  void Begin(uint32_t id, size_t packets, int64_t now_us);
  /// One result of the feedback for a packet of cluster `id` (each packet once).
  /// Returns the answer, in bit/s, when this result completed the cluster: > 0 what the
  /// path carries, 0 no answer (see above). -1: the cluster is not complete yet, or
  /// unknown (given up, or replaced).
  int64_t Add(uint32_t id, const PacketResult& p, int64_t now_us);
  /// Clusters given up (not fully reported within kTimeoutUs) so far.
  [[nodiscard]] uint32_t timed_out() const { return timed_out_; }

 private:
  struct Cluster {
    uint32_t id = 0;  ///< 0: free
    size_t expected = 0, reported = 0, received = 0;
    int64_t begun_us = 0;
    int64_t first_send_us = 0, last_send_us = 0;
    uint64_t sent_bytes = 0;
    uint32_t last_sent_size = 0;  ///< of the packet sent last
    int64_t first_recv_us = 0, last_recv_us = 0;
    uint64_t recv_bytes = 0;
    uint32_t first_recv_size = 0;  ///< of the packet that arrived first
  };
  [[nodiscard]] static int64_t Answer(const Cluster& c);
  void Expire(int64_t now_us);

  std::array<Cluster, kClusters> clusters_{};
  uint32_t timed_out_ = 0;
};

}  // namespace parley::congestion
