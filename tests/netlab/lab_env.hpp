// A running network lab for tests and benchmarks: this process's network namespace
// (made fresh by Enter()), a client namespace held by a sleeping process, parley-netem
// joining the two (10.77.0.1 here, 10.77.0.2 there), and a parleyd listening on both
// loopback and the link with an app created. docs/network-lab.md draws it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace parley::netlab {

class LabEnvironment {
 public:
  static constexpr const char* kServerAddress = "10.77.0.1";
  static constexpr const char* kClientAddress = "10.77.0.2";

  /// Moves the calling process into a new network namespace with loopback up. Call it
  /// before any thread starts; needs root. Returns "" or what failed.
  static std::string Enter();

  LabEnvironment(std::string netem_path, std::string cli_path);
  ~LabEnvironment();
  LabEnvironment(const LabEnvironment&) = delete;
  LabEnvironment& operator=(const LabEnvironment&) = delete;

  /// Starts the client namespace, the link and the server. Returns "" or what failed.
  std::string Start(std::vector<std::string> server_flags = {});

  /// One command to the link ("profile lossy-10", "outage 5000", "stats"); its reply.
  std::string Ctl(const std::string& command) const;
  /// `parley join` for `user` in `channel` for `seconds`, run inside the client
  /// namespace and using the link; `extra` flags are appended.
  std::vector<std::string> JoinArgs(const std::string& channel, const std::string& user, int seconds,
                                    const std::vector<std::string>& extra = {}) const;
  /// The `parley` CLI with `args` inside the client namespace; --server, --app-id and
  /// --app-key (the lab's) follow the subcommand, the first of `args`.
  std::vector<std::string> CliArgs(const std::vector<std::string>& args) const;
  /// `command` (its first element a full path) run inside the client namespace.
  std::vector<std::string> InClient(const std::vector<std::string>& command) const;
  const std::string& control_path() const { return control_; }
  const test::ServerProcess& server() const { return *server_; }
  const nlohmann::json& app() const { return app_; }

  /// The events named `name` that `parley join --json` printed in `out`, in order.
  static std::vector<nlohmann::json> Events(const std::string& out, const std::string& name);
  /// The stats events of `parley join --json` output, in order.
  static std::vector<nlohmann::json> StatsEvents(const std::string& out);
  /// Where ip, nsenter, ... live (RunCommand does not search PATH).
  static std::string Which(const std::string& name);

 private:
  std::string netem_path_, cli_path_;
  std::filesystem::path dir_;
  pid_t sleeper_ = -1, netem_ = -1;
  std::string control_;
  std::unique_ptr<test::ServerProcess> server_;
  nlohmann::json app_;
};

}  // namespace parley::netlab
