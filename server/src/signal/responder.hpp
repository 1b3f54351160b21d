// How the signalling side answers: replies to requests, refusals (logged, at most a
// burst of lines a second) and notifications, each counted in /metrics.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "channel/channel.hpp"
#include "channel/session.hpp"
#include "metrics.hpp"
#include "parley/proto/result.hpp"
#include "signal/protocol.hpp"
#include "signal/refusal_log.hpp"

namespace parley::server {

class Responder final : public Notifier {
 public:
  explicit Responder(Metrics& metrics) : metrics_(metrics) {}

  /// Queues one message to the connection.
  void SendTo(Conn& c, std::string text) override;
  /// Answers request `m` with `code` (kOk or a failure) and optional `data`.
  void Reply(Conn& c, const ClientMessage& m, Errc code, std::string_view message,
             const nlohmann::json& data = nullptr);
  /// Refuses request `m` with `e`, and logs the refusal.
  void ReplyError(Conn& c, const ClientMessage& m, const Error& e);
  /// Logs a refused request at info (who, code, detail, message), at most a burst of
  /// lines refilled each second: a flood of bad requests does not flood the log.
  void LogRefusal(const Conn& c, std::string_view request, const Error& e);

 private:
  Metrics& metrics_;
  RefusalLog refusal_log_;
};

}  // namespace parley::server
