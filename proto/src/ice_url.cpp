#include "parley/proto/ice_url.hpp"

#include <algorithm>
#include <cctype>

namespace parley {
namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
}
bool IsV6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

}  // namespace

std::string IceUrl::authority() const {
  std::string a = ipv6 ? "[" + host + "]" : host;
  if (port) a += ":" + std::to_string(port);
  return a;
}

Result<IceUrl> ParseIceUrl(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return MakeError(Errc::kInvalidField, "ICE server URL '" + std::string(url) + "': " + why);
  };
  IceUrl out;
  std::string_view rest;
  for (std::string_view scheme : {"stun:", "turn:", "turns:"}) {
    if (url.substr(0, scheme.size()) == scheme) {
      rest = url.substr(scheme.size());
      out.scheme = std::string(scheme.substr(0, scheme.size() - 1));
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
    if (!std::all_of(host.begin(), host.end(), IsV6Char)) return bad("not an IPv6 address");
    out.ipv6 = true;
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
  out.host = std::string(host);
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the port must be a number");
    int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return bad("the port must be 1..65535");
    out.port = static_cast<uint16_t>(p);
  }
  if (!query.empty()) {
    if (out.scheme == "stun") return bad("a STUN URL takes no ?transport");
    if (query != "transport=udp" && query != "transport=tcp") return bad("only ?transport=udp or ?transport=tcp");
    out.transport = std::string(query.substr(10));
  }
  return out;
}

}  // namespace parley
