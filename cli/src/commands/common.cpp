#include "commands/common.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "parley/proto/errc.hpp"

namespace parley::cli {

GlobalOptions& Globals() {
  static GlobalOptions g;
  return g;
}

void LoadEnvironment() {
  GlobalOptions& g = Globals();
  auto env = [](const char* name, std::string* out) {
    const char* v = std::getenv(name);
    if (v && *v) *out = v;
  };
  env("PARLEY_SERVER", &g.server);
  env("PARLEY_ADMIN_KEY", &g.admin_key);
  env("PARLEY_APP_ID", &g.app_id);
  env("PARLEY_APP_KEY", &g.app_key);
}

void AddServerOptions(CLI::App* cmd, bool admin) {
  GlobalOptions& g = Globals();
  cmd->add_option("--server", g.server, "Server URL, e.g. http://127.0.0.1:7880 (env PARLEY_SERVER)")
      ->capture_default_str();
  if (!admin) return;
  cmd->add_option("--admin-key", g.admin_key, "Admin key (env PARLEY_ADMIN_KEY)");
  cmd->add_flag("--insecure", g.insecure, "Do not verify the server's TLS certificate");
}

void AddJsonFlag(CLI::App* cmd, const std::string& what) {
  cmd->add_flag("--json", Globals().json, what);
}

std::string SignalUrl(const std::string& server) {
  if (server.rfind("ws://", 0) == 0 || server.rfind("wss://", 0) == 0) return server;
  std::string scheme = "ws://", rest = server;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.rfind("https://", 0) == 0) {
    scheme = "wss://";
    rest = rest.substr(8);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  return scheme + rest + "/v1/signal";
}

std::string UnreachableHint(const std::string& server) {
  return fmt::format(
      "is `parley serve` running at {}? Start it (parley serve --port 7880 --data DIR), or point --server or "
      "PARLEY_SERVER at a running server.",
      server);
}

void PrintError(const Error& error) {
  const ErrorInfo& info = Info(error.code);
  fmt::print(stderr, "error {} ({}) {}: {}\n", FormatHex(error.value()), error.value(), info.name, error.What());
  std::string_view advice = info.advice_en;
  if (error.detail != Errc::kOk) {
    const ErrorInfo& d = Info(error.detail);
    fmt::print(stderr, "cause {} ({}) {}: {}\n", FormatHex(static_cast<int32_t>(error.detail)),
               static_cast<int32_t>(error.detail), d.name, d.description);
    if (d.advice_en != "-") advice = d.advice_en;
  }
  if (advice != "-") fmt::print(stderr, "advice: {}\n", advice);
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

std::string FormatUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatSpan(int64_t seconds) {
  if (seconds < 0) return "-" + FormatSpan(-seconds);
  if (seconds >= 86400) return fmt::format("{}d {}h", seconds / 86400, (seconds % 86400) / 3600);
  if (seconds >= 3600) return fmt::format("{}h {}m", seconds / 3600, (seconds % 3600) / 60);
  if (seconds >= 60) return fmt::format("{}m {}s", seconds / 60, seconds % 60);
  return fmt::format("{}s", seconds);
}

namespace {
// Display width of a UTF-8 cell: code points, with CJK counted as two columns.
size_t Width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += len == 3 ? 2 : 1;
    i += len;
  }
  return w;
}
}  // namespace

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = Width(header[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], Width(r[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(widths[i] - Width(cells[i]) + 2, ' ');
    }
    fmt::print("{}\n", out);
  };
  line(header);
  for (const auto& r : rows) line(r);
}

namespace {
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string CommandPath(const CLI::App* cmd) {
  std::string path;
  for (const CLI::App* c = cmd; c; c = c->get_parent()) path = c->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

const CLI::App* Deepest(const CLI::App* cmd) {
  for (const CLI::App* sub : cmd->get_subcommands()) return Deepest(sub);
  return cmd;
}

std::vector<std::string> SubcommandNames(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// Long option names of a command and its parents (the global options are theirs).
std::vector<std::string> OptionNames(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::App* c = cmd; c; c = c->get_parent())
    for (const CLI::Option* o : c->get_options())
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

std::string ClosestMatch(std::string_view given, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, given.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = EditDistance(given, c);
    // A prefix of a longer name ("--rev" for "--reveal-key") counts as close.
    if (c.size() > given.size() && given.size() >= 3 && c.compare(0, given.size(), given) == 0) d = 1;
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

int ReportParseError(CLI::App& root, const CLI::ParseError& e) {
  const CLI::App* cmd = Deepest(&root);
  std::string path = CommandPath(cmd);
  std::vector<std::string> extras = root.remaining(true);
  auto help = [&](const CLI::App* c) {
    fmt::print(stderr, "Run `{} --help` for its {}.\n", CommandPath(c),
               c->get_subcommands([](const CLI::App*) { return true; }).empty() ? "options" : "commands and options");
  };
  for (const std::string& x : extras) {
    if (x.size() > 1 && x[0] == '-') {
      std::string name = x.substr(0, x.find('='));
      std::string guess = ClosestMatch(name, OptionNames(cmd));
      fmt::print(stderr, "{}: unknown option '{}'.{}\n", path, name,
                 guess.empty() ? "" : " Did you mean '" + guess + "'?");
      help(cmd);
      return kExitUsage;
    }
    std::vector<std::string> subs = SubcommandNames(cmd);
    if (!subs.empty()) {
      std::string guess = ClosestMatch(x, subs);
      fmt::print(stderr, "{}: '{}' is not a {} command.{}\n", path, x, path,
                 guess.empty() ? " Commands: " + Join(subs) + "." : " Did you mean '" + guess + "'?");
      help(cmd);
      return kExitUsage;
    }
    fmt::print(stderr, "{}: unexpected argument '{}'.\n", path, x);
    help(cmd);
    return kExitUsage;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) && cmd->get_require_subcommand_min() > 0 &&
      cmd->get_subcommands().empty()) {
    fmt::print(stderr, "{}: a command is needed: {}.\n", path, Join(SubcommandNames(cmd)));
    help(cmd);
    return kExitUsage;
  }
  fmt::print(stderr, "{}: {}\n", path, e.what());
  help(cmd);
  return kExitUsage;
}

}  // namespace parley::cli
