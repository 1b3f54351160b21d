// The heartbeat monitor: a connection that sends nothing (not even a ping) for
// --heartbeat-interval-ms x --heartbeat-misses is taken for dead, so a client that
// vanished without closing its socket does not stay in its channel for ever.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>

#include "signal/clock.hpp"

namespace parley::server {

class HeartbeatMonitor {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    /// The connection was silent for longer than the limit. Called from Tick, once per
    /// Tick until the connection is forgotten; it may Forget any connection.
    virtual void OnSilent(uint64_t conn_id) = 0;
  };

  HeartbeatMonitor(std::chrono::milliseconds limit, Listener& listener) : limit_(limit), listener_(listener) {}

  /// The connection opened or sent a message at `now`.
  void Seen(uint64_t conn_id, Clock::time_point now) { last_seen_[conn_id] = now; }
  /// The connection is gone.
  void Forget(uint64_t conn_id) { last_seen_.erase(conn_id); }
  /// Reports every connection silent for longer than the limit at `now` (exactly the
  /// limit is still alive).
  void Tick(Clock::time_point now);

  [[nodiscard]] size_t size() const { return last_seen_.size(); }

 private:
  std::chrono::milliseconds limit_;
  Listener& listener_;
  std::unordered_map<uint64_t, Clock::time_point> last_seen_;
};

}  // namespace parley::server
