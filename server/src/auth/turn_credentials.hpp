// TURN relays handed to clients with their join: the servers' URLs (RFC 7064/7065) as
// the operator gave them, and for each client a short-lived credential in the
// time-limited scheme TURN servers such as coturn check with a secret they share with
// parleyd (`use-auth-secret` / `static-auth-secret`): the username is
// "<expiry, Unix seconds>:<user id>" and the password is the base64 of
// HMAC-SHA1(secret, username), RFC 8489's long-term credential mechanism with a
// password nobody stores. The TURN server recomputes it, so nothing else is shared.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "parley/proto/result.hpp"

namespace parley::server {

/// Checks one ICE server URL: stun:, turn: or turns:, a host (a name, an IPv4 address
/// or a bracketed IPv6 one), an optional port, and for TURN an optional
/// ?transport=udp or ?transport=tcp. Nothing else (no userinfo, no path): what every
/// client (browsers, libnice) parses the same way.
Status CheckIceServerUrl(std::string_view url);

/// The ICE servers of the join answer, in RTCIceServer's shape: one entry with every
/// URL, and for TURN the username and credential above, valid until `now_unix` +
/// `ttl_s`. Empty when no URL is configured.
nlohmann::json IceServers(const std::vector<std::string>& urls, const std::string& secret, int64_t ttl_s,
                          const std::string& user_id, int64_t now_unix);

/// The time-limited password of `username` (base64 of its HMAC-SHA1 under `secret`).
std::string TurnPassword(std::string_view secret, std::string_view username);

}  // namespace parley::server
