// The SDK logs through its own logger and leaves the host's spdlog setup alone: an
// application (or `parley demo`, which runs a server in the same process) keeps its
// default logger and global level whatever engines it creates.
#include "log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <unistd.h>

namespace parley::sdk {
namespace {

namespace fs = std::filesystem;

TEST(SdkLog, LeavesTheHostsDefaultLoggerAndLevelAlone) {
  std::ostringstream host_out;
  auto host = std::make_shared<spdlog::logger>("host", std::make_shared<spdlog::sinks::ostream_sink_mt>(host_out));
  spdlog::set_default_logger(host);
  spdlog::set_level(spdlog::level::info);
  ::unsetenv("PARLEY_LOG_LEVEL");
  fs::path dir = fs::temp_directory_path() / ("parley-log-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);

  ConfigureLog("error", (dir / "nested").string());

  EXPECT_EQ(spdlog::default_logger().get(), host.get());
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
  EXPECT_EQ(Log().level(), spdlog::level::err);
  EXPECT_EQ(Log().name(), "parley");
  EXPECT_TRUE(fs::exists(dir / "nested" / "parley.log"));

  // SDK lines reach the SDK's file, never the host's logger.
  Log().error("parley: a line of the SDK's");
  Log().flush();
  EXPECT_EQ(host_out.str(), "");
  std::ifstream file(dir / "nested" / "parley.log");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("parley: a line of the SDK's"), std::string::npos);

  // A host changing the global level afterwards does not move the SDK's.
  spdlog::set_level(spdlog::level::trace);
  EXPECT_EQ(Log().level(), spdlog::level::err);
  spdlog::set_level(spdlog::level::info);
  fs::remove_all(dir);
}

TEST(SdkLog, TheEnvironmentOverridesTheConfiguredLevel) {
  ::setenv("PARLEY_LOG_LEVEL", "debug", 1);
  ConfigureLog("error", "");
  EXPECT_EQ(Log().level(), spdlog::level::debug);
  ::unsetenv("PARLEY_LOG_LEVEL");
  ConfigureLog("warn", "");
  EXPECT_EQ(Log().level(), spdlog::level::warn);
}

}  // namespace
}  // namespace parley::sdk
