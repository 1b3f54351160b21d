// parley token: mint a channel token (docs/token.md): an access token by default, or an
// ARTC classic / single-parameter token for apps that accept them.
#include <fmt/core.h>

#include <chrono>

#include "commands/common.hpp"
#include "parley/proto/token.hpp"

namespace parley::cli {
namespace {

struct TokenOptions {
  AuthInfo auth;
  std::string app_key;
  std::string ttl;
  std::string role;
  bool single = false;
  bool classic = false;
};

int Run(TokenOptions o) {
  if (o.app_key.empty()) {
    PrintError(MakeError(Errc::kInvalidAuthInfo, "--app-key is empty"));
    return kExitFailure;
  }
  if (!o.ttl.empty()) {
    int64_t seconds = 0;
    if (!ParseDuration(o.ttl, &seconds)) {
      fmt::print(stderr, "parley token: --ttl '{}' is not a duration such as 3600, 90m, 24h or 7d\n", o.ttl);
      return kExitUsage;
    }
    auto now = std::chrono::system_clock::now().time_since_epoch();
    o.auth.timestamp = std::chrono::duration_cast<std::chrono::seconds>(now).count() + seconds;
  }
  // Validate the fields the token covers; the token itself is filled in below.
  AuthInfo check = o.auth;
  check.token = "-";
  if (Status s = ValidateAuthInfo(check); !s) {
    PrintError(s.error());
    return kExitFailure;
  }
  if (!o.role.empty() && o.role != "broadcaster" && o.role != "audience") {
    fmt::print(stderr, "parley token: --role must be broadcaster or audience\n");
    return kExitUsage;
  }
  if (o.classic || o.single) {
    if (!o.role.empty()) {
      fmt::print(stderr, "parley token: classic tokens carry no role\n");
      return kExitUsage;
    }
    o.auth.token = ComputeClassicToken(o.auth.app_id, o.app_key, o.auth.channel_id, o.auth.user_id, o.auth.nonce,
                                       o.auth.timestamp);
    fmt::print("{}\n", o.single ? EncodeSingleToken(o.auth) : o.auth.token);
    return kExitOk;
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  AccessClaims claims{o.auth.app_id, o.auth.channel_id, o.auth.user_id, o.auth.nonce,
                      o.role,        o.auth.timestamp,  now.count()};
  fmt::print("{}\n", MintAccessToken(claims, o.app_key));
  return kExitOk;
}

}  // namespace

void RegisterTokenCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<TokenOptions>();
  auto* cmd = app.add_subcommand("token", "Mint a channel token for a user (docs/token.md)");
  cmd->add_option("--app-id", o->auth.app_id, "AppId")->required();
  cmd->add_option("--app-key", o->app_key, "AppKey (the secret; never ship it in a client)")->required();
  cmd->add_option("--channel", o->auth.channel_id, "Channel id: 1-64 of A-Z a-z 0-9 _ -")->required();
  cmd->add_option("--user", o->auth.user_id, "User id: 1-64 of A-Z a-z 0-9 _ -")->required();
  cmd->add_option("--nonce", o->auth.nonce, "Nonce (may be empty)");
  auto* ts = cmd->add_option("--timestamp", o->auth.timestamp, "Expiry as Unix seconds");
  auto* ttl = cmd->add_option("--ttl", o->ttl, "Expiry from now: 3600, 90m, 24h, 7d");
  ts->excludes(ttl);
  cmd->add_option("--role", o->role, "Grant only this role: broadcaster or audience (access tokens)");
  cmd->add_flag("--classic", o->classic,
                "Print an ARTC classic hex token instead (weaker; the app must accept classic tokens)");
  cmd->add_flag("--single", o->single,
                "Print the classic single-parameter token (base64 JSON with appid, channelid, userid, nonce, "
                "timestamp, token); implies --classic");
  cmd->footer(
      "One of --timestamp or --ttl is required. Prints an access token (a JWT signed with HS256 over\n"
      "every field; docs/token.md) that a client passes as its token.\nExample:\n"
      "  parley token --app-id abc --app-key abckey --channel abcChannel --user abcUser --ttl 24h");
  cmd->callback([o, ts, ttl, runner] {
    if (ts->count() == 0 && ttl->count() == 0) throw CLI::RequiredError("--timestamp or --ttl");
    *runner = [o] { return Run(*o); };
  });
}

}  // namespace parley::cli
