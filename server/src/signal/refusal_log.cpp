#include "signal/refusal_log.hpp"

#include <algorithm>

namespace parley::server {

std::optional<uint64_t> RefusalLog::Admit(Clock::time_point now) {
  tokens_ = std::min(kBurst, tokens_ + std::chrono::duration<double>(now - at_).count() * kPerSecond);
  at_ = now;
  if (tokens_ < 1) {
    ++skipped_;
    return std::nullopt;
  }
  tokens_ -= 1;
  uint64_t skipped = skipped_;
  skipped_ = 0;
  return skipped;
}

}  // namespace parley::server
