#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "parley/proto/result.hpp"

namespace parley::cli {

/// Exit statuses of every parley command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< the operation failed (a catalog code was printed)
inline constexpr int kExitUsage = 2;    ///< bad arguments or unknown input

/// What a subcommand runs once its arguments are parsed; returns the exit status.
using Runner = std::function<int()>;

/// Prints "error 0x01030101 (16974081) kInvalidAuthInfo: message" and the advice to stderr.
void PrintError(const Error& error);

/// Parses a duration such as "90", "90s", "15m", "24h" or "7d" into seconds (> 0).
bool ParseDuration(const std::string& text, int64_t* seconds);

void RegisterErrorsCommand(CLI::App& app, Runner* runner);
void RegisterTokenCommand(CLI::App& app, Runner* runner);
void RegisterAppCommand(CLI::App& app, Runner* runner);
void RegisterJoinCommand(CLI::App& app, Runner* runner);
void RegisterDemoCommand(CLI::App& app, Runner* runner);
void RegisterDevicesCommand(CLI::App& app, Runner* runner);

/// One admin API call (http[s]://host:port, Bearer key); errors carry the server's code.
Result<nlohmann::json> AdminCall(const std::string& server, const std::string& admin_key, const std::string& method,
                                 const std::string& path, const nlohmann::json& body = {});

}  // namespace parley::cli
