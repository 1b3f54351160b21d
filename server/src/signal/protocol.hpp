// Signalling protocol v1 (docs/protocol.md): parsing client messages and building
// responses and notifications. Pure functions: no I/O, no state (fuzzed).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "parley/proto/result.hpp"

namespace parley::server {

inline constexpr int kProtocolVersion = 1;

/// A parsed client message. `id` is null for messages without one.
struct ClientMessage {
  std::string type;
  nlohmann::json id;    ///< integer or string, echoed verbatim in the response
  nlohmann::json body;  ///< the whole object
};

/// Parses one WebSocket text message. On failure the error says why and `*id_out`
/// holds the request id when it could be read (so the error response can echo it).
Result<ClientMessage> ParseClientMessage(std::string_view text, size_t max_bytes, nlohmann::json* id_out);

/// {"type":"response","id":..,"request":..,"code":..,"message":..,"data":..}
std::string MakeResponse(const nlohmann::json& id, std::string_view request, Errc code, std::string_view message,
                         const nlohmann::json& data = nullptr);
std::string MakeErrorResponse(const nlohmann::json& id, std::string_view request, const Error& error);

// Typed field access: a missing required field or a wrong type is kInvalidField with
// the field's name in the message.
Result<std::string> GetString(const nlohmann::json& obj, const char* key, bool required, size_t max_len = 4096);
Result<int64_t> GetInt(const nlohmann::json& obj, const char* key, bool required, int64_t fallback = 0);
Result<bool> GetBool(const nlohmann::json& obj, const char* key, bool fallback);

}  // namespace parley::server
