// parley-netem: the network lab's link emulator. It joins the namespace it runs in
// ("server side") to another network namespace ("client side", named by a process
// living in it) with a point-to-point link made of two TUN devices, and carries every
// IP packet between them itself, through one Direction per way (link.hpp): so UDP
// media and the TCP signalling connection meet the same loss, delay, caps and cuts.
// Nothing leaves the namespaces the test created. A UNIX control socket changes the
// link while it runs ("uplink loss=10%", "profile 3g", "outage 5000", "stats").
//
//   parley-netem link --client-pid PID [--profile NAME | --uplink SPEC --downlink SPEC]
//                     [--control PATH] [--server-address 10.77.0.1] [--client-address 10.77.0.2]
//   parley-netem ctl PATH COMMAND...
//   parley-netem profiles
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "impairment.hpp"
#include "link.hpp"

extern char** environ;

namespace parley::netlab {
namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};

int Run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int OpenTun(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

nlohmann::json StatsJson(const DirectionStats& s) {
  return {{"offered", s.offered},        {"delivered", s.delivered},  {"deliveredBytes", s.delivered_bytes},
          {"lostRandom", s.lost_random}, {"lostBurst", s.lost_burst}, {"lostQueue", s.lost_queue},
          {"lostOutage", s.lost_outage}, {"duplicated", s.duplicated}};
}

// The link: two TUN devices, two directions and the control socket, on one thread.
class Emulator {
 public:
  Emulator(int server_tun, int client_tun, uint64_t seed)
      : server_tun_(server_tun), client_tun_(client_tun), uplink_(seed), downlink_(seed ^ 0x9e3779b97f4a7c15ULL) {}

  void Set(const Impairment& up, const Impairment& down) {
    configured_up_ = up;
    configured_down_ = down;
    if (!outage_until_) Apply();
  }

  bool Listen(const std::string& path) {
    control_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (control_ < 0 || path.size() >= sizeof(a.sun_path)) return false;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    unlink(path.c_str());
    return bind(control_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && listen(control_, 8) == 0;
  }

  void Loop() {
    std::array<uint8_t, 65536> buf{};
    while (!g_stop) {
      std::vector<pollfd> fds{{server_tun_, POLLIN, 0}, {client_tun_, POLLIN, 0}};
      if (control_ >= 0) fds.push_back({control_, POLLIN, 0});
      for (const auto& [fd, conn] : conns_) fds.push_back({fd, POLLIN, 0});
      poll(fds.data(), fds.size(), TimeoutMs());
      auto now = Clock::now();
      if (outage_until_ && now >= *outage_until_) EndOutage();
      // Drain what the kernels sent: server side -> downlink, client side -> uplink.
      for (int i = 0; i < 256; ++i) {
        ssize_t n = read(server_tun_, buf.data(), buf.size());
        if (n <= 0) break;
        downlink_.Offer({buf.data(), static_cast<size_t>(n)}, now);
      }
      for (int i = 0; i < 256; ++i) {
        ssize_t n = read(client_tun_, buf.data(), buf.size());
        if (n <= 0) break;
        uplink_.Offer({buf.data(), static_cast<size_t>(n)}, now);
      }
      for (auto& p : downlink_.TakeDue(now)) Write(client_tun_, p);
      for (auto& p : uplink_.TakeDue(now)) Write(server_tun_, p);
      if (control_ >= 0 && (fds[2].revents & POLLIN)) Accept();
      ServeControl();
    }
  }

  nlohmann::json Stats() const {
    return {{"uplink", StatsJson(uplink_.stats())},   {"downlink", StatsJson(downlink_.stats())},
            {"uplinkSpec", Describe(configured_up_)}, {"downlinkSpec", Describe(configured_down_)},
            {"outage", outage_until_.has_value()},    {"writeErrors", write_errors_}};
  }

 private:
  struct Conn {
    std::string in;
    Clock::time_point opened;
  };

  int TimeoutMs() const {
    auto now = Clock::now();
    std::optional<Clock::time_point> next;
    for (auto t : {uplink_.NextDue(), downlink_.NextDue(), outage_until_})
      if (t && (!next || *t < *next)) next = t;
    if (!next) return 200;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 200));
  }

  void Write(int fd, const std::vector<uint8_t>& p) {
    if (write(fd, p.data(), p.size()) < 0) ++write_errors_;
  }

  void Apply() {
    uplink_.Configure(configured_up_);
    downlink_.Configure(configured_down_);
  }

  void StartOutage(uint32_t ms) {
    Impairment cut = configured_up_;
    cut.down = true;
    uplink_.Configure(cut);
    cut = configured_down_;
    cut.down = true;
    downlink_.Configure(cut);
    outage_until_ = Clock::now() + std::chrono::milliseconds(ms);
  }

  void EndOutage() {
    outage_until_.reset();
    Apply();
  }

  void Accept() {
    for (int i = 0; i < 8 && conns_.size() < 16; ++i) {
      int fd = accept4(control_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      conns_[fd] = Conn{{}, Clock::now()};
    }
  }

  // One line per connection, answered with one line; then the connection is closed.
  // A line over 4 KiB, or no line within 2 s, is answered with an error.
  void ServeControl() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      auto& [fd, c] = *it;
      char tmp[1024];
      ssize_t n = 0;
      while ((n = recv(fd, tmp, sizeof(tmp), 0)) > 0 && c.in.size() < 4096) c.in.append(tmp, static_cast<size_t>(n));
      size_t nl = c.in.find('\n');
      bool eof = n == 0;
      std::string reply;
      if (nl != std::string::npos || (eof && !c.in.empty())) {
        reply = Command(c.in.substr(0, nl));
      } else if (c.in.size() >= 4096) {
        reply = "error: command longer than 4096 bytes";
      } else if (eof || Clock::now() - c.opened > std::chrono::seconds(2)) {
        reply = "error: no command";
      } else {
        ++it;
        continue;
      }
      reply += '\n';
      (void)send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      it = conns_.erase(it);
    }
  }

  std::string Command(std::string line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    std::string verb = line.substr(0, line.find(' '));
    std::string arg = line.size() > verb.size() ? line.substr(verb.size() + 1) : "";
    std::string error;
    if (verb == "uplink" || verb == "downlink" || verb == "both") {
      auto imp = ParseImpairment(arg, &error);
      if (!imp) return "error: " + error;
      Set(verb == "downlink" ? configured_up_ : *imp, verb == "uplink" ? configured_down_ : *imp);
      return "ok";
    }
    if (verb == "profile") {
      const Profile* p = FindProfile(arg);
      if (!p) return "error: unknown profile " + arg.substr(0, 64);
      Set(p->uplink, p->downlink);
      return "ok";
    }
    if (verb == "outage") {
      uint32_t ms = 0;
      auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), ms);
      if (ec != std::errc() || end != arg.data() + arg.size() || ms == 0 || ms > 600000)
        return "error: outage takes milliseconds, 1 to 600000";
      StartOutage(ms);
      return "ok";
    }
    if (verb == "restore") {
      if (outage_until_) EndOutage();
      return "ok";
    }
    if (verb == "stats") return Stats().dump();
    return "error: commands: uplink|downlink|both SPEC, profile NAME, outage MS, restore, stats";
  }

  int server_tun_, client_tun_;
  int control_ = -1;
  Direction uplink_, downlink_;
  Impairment configured_up_, configured_down_;
  std::optional<Clock::time_point> outage_until_;
  std::map<int, Conn> conns_;
  uint64_t write_errors_ = 0;
};

