// The envelope of every signalling message (docs/protocol.md): reading a client's
// message far enough to know its type and id, writing responses, and the typed
// field readers every request parser uses. Pure functions, no I/O: fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "parley/proto/result.hpp"

namespace parley::proto {

inline constexpr int kProtocolVersion = 1;
/// Deepest nesting of objects and arrays a message may have: nlohmann's parser
/// recurses once per level, so hostile input must not choose the stack depth.
inline constexpr int kMaxNesting = 32;
/// Longest request id and type we read; longer ones are refused, not truncated.
inline constexpr size_t kMaxIdBytes = 64;
inline constexpr size_t kMaxTypeBytes = 64;

/// A parsed client message. `id` is null for messages without one.
struct Envelope {
  std::string type;
  nlohmann::json id;    ///< integer or string, echoed verbatim in the response
  nlohmann::json body;  ///< the whole object
};

/// Parses one WebSocket text message. On failure the error says why and `*id_out`
/// holds the request id when it could be read (so the error response can echo it).
Result<Envelope> ParseEnvelope(std::string_view text, size_t max_bytes, nlohmann::json* id_out);

/// Serialises with invalid UTF-8 replaced (U+FFFD) instead of throwing: messages echo
/// what clients sent, and hostile bytes must never take a process down. For valid
/// UTF-8 the output equals dump().
std::string DumpSafe(const nlohmann::json& j);

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
/// nothing above U+10FFFF).
bool IsUtf8(std::string_view s);

/// {"type":"response","id":..,"request":..,"code":..,"message":..,"data":..}
std::string MakeResponse(const nlohmann::json& id, std::string_view request, Errc code, std::string_view message,
                         const nlohmann::json& data = nullptr);
/// The error's code and text; a detail code, when there is one, as data.detail.
std::string MakeErrorResponse(const nlohmann::json& id, std::string_view request, const Error& error);

// Typed field access: a missing required field or a wrong type is kInvalidField with
// the field's name in the message. A null value counts as missing. A string longer
// than max_len is `too_long`.
Result<std::string> GetString(const nlohmann::json& obj, const char* key, bool required, size_t max_len = 4096,
                              Errc too_long = Errc::kInvalidField);
Result<int64_t> GetInt(const nlohmann::json& obj, const char* key, bool required, int64_t fallback = 0);
Result<bool> GetBool(const nlohmann::json& obj, const char* key, bool fallback);

}  // namespace parley::proto
