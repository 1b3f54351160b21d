// The media abort monitor: a publisher whose connected transport stops delivering RTP
// for --media-abort-ms is reported once (publishAborted to it, streamAborted to the
// channel), and reported again as resumed when packets flow again, so subscribers can
// tell a frozen stream from a silent one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "signal/clock.hpp"

namespace parley::server {

class MediaAbortMonitor {
 public:
  /// What the publish transport of a session shows now.
  struct Sample {
    uint64_t packets = 0;    ///< RTP packets received so far
    bool connected = false;  ///< the transport is connected (ICE and DTLS done)
  };
  class Listener {
   public:
    virtual ~Listener() = default;
    /// The session's publish transport now; nullopt while it has none to watch.
    virtual std::optional<Sample> SamplePublisher(uint64_t session_id) = 0;
    /// No packets on a connected transport for the limit (once per silence).
    virtual void OnAborted(uint64_t session_id) = 0;
    /// Packets again after OnAborted.
    virtual void OnResumed(uint64_t session_id) = 0;
  };

  MediaAbortMonitor(std::chrono::milliseconds limit, Listener& listener) : limit_(limit), listener_(listener) {}

  /// The session opened a new publish transport at `now`: a fresh watch (its count
  /// starts at zero, and an abort of the old transport is forgotten).
  void Start(uint64_t session_id, Clock::time_point now) { watches_[session_id] = Watch{0, now, false}; }
  /// The session is gone.
  void Forget(uint64_t session_id) { watches_.erase(session_id); }
  /// Samples every watched session at `now`. The listener must not Start or Forget.
  void Tick(Clock::time_point now);

  [[nodiscard]] bool aborted(uint64_t session_id) const;

 private:
  struct Watch {
    uint64_t packets = 0;       ///< count at the last change
    Clock::time_point seen_at;  ///< ... and when it changed (or the transport was not connected)
    bool aborted = false;
  };

  std::chrono::milliseconds limit_;
  Listener& listener_;
  std::unordered_map<uint64_t, Watch> watches_;
};

}  // namespace parley::server
