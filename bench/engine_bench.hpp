// What the benchmarks that drive libparley engines share: a parleyd of their own with
// one app, an engine configuration pointed at it, tokens to join its channels, and the
// percentiles of what they time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parley/engine.hpp"
#include "parley/proto/token.hpp"
#include "server_process.hpp"

namespace parley::bench {

class EngineBenchServer {
 public:
  EngineBenchServer() {
    auto r = test::HttpRequest(server_.port(), "POST", "/v1/admin/apps", R"({"name":"bench"})", server_.admin_key());
    auto app = nlohmann::json::parse(r.body);
    id_ = app["appId"];
    key_ = app["appKey"];
  }
  /// The defaults, signalling to this server.
  [[nodiscard]] EngineConfig Config() const {
    EngineConfig cfg;
    cfg.server_url = "ws://127.0.0.1:" + std::to_string(server_.port()) + "/v1/signal";
    return cfg;
  }
  /// A token for `user` in `channel`, valid for an hour.
  [[nodiscard]] AuthInfo Auth(const std::string& channel, const std::string& user) const {
    AuthInfo a{id_, channel, user, "n", time(nullptr) + 3600, ""};
    a.token = MintAccessToken({a.app_id, channel, user, a.nonce, "", a.timestamp, 0}, key_);
    return a;
  }

 private:
  test::ServerProcess server_;
  std::string id_, key_;
};

/// The `p` quantile (0..1) of `v`, the nearest sample; 0 for none.
inline double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace parley::bench
