// A program left running beside a test or benchmark (a client that stays in a call):
// its stdout and stderr go to a temporary file, /proc tells its memory and open files,
// and it is interrupted (Ctrl-C) and waited for when it should stop.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace parley::test {

/// What /proc says a process uses; zero when it is gone.
struct ProcessUse {
  long rss_kb = 0;  ///< resident memory (VmRSS)
  int fds = 0;      ///< open file descriptors
  int threads = 0;  ///< threads
};
ProcessUse UseOf(pid_t pid);

class ChildProcess {
 public:
  /// Starts argv[0] with the arguments, no shell involved; throws when it cannot.
  explicit ChildProcess(const std::vector<std::string>& argv);
  /// Kills it (SIGKILL) if it still runs, and removes the output file.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Its stdout and stderr so far.
  [[nodiscard]] std::string Output() const;
  /// True while it runs (a process that ended is reaped here).
  bool Running();
  /// SIGINT, then waits up to `timeout_ms` for it to end (SIGKILL after); its exit
  /// status, or 128 + the signal that ended it.
  int Interrupt(int timeout_ms = 10000);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string out_path_;
};

}  // namespace parley::test
