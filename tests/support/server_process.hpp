// Starts a real parleyd on 127.0.0.1 with a free port and a temporary data dir, for
// integration tests; stops it (SIGTERM, or SIGKILL on request) when destroyed. The
// binary is the build's, or $PARLEYD when set.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace parley::test {

class ServerProcess {
 public:
  /// `extra` flags are appended (e.g. {"--heartbeat-interval-ms", "100"}); it listens on
  /// 127.0.0.1 unless `extra` names --listen (the port is always read from --port-file, and
  /// url() and HttpRequest() use 127.0.0.1, so such a listener must include it). The admin key
  /// is admin_key() unless `extra` names --admin-key or --admin-key-file, or holds the
  /// marker "--admin-key-from-env" (parleyd then reads PARLEY_ADMIN_KEY).
  explicit ServerProcess(std::vector<std::string> extra = {}, std::string data_dir = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
  [[nodiscard]] const std::string& admin_key() const { return admin_key_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// kill -9, as a crash would.
  void Kill9();
  /// The server's stdout+stderr so far.
  [[nodiscard]] std::string Log() const;

 private:
  std::string data_dir_, admin_key_ = "test-admin-key-0001", log_path_;
  bool own_dir_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
};

/// A minimal HTTP/1.1 client for the admin API (plain sockets, 127.0.0.1 only).
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body = {},
                       const std::string& admin_key = {});

}  // namespace parley::test
