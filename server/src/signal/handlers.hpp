// The request handlers, one file per family: session (hello, ping, join, leave,
// resume, refreshToken), media (publish, updatePublish, unpublish, subscribe,
// unsubscribe, subscribeAnswer) and channel (setRole, mute, listUsers, sendMessage,
// updateUserInfo). Each parses its typed request where the rules say it must (see
// HubTest.ErrorPrecedenceIsUnchanged), applies the rule and answers; they hold no
// state of their own.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "auth/authenticator.hpp"
#include "channel/lifecycle.hpp"
#include "channel/media_abort_monitor.hpp"
#include "channel/registry.hpp"
#include "channel/session.hpp"
#include "channel/transport_failure_monitor.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "parley/proto/requests.hpp"
#include "signal/dispatcher.hpp"
#include "signal/join_limiter.hpp"
#include "signal/responder.hpp"

namespace parley::server {

/// What the handlers work on; all owned by the hub.
struct HubContext {
  const ServerConfig& config;
  Metrics& metrics;
  Responder& out;
  SessionTable& sessions;
  ChannelRegistry& channels;
  SessionLifecycle& lifecycle;
  const Authenticator& authenticator;
  JoinLimiter& join_limiter;
  MediaAbortMonitor& media_aborts;
  TransportFailureMonitor& transport_failures;
  uint64_t& next_id;  ///< numbers connections and sessions
};

/// A request handler of the hub: the context, the connection, the message.
using HubHandler = void (*)(HubContext& ctx, Conn& c, const ClientMessage& m);
/// Registers `fn` for messages of `type`, bound to `ctx`.
inline void Register(Dispatcher& d, HubContext& ctx, std::string type, HubHandler fn) {
  d.Register(std::move(type), [&ctx, fn](Conn& c, const ClientMessage& m) { fn(ctx, c, m); });
}

void RegisterSessionHandlers(Dispatcher& d, HubContext& ctx);
void RegisterMediaHandlers(Dispatcher& d, HubContext& ctx);
void RegisterChannelHandlers(Dispatcher& d, HubContext& ctx);

/// The connection's session; refuses the request with 0x01010304 and returns null when
/// it has not joined. Runs before the request is parsed (the error precedence).
inline Session* RequireJoined(HubContext& ctx, Conn& c, const ClientMessage& m) {
  if (c.session) return c.session;
  ctx.out.ReplyError(c, m, MakeError(Errc::kNotInChannel, m.type + " needs a joined channel"));
  return nullptr;
}

/// Every track named must be published (0x01010402 otherwise).
inline Status CheckPublished(const Session& s, const TrackSet& tracks) {
  for (Track t : tracks)
    if (!s.published.count(t)) return MakeError(Errc::kNotPublishing, std::string(Name(t)) + " is not published");
  return {};
}

using proto::TrackList;

}  // namespace parley::server