int CtlMain(const std::string& path, const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + w;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof(a.sun_path)) return 2;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    fmt::print(stderr, "parley-netem ctl: cannot connect to {}: {}\n", path, std::strerror(errno));
    return 1;
  }
  line += '\n';
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) < 0) return 1;
  std::string reply;
  char buf[4096];
  ssize_t n = 0;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  close(fd);
  fmt::print("{}", reply);
  return reply.rfind("error", 0) == 0 ? 1 : 0;
}

int LinkMain(int client_pid, const std::string& name, const std::string& server_addr, const std::string& client_addr,
             const Impairment& up, const Impairment& down, const std::string& control, uint64_t seed) {
  const std::string s_dev = name + "s", c_dev = name + "c";
  int s_fd = OpenTun(s_dev), c_fd = OpenTun(c_dev);
  if (s_fd < 0 || c_fd < 0) {
    fmt::print(stderr, "parley-netem: cannot create TUN devices {} and {}: {} (root and /dev/net/tun needed)\n", s_dev,
               c_dev, std::strerror(errno));
    return 1;
  }
  const std::string pid = std::to_string(client_pid);
  const std::vector<std::vector<std::string>> setup = {
      {"ip", "link", "set", c_dev, "netns", pid},
      {"ip", "addr", "add", server_addr, "peer", client_addr, "dev", s_dev},
      {"ip", "link", "set", s_dev, "up"},
      {"nsenter", "-t", pid, "-n", "ip", "link", "set", "lo", "up"},
      {"nsenter", "-t", pid, "-n", "ip", "addr", "add", client_addr, "peer", server_addr, "dev", c_dev},
      {"nsenter", "-t", pid, "-n", "ip", "link", "set", c_dev, "up"},
  };
  for (const auto& cmd : setup) {
    if (Run(cmd) != 0) {
      std::string joined;
      for (const auto& w : cmd) joined += w + " ";
      fmt::print(stderr, "parley-netem: setup failed: {}\n", joined);
      return 1;
    }
  }
  Emulator emu(s_fd, c_fd, seed);
  emu.Set(up, down);
  if (!control.empty() && !emu.Listen(control)) {
    fmt::print(stderr, "parley-netem: cannot listen on {}: {}\n", control, std::strerror(errno));
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  fmt::print("{}\n", nlohmann::json{{"event", "ready"},
                                    {"serverAddress", server_addr},
                                    {"clientAddress", client_addr},
                                    {"uplink", Describe(up)},
                                    {"downlink", Describe(down)}}
                         .dump());
  std::fflush(stdout);
  emu.Loop();
  auto stats = emu.Stats();
  stats["event"] = "stopped";
  fmt::print("{}\n", stats.dump());
  if (!control.empty()) unlink(control.c_str());
  return 0;
}

}  // namespace
}  // namespace parley::netlab

