// A signalling connection for the server's unit tests: records what the server sends
// (parsed) and whether it closed the connection.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "channel/session.hpp"

namespace parley::server {

class FakeLink final : public SignalConnection {
 public:
  void Send(std::string text) override { sent.push_back(nlohmann::json::parse(text)); }
  void Close() override { closed = true; }
  /// The types of what was sent, in order.
  [[nodiscard]] std::vector<std::string> Types() const {
    std::vector<std::string> out;
    for (const auto& j : sent) out.push_back(j["type"]);
    return out;
  }
  std::vector<nlohmann::json> sent;
  bool closed = false;
};

}  // namespace parley::server
