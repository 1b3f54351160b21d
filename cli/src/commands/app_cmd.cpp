// parley app: the admin API from the terminal (apps, channels, kicks, test tokens).
#include <fmt/core.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
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
  std::string name, app_id, channel, user, nonce, ttl = "24h", minutes, role, toggle;
  bool classic_tokens = false;
  bool classic = false;
  bool reveal_key = false;
  bool export_env = false;
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

Result<json> Call(const std::string& server, const std::string& admin_key, bool insecure, const std::string& method,
                  const std::string& path, const json& body = {}) {
  auto url = ParseUrl(server);
  if (!url) return url.error();
  if (admin_key.empty() && path.rfind("/v1/admin", 0) == 0)
    return MakeError(Errc::kAdminUnauthorized, "give --admin-key or set PARLEY_ADMIN_KEY");
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url->host, url->port);
    http::request<http::string_body> req(http::string_to_verb(method), url->prefix + path, 11);
    req.set(http::field::host, url->host);
    if (!admin_key.empty()) req.set(http::field::authorization, "Bearer " + admin_key);
    req.set(http::field::user_agent, std::string("parley/") + PARLEY_VERSION);
    if (!body.is_null()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body.dump();
    }
    req.prepare_payload();
    if (url->tls) {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(insecure ? asio::ssl::verify_none : asio::ssl::verify_peer);
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
    return MakeError(Errc::kSignalRequestError,
                     "cannot reach " + server + " (" + e.what() + "): " + UnreachableHint(server));
  }
}

