// The transport failure monitor: media transports the worker marked failed are
// reported to their session's client. A publisher learns once per transport whether
// its connection could not be established or broke; a subscriber's failed transport is
// dropped, so its next subscribe builds a new one (whose failure is reported anew).
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "channel/media_status.hpp"
#include "channel/session.hpp"
#include "parley/proto/errc.hpp"
#include "signal/clock.hpp"

namespace parley::server {

class TransportFailureMonitor {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    /// The publish transport failed: `code` is 0x01050201 when it never connected and
    /// 0x01050202 when it connected and then lost consent. A client closing its own
    /// connection (it renegotiates) is no failure and is not reported.
    virtual void OnPublishFailed(Session& s, sfu::Failure why, Errc code) = 0;
    /// The subscribe transport failed and was dropped; `users` are the remote users the
    /// session stays subscribed to (it subscribes to them again).
    virtual void OnSubscribeFailed(Session& s, sfu::Failure why, const std::vector<std::string>& users) = 0;
  };

  TransportFailureMonitor(MediaStatus& media, Listener& listener) : media_(media), listener_(listener) {}

  /// The session opened a new publish transport: its failure is reported anew.
  void Start(uint64_t session_id) { publish_reported_.erase(session_id); }
  /// The session is gone.
  void Forget(uint64_t session_id) { publish_reported_.erase(session_id); }
  /// Looks at every session's transports at `now`. A failure is reported on the first
  /// tick that sees it; the rule has no delay of its own, so `now` only orders ticks.
  /// The listener may send but must not create or remove sessions.
  void Tick(Clock::time_point now, SessionTable& sessions);

 private:
  MediaStatus& media_;
  Listener& listener_;
  std::unordered_set<uint64_t> publish_reported_;  ///< sessions told about their current publish transport
};

}  // namespace parley::server
