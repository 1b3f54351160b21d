// parley token: mint a classic or single-parameter channel token (docs/token.md).
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
  bool single = false;
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
  o.auth.token =
      ComputeClassicToken(o.auth.app_id, o.app_key, o.auth.channel_id, o.auth.user_id, o.auth.nonce, o.auth.timestamp);
  fmt::print("{}\n", o.single ? EncodeSingleToken(o.auth) : o.auth.token);
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
  cmd->add_flag("--single", o->single,
                "Print the single-parameter token (base64 JSON with appid, channelid, userid, nonce, "
                "timestamp, token) instead of the classic hex token");
  cmd->footer(
      "One of --timestamp or --ttl is required.\nExample:\n"
      "  parley token --app-id abc --app-key abckey --channel abcChannel --user abcUser --timestamp 1699423634");
  cmd->callback([o, ts, ttl, runner] {
    if (ts->count() == 0 && ttl->count() == 0) throw CLI::RequiredError("--timestamp or --ttl");
    *runner = [o] { return Run(*o); };
  });
}

}  // namespace parley::cli
