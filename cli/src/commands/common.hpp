#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "parley/proto/result.hpp"

namespace parley::cli {

/// Exit statuses of every parley command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< the operation failed (a catalog code was printed)
inline constexpr int kExitUsage = 2;    ///< bad arguments or unknown input

/// Where `parley serve` listens by default, and so where every client command looks.
inline constexpr const char* kDefaultServer = "http://127.0.0.1:7880";

/// What a subcommand runs once its arguments are parsed; returns the exit status.
using Runner = std::function<int()>;

/// Options every command shares, accepted before or after any subcommand. Their
/// defaults come from the environment (PARLEY_SERVER, PARLEY_ADMIN_KEY, PARLEY_APP_ID,
/// PARLEY_APP_KEY), so a tour's `export` lines hold for every command.
struct GlobalOptions {
  std::string server = kDefaultServer;
  std::string admin_key;
  std::string app_id;
  std::string app_key;
  bool json = false;
  bool insecure = false;
};
GlobalOptions& Globals();
/// Reads the environment into Globals(); called once by main before parsing.
void LoadEnvironment();

/// Adds --server (and the admin options when `admin`) to a command, bound to Globals().
void AddServerOptions(CLI::App* cmd, bool admin);
/// Adds --json (one JSON document or event per line for scripts), bound to Globals().
void AddJsonFlag(CLI::App* cmd, const std::string& what);

/// ws://host:port/v1/signal for a server given as http(s)://host:port[/] or host:port;
/// a ws(s):// URL is kept as it is.
std::string SignalUrl(const std::string& server);
/// "is `parley serve` running at URL? ..." for a server that refused or did not answer.
std::string UnreachableHint(const std::string& server);

/// Prints "error 0x05040002 (84148226) kChannelOverdue: message", the detail code's
/// line when there is one ("cause 0x0F050001 ... token expired") and the advice of the
/// most specific of the two, to stderr.
void PrintError(const Error& error);

/// Parses a duration such as "90", "90s", "15m", "24h" or "7d" into seconds (> 0).
bool ParseDuration(const std::string& text, int64_t* seconds);
/// "2026-12-02 03:04:05 UTC".
std::string FormatUtc(int64_t unix_seconds);
/// "23h 59m", "5m 3s", "42s" (negative: "-42s").
std::string FormatSpan(int64_t seconds);
/// A plain-text table: a header row, then rows; columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

/// The candidate closest to `given` by edit distance, if close enough to be a typo.
std::string ClosestMatch(std::string_view given, const std::vector<std::string>& candidates);
/// Explains a command-line error: the command it is about, "did you mean ..." for a
/// mistyped command or option, and where to find help. Returns kExitUsage.
int ReportParseError(CLI::App& root, const CLI::ParseError& e);

void RegisterErrorsCommand(CLI::App& app, Runner* runner);
void RegisterTokenCommand(CLI::App& app, Runner* runner);
void RegisterAppCommand(CLI::App& app, Runner* runner);
void RegisterJoinCommand(CLI::App& app, Runner* runner);
void RegisterDemoCommand(CLI::App& app, Runner* runner);
void RegisterDevicesCommand(CLI::App& app, Runner* runner);
void RegisterDoctorCommand(CLI::App& app, Runner* runner);

/// A GET of a public path (/healthz) of a server, no admin key sent.
Result<nlohmann::json> PublicGet(const std::string& server, const std::string& path);
/// One admin API call (http[s]://host:port, Bearer key); errors carry the server's code.
Result<nlohmann::json> AdminCall(const std::string& server, const std::string& admin_key, const std::string& method,
                                 const std::string& path, const nlohmann::json& body = {});

}  // namespace parley::cli
