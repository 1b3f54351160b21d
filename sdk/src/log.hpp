// The SDK's own logger. libparley lives inside someone else's process (a CLI that
// also runs a server, an application with its own logging), so it never touches
// spdlog's process-wide default logger or global level: every SDK line goes to the
// logger named "parley" that Log() returns, at the level the engine config asks for.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace parley::sdk {

/// The SDK's logger: stderr, plus <log_dir>/parley.log once ConfigureLog names one.
/// It is not in spdlog's registry, so a host's spdlog::set_level leaves it alone too.
spdlog::logger& Log();

/// Sets the SDK logger's level (`level` unless PARLEY_LOG_LEVEL overrides it; empty:
/// unchanged) and, when `log_dir` is not empty, adds <log_dir>/parley.log (created
/// with its directory) in place of the file an earlier call named.
void ConfigureLog(const std::string& level, const std::string& log_dir);

}  // namespace parley::sdk
