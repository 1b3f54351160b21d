#include "commands/common.hpp"

#include <fmt/core.h>

#include <charconv>
#include <cstdio>

namespace parley::cli {

void PrintError(const Error& error) {
  const ErrorInfo& info = Info(error.code);
  fmt::print(stderr, "error {} ({}) {}: {}\n", FormatHex(error.value()), error.value(), info.name, error.What());
  if (info.advice_en != "-") fmt::print(stderr, "advice: {}\n", info.advice_en);
}

bool ParseDuration(const std::string& text, int64_t* seconds) {
  std::string_view s = text;
  int64_t unit = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: unit = 0; break;  // no suffix: seconds
    }
    if (unit != 0)
      s.remove_suffix(1);
    else
      unit = 1;
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n <= 0) return false;
  constexpr int64_t kHundredYears = 100LL * 365 * 86400;  // beyond any sane token lifetime
  if (n > kHundredYears / unit) return false;
  *seconds = n * unit;
  return true;
}

}  // namespace parley::cli
