#include "channel/heartbeat_monitor.hpp"

#include <vector>

namespace parley::server {

void HeartbeatMonitor::Tick(Clock::time_point now) {
  // Collected first: the listener closes connections, which may forget them.
  std::vector<uint64_t> silent;
  for (const auto& [id, seen] : last_seen_)
    if (now - seen > limit_) silent.push_back(id);
  for (uint64_t id : silent)
    if (last_seen_.count(id)) listener_.OnSilent(id);
}

}  // namespace parley::server
