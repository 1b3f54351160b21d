#include "sfu/keyframe_requester.hpp"

namespace parley::sfu {

bool KeyframeRequester::InWindow(uint64_t publisher, int64_t now_us) const {
  auto it = last_sent_us_.find(publisher);
  return it != last_sent_us_.end() && now_us - it->second < kIntervalUs;
}

KeyframeRequester::Decision KeyframeRequester::Request(uint64_t publisher, int64_t now_us) {
  if (InWindow(publisher, now_us)) {
    pending_.insert(publisher);
    return Decision::kDeferred;
  }
  pending_.erase(publisher);
  return Decision::kSendNow;
}

}  // namespace parley::sfu