int main(int argc, char** argv) {
  using namespace parley::netlab;
  CLI::App app{"parley-netem: an emulated bad link between two network namespaces (the network lab)"};
  app.require_subcommand(1);
  int client_pid = 0;
  std::string name = "plab", server_addr = "10.77.0.1", client_addr = "10.77.0.2", control, profile, up_spec, down_spec;
  uint64_t seed = 1;
  auto* link = app.add_subcommand("link", "Create the link and carry its packets until SIGTERM");
  link->add_option("--client-pid", client_pid, "A process in the client-side network namespace")->required();
  link->add_option("--name", name, "Prefix of the TUN devices (<name>s here, <name>c there)")->capture_default_str();
  link->add_option("--server-address", server_addr, "Address of this side")->capture_default_str();
  link->add_option("--client-address", client_addr, "Address of the client side")->capture_default_str();
  link->add_option("--profile", profile, "A named profile (parley-netem profiles)");
  link->add_option("--uplink", up_spec, "Client to server impairment, e.g. loss=10%,delay=40ms");
  link->add_option("--downlink", down_spec, "Server to client impairment");
  link->add_option("--control", control, "UNIX socket for commands while running");
  link->add_option("--seed", seed, "Random seed (the same seed and traffic give the same losses)");
  std::string ctl_path;
  std::vector<std::string> ctl_words;
  auto* ctl = app.add_subcommand("ctl", "Send one command to a running link and print the reply");
  ctl->add_option("path", ctl_path, "The link's --control socket")->required();
  ctl->add_option("command", ctl_words, "uplink|downlink|both SPEC, profile NAME, outage MS, restore, stats")
      ->required();
  auto* profiles = app.add_subcommand("profiles", "List the named profiles");
  CLI11_PARSE(app, argc, argv);

  if (*profiles) {
    for (const auto& p : Profiles())
      fmt::print("{:<11} {}\n            up: {}  down: {}{}\n", p.name, p.description, Describe(p.uplink),
                 Describe(p.downlink), p.outage_ms ? fmt::format("  outage: {} ms", p.outage_ms) : "");
    return 0;
  }
  if (*ctl) return CtlMain(ctl_path, ctl_words);

  Impairment up, down;
  if (!profile.empty()) {
    const Profile* p = FindProfile(profile);
    if (!p) {
      fmt::print(stderr, "parley-netem: unknown profile {} (see parley-netem profiles)\n", profile);
      return 2;
    }
    up = p->uplink;
    down = p->downlink;
  }
  std::string error;
  for (auto [spec, target] : {std::pair{&up_spec, &up}, std::pair{&down_spec, &down}}) {
    if (spec->empty()) continue;
    auto imp = ParseImpairment(*spec, &error);
    if (!imp) {
      fmt::print(stderr, "parley-netem: {}\n", error);
      return 2;
    }
    *target = *imp;
  }
  return LinkMain(client_pid, name, server_addr, client_addr, up, down, control, seed);
}
