#include "lab_env.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "run_command.hpp"

extern char** environ;

namespace parley::netlab {
namespace {

namespace fs = std::filesystem;

pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path = "/dev/null") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string LabEnvironment::Which(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (access((dir + name).c_str(), X_OK) == 0) return dir + name;
  return name;
}

std::string LabEnvironment::Enter() {
  if (geteuid() != 0) return "the network lab needs root (network namespaces and TUN devices)";
  if (unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET) failed";
  if (test::RunCommand({Which("ip"), "link", "set", "lo", "up"}).status != 0) return "ip link set lo up failed";
  return "";
}

LabEnvironment::LabEnvironment(std::string netem_path, std::string cli_path)
    : netem_path_(std::move(netem_path)), cli_path_(std::move(cli_path)) {}

LabEnvironment::~LabEnvironment() {
  server_.reset();
  Stop(netem_);
  Stop(sleeper_);
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string LabEnvironment::Start(std::vector<std::string> server_flags) {
  dir_ = fs::temp_directory_path() / ("parley-lab-" + std::to_string(getpid()));
  fs::create_directories(dir_);
  sleeper_ = Spawn({"unshare", "-n", "sleep", "3600"});
  if (sleeper_ <= 0) return "cannot start the client namespace (unshare -n sleep)";
  // The sleeper is in its namespace once /proc shows a different one.
  const fs::path ns = "/proc/" + std::to_string(sleeper_) + "/ns/net";
  for (int i = 0; i < 300 && fs::read_symlink(ns) == fs::read_symlink("/proc/self/ns/net"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  control_ = (dir_ / "netem.sock").string();
  const fs::path out = dir_ / "netem.out";
  netem_ = Spawn({netem_path_, "link", "--client-pid", std::to_string(sleeper_), "--control", control_, "--name",
                  "pl" + std::to_string(getpid() % 100000), "--server-address", kServerAddress, "--client-address",
                  kClientAddress},
                 out.string());
  if (netem_ <= 0) return "cannot start parley-netem";
  for (int i = 0; i < 500 && Slurp(out).find("\"ready\"") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (Slurp(out).find("\"ready\"") == std::string::npos) return "parley-netem did not get ready: " + Slurp(out);
  server_flags.insert(server_flags.end(), {"--listen", "0.0.0.0", "--media-address", kServerAddress});
  server_ = std::make_unique<test::ServerProcess>(server_flags);
  auto created =
      test::HttpRequest(server_->port(), "POST", "/v1/admin/apps", R"({"name":"lab"})", server_->admin_key());
  app_ = nlohmann::json::parse(created.body, nullptr, false);
  if (!app_.is_object() || !app_.contains("appKey")) return "cannot create an app: " + created.body;
  return "";
}

std::string LabEnvironment::Ctl(const std::string& command) const {
  std::vector<std::string> args = {netem_path_, "ctl", control_};
  std::istringstream words(command);
  for (std::string w; words >> w;) args.push_back(w);
  return test::RunCommand(args).out;
}

std::vector<std::string> LabEnvironment::CliArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> out = {Which("nsenter"), "-t", std::to_string(sleeper_), "-n", cli_path_};
  out.push_back(args.at(0));
  for (const std::string& s :
       {std::string("--server"), std::string("http://") + kServerAddress + ":" + std::to_string(server_->port()),
        std::string("--app-id"), app_["appId"].get<std::string>(), std::string("--app-key"),
        app_["appKey"].get<std::string>()})
    out.push_back(s);
  out.insert(out.end(), args.begin() + 1, args.end());
  return out;
}

std::vector<std::string> LabEnvironment::InClient(const std::vector<std::string>& command) const {
  std::vector<std::string> args = {Which("nsenter"), "-t", std::to_string(sleeper_), "-n"};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

std::vector<std::string> LabEnvironment::JoinArgs(const std::string& channel, const std::string& user, int seconds,
                                                  const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {Which("nsenter"),
                                   "-t",
                                   std::to_string(sleeper_),
                                   "-n",
                                   cli_path_,
                                   "join",
                                   "--server",
                                   std::string("http://") + kServerAddress + ":" + std::to_string(server_->port()),
                                   "--app-id",
                                   app_["appId"].get<std::string>(),
                                   "--app-key",
                                   app_["appKey"].get<std::string>(),
                                   "--channel",
                                   channel,
                                   "--user",
                                   user,
                                   "--duration",
                                   std::to_string(seconds),
                                   "--json",
                                   "--ice-address",
                                   kClientAddress};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<nlohmann::json> LabEnvironment::Events(const std::string& out, const std::string& name) {
  std::vector<nlohmann::json> found;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("event", "") == name) found.push_back(j);
  }
  return found;
}

std::vector<nlohmann::json> LabEnvironment::StatsEvents(const std::string& out) {
  return Events(out, "stats");
}

}  // namespace parley::netlab
