// parleyd as a library: Server opens the store, binds the HTTP port and runs the
// control plane on one thread. `parleyd` and `parley serve` are thin mains over it.
#pragma once

#include <memory>

#include "config.hpp"
#include "parley/proto/result.hpp"

namespace parley::server {

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Creates the data dir and database, sets up the admin key (printing a new one
  /// once), binds the port. Errors carry a catalog code and a message.
  Status Start();
  /// Runs until Stop() or SIGINT/SIGTERM. Call from one thread.
  void Run();
  /// Thread-safe: asks Run() to return.
  void Stop();
  /// The bound port (after Start).
  [[nodiscard]] uint16_t Port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The common main of `parleyd` and `parley serve`: parses flags, runs, returns the exit status.
int RunServerMain(int argc, char** argv, const char* program);

}  // namespace parley::server
