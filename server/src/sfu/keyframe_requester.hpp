// When to ask a publisher for a keyframe (PLI, RFC 4585 §6.3.1). Every subscriber
// that joins, loses packets or switches streams asks; relayed one for one, a room of
// fifty would make the publisher send keyframes back to back, each many times the
// size of a normal frame. So requests are throttled per publisher, and a request
// inside the window is deferred rather than dropped: the subscriber that asked may
// have connected after the keyframe the last request produced went by.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <unordered_map>

namespace parley::sfu {

/// Worker-thread only. Time is passed in (`now_us`, a steady clock).
class KeyframeRequester {
 public:
  /// At most one request per publisher per 300 ms (about a round trip plus the time a
  /// publisher needs to encode a keyframe).
  static constexpr int64_t kIntervalUs = 300'000;

  enum class Decision : uint8_t {
    kSendNow,   ///< send a PLI now, then call Sent if it went out
    kDeferred,  ///< inside the window: TakeDue hands it back when the window ends
  };

  /// A keyframe from `publisher` is wanted.
  Decision Request(uint64_t publisher, int64_t now_us);
  /// A PLI to `publisher` went out: the window starts. A request that could not be
  /// sent (the publisher is not connected yet) does not throttle the next one.
  void Sent(uint64_t publisher, int64_t now_us) { last_sent_us_[publisher] = now_us; }
  /// Calls `fn(publisher)` for each deferred request whose window has ended, in
  /// publisher order, and forgets it; `fn` is expected to Request again (which then
  /// says kSendNow) and may call Request and Sent for that publisher.
  template <typename Fn>
  void TakeDue(int64_t now_us, Fn&& fn);
  /// The publisher's transport is gone.
  void Forget(uint64_t publisher) {
    last_sent_us_.erase(publisher);
    pending_.erase(publisher);
  }
  /// Publishers owed a deferred request.
  [[nodiscard]] size_t pending() const { return pending_.size(); }

 private:
  [[nodiscard]] bool InWindow(uint64_t publisher, int64_t now_us) const;

  std::unordered_map<uint64_t, int64_t> last_sent_us_;  ///< by publisher
  std::set<uint64_t> pending_;                          ///< publishers owed a deferred request
};

template <typename Fn>
void KeyframeRequester::TakeDue(int64_t now_us, Fn&& fn) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    uint64_t publisher = *it;
    if (InWindow(publisher, now_us)) {
      ++it;
      continue;
    }
    it = pending_.erase(it);  // before fn, which may touch this publisher's entry
    fn(publisher);
  }
}

}  // namespace parley::sfu
