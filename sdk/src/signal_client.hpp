// The engine's signalling client: one WebSocket to parleyd (docs/protocol.md) on the
// engine's event loop, all I/O asynchronous and every step bounded by a timer.
// Requests carry ids and get their response or, after the timeout, the request's
// catalog timeout code. Notifications and the connection closing are reported
// through callbacks posted to the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parley/proto/errc.hpp"
#include "parley/proto/result.hpp"
#include "signal_channel.hpp"

namespace parley::sdk {

/// The host of a signalling URL (ws://, http://, wss://, https://; brackets of an IPv6
/// literal removed); "" when there is none.
std::string SignalUrlHost(const std::string& url);
/// Whether `host` is this machine's loopback: 127.0.0.0/8, ::1 or localhost.
bool IsLoopbackHost(const std::string& host);
/// The local addresses ICE uses when the application names none (EngineConfig):
/// 127.0.0.1 for a server on loopback (libnice offers no loopback candidate by
/// itself), else none, which lets libnice use every address it finds.
std::vector<std::string> DefaultIceAddresses(const std::string& server_url);

class SignalClient final : public SignalChannel {
 public:
  /// The client runs on `io` (the engine's loop) and has no thread of its own: its
  /// methods are called on the thread that runs `io`, and every callback is posted to
  /// `io`, never run inside the call that caused it, so a callback may close or destroy
  /// the client. Callbacks run in the order their causes happened (a notification read
  /// before the connection closed is delivered before the close).
  SignalClient(boost::asio::io_context& io, NotifyFn on_notify, ClosedFn on_closed);
  /// Closes (as Close does).
  ~SignalClient() override;
  SignalClient(const SignalClient&) = delete;
  SignalClient& operator=(const SignalClient&) = delete;

  /// Opens the WebSocket; `done` gets the result within `timeout` (resolving,
  /// connecting and the upgrade together; then kSignalRequestError), or a refusal as
  /// soon as the system reports it. URL: ws://host:port/path or http://host:port (path
  /// defaults to /v1/signal). One Connect per client.
  void Connect(const std::string& url, std::chrono::milliseconds timeout, ConnectFn done) override;
  /// Sends a request; `reply` runs once: with the response, with `timeout_code` after
  /// `timeout`, or with 0x01020401 if the connection is gone.
  void Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
               ReplyFn reply) override;
  /// Closes the connection without waiting: a Connect on its way fails, pending
  /// requests get 0x01020401, and no notification or close callback follows.
  /// Idempotent.
  void Close() override;
  [[nodiscard]] bool connected() const override;

 private:
  struct Impl;
  struct ConnectAttempt;
  std::shared_ptr<Impl> impl_;  ///< shared with the handlers still queued on the loop
};

}  // namespace parley::sdk
