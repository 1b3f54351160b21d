// Signalling protocol v1 (docs/protocol.md) as the server names it: the envelope,
// responses and typed field readers are proto's (parley/proto/envelope.hpp), one
// implementation for the server, the SDK and the fuzzers.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "parley/proto/envelope.hpp"

namespace parley::server {

using proto::kProtocolVersion;
/// A parsed client message. `id` is null for messages without one.
using ClientMessage = proto::Envelope;

/// Parses one WebSocket text message. On failure the error says why and `*id_out`
/// holds the request id when it could be read (so the error response can echo it).
inline Result<ClientMessage> ParseClientMessage(std::string_view text, size_t max_bytes, nlohmann::json* id_out) {
  return proto::ParseEnvelope(text, max_bytes, id_out);
}

using proto::GetBool;
using proto::GetInt;
using proto::GetString;
using proto::MakeErrorResponse;
using proto::MakeResponse;

}  // namespace parley::server
