#include "auth/turn_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "parley/proto/ice_url.hpp"
#include "parley/proto/token.hpp"

namespace parley::server {

Status CheckIceServerUrl(std::string_view url) {
  auto parsed = ParseIceUrl(url);
  if (!parsed) return parsed.error();
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
