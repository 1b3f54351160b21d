#include "auth/usage_meter.hpp"

namespace parley::server {

void UsageMeter::Count(const std::string& app_id, size_t members, Clock::time_point& metered_at,
                       Clock::time_point now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - metered_at).count();
  metered_at = now;
  pending_ms_[app_id] += ms * static_cast<int64_t>(members);
}

Status UsageMeter::Flush(UsageSink& sink) {
  std::map<std::string, int64_t> whole;
  for (auto& [app, ms] : pending_ms_)
    if (ms >= 1000 && sink.Knows(app)) whole[app] = ms / 1000;
  if (whole.empty()) return {};
  if (Status s = sink.AddUsage(whole); !s) return s;  // keep the milliseconds; the next flush retries
  for (auto& [app, secs] : whole) pending_ms_[app] -= secs * 1000;
  return {};
}

int64_t UsageMeter::PendingMs(const std::string& app_id) const {
  auto it = pending_ms_.find(app_id);
  return it == pending_ms_.end() ? 0 : it->second;
}

}  // namespace parley::server
