// A WebSocket signalling connection of parleyd (the hub's SignalConnection).
#pragma once

#include <spdlog/spdlog.h>

#include <deque>
#include <memory>

#include "config.hpp"
#include "http/connection.hpp"
#include "signal/hub.hpp"

namespace parley::server::conn {

// One WebSocket signalling connection. Messages up to max_message_bytes are handed to
// the hub; larger ones up to the hard limit get a 0x0F010003 response; beyond the
// hard limit Beast closes the connection with status 1009 (message too big). What
// waits to be sent is bounded in bytes and messages; a client past the bound is not
// reading, and is closed with 1008 (its session then takes the lost-connection path).
template <class Stream>
class WsSession final : public SignalConnection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, SignalHub& hub, const ServerConfig& config, Metrics& metrics, ConnectionSlot slot)
      : ws_(std::move(stream)),
        hub_(hub),
        config_(config),
        metrics_(metrics),
        slot_(std::move(slot)),
        cut_timer_(ws_.get_executor()) {}

  void Accept(http::request<http::string_body> req) {
    ws_.read_message_max(std::max<size_t>(config_.max_message_bytes * 4, 1 << 20));
    // The handshake and the closing handshake are timed out by Beast; an open
    // connection's silence by the hub's heartbeat monitor (--heartbeat-interval-ms x
    // --heartbeat-misses), so Beast keeps no idle timer of its own: that timer was
    // cancelled and armed again on every message read.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, std::string("parleyd ") + PARLEY_VERSION); }));
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->id_ = self->hub_.OnOpen(self, RemoteAddress(beast::get_lowest_layer(self->ws_).socket()));
      self->Read();
    });
  }

  void Send(std::string text) override {
    if (closing_) return;
    if (queue_.size() + 1 > config_.send_queue_max_messages ||
        queued_bytes_ + text.size() > config_.send_queue_max_bytes)
      return Overflow();
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) Write();
  }

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (queue_.empty()) DoClose(websocket::close_code::normal, "");
    // The close frame follows what is being written; a client that does not read holds
    // that write, or the close frame itself, and Beast keeps no idle timer here (its
    // closing-handshake timeout is 30 s): the socket is cut unless the closing handshake
    // is done in time (Closed() cancels this).
    cut_timer_.expires_after(kSlowConsumerGrace);
    cut_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted || self->closed_) return;
      boost::system::error_code ignored;
      auto& socket = beast::get_lowest_layer(self->ws_).socket();
      if (socket.is_open()) socket.close(ignored);
    });
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->closed_) return self->Closed();
      if (!self->ws_.got_text()) {
        self->buffer_.consume(self->buffer_.size());
        self->hub_.OnMessage(self->id_, "\x01binary");  // not JSON: answered as malformed
      } else {
        auto data = self->buffer_.data();
        std::string_view text(static_cast<const char*>(data.data()), data.size());
        self->hub_.OnMessage(self->id_, text);
        self->buffer_.consume(self->buffer_.size());
      }
      if (!self->closed_) self->Read();
    });
  }

  void Write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Closed();
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (!self->queue_.empty())
        self->Write();
      else if (self->overflowed_)
        self->DoClose(websocket::close_code::policy_error, "send queue over its bound (0x0F040005)");
      else if (self->closing_)
        self->DoClose(websocket::close_code::normal, "");
    });
  }

  void Overflow() {
    ++metrics_.ws_slow_consumer_closes_total;
    spdlog::warn("signalling connection {}: {} messages / {} bytes unsent, client not reading: closing (1008)", id_,
                 queue_.size(), queued_bytes_);
    closing_ = true;
    overflowed_ = true;
    // Keep only the message being written (its buffer is in use); the rest is dropped now.
    while (queue_.size() > 1) {
      queued_bytes_ -= queue_.back().size();
      queue_.pop_back();
    }
    if (queue_.empty()) DoClose(websocket::close_code::policy_error, "send queue over its bound (0x0F040005)");
    // A client that does not read will not read the close frame either: cut the socket.
    cut_timer_.expires_after(kSlowConsumerGrace);
    cut_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      boost::system::error_code ignored;
      auto& socket = beast::get_lowest_layer(self->ws_).socket();
      if (socket.is_open()) socket.close(ignored);
    });
    // The hub hears of it now, not when the socket goes: nothing more is read from this
    // client (messages it already sent are not handled). Posted, because the hub is
    // the caller of Send.
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->Closed(); });
  }

  void DoClose(websocket::close_code code, const char* reason) {
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = this->shared_from_this()](beast::error_code) { self->Closed(); });
  }

  void Closed() {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    if (!overflowed_) cut_timer_.cancel();  // an overflowed client's socket is still to be cut
    if (id_) hub_.OnClose(id_);
  }

  websocket::stream<Stream> ws_;
  SignalHub& hub_;
  const ServerConfig& config_;
  Metrics& metrics_;
  ConnectionSlot slot_;
  asio::steady_timer cut_timer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  uint64_t id_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  bool overflowed_ = false;
};

}  // namespace parley::server::conn