// An admin call with the shared options (--server, --admin-key, --insecure).
Result<json> Call(const std::string& method, const std::string& path, const json& body = {}) {
  const GlobalOptions& g = Globals();
  return Call(g.server, g.admin_key, g.insecure, method, path, body);
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The console shows an AppKey once; the terminal does too: on creation and rotation,
// and with an explicit --reveal-key.
json Redacted(json app, bool reveal) {
  if (!reveal && app.is_object() && app.contains("appKey")) app["appKey"] = "(hidden: --reveal-key shows it)";
  return app;
}

std::string StateOf(const json& a) {
  if (!a.value("enabled", true)) return "disabled";
  if (a.value("overdue", false)) return "quota used up";
  return "enabled";
}

std::string QuotaOf(const json& a) {
  std::string used = fmt::format("{:.1f} min used", a.value("usedSeconds", 0.0) / 60.0);
  if (!a.contains("quotaMinutes") || a["quotaMinutes"].is_null()) return "unlimited, " + used;
  return fmt::format("{} min, {}", a["quotaMinutes"].get<int64_t>(), used);
}

void PrintApp(const json& a, bool show_key) {
  std::vector<std::vector<std::string>> rows = {
      {"AppId", a.value("appId", "")},
      {"Name", a.value("name", "")},
      {"AppKey",
       show_key ? a.value("appKey", "") : "(hidden: parley app show " + a.value("appId", "") + " --reveal-key)"},
      {"State", StateOf(a)},
      {"Quota", QuotaOf(a)},
      {"Classic tokens", a.value("classicTokens", false) ? "accepted" : "refused (access tokens only)"},
      {"Created", FormatUtc(a.value("createdAt", int64_t{0}))}};
  for (const auto& r : rows) fmt::print("{:<16}{}\n", r[0], r[1]);
}

// Prints the answer: JSON for scripts (--json), else what `human` makes of it.
int Print(const Result<json>& r, const std::function<void(const json&)>& human) {
  if (!r) {
    PrintError(r.error());
    return kExitFailure;
  }
  if (Globals().json)
    fmt::print("{}\n", r->dump(2));
  else
    human(*r);
  return kExitOk;
}

void PrintChannels(const json& answer) {
  const json& channels = answer.value("channels", json::array());
  if (channels.empty()) {
    fmt::print("No live channels.\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  int64_t now = Now();
  for (const auto& c : channels) {
    std::string since = FormatSpan(now - c.value("createdAt", now));
    std::string speaker = c.value("activeSpeaker", "");
    for (const auto& u : c.value("users", json::array())) {
      std::string tracks;
      for (const auto& t : u.value("tracks", json::array()))
        tracks += (tracks.empty() ? "" : ",") + t.get<std::string>();
      std::string muted;
      for (const auto& t : u.value("muted", json::array())) muted += (muted.empty() ? "" : ",") + t.get<std::string>();
      if (!muted.empty()) tracks += " (muted " + muted + ")";
      std::string id = u.value("userId", "");
      rows.push_back({c.value("appId", ""), c.value("channelId", ""), c.value("profile", ""),
                      c.value("h5Compatible", true) ? "yes" : "no", id + (id == speaker ? " (speaking)" : ""),
                      u.value("role", ""), u.value("platform", ""), tracks.empty() ? "—" : tracks, since});
    }
  }
  PrintTable({"APP", "CHANNEL", "PROFILE", "H5", "USER", "ROLE", "PLATFORM", "TRACKS", "LIVE FOR"}, rows);
}

void PrintToken(const json& t) {
  int64_t expires = t.value("expiresAt", int64_t{0});
  std::string when = fmt::format("{} (in {})", FormatUtc(expires), FormatSpan(expires - Now()));
  if (t.value("format", "access") == "classic") {
    // Everything a classic client passes: the AuthInfo fields and the hex token.
    std::vector<std::pair<std::string, std::string>> rows = {{"appId", t.value("appId", "")},
                                                             {"channelId", t.value("channelId", "")},
                                                             {"userId", t.value("userId", "")},
                                                             {"nonce", t.value("nonce", "")},
                                                             {"timestamp", std::to_string(expires) + "  " + when},
                                                             {"token", t.value("token", "")},
                                                             {"single", t.value("singleToken", "")}};
    for (const auto& [k, v] : rows) fmt::print("{:<11}{}\n", k, v);
    return;
  }
  fmt::print("{}\n", t.value("token", ""));
  fmt::print(stderr, "access token for {} in {}, expires {}\njoin with: parley join --token <the token above>\n",
             t.value("userId", ""), t.value("channelId", ""), when);
}

}  // namespace

Result<nlohmann::json> AdminCall(const std::string& server, const std::string& admin_key, const std::string& method,
                                 const std::string& path, const nlohmann::json& body) {
  return Call(server, admin_key, false, method, path, body);
}

Result<nlohmann::json> PublicGet(const std::string& server, const std::string& path) {
  return Call(server, "", Globals().insecure, "GET", path);
}

void RegisterAppCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<AppOptions>();
  auto* cmd = app.add_subcommand("app", "Manage apps and live channels through a server's admin API");
  AddServerOptions(cmd, true);
  AddJsonFlag(cmd, "Print the server's JSON answer (for scripts)");
  cmd->require_subcommand(1);
  cmd->footer(
      "Prints tables; --json prints the server's JSON. Exit status 1 with the error code on failure.\n"
      "The server and admin key come from --server/--admin-key (before or after the command) or\n"
      "PARLEY_SERVER/PARLEY_ADMIN_KEY.");
  // Every command takes the shared options too, so they may follow it and its --help lists them.
  auto sub = [&](const char* name, const std::string& what) {
    auto* s = cmd->add_subcommand(name, what);
    AddServerOptions(s, true);
    AddJsonFlag(s, "Print the server's JSON answer (for scripts)");
    return s;
  };
  auto id_arg = [&](CLI::App* s) { s->add_option("app-id", o->app_id, "AppId")->required(); };
  auto run = [runner](CLI::App* s, std::function<int()> fn) { s->callback([runner, fn] { *runner = fn; }); };

  auto* create = sub("create", "Create an app; prints its AppId and AppKey (the key is shown this once)");
  create->add_option("--name", o->name, "A name for the app")->required();
  create->add_flag("--classic-tokens", o->classic_tokens,
                   "Also accept ARTC classic tokens (weaker than the default access tokens; docs/token.md)");
  create->add_flag("--export", o->export_env,
                   "Print shell lines that set PARLEY_APP_ID and PARLEY_APP_KEY: eval \"$(parley app create --name "
                   "NAME --export)\"");
  run(create, [o] {
    return Print(Call("POST", "/v1/admin/apps", {{"name", o->name}, {"classicTokens", o->classic_tokens}}),
                 [o](const json& a) {
                   if (o->export_env) {
                     // Ids and keys are [0-9a-z]: nothing for the shell to expand.
                     fmt::print("export PARLEY_APP_ID={}\nexport PARLEY_APP_KEY={}\n", a.value("appId", ""),
                                a.value("appKey", ""));
                     fmt::print(stderr, "created app {} ({}); PARLEY_APP_ID and PARLEY_APP_KEY are set for eval\n",
                                a.value("appId", ""), a.value("name", ""));
                     return;
                   }
                   fmt::print("Created app \"{}\".\n\n", a.value("name", ""));
                   PrintApp(a, true);
                   fmt::print(
                       "\nKeep the AppKey secret: it signs tokens, so it belongs on your server, never in a client.\n"
                       "It is shown again only by `parley app show {0} --reveal-key`.\n"
                       "Next: parley token --app-id {0} --app-key {1} --channel room1 --user alice --ttl 24h\n",
                       a.value("appId", ""), a.value("appKey", ""));
                 });
  });

  auto* classic = sub("classic-tokens", "Turn acceptance of ARTC classic tokens on or off for an app");
  id_arg(classic);
  classic->add_option("state", o->toggle, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  run(classic, [o] {
    return Print(Call("PUT", "/v1/admin/apps/" + o->app_id + "/settings", {{"classicTokens", o->toggle == "on"}}),
                 [](const json& a) {
                   fmt::print("App {} {} classic tokens.\n", a.value("appId", ""),
                              a.value("classicTokens", false) ? "now accepts" : "no longer accepts");
                 });
  });

  auto* list = sub("list", "List apps");
  run(list, [] {
    auto r = Call("GET", "/v1/admin/apps");
    if (r && Globals().json)
      (*r)["apps"] = [&] {
        json apps = json::array();
        for (const auto& a : (*r)["apps"]) apps.push_back(Redacted(a, false));
        return apps;
      }();
    return Print(r, [](const json& answer) {
      const json& apps = answer.value("apps", json::array());
      if (apps.empty()) {
        fmt::print("No apps yet: parley app create --name NAME\n");
        return;
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& a : apps)
        rows.push_back({a.value("appId", ""), a.value("name", ""), StateOf(a), QuotaOf(a),
                        a.value("classicTokens", false) ? "yes" : "no", FormatUtc(a.value("createdAt", int64_t{0}))});
      PrintTable({"APP ID", "NAME", "STATE", "QUOTA", "CLASSIC TOKENS", "CREATED"}, rows);
    });
  });

  auto* show = sub("show", "Show an app (the AppKey only with --reveal-key)");
  id_arg(show);
  show->add_flag("--reveal-key", o->reveal_key, "Also print the AppKey (the secret that signs tokens)");
  run(show, [o] {
    auto r = Call("GET", "/v1/admin/apps/" + o->app_id);
    if (r && Globals().json) *r = Redacted(*r, o->reveal_key);
    return Print(r, [o](const json& a) { PrintApp(a, o->reveal_key); });
  });

  struct Verb {
    const char* name;
    const char* what;
    const char* method;
    const char* suffix;
    const char* done;
  };
  for (const Verb& v : {Verb{"disable",
                             "Disable an app: its users are removed (0x02010105) and joins refused "
                             "(0x02010202)",
                             "POST", "/disable", "App {} is disabled; its users were removed."},
                        Verb{"enable", "Enable an app again", "POST", "/enable", "App {} is enabled."},
                        Verb{"rotate-key", "Give an app a new AppKey: tokens signed with the old one stop working",
                             "POST", "/rotate-key", "App {} has a new AppKey; its users were removed."},
                        Verb{"delete", "Delete an app and remove its users", "DELETE", "", "App {} is deleted."}}) {
    auto* s = sub(v.name, v.what);
    id_arg(s);
    run(s, [o, v] {
      bool rotate = std::string_view(v.name) == "rotate-key";
      auto r = Call(v.method, "/v1/admin/apps/" + o->app_id + v.suffix);
      if (r && Globals().json) *r = Redacted(*r, rotate);
      return Print(r, [o, v, rotate](const json& a) {
        fmt::print(fmt::runtime(std::string(v.done) + "\n"), o->app_id);
        if (rotate) fmt::print("New AppKey: {} (shown this once)\n", a.value("appKey", ""));
      });
    });
  }

  auto* quota = sub("quota", "Set an app's usage quota in user-minutes (joins are refused once it is used up)");
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
    auto r = Call("PUT", "/v1/admin/apps/" + o->app_id + "/quota", {{"minutes", minutes}});
    if (r && Globals().json) *r = Redacted(*r, false);
    return Print(
        r, [](const json& a) { fmt::print("App {}: quota {} ({}).\n", a.value("appId", ""), QuotaOf(a), StateOf(a)); });
  });

  auto* channels = sub("channels", "List live channels and their users (of one app, or all)");
  channels->add_option("app-id", o->app_id, "AppId (optional)");
  run(channels, [o] {
    return Print(Call("GET", o->app_id.empty() ? "/v1/admin/channels" : "/v1/admin/apps/" + o->app_id + "/channels"),
                 PrintChannels);
  });

  auto* kick = sub("kick", "Remove a user from a channel (their session gets 0x02010105)");
  id_arg(kick);
  kick->add_option("channel", o->channel, "Channel id")->required();
  kick->add_option("user", o->user, "User id")->required();
  run(kick, [o] {
    return Print(
        Call("POST", "/v1/admin/apps/" + o->app_id + "/channels/" + o->channel + "/users/" + o->user + "/kick"),
        [o](const json&) {
          fmt::print("Removed {} from channel {} (their client gets 0x02010105, reason \"kicked\").\n", o->user,
                     o->channel);
        });
  });

  auto* close = sub("close", "Close a live channel, removing everyone in it");
  id_arg(close);
  close->add_option("channel", o->channel, "Channel id")->required();
  run(close, [o] {
    return Print(Call("DELETE", "/v1/admin/apps/" + o->app_id + "/channels/" + o->channel),
                 [o](const json&) { fmt::print("Closed channel {}; everyone in it was removed.\n", o->channel); });
  });

  auto* token = sub("token", "Mint a token on the server (an access token; --classic for ARTC)");
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
    return Print(Call("POST", "/v1/admin/apps/" + o->app_id + "/tokens",
                      {{"channelId", o->channel},
                       {"userId", o->user},
                       {"nonce", o->nonce},
                       {"ttlSeconds", seconds},
                       {"role", o->role},
                       {"format", o->classic ? "classic" : "access"}}),
                 PrintToken);
  });
}

}  // namespace parley::cli
