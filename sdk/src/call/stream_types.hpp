// Which layer of the other users' simulcast video this client receives
// (setRemoteVideoStreamType, docs/protocol.md): per user, and a default for everyone
// without a type of their own. Kept for the engine's life and told to the server at
// each join, since a new session starts at the server's default (auto).
#pragma once

#include <cstdint>
#include <string>

#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::call {

/// 0, or 0x01010501 for a `type` out of range or a user id that is empty (unless
/// `by_default`) or too long. Any thread.
int32_t CheckStreamType(const std::string& user_id, VideoStreamType type, bool by_default);

/// At most this many users may have a type of their own (the server's bound).
inline constexpr size_t kMaxStreamTypes = 256;

}  // namespace parley::sdk::call
