// Idle cost: the CPU an idle parleyd (no clients) uses per second of wall time, with
// signalling only (--no-media), one and eight media workers, and the CPU of an idle
// libparley engine: in a call, alone, publishing nothing. A server with nothing to do
// should cost next to nothing; a timer loop that spins shows up here first.
//
// CPU comes from /proc/<pid>/stat (utime + stime, in clock ticks: with the default
// 100 Hz that is 10 ms steps, so over 10 s it resolves 1 ms/s) and, finer, from the
// sum over /proc/<pid>/task/*/schedstat (nanoseconds on the CPU). For parleyd the
// media workers' wake-ups per second come from /metrics
// (parley_media_worker_wakeups_total) when the server exports it.
//   idle_cost [seconds=10] [path/to/parleyd]
#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "parley/engine.hpp"
#include "parley/proto/token.hpp"
#include "server_process.hpp"

extern char** environ;

namespace {

using namespace parley;
using Clock = std::chrono::steady_clock;

struct Cpu {
  double stat_ms = 0;       ///< utime + stime of the whole process
  double schedstat_ms = 0;  ///< sum of the threads' time on the CPU
};

Cpu ReadCpu(pid_t pid) {
  Cpu c;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the command name (which may hold spaces) start at ") ".
  std::istringstream in(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 15 && in >> field; ++i)
    if (i == 14 || i == 15) c.stat_ms += std::stod(field) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(tasks.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream s(tasks + "/" + e->d_name + "/schedstat");
      double ns = 0;
      if (s >> ns) c.schedstat_ms += ns / 1e6;
    }
    closedir(d);
  }
  return c;
}

// CPU ms per wall second of `pid` over `seconds`, and how long that really was.
struct Rate {
  double stat = 0, schedstat = 0, wall_s = 0;
};
Rate Measure(pid_t pid, int seconds) {
  Cpu a = ReadCpu(pid);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  Cpu b = ReadCpu(pid);
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return {(b.stat_ms - a.stat_ms) / wall, (b.schedstat_ms - a.schedstat_ms) / wall, wall};
}

// Sum of a counter's samples in Prometheus text (all label sets); -1 if absent.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = -1;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || (line.size() > name.size() && line[name.size()] != ' ' && line[name.size()] != '{'))
      continue;
    sum = std::max(sum, 0.0) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// A parleyd with no clients, started from `path` with `flags`.
class IdleServer {
 public:
  IdleServer(const std::string& path, std::vector<std::string> flags) {
    char tmpl[] = "/tmp/parley-idle-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string port_file = dir_ + "/port";
    std::vector<std::string> args = {path,
                                     "--listen",
                                     "127.0.0.1",
                                     "--port",
                                     "0",
                                     "--data",
                                     dir_,
                                     "--port-file",
                                     port_file,
                                     "--admin-key",
                                     "idle-cost-bench-admin-key",
                                     "--log-level",
                                     "warn"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 500 && pid_ > 0 && !port_; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~IdleServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  IdleServer(const IdleServer&) = delete;
  IdleServer& operator=(const IdleServer&) = delete;
  [[nodiscard]] pid_t pid() const { return port_ ? pid_ : -1; }
  [[nodiscard]] double Wakeups() const {
    return MetricSum(test::HttpRequest(port_, "GET", "/metrics").body, "parley_media_worker_wakeups_total");
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Joined : EngineEventListener {
  std::mutex mu;
  std::condition_variable cv;
  int32_t result = -1;
  void OnJoinChannelResult(int32_t r, const std::string&, const std::string&, int) override {
    std::lock_guard<std::mutex> lock(mu);
    result = r;
    cv.notify_all();
  }
};

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  std::string parleyd = argc > 2 ? argv[2] : PARLEYD_PATH;
  std::printf("idle parleyd (%s), %d s each; CPU in ms per second (/proc stat | schedstat)\n", parleyd.c_str(),
              seconds);
  struct Case {
    const char* name;
    std::vector<std::string> flags;
  };
  for (const Case& c :
       {Case{"signalling only (--no-media)", {"--no-media"}}, Case{"1 media worker", {"--media-workers", "1"}},
        Case{"8 media workers", {"--media-workers", "8"}}}) {
    IdleServer server(parleyd, c.flags);
    if (server.pid() <= 0) {
      std::printf("%s: parleyd did not start\n", c.name);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // start-up done
    double w0 = server.Wakeups();
    Rate r = Measure(server.pid(), seconds);
    double w1 = server.Wakeups();
    std::printf("  %-30s %6.2f | %6.3f ms/s", c.name, r.stat, r.schedstat);
    if (w0 >= 0 && w1 >= 0) std::printf("   worker wake-ups %.1f/s", (w1 - w0) / r.wall_s);
    std::printf("\n");
  }

  // One engine alone in a channel, publishing nothing: heartbeats only.
  test::ServerProcess server;
  auto app = nlohmann::json::parse(
      test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"idle"})", server.admin_key()).body);
  EngineConfig cfg;
  cfg.server_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal";
  cfg.audio_source = "null";
  cfg.video_source = "null";
  RtcEngine* e = RtcEngine::Create(cfg);
  Joined joined;
  e->SetEngineEventListener(&joined);
  std::string key = app["appKey"];
  AuthInfo a{app["appId"], "idle", "solo", "n", time(nullptr) + 3600, ""};
  a.token = MintAccessToken({a.app_id, a.channel_id, a.user_id, a.nonce, "", a.timestamp, 0}, key);
  e->JoinChannel(a, "solo");
  {
    std::unique_lock<std::mutex> lock(joined.mu);
    if (!joined.cv.wait_for(lock, std::chrono::seconds(10), [&] { return joined.result != -1; }) ||
        joined.result != 0) {
      std::printf("idle engine: join failed (%d)\n", joined.result);
      return 1;
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Rate r = Measure(getpid(), seconds);
  std::printf("idle SDK engine in a call, publishing nothing: %6.2f | %6.3f ms/s\n", r.stat, r.schedstat);
  RtcEngine::Destroy(e);
  return 0;
}
