// STUN for ICE-lite (RFC 5389 message format, RFC 8445 ICE attributes, RFC 5769 test
// vectors in the tests). The server only answers Binding requests: it parses them,
// checks MESSAGE-INTEGRITY with its short-term password and FINGERPRINT, and writes the
// success response. No allocation, no exceptions.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace parley::sfu {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr uint16_t kStunBindingRequest = 0x0001;
inline constexpr uint16_t kStunBindingSuccess = 0x0101;
inline constexpr uint16_t kStunBindingError = 0x0111;
inline constexpr uint16_t kStunBindingIndication = 0x0011;

enum StunAttr : uint16_t {
  kAttrMappedAddress = 0x0001,
  kAttrUsername = 0x0006,
  kAttrMessageIntegrity = 0x0008,
  kAttrErrorCode = 0x0009,
  kAttrXorMappedAddress = 0x0020,
  kAttrPriority = 0x0024,
  kAttrUseCandidate = 0x0025,
  kAttrSoftware = 0x8022,
  kAttrFingerprint = 0x8028,
  kAttrIceControlled = 0x8029,
  kAttrIceControlling = 0x802A,
};

/// A parsed STUN message. Spans point into the packet.
struct StunMessage {
  uint16_t type = 0;
  std::array<uint8_t, 12> transaction_id{};
  std::string_view username;
  size_t integrity_offset = 0;    ///< offset of the MESSAGE-INTEGRITY attribute header, 0 = absent
  size_t fingerprint_offset = 0;  ///< offset of the FINGERPRINT attribute header, 0 = absent
  uint32_t priority = 0;
  bool use_candidate = false;
  std::optional<uint64_t> ice_controlling;
  std::optional<uint64_t> ice_controlled;
  std::optional<sockaddr_storage> xor_mapped;
  uint16_t error_code = 0;
};

/// Parses a STUN message (RFC 5389 §6, §15). nullopt if malformed: wrong header bits,
/// magic cookie, length, attribute bounds, or attributes after FINGERPRINT.
std::optional<StunMessage> ParseStun(std::span<const uint8_t> packet);

/// Checks MESSAGE-INTEGRITY (HMAC-SHA1, RFC 5389 §15.4) with the short-term key.
bool VerifyStunIntegrity(const StunMessage& m, std::span<const uint8_t> packet, std::string_view key);

/// Checks FINGERPRINT (CRC-32 xor 0x5354554E, RFC 5389 §15.5).
bool VerifyStunFingerprint(const StunMessage& m, std::span<const uint8_t> packet);

/// Writes a Binding success response for `request` with XOR-MAPPED-ADDRESS = `peer`,
/// MESSAGE-INTEGRITY (with `key`) and FINGERPRINT. Returns the length, 0 if `out` is
/// too small (needs 80 bytes for IPv6).
size_t WriteStunBindingSuccess(std::span<uint8_t> out, const std::array<uint8_t, 12>& transaction_id,
                               const sockaddr_storage& peer, std::string_view key);

/// Client side (tests, and later the load generator): a Binding request with USERNAME,
/// PRIORITY, ICE-CONTROLLING, optional USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
size_t WriteStunBindingRequest(std::span<uint8_t> out, const std::array<uint8_t, 12>& transaction_id,
                               std::string_view username, std::string_view key, uint32_t priority, uint64_t tie_breaker,
                               bool use_candidate);

/// The server's local ufrag from USERNAME "local:remote" (RFC 8445 §7.2.2).
std::string_view LocalUfrag(std::string_view username);

}  // namespace parley::sfu
