#include "channel/media_abort_monitor.hpp"

namespace parley::server {

void MediaAbortMonitor::Tick(Clock::time_point now) {
  for (auto& [id, w] : watches_) {
    auto sample = listener_.SamplePublisher(id);
    if (!sample) continue;
    // Packets moving, or a transport still connecting (or failed: the transport
    // failure is reported on its own), restart the clock.
    if (sample->packets != w.packets || !sample->connected) {
      if (sample->packets != w.packets && w.aborted) {
        w.aborted = false;
        listener_.OnResumed(id);
      }
      w.packets = sample->packets;
      w.seen_at = now;
      continue;
    }
    if (w.aborted || now - w.seen_at < limit_) continue;
    w.aborted = true;
    listener_.OnAborted(id);
  }
}

bool MediaAbortMonitor::aborted(uint64_t session_id) const {
  auto it = watches_.find(session_id);
  return it != watches_.end() && it->second.aborted;
}

}  // namespace parley::server
