// parley app: the admin API from the terminal (apps, channels, kicks, test tokens).
#include <fmt/core.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "commands/common.hpp"
#include "parley/proto/errc.hpp"

namespace parley::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using nlohmann::json;

struct AppOptions {
  std::string server;
  std::string admin_key;
  bool insecure = false;
  std::string name, app_id, channel, user, nonce, ttl = "24h", minutes, role, toggle;
  bool classic_tokens = false;
  bool classic = false;
};

struct Url {
  bool tls = false;
  std::string host, port, prefix;
};

Result<Url> ParseUrl(const std::string& text) {
  Url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = text.substr(8);
  } else {
    return MakeError(Errc::kInvalidField, "--server must start with http:// or https://");
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.prefix = rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  u.port = u.tls ? "443" : "80";
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:7880
    auto close = hostport.find(']');
    if (close == std::string::npos) return MakeError(Errc::kInvalidField, "bad --server URL " + text);
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') u.port = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = hostport.substr(colon + 1);
  } else {
    u.host = hostport;
  }
  if (u.host.empty() || u.port.empty()) return MakeError(Errc::kInvalidField, "bad --server URL " + text);
  return u;
}

template <class Stream>
Result<json> Exchange(Stream& stream, http::request<http::string_body>& req) {
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  json body = json::parse(res.body(), nullptr, false);
  if (res.result_int() >= 400) {
    if (body.is_object() && body.contains("code") && body["code"].is_number_integer())
      return MakeError(static_cast<Errc>(body["code"].get<int32_t>()), body.value("message", "request failed"));
    return MakeError(Errc::kAdminBadRequest, "HTTP " + std::to_string(res.result_int()) + ": " + res.body());
  }
  if (body.is_discarded()) return MakeError(Errc::kSignalRequestError, "the server's answer is not JSON");
  return body;
}

Result<json> Call(const AppOptions& o, const std::string& method, const std::string& path, const json& body = {}) {
  auto url = ParseUrl(o.server);
  if (!url) return url.error();
  if (o.admin_key.empty()) return MakeError(Errc::kAdminUnauthorized, "give --admin-key or set PARLEY_ADMIN_KEY");
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url->host, url->port);
    http::request<http::string_body> req(http::string_to_verb(method), url->prefix + path, 11);
    req.set(http::field::host, url->host);
    req.set(http::field::authorization, "Bearer " + o.admin_key);
    req.set(http::field::user_agent, std::string("parley/") + PARLEY_VERSION);
    if (!body.is_null()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body.dump();
    }
    req.prepare_payload();
    if (url->tls) {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(o.insecure ? asio::ssl::verify_none : asio::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
      SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(15));
      beast::get_lowest_layer(stream).connect(endpoints);
      stream.handshake(asio::ssl::stream_base::client);
      return Exchange(stream, req);
    }
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(15));
    stream.connect(endpoints);
    return Exchange(stream, req);
  } catch (const std::exception& e) {
    return MakeError(Errc::kSignalRequestError, "cannot reach " + o.server + ": " + e.what());
  }
}

int Print(const Result<json>& r) {
  if (!r) {
    PrintError(r.error());
    return kExitFailure;
  }
  fmt::print("{}\n", r->dump(2));
  return kExitOk;
}

}  // namespace

Result<nlohmann::json> AdminCall(const std::string& server, const std::string& admin_key, const std::string& method,
                                 const std::string& path, const nlohmann::json& body) {
  AppOptions o;
  o.server = server;
  o.admin_key = admin_key;
  return Call(o, method, path, body);
}

void RegisterAppCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<AppOptions>();
  const char* env_server = std::getenv("PARLEY_SERVER");
  const char* env_key = std::getenv("PARLEY_ADMIN_KEY");
  o->server = env_server ? env_server : "http://127.0.0.1:7880";
  if (env_key) o->admin_key = env_key;
  auto* cmd = app.add_subcommand("app", "Manage apps and live channels through a server's admin API");
  cmd->add_option("--server", o->server, "Server URL (env PARLEY_SERVER)")->capture_default_str();
  cmd->add_option("--admin-key", o->admin_key, "Admin key (env PARLEY_ADMIN_KEY)");
  cmd->add_flag("--insecure", o->insecure, "Do not verify the server's TLS certificate");
  cmd->require_subcommand(1);
  cmd->footer("Prints the server's JSON answer. Exit status 1 with the error code on failure.");
  auto id_arg = [&](CLI::App* sub) { sub->add_option("app-id", o->app_id, "AppId")->required(); };
  auto run = [runner](CLI::App* sub, std::function<int()> fn) { sub->callback([runner, fn] { *runner = fn; }); };

  auto* create = cmd->add_subcommand("create", "Create an app; prints appId and appKey");
  create->add_option("--name", o->name, "A name for the app")->required();
  create->add_flag("--classic-tokens", o->classic_tokens,
                   "Also accept ARTC classic tokens (weaker than the default access tokens; docs/token.md)");
  run(create, [o] {
    return Print(Call(*o, "POST", "/v1/admin/apps", {{"name", o->name}, {"classicTokens", o->classic_tokens}}));
  });

  auto* classic = cmd->add_subcommand("classic-tokens", "Turn acceptance of ARTC classic tokens on or off for an app");
  id_arg(classic);
  classic->add_option("state", o->toggle, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  run(classic, [o] {
    return Print(Call(*o, "PUT", "/v1/admin/apps/" + o->app_id + "/settings", {{"classicTokens", o->toggle == "on"}}));
  });

  auto* list = cmd->add_subcommand("list", "List apps");
  run(list, [o] { return Print(Call(*o, "GET", "/v1/admin/apps")); });

  for (const char* verb : {"show", "disable", "enable", "rotate-key", "delete"}) {
    auto* sub = cmd->add_subcommand(verb, std::string(verb) + " an app");
    id_arg(sub);
    std::string v = verb;
    run(sub, [o, v] {
      std::string path = "/v1/admin/apps/" + o->app_id;
      if (v == "show") return Print(Call(*o, "GET", path));
      if (v == "delete") return Print(Call(*o, "DELETE", path));
      return Print(Call(*o, "POST", path + "/" + v));
    });
  }

  auto* quota = cmd->add_subcommand("quota", "Set an app's usage quota in user-minutes");
  id_arg(quota);
  quota->add_option("--minutes", o->minutes, "Minutes, or 'unlimited'")->required();
  run(quota, [o] {
    json minutes;
    if (o->minutes != "unlimited") {
      try {
        size_t used = 0;
        long long m = std::stoll(o->minutes, &used);
        if (used != o->minutes.size() || m < 0) throw std::invalid_argument("negative");
        minutes = m;
      } catch (const std::exception&) {
        fmt::print(stderr, "parley app quota: --minutes must be an integer >= 0 or 'unlimited'\n");
        return kExitUsage;
      }
    }
    return Print(Call(*o, "PUT", "/v1/admin/apps/" + o->app_id + "/quota", {{"minutes", minutes}}));
  });

  auto* channels = cmd->add_subcommand("channels", "List live channels and their users (of one app, or all)");
  channels->add_option("app-id", o->app_id, "AppId (optional)");
  run(channels, [o] {
    return Print(
        Call(*o, "GET", o->app_id.empty() ? "/v1/admin/channels" : "/v1/admin/apps/" + o->app_id + "/channels"));
  });

  auto* kick = cmd->add_subcommand("kick", "Remove a user from a channel (their session gets 0x02010105)");
  id_arg(kick);
  kick->add_option("channel", o->channel, "Channel id")->required();
  kick->add_option("user", o->user, "User id")->required();
  run(kick, [o] {
    return Print(
        Call(*o, "POST", "/v1/admin/apps/" + o->app_id + "/channels/" + o->channel + "/users/" + o->user + "/kick"));
  });

  auto* close = cmd->add_subcommand("close", "Close a live channel, removing everyone in it");
  id_arg(close);
  close->add_option("channel", o->channel, "Channel id")->required();
  run(close, [o] { return Print(Call(*o, "DELETE", "/v1/admin/apps/" + o->app_id + "/channels/" + o->channel)); });

  auto* token = cmd->add_subcommand("token", "Mint a token on the server (an access token; --classic for ARTC)");
  id_arg(token);
  token->add_option("--channel", o->channel, "Channel id")->required();
  token->add_option("--user", o->user, "User id")->required();
  token->add_option("--nonce", o->nonce, "Nonce");
  token->add_option("--ttl", o->ttl, "Lifetime: 3600, 90m, 24h, 7d")->capture_default_str();
  token->add_option("--role", o->role, "Grant only this role: broadcaster or audience");
  token->add_flag("--classic", o->classic, "A classic token and its single-parameter form (app must allow them)");
  run(token, [o] {
    int64_t seconds = 0;
    if (!ParseDuration(o->ttl, &seconds)) {
      fmt::print(stderr, "parley app token: --ttl '{}' is not a duration\n", o->ttl);
      return kExitUsage;
    }
    return Print(Call(*o, "POST", "/v1/admin/apps/" + o->app_id + "/tokens",
                      {{"channelId", o->channel},
                       {"userId", o->user},
                       {"nonce", o->nonce},
                       {"ttlSeconds", seconds},
                       {"role", o->role},
                       {"format", o->classic ? "classic" : "access"}}));
  });
}

}  // namespace parley::cli
