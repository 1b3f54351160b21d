// Sessions: a user in a channel, and the signalling connection it is reached through.
// A session outlives its connection for the resume grace period, so the two are
// separate objects that point at each other while both exist. Everything here runs on
// the control thread (the hub's io_context); no locks.
#pragma once

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "parley/proto/vocabulary.hpp"
#include "signal/clock.hpp"

namespace parley::server {

/// One client's signalling transport (a WebSocket). Called on the hub's thread.
class SignalConnection {
 public:
  virtual ~SignalConnection() = default;
  /// Queues one text message; a no-op once closed.
  virtual void Send(std::string text) = 0;
  /// Closes after the queued messages are written.
  virtual void Close() = 0;
};

// The protocol's words and their names are proto's (parley/proto/vocabulary.hpp);
// Platform and Name() are found there too.
using Track = TrackKind;
using Role = ClientRole;
using Profile = ChannelProfile;

struct Channel;
struct Session;

/// A signalling connection and what it is doing.
struct Conn {
  uint64_t id = 0;
  std::shared_ptr<SignalConnection> link;
  std::string remote;              ///< the peer's IP address (rate limits); may be empty
  int join_failures = 0;           ///< failed joins on this connection
  Session* session = nullptr;      ///< the joined session, if any
  bool left = false;               ///< left a channel and has not joined again
  Clock::time_point next_probe{};  ///< the earliest this connection may have another last-mile probe
};

/// How many messages (sendMessage) a session may send: a bucket of kBurst that refills
/// at kPerSecond. A member's messages reach everyone else, so this bounds what one
/// client can make the server send, per member, to kPerSecond × 4 KiB a second.
struct MessageBudget {
  static constexpr double kPerSecond = 10;
  static constexpr double kBurst = 20;
  double tokens = kBurst;
  Clock::time_point at{};  ///< when `tokens` was last brought up to date

  /// Takes one message's token at `now`; false when none is left.
  bool Take(Clock::time_point now) {
    if (at != Clock::time_point{}) {
      double elapsed = std::chrono::duration<double>(now - at).count();
      tokens = std::min(kBurst, tokens + std::max(0.0, elapsed) * kPerSecond);
    }
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

/// A user in a channel. Survives its connection for the resume grace period.
struct Session {
  uint64_t id = 0;
  std::string resume_token;
  Conn* conn = nullptr;  ///< null while disconnected (waiting to resume)
  Channel* channel = nullptr;
  std::string user_id, user_name, sdk_version;
  Role role = Role::kBroadcaster;
  bool audience_only = false;  ///< the token's role claim is "audience"
  Platform platform = Platform::kNative;
  std::set<Track> published;
  std::set<Track> muted;
  std::map<std::string, std::set<Track>> subscriptions;  ///< by remote user id
  /// setRemoteVideoStreamType: the layer of simulcast video wanted, per remote user id
  /// (at most kMaxStreamTypes, kept across the user's leaving) and by default.
  static constexpr size_t kMaxStreamTypes = 256;
  VideoStreamType default_stream_type = VideoStreamType::kBig;
  std::map<std::string, VideoStreamType> stream_types;
  [[nodiscard]] VideoStreamType StreamTypeFor(const std::string& remote_user) const {
    auto it = stream_types.find(remote_user);
    return it == stream_types.end() ? default_stream_type : it->second;
  }
  std::unique_ptr<boost::asio::steady_timer> grace_timer;
  Clock::time_point joined_at;
  /// The network quality the client last reported (reportStats: 0 excellent .. 4 very
  /// bad, 5 down, 6 unknown), when the channel was last told about a change (at most
  /// once per second), and whether the stored value is newer than what the channel was told.
  int quality_up = 6, quality_down = 6;
  Clock::time_point quality_relayed_at{};
  bool quality_unrelayed = false;
  std::unique_ptr<boost::asio::steady_timer> quality_timer;  ///< relays a throttled change
  MessageBudget messages;                                    ///< sendMessage's rate limit
  /// The token's expiry (Unix seconds; its latest refreshToken's), how far the warnings
  /// went (0 none, 1 tokenWillExpire sent, 2 tokenExpired sent), and the timer of the
  /// next step (signal/session_handlers.cpp, WatchToken).
  int64_t token_expires_at = 0;
  int token_stage = 0;
  std::unique_ptr<boost::asio::steady_timer> token_timer;
  /// volumeIndication: every this many ms (0: not asked), next due then.
  int volume_interval_ms = 0;
  Clock::time_point volume_due{};
};

/// Every live session, by id and by resume token. The table owns the sessions; the
/// pointers it hands out stay valid until Erase.
class SessionTable {
 public:
  using Map = std::unordered_map<uint64_t, std::unique_ptr<Session>>;

  /// A new session with this id and resume token (both unique; the caller draws them).
  Session& Create(uint64_t id, std::string resume_token);
  [[nodiscard]] Session* Find(uint64_t id) const;
  /// The session a resume request names; null when it was removed (or never existed).
  [[nodiscard]] Session* ByResumeToken(const std::string& token) const;
  /// Destroys the session: the reference is dangling afterwards.
  void Erase(Session& s);

  [[nodiscard]] size_t size() const { return sessions_.size(); }
  Map::iterator begin() { return sessions_.begin(); }
  Map::iterator end() { return sessions_.end(); }

 private:
  Map sessions_;
  std::unordered_map<std::string, Session*> by_resume_token_;
};

}  // namespace parley::server
