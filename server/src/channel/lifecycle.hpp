// How a session leaves: detached from its channel (the others are told, its media
// closes, an empty channel closes), removed for good (its client told why), or kept
// for the resume grace period when only its connection was lost.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string_view>

#include "auth/usage_meter.hpp"
#include "channel/channel.hpp"
#include "channel/registry.hpp"
#include "channel/session.hpp"
#include "metrics.hpp"

namespace parley::server {

class SessionLifecycle {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    /// The session is about to be destroyed: forget what is kept about it.
    virtual void OnSessionRemoved(uint64_t session_id) = 0;
  };

  /// Grace timers run on `io`.
  SessionLifecycle(boost::asio::io_context& io, std::chrono::milliseconds resume_grace, SessionTable& sessions,
                   ChannelRegistry& channels, UsageMeter& usage, Notifier& out, Metrics& metrics, Listener& listener);
  /// The control thread's io_context, for the other per-session timers.
  boost::asio::io_context& io() { return io_; }

  /// The connection dropped without a leave: its session stays in the channel for the
  /// grace period (the others see the user's network as disconnected), so a network
  /// blip does not look like leaving; then it is removed with `reason` ("connection-lost"
  /// when the link closed, "heartbeat-lost" when the server gave up on a silent one).
  void ConnectionLost(Conn& c, std::string_view reason = "connection-lost");
  /// Takes the session out of its channel: unpublishes its tracks, tells the others it
  /// went offline with `reason`, closes the channel when it is the last member.
  void Detach(Session& s, std::string_view reason);
  /// Removes a session for good. When it still has a connection, the client is sent
  /// sessionRemoved (0x02010105) with `reason` and, if `close_link`, disconnected.
  /// `cause`, when given, is the code, detail and message the client's sessionRemoved
  /// carries instead of 0x02010105.
  void Remove(Session& s, std::string_view reason, bool notify_client, bool close_link, const Error* cause = nullptr);
  /// Counts every channel's user-time up to `now` in the usage meter.
  void AccumulateUsage(Clock::time_point now);
  /// The session and channel gauges of /metrics.
  void UpdateGauges();
  /// The server stops: grace timers are cancelled and no new ones start.
  void Stop();

 private:
  boost::asio::io_context& io_;
  std::chrono::milliseconds resume_grace_;
  SessionTable& sessions_;
  ChannelRegistry& channels_;
  UsageMeter& usage_;
  Notifier& out_;
  Metrics& metrics_;
  Listener& listener_;
  bool stopped_ = false;
};

}  // namespace parley::server
