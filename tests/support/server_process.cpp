#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace parley::test {

ServerProcess::ServerProcess(std::vector<std::string> extra, std::string data_dir) {
  if (data_dir.empty()) {
    char tmpl[] = "/tmp/parley-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    data_dir = tmpl;
    own_dir_ = true;
  }
  data_dir_ = data_dir;
  std::string port_file = data_dir_ + "/port";
  std::filesystem::remove(port_file);
  log_path_ = data_dir_ + "/server.log";
  const char* binary = std::getenv("PARLEYD") ? std::getenv("PARLEYD") : PARLEYD_PATH;
  std::vector<std::string> args = {binary, "--port", "0", "--data", data_dir_, "--port-file", port_file};
  // Loopback unless the test listens elsewhere (the network lab: inside its own namespaces).
  if (std::find(extra.begin(), extra.end(), "--listen") == extra.end())
    args.insert(args.end(), {"--listen", "127.0.0.1"});
  if (std::find(extra.begin(), extra.end(), "--log-level") == extra.end())
    args.insert(args.end(), {"--log-level", "warn"});
  auto given = std::find(extra.begin(), extra.end(), "--admin-key");
  auto from_env = std::find(extra.begin(), extra.end(), "--admin-key-from-env");  // ours, not parleyd's
  if (from_env != extra.end()) {
    extra.erase(from_env);
    const char* env = std::getenv("PARLEY_ADMIN_KEY");
    admin_key_ = env ? env : "";
  } else if (given != extra.end() && given + 1 != extra.end()) {
    admin_key_ = *(given + 1);
  } else if (std::find(extra.begin(), extra.end(), "--admin-key-file") == extra.end()) {
    args.insert(args.end(), {"--admin-key", admin_key_});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start parleyd");
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(port_file);
    if (in >> port_) return;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("parleyd exited at start: " + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("parleyd did not report its port: " + Log());
}

void ServerProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) Kill9();
  }
  std::error_code ec;
  if (own_dir_) std::filesystem::remove_all(data_dir_, ec);
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                       const std::string& admin_key) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!admin_key.empty()) req.set(http::field::authorization, "Bearer " + admin_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body()};
}

}  // namespace parley::test
