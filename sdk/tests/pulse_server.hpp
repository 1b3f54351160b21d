// A private PulseAudio server for tests with real audio devices, and environment
// variables set for a scope (PULSE_SERVER, DISPLAY).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace parley {

// Sets an environment variable for the scope (renderers read DISPLAY).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A private PulseAudio server with one null sink: a real speaker ("parley_sink") and
// a real microphone (its monitor, which hears what the speaker plays).
class PulseServer {
 public:
  PulseServer() : dir_(std::filesystem::temp_directory_path() / ("parley-pulse-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "native").string();
    pid_ = fork();
    if (pid_ == 0) {
      setenv("HOME", dir_.c_str(), 1);
      setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
      setenv("PULSE_RUNTIME_PATH", (dir_ / "run").c_str(), 1);
      std::string native = "module-native-protocol-unix auth-anonymous=1 socket=" + socket_;
      // No shared memory with clients: PulseAudio 16 aborts on an assertion in its
      // shared-memory import when a client goes while a module unloads (a pulled headset).
      execl("/usr/bin/pulseaudio", "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=false",
            "--disable-shm=yes", "--log-level=error", "-L", "module-null-sink sink_name=parley_sink", "-L",
            native.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !std::filesystem::exists(socket_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~PulseServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  PulseServer(const PulseServer&) = delete;
  PulseServer& operator=(const PulseServer&) = delete;
  [[nodiscard]] bool up() const { return std::filesystem::exists(socket_); }
  /// The sound server goes away, as when a USB headset is pulled.
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  [[nodiscard]] std::string address() const { return "unix:" + socket_; }

 private:
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
};

}  // namespace parley
