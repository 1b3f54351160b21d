// Fuzzes the ICE server URL parser (parley/proto/ice_url.hpp): parleyd checks its
// --turn-url with it and both SDKs read the join answer's iceServers with it. Whatever
// the input, a URL it accepts is written back (scheme, authority, transport) into one
// it accepts again with the same parts: nothing of the input survives that the
// grammar does not allow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parley/proto/ice_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto u = parley::ParseIceUrl(in);
  if (!u) return 0;
  std::string again = u->scheme + ":" + u->authority();
  if (!u->transport.empty()) again += "?transport=" + u->transport;
  auto v = parley::ParseIceUrl(again);
  if (!v || v->scheme != u->scheme || v->host != u->host || v->port != u->port || v->transport != u->transport ||
      v->ipv6 != u->ipv6)
    std::abort();
  for (char c : u->host)
    if (c == '@' || c == '/' || c == '?' || c == '\r' || c == '\n' || c == ' ') std::abort();
  return 0;
}
