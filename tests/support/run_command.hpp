// Runs a program and captures its exit status, stdout and stderr (for CLI and e2e tests).
#pragma once

#include <string>
#include <vector>

namespace parley::test {

struct CommandResult {
  int status = -1;  ///< exit status, or 128 + signal number
  std::string out;
  std::string err;
};

/// Runs argv[0] with the arguments, no shell involved; `input` is written to its stdin.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace parley::test
