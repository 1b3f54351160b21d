// What every client connection of parleyd shares: the stream types (plain and TLS),
// the HTTP limits, the connection count against --max-connections, and the JSON error
// body with a catalog code. Used by http_session.hpp and ws_session.hpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "metrics.hpp"
#include "parley/proto/errc.hpp"

namespace parley::server::conn {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kHttpBodyLimit = 1 << 20;
constexpr uint32_t kHttpHeaderLimit = 8 * 1024;
// A client over its send-queue bound gets this long to take the close frame before its
// socket is cut (it is, by then, not reading).
constexpr auto kSlowConsumerGrace = std::chrono::seconds(2);

// Open connections against --max-connections. Owned by the control-plane thread.
struct ConnectionLimits {
  size_t open = 0;
  size_t max = 0;
  Metrics* metrics = nullptr;
};

// One counted connection: held by the HTTP session and moved into the WebSocket
// session it may become, so the count drops when the socket's last owner goes.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ConnectionLimits& l) : limits_(&l) {
    ++limits_->open;
    limits_->metrics->http_connections_open = limits_->open;
  }
  ConnectionSlot(ConnectionSlot&& o) noexcept : limits_(std::exchange(o.limits_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (!limits_) return;
    --limits_->open;
    limits_->metrics->http_connections_open = limits_->open;
  }

 private:
  ConnectionLimits* limits_;
};

inline std::string RemoteAddress(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

inline std::string ErrorBody(Errc code, const std::string& message) {
  nlohmann::json j = {
      {"code", static_cast<int32_t>(code)}, {"hex", FormatHex(static_cast<int32_t>(code))}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace parley::server::conn
