#include "signal/dispatcher.hpp"

#include <spdlog/spdlog.h>

namespace parley::server {

using nlohmann::json;

Dispatcher::Dispatcher(size_t max_message_bytes, Metrics& metrics, Responder& out, HeartbeatMonitor& heartbeat,
                       Listener& listener, NowFn now)
    : max_message_bytes_(max_message_bytes),
      metrics_(metrics),
      out_(out),
      heartbeat_(heartbeat),
      listener_(listener),
      now_(std::move(now)) {}

Conn& Dispatcher::Open(uint64_t id, std::shared_ptr<SignalConnection> link, std::string remote) {
  auto c = std::make_unique<Conn>();
  c->id = id;
  c->link = std::move(link);
  c->remote = std::move(remote);
  Conn& out = *c;
  conns_[id] = std::move(c);
  heartbeat_.Seen(id, now_());
  ++metrics_.ws_connections_total;
  metrics_.ws_open = conns_.size();
  return out;
}

void Dispatcher::Close(uint64_t conn_id) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  listener_.OnConnectionClosed(*it->second);
  conns_.erase(it);
  heartbeat_.Forget(conn_id);
  metrics_.ws_open = conns_.size();
}

void Dispatcher::CloseAll() {
  for (auto& [id, c] : conns_) c->link->Close();
}

Conn* Dispatcher::Find(uint64_t conn_id) const {
  auto it = conns_.find(conn_id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void Dispatcher::Register(std::string type, Handler handler) {
  handlers_[std::move(type)] = std::move(handler);
}

void Dispatcher::RegisterForTesting(std::string type, std::function<void(const json&)> handler) {
  test_handlers_[std::move(type)] = std::move(handler);
}

void Dispatcher::Message(uint64_t conn_id, std::string_view text) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  heartbeat_.Seen(conn_id, now_());
  ++metrics_.messages_in_total;
  json id;
  auto parsed = ParseClientMessage(text, max_message_bytes_, &id);
  if (!parsed) {
    ++metrics_.bad_messages_total;
    out_.LogRefusal(c, "", parsed.error());
    out_.SendTo(c, MakeErrorResponse(id, "", parsed.error()));
    return;
  }
  const ClientMessage& m = *parsed;
  auto h = handlers_.find(m.type);
  if (h == handlers_.end() && !test_handlers_.count(m.type)) {
    ++metrics_.bad_messages_total;
    out_.ReplyError(c, m, MakeError(Errc::kUnknownMessageType, "unknown message type '" + m.type + "'"));
    return;
  }
  static const Handler kNone;
  Dispatch(c, m, h == handlers_.end() ? kNone : h->second);
}

void Dispatcher::Dispatch(Conn& c, const ClientMessage& m, const Handler& h) {
  try {
    if (h)
      h(c, m);
    else
      test_handlers_.at(m.type)(m.body);
  } catch (const std::exception& e) {
    // Rules below must not throw; if one does, its state may be half-changed, so the
    // connection goes (its session follows the lost-connection path) and others stay.
    ++metrics_.signal_handler_exceptions_total;
    spdlog::error("signalling: '{}' on connection {} threw: {}", m.type, c.id, e.what());
    out_.ReplyError(c, m, MakeError(Errc::kInternalError, "internal error while handling '" + m.type + "'"));
    c.link->Close();
  } catch (...) {
    ++metrics_.signal_handler_exceptions_total;
    spdlog::error("signalling: '{}' on connection {} threw a non-exception", m.type, c.id);
    out_.ReplyError(c, m, MakeError(Errc::kInternalError, "internal error while handling '" + m.type + "'"));
    c.link->Close();
  }
}

}  // namespace parley::server
