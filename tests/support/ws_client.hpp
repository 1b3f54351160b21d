// A blocking WebSocket signalling client for tests: sends requests, waits for the
// matching response, and queues notifications.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace parley::test {

class WsClient {
 public:
  explicit WsClient(int port, const std::string& path = "/v1/signal");
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Sends {"type": type, "id": n, ...fields} and returns the response with that id.
  nlohmann::json Request(const std::string& type, nlohmann::json fields = nlohmann::json::object());
  /// Sends raw text (for malformed-input tests); false if the connection failed.
  bool SendRaw(const std::string& text, bool binary = false);
  /// The next message of any kind (response or notification).
  nlohmann::json Next(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  /// The next notification of `type`, skipping (and keeping) others.
  nlohmann::json WaitFor(const std::string& type, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  /// True if a notification of `type` arrives within `timeout`.
  bool Receives(const std::string& type, std::chrono::milliseconds timeout);
  /// True once the server closed the connection.
  bool Closed(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  /// Drops the TCP connection without a close frame (a network blip).
  void Drop();
  void Close();
  std::deque<nlohmann::json>& pending() { return pending_; }

 private:
  bool ReadOne(std::chrono::milliseconds timeout, nlohmann::json* out);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::deque<nlohmann::json> pending_;
  int64_t next_id_ = 1;
};

}  // namespace parley::test
