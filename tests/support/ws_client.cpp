#include "ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <stdexcept>

namespace parley::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

struct WsClient::Impl {
  boost::asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool read_pending = false, read_done = false, closed = false;
  beast::error_code read_ec;
};

WsClient::WsClient(int port, const std::string& path) : impl_(std::make_unique<Impl>()) {
  auto& ws = impl_->ws;
  beast::get_lowest_layer(ws).connect(
      tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  ws.handshake("127.0.0.1:" + std::to_string(port), path);
  ws.read_message_max(64 << 20);
}

WsClient::~WsClient() {
  if (!impl_->closed) {
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
  }
}

bool WsClient::SendRaw(const std::string& text, bool binary) {
  impl_->ws.binary(binary);
  beast::error_code ec;
  // The server may close mid-write (an oversized frame): that is an outcome the
  // caller checks with Closed(), not an exception.
  impl_->ws.write(boost::asio::buffer(text), ec);
  return !ec;
}

bool WsClient::ReadOne(std::chrono::milliseconds timeout, nlohmann::json* out) {
  auto& im = *impl_;
  if (im.closed) return false;
  if (!im.read_pending) {
    im.read_pending = true;
    im.read_done = false;
    im.ws.async_read(im.buffer, [&im](beast::error_code ec, size_t) {
      im.read_done = true;
      im.read_ec = ec;
    });
  }
  im.io.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!im.read_done && std::chrono::steady_clock::now() < deadline) im.io.run_one_until(deadline);
  if (!im.read_done) return false;
  im.read_pending = false;
  if (im.read_ec) {
    im.closed = true;
    return false;
  }
  std::string text = beast::buffers_to_string(im.buffer.data());
  im.buffer.consume(im.buffer.size());
  *out = nlohmann::json::parse(text);
  return true;
}

nlohmann::json WsClient::Request(const std::string& type, nlohmann::json fields) {
  int64_t id = next_id_++;
  fields["type"] = type;
  fields["id"] = id;
  if (!SendRaw(fields.dump())) throw std::runtime_error("connection closed before " + type);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    nlohmann::json m;
    if (!ReadOne(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                 &m))
      break;
    if (m.value("type", "") == "response" && m["id"] == id) return m;
    pending_.push_back(std::move(m));
  }
  throw std::runtime_error("no response to " + type);
}

nlohmann::json WsClient::Next(std::chrono::milliseconds timeout) {
  if (!pending_.empty()) {
    auto m = std::move(pending_.front());
    pending_.pop_front();
    return m;
  }
  nlohmann::json m;
  if (!ReadOne(timeout, &m)) throw std::runtime_error("no message within timeout");
  return m;
}

nlohmann::json WsClient::WaitFor(const std::string& type, std::chrono::milliseconds timeout) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->value("type", "") == type) {
      auto m = std::move(*it);
      pending_.erase(it);
      return m;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    nlohmann::json m;
    if (!ReadOne(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                 &m))
      break;
    if (m.value("type", "") == type) return m;
    pending_.push_back(std::move(m));
  }
  throw std::runtime_error("no '" + type + "' notification within timeout");
}

bool WsClient::Receives(const std::string& type, std::chrono::milliseconds timeout) {
  try {
    WaitFor(type, timeout);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

bool WsClient::Closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->closed && std::chrono::steady_clock::now() < deadline) {
    nlohmann::json m;
    if (ReadOne(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()), &m))
      pending_.push_back(std::move(m));
  }
  return impl_->closed;
}

void WsClient::Drop() {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
  impl_->closed = true;
}

void WsClient::Close() {
  if (impl_->read_pending) return Drop();  // a sync close cannot overlap the pending read
  beast::error_code ec;
  impl_->ws.close(websocket::close_code::normal, ec);
  impl_->closed = true;
}

}  // namespace parley::test
