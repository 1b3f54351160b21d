// parley token: mint a channel token (docs/token.md): an access token by default, or an
// ARTC classic / single-parameter token for apps that accept them.
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "commands/common.hpp"
#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::cli {
namespace {

struct TokenOptions {
  AuthInfo auth;
  std::string ttl;
  std::string role;
  bool single = false;
  bool classic = false;
  bool link = false;  ///< print the meeting page's link that joins with this token
};

int Run(TokenOptions o) {
  const GlobalOptions& g = Globals();
  o.auth.app_id = g.app_id;
  if (o.auth.app_id.empty() || g.app_key.empty()) {
    PrintError(
        MakeError(Errc::kInvalidAuthInfo, "give --app-id and --app-key (or set PARLEY_APP_ID and PARLEY_APP_KEY)"));
    return kExitFailure;
  }
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!o.ttl.empty()) {
    int64_t seconds = 0;
    if (!ParseDuration(o.ttl, &seconds)) {
      fmt::print(stderr, "parley token: --ttl '{}' is not a duration such as 3600, 90m, 24h or 7d\n", o.ttl);
      return kExitUsage;
    }
    o.auth.timestamp = now + seconds;
  }
  // Validate the fields the token covers; the token itself is filled in below.
  AuthInfo check = o.auth;
  check.token = "-";
  if (Status s = ValidateAuthInfo(check); !s) {
    PrintError(s.error());
    return kExitFailure;
  }
  if (!o.role.empty() && !ParseRole(o.role)) {
    fmt::print(stderr, "parley token: --role must be broadcaster or audience\n");
    return kExitUsage;
  }
  if (o.auth.timestamp <= now)
    fmt::print(stderr, "warning: this token expired at {} ({} ago); the server will refuse it (0x05040002)\n",
               FormatUtc(o.auth.timestamp), FormatSpan(now - o.auth.timestamp));
  nlohmann::ordered_json out = {{"appId", o.auth.app_id},        {"channelId", o.auth.channel_id},
                                {"userId", o.auth.user_id},      {"nonce", o.auth.nonce},
                                {"expiresAt", o.auth.timestamp}, {"expiresAtUtc", FormatUtc(o.auth.timestamp)}};
  if (o.classic || o.single) {
    if (!o.role.empty()) {
      fmt::print(stderr, "parley token: classic tokens carry no role\n");
      return kExitUsage;
    }
    o.auth.token = ComputeClassicToken(o.auth.app_id, g.app_key, o.auth.channel_id, o.auth.user_id, o.auth.nonce,
                                       o.auth.timestamp);
    std::string single = EncodeSingleToken(o.auth);
    if (g.json) {
      out["format"] = "classic";
      out["token"] = o.auth.token;
      out["singleToken"] = single;
      fmt::print("{}\n", out.dump(2));
    } else if (o.single) {
      fmt::print("{}\n", single);  // carries every field: what a client passes alone
    } else {
      // A classic client passes every AuthInfo field beside the hex token.
      fmt::print("appId      {}\nchannelId  {}\nuserId     {}\nnonce      {}\ntimestamp  {}  ({})\ntoken      {}\n",
                 o.auth.app_id, o.auth.channel_id, o.auth.user_id, o.auth.nonce, o.auth.timestamp,
                 FormatUtc(o.auth.timestamp), o.auth.token);
    }
    return kExitOk;
  }
  AccessClaims claims{o.auth.app_id, o.auth.channel_id, o.auth.user_id, o.auth.nonce, o.role, o.auth.timestamp, now};
  std::string token = MintAccessToken(claims, g.app_key);
  if (g.json) {
    out["format"] = "access";
    out["role"] = o.role;
    out["token"] = token;
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  if (o.link) {
    // The meeting page of the server (--server / PARLEY_SERVER); the token rides in the
    // fragment, which browsers never send to a server.
    std::string base = g.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.rfind("ws://", 0) == 0) base = "http://" + base.substr(5);
    if (base.rfind("wss://", 0) == 0) base = "https://" + base.substr(6);
    if (auto at = base.find("/v1/signal"); at != std::string::npos) base.erase(at);
    fmt::print("{}/demo/#token={}\n", base, token);
    return kExitOk;
  }
  // The token alone on stdout (T=$(parley token ...)); what it grants for a person reading.
  fmt::print("{}\n", token);
  if (isatty(STDERR_FILENO))
    fmt::print(stderr, "access token for {} in channel {}{}, expires {} (in {})\njoin: parley join --token <token>\n",
               o.auth.user_id, o.auth.channel_id, o.role.empty() ? "" : " as " + o.role, FormatUtc(o.auth.timestamp),
               FormatSpan(o.auth.timestamp - now));
  return kExitOk;
}

}  // namespace

void RegisterTokenCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<TokenOptions>();
  GlobalOptions& g = Globals();
  auto* cmd = app.add_subcommand("token", "Mint a channel token for a user (docs/token.md)");
  cmd->add_option("--app-id", g.app_id, "AppId (env PARLEY_APP_ID)");
  cmd->add_option("--app-key", g.app_key, "AppKey, the secret; never ship it in a client (env PARLEY_APP_KEY)");
  cmd->add_option("--channel", o->auth.channel_id, "Channel id: 1-64 of A-Z a-z 0-9 _ -")->required();
  cmd->add_option("--user", o->auth.user_id, "User id: 1-64 of A-Z a-z 0-9 _ -")->required();
  cmd->add_option("--nonce", o->auth.nonce, "Nonce (may be empty)");
  auto* ts = cmd->add_option("--timestamp", o->auth.timestamp, "Expiry as Unix seconds");
  auto* ttl = cmd->add_option("--ttl", o->ttl, "Expiry from now: 3600, 90m, 24h, 7d");
  ts->excludes(ttl);
  cmd->add_option("--role", o->role, "Grant only this role: broadcaster or audience (access tokens)");
  cmd->add_flag("--classic", o->classic,
                "An ARTC classic token instead (weaker; the app must accept classic tokens): prints every field a "
                "classic client passes (appId, channelId, userId, nonce, timestamp, token)");
  cmd->add_flag("--single", o->single,
                "Print the classic single-parameter token (base64 JSON with appid, channelid, userid, nonce, "
                "timestamp, token); implies --classic");
  AddJsonFlag(cmd, "Print every field as JSON: the token, what it grants and its expiry");
  cmd->add_flag("--link", o->link,
                "Print a link to the server's meeting page that joins with the token (--server or PARLEY_SERVER)");
  AddServerOptions(cmd, false);
  cmd->footer(
      "One of --timestamp or --ttl is required. Prints an access token (a JWT signed with HS256 over\n"
      "every field, its expiry included; docs/token.md): a client passes it alone.\nExample:\n"
      "  parley token --app-id abc --app-key abckey --channel abcChannel --user abcUser --ttl 24h");
  cmd->callback([o, ts, ttl, runner] {
    if (ts->count() == 0 && ttl->count() == 0) throw CLI::RequiredError("--timestamp or --ttl");
    *runner = [o] { return Run(*o); };
  });
}

}  // namespace parley::cli
