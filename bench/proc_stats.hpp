// What the load benchmarks read about a server process from /proc, and how they pin
// themselves to a core (signal_load, sfu_load).
#pragma once

#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace parley::bench {

/// User + system CPU seconds of the whole process (every thread) so far.
inline double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; rest >> field;) f.push_back(field);
  // Fields after the command: state(0) ... utime(11) stime(12), in clock ticks.
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// User + system CPU seconds of each thread of the process so far, by thread id.
inline std::vector<std::pair<long, double>> ThreadCpuSeconds(pid_t pid) {
  std::vector<std::pair<long, double>> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const std::string tid = entry.path().filename().string();
    std::ifstream in(entry.path() / "stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(s.substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; rest >> field;) f.push_back(field);
    if (f.size() < 13) continue;
    out.emplace_back(std::stol(tid), (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK)));
  }
  return out;
}

/// Resident memory (VmRSS), KiB; 0 when the process is gone.
inline long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

/// Pins the calling thread to one CPU.
inline void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<size_t>(cpu), &set);
  sched_setaffinity(0, sizeof set, &set);
}

}  // namespace parley::bench
