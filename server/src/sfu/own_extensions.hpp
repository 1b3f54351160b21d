// The RTP header extensions the server writes itself in what it sends a subscriber
// (forwarded copies, probes), each where the subscriber's answer took it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace parley::sfu {

/// abs-send-time's value for `us` microseconds: seconds in 6.18 fixed point, 24 bits
/// (wrapping every 64 s).
[[nodiscard]] inline uint32_t AbsSendTime(int64_t us) {
  auto t = static_cast<uint64_t>(us) % 64'000'000u;
  return static_cast<uint32_t>(((t << 18) / 1'000'000u) & 0xFFFFFFu);
}

/// The header extensions the server writes itself in a subscriber's copies, each where
/// the subscriber's answer took it (id 0: not negotiated).
struct OwnExtensions {
  uint8_t abs_send_time_id = 0;
  int64_t send_us = 0;  ///< abs-send-time's value (any microsecond clock)
  uint8_t transport_cc_id = 0;
  uint16_t transport_seq = 0;  ///< the transport-wide sequence number (send_side_bwe.hpp)
  [[nodiscard]] bool any() const { return abs_send_time_id != 0 || transport_cc_id != 0; }
};
/// The longest extension block WriteOwnExtensions writes.
inline constexpr size_t kOwnExtensionsMax = 12;
/// Writes the extension block of `ext` (RFC 8285 one-byte form, its 4-byte header
/// included, padded to a word) into `out` (kOwnExtensionsMax bytes); returns its length.
size_t WriteOwnExtensions(uint8_t* out, const OwnExtensions& ext);

}  // namespace parley::sfu
