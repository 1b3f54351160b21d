// The signalling dispatcher: it owns the open connections, reads each message's
// envelope, hands it to the handler registered for its type, and holds the one catch
// of the signalling path. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "channel/heartbeat_monitor.hpp"
#include "channel/session.hpp"
#include "metrics.hpp"
#include "signal/clock.hpp"
#include "signal/protocol.hpp"
#include "signal/responder.hpp"

namespace parley::server {

class Dispatcher {
 public:
  using Handler = std::function<void(Conn&, const ClientMessage&)>;
  using NowFn = std::function<Clock::time_point()>;
  class Listener {
   public:
    virtual ~Listener() = default;
    /// The connection is gone; called before it is destroyed, while `c.session` still
    /// names its session.
    virtual void OnConnectionClosed(Conn& c) = 0;
  };

  /// Every message (and the open) counts as a sign of life for `heartbeat`, at `now()`.
  Dispatcher(size_t max_message_bytes, Metrics& metrics, Responder& out, HeartbeatMonitor& heartbeat,
             Listener& listener, NowFn now = &Clock::now);

  /// A connection opened with the given (unique) id; `remote` is the peer's address.
  Conn& Open(uint64_t id, std::shared_ptr<SignalConnection> link, std::string remote);
  /// One text message from the connection: refused when it is malformed or of an
  /// unknown type, otherwise handled. A handler that throws gets the request answered
  /// with kInternalError and its connection closed; other connections are untouched.
  void Message(uint64_t conn_id, std::string_view text);
  /// The connection is gone (closed by either side).
  void Close(uint64_t conn_id);
  /// Closes every connection (the server stops).
  void CloseAll();

  void Register(std::string type, Handler handler);
  /// Testing: an extra request type whose handler sees only the body (e.g. one that
  /// throws, to prove the catch). Not reachable from the network unless registered.
  void RegisterForTesting(std::string type, std::function<void(const nlohmann::json& body)> handler);

  [[nodiscard]] Conn* Find(uint64_t conn_id) const;
  [[nodiscard]] size_t size() const { return conns_.size(); }

 private:
  void Dispatch(Conn& c, const ClientMessage& m, const Handler& h);

  size_t max_message_bytes_;
  Metrics& metrics_;
  Responder& out_;
  HeartbeatMonitor& heartbeat_;
  Listener& listener_;
  NowFn now_;
  std::unordered_map<std::string, Handler> handlers_;
  std::unordered_map<std::string, std::function<void(const nlohmann::json&)>> test_handlers_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
};

}  // namespace parley::server
