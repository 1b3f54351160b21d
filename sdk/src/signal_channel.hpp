// The signalling seam: what a call asks of its link to the server. SignalClient is
// the WebSocket implementation; a test implements it with a fake that answers when
// the test says so.
//
// Threading: every method is called on the engine thread, and every callback is posted
// to the engine thread, never run inside the call that caused it (a callback may close
// or destroy the channel). Callbacks run in the order of their causes.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "parley/proto/errc.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk {

class SignalChannel {
 public:
  using Json = nlohmann::json;
  /// `code` 0 or a catalog code; `data` the response's data (or null).
  using ReplyFn = std::function<void(int32_t code, const std::string& message, const Json& data)>;
  using NotifyFn = std::function<void(const Json& note)>;
  using ClosedFn = std::function<void(const std::string& why)>;
  using ConnectFn = std::function<void(const Status& result)>;

  virtual ~SignalChannel() = default;
  /// Opens the link; `done` gets the result within `timeout`. One Connect per channel.
  virtual void Connect(const std::string& url, std::chrono::milliseconds timeout, ConnectFn done) = 0;
  /// Sends a request; `reply` runs once: with the response, with `timeout_code` after
  /// `timeout`, or with 0x01020401 if the link is gone.
  virtual void Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
                       ReplyFn reply) = 0;
  /// Closes without waiting: no notification or close callback follows. Idempotent.
  virtual void Close() = 0;
  [[nodiscard]] virtual bool connected() const = 0;
};

}  // namespace parley::sdk
