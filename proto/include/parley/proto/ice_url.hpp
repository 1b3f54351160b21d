// The URL of an ICE server (RFC 7064 stun:, RFC 7065 turn: / turns:), as parleyd takes
// it (--turn-url) and as both SDKs receive it in a join answer's iceServers: one parser,
// so what the server accepts is what the SDKs can use.
//
//   scheme ":" host [":" port] ["?transport=" ("udp" / "tcp")]
//
// host is a name or an IPv4 address (letters, digits, '.', '-'; at most 253) or an IPv6
// address in brackets; no userinfo, path or other query (the credential travels apart).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/proto/result.hpp"

namespace parley {

struct IceUrl {
  std::string scheme;     ///< "stun", "turn" or "turns"
  std::string host;       ///< without brackets
  bool ipv6 = false;      ///< host was bracketed
  uint16_t port = 0;      ///< 0: not given (the scheme's default: 3478, or 5349 for turns)
  std::string transport;  ///< "", "udp" or "tcp" (TURN only)

  /// The port, or the scheme's default.
  [[nodiscard]] uint16_t port_or_default() const { return port ? port : (scheme == "turns" ? 5349 : 3478); }
  /// host[:port] with the brackets back on an IPv6 address.
  [[nodiscard]] std::string authority() const;
};

/// Parses `url`; kInvalidField with a message that quotes the URL and says what is wrong.
Result<IceUrl> ParseIceUrl(std::string_view url);

}  // namespace parley
