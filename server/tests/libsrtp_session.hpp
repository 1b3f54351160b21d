// libsrtp2 as the reference SRTP implementation: tests cross-check the server's own
// SRTP (sfu/srtp.hpp) against it both ways, and bench/forward_path times the two side
// by side. The server itself does not use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "parley/proto/result.hpp"
#include "sfu/srtp.hpp"

typedef struct srtp_ctx_t_ srtp_ctx_t;

namespace parley::sfu {

/// One direction, any SSRC, configured as the server's sessions are (replay window
/// 1024, repeated transmissions allowed outbound).
class LibSrtpSession {
 public:
  static Result<std::unique_ptr<LibSrtpSession>> Create(SrtpProfile profile, std::span<const uint8_t> master,
                                                        SrtpSession::Direction direction);
  ~LibSrtpSession();
  LibSrtpSession(const LibSrtpSession&) = delete;
  LibSrtpSession& operator=(const LibSrtpSession&) = delete;

  size_t ProtectRtp(uint8_t* buffer, size_t length, size_t capacity);
  size_t UnprotectRtp(uint8_t* buffer, size_t length);
  size_t ProtectRtcp(uint8_t* buffer, size_t length, size_t capacity);
  size_t UnprotectRtcp(uint8_t* buffer, size_t length);

 private:
  LibSrtpSession() = default;
  srtp_ctx_t* ctx_ = nullptr;
};

}  // namespace parley::sfu
