#include "log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <filesystem>

namespace parley::sdk {
namespace {

struct SdkLogger {
  // The file sink lives in a distributing sink: swapping it is safe while engine
  // threads log, and the logger object itself never changes.
  std::shared_ptr<spdlog::sinks::dist_sink_mt> files = std::make_shared<spdlog::sinks::dist_sink_mt>();
  spdlog::logger logger{"parley", {std::make_shared<spdlog::sinks::stderr_color_sink_mt>(), files}};
  SdkLogger() {
    // The lines read as they did when the SDK wrote through the default logger
    // (no logger name: each message already starts with "parley:").
    logger.set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    logger.set_level(spdlog::level::warn);  // EngineConfig's default
  }
};

SdkLogger& Instance() {
  static SdkLogger instance;
  return instance;
}

}  // namespace

spdlog::logger& Log() {
  return Instance().logger;
}

void ConfigureLog(const std::string& level_in, const std::string& log_dir) {
  SdkLogger& l = Instance();
  std::string level = level_in;
  if (const char* env = std::getenv("PARLEY_LOG_LEVEL")) level = env;
  if (!level.empty()) l.logger.set_level(spdlog::level::from_str(level));
  if (log_dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  try {
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_dir + "/parley.log");
    file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    l.files->set_sinks({file});
  } catch (const spdlog::spdlog_ex& e) {
    l.logger.warn("parley: cannot log to {}: {}", log_dir, e.what());
  }
}

}  // namespace parley::sdk
