// The engine's signalling client: one WebSocket to parleyd (docs/protocol.md) on its
// own I/O thread. Requests carry ids and get their response or, after the timeout,
// the request's catalog timeout code. Notifications and the connection closing are
// reported through callbacks on the I/O thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parley/proto/errc.hpp"
#include "parley/proto/result.hpp"

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

class SignalClient {
 public:
  using Json = nlohmann::json;
  /// `code` 0 or a catalog code; `data` the response's data (or null).
  using ReplyFn = std::function<void(int32_t code, const std::string& message, const Json& data)>;
  using NotifyFn = std::function<void(const Json& note)>;
  using ClosedFn = std::function<void(const std::string& why)>;

  SignalClient(NotifyFn on_notify, ClosedFn on_closed);
  ~SignalClient();
  SignalClient(const SignalClient&) = delete;
  SignalClient& operator=(const SignalClient&) = delete;

  /// Opens the WebSocket: blocks until it is open or fails, and never longer than
  /// `timeout` (resolving, connecting and the upgrade together; then
  /// kSignalRequestError). URL: ws://host:port/path or http://host:port (path
  /// defaults to /v1/signal).
  Status Connect(const std::string& url, std::chrono::milliseconds timeout);
  /// Sends a request; `reply` runs once on the I/O thread: with the response, with
  /// `timeout_code` after `timeout`, or with 0x01020401 if the connection is gone.
  void Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
               ReplyFn reply);
  /// Closes the connection (pending requests get 0x01020401). Idempotent.
  void Close();
  [[nodiscard]] bool connected() const;

 private:
  struct Impl;
  struct ConnectAttempt;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk
