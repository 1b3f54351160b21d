#include "auth/turn_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "parley/proto/token.hpp"

namespace parley::server {

namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
}

}  // namespace

Status CheckIceServerUrl(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return MakeError(Errc::kInvalidField, "ICE server URL '" + std::string(url) + "': " + why);
  };
  std::string_view rest;
  bool turn = false;
  for (std::string_view scheme : {"stun:", "turn:", "turns:"}) {
    if (url.substr(0, scheme.size()) == scheme) {
      rest = url.substr(scheme.size());
      turn = scheme != "stun:";
    }
  }
  if (rest.empty()) return bad("must start with stun:, turn: or turns: and name a host");
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query.empty()) return bad("an empty query after '?'");
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]
    auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return bad("an IPv6 address needs its closing ]");
    host = rest.substr(1, close - 1);
    if (!std::all_of(host.begin(), host.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.'; }))
      return bad("not an IPv6 address");
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("only :port may follow the address");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    if (auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
    if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), IsHostChar))
      return bad("the host must be a name or an address (letters, digits, '.', '-')");
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the port must be a number");
    int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return bad("the port must be 1..65535");
  }
  if (!query.empty()) {
    if (!turn) return bad("a STUN URL takes no ?transport");
    if (query != "transport=udp" && query != "transport=tcp") return bad("only ?transport=udp or ?transport=tcp");
  }
  return {};
}

std::string TurnPassword(std::string_view secret, std::string_view username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(username.data()), username.size(), mac, &len))
    return {};
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

nlohmann::json IceServers(const std::vector<std::string>& urls, const std::string& secret, int64_t ttl_s,
                          const std::string& user_id, int64_t now_unix) {
  nlohmann::json servers = nlohmann::json::array();
  if (urls.empty()) return servers;
  nlohmann::json entry = {{"urls", urls}};
  const bool any_turn =
      std::any_of(urls.begin(), urls.end(), [](const std::string& u) { return u.rfind("turn", 0) == 0; });
  if (any_turn && !secret.empty()) {
    std::string username = std::to_string(now_unix + ttl_s) + ":" + user_id;
    entry["username"] = username;
    entry["credential"] = TurnPassword(secret, username);
  }
  servers.push_back(std::move(entry));
  return servers;
}

}  // namespace parley::server
