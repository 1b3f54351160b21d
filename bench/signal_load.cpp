// signal_load: N concurrent WebSocket clients join, heartbeat and leave against a real
// parleyd. Prints joins/s, join latency percentiles, ping round trips, and the
// server's CPU use. The server runs as its own process pinned to CPU 0; this load
// generator runs on one thread pinned to CPU 1.
//
//   signal_load [--parleyd PATH] [--sessions 1000] [--per-channel 10] [--hold-s 6]
//               [--rate 1000] [--server-cpu 0] [--client-cpu 1]
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "parley/proto/token.hpp"
#include "proc_stats.hpp"

extern char** environ;

namespace {

using parley::bench::CpuSeconds;
using parley::bench::Pin;
using parley::bench::RssKb;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string parleyd = PARLEYD_DEFAULT_PATH;
  int sessions = 1000;
  int per_channel = 10;
  int hold_s = 6;
  int rate = 1000;  // paced joins per second in the second round
  int server_cpu = 0;
  int client_cpu = 1;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

class Client : public std::enable_shared_from_this<Client> {
 public:
  using Done = std::function<void(const json&)>;
  Client(asio::io_context& io) : ws_(io) {}

  void Connect(const tcp::endpoint& ep, std::function<void(bool)> done) {
    beast::get_lowest_layer(ws_).async_connect(ep, [self = shared_from_this(), done](beast::error_code ec) {
      if (ec) return done(false);
      self->ws_.async_handshake("127.0.0.1", "/v1/signal", [self, done](beast::error_code ec2) {
        if (ec2) return done(false);
        self->Read();
        done(true);
      });
    });
  }

  void Request(json msg, Done done) {
    if (closed_) return done(json{{"code", -1}});  // answered as an error, not left waiting
    int64_t id = next_id_++;
    msg["id"] = id;
    pending_[id] = std::move(done);
    out_.push_back(msg.dump());
    if (out_.size() == 1) Write();
  }

  void Close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void Read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail();
      json m = json::parse(beast::buffers_to_string(self->buf_.data()), nullptr, false);
      self->buf_.consume(self->buf_.size());
      if (m.is_object() && m.value("type", "") == "response" && m["id"].is_number_integer()) {
        auto it = self->pending_.find(m["id"].get<int64_t>());
        if (it != self->pending_.end()) {
          auto done = std::move(it->second);
          self->pending_.erase(it);
          done(m);
        }
      }
      self->Read();
    });
  }

  // The server closed the connection (or it broke): every request still waiting is
  // answered as an error so that no phase waits for replies that cannot come.
  void Fail() {
    closed_ = true;
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, done] : pending) done(json{{"code", -1}});
  }

  void Write() {
    ws_.async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->out_.pop_front();
      if (!self->out_.empty()) self->Write();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  std::map<int64_t, Done> pending_;
  int64_t next_id_ = 1;
  bool closed_ = false;
};

json AdminPost(int port, const std::string& target, const std::string& body, const std::string& key) {
  asio::io_context io;
  beast::tcp_stream s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + key);
  req.body() = body;
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(s, b, res);
  return json::parse(res.body());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--parleyd")
      o.parleyd = v;
    else if (k == "--sessions")
      o.sessions = std::stoi(v);
    else if (k == "--per-channel")
      o.per_channel = std::stoi(v);
    else if (k == "--hold-s")
      o.hold_s = std::stoi(v);
    else if (k == "--rate")
      o.rate = std::stoi(v);
    else if (k == "--server-cpu")
      o.server_cpu = std::stoi(v);
    else if (k == "--client-cpu")
      o.client_cpu = std::stoi(v);
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  // Start the server pinned to one core.
  char tmpl[] = "/tmp/parley-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string port_file = dir + "/port", key = "signal-load-bench-admin-key";
  std::vector<std::string> args = {"/usr/bin/taskset",
                                   "-c",
                                   std::to_string(o.server_cpu),
                                   o.parleyd,
                                   "--port",
                                   "0",
                                   "--data",
                                   dir,
                                   "--port-file",
                                   port_file,
                                   "--admin-key",
                                   key,
                                   "--log-level",
                                   "warn",
                                   "--usage-flush-ms",
                                   "10000"};
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, cargs[0], nullptr, nullptr, cargs.data(), environ) != 0) {
    std::cerr << "cannot start parleyd\n";
    return 1;
  }
  int port = 0;
  for (int i = 0; i < 500 && !port; ++i) {
    std::ifstream in(port_file);
    in >> port;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!port) {
    std::cerr << "parleyd did not start\n";
    return 1;
  }
  Pin(o.client_cpu);
  json app = AdminPost(port, "/v1/admin/apps", R"({"name":"bench"})", key);
  std::string app_id = app["appId"], app_key = app["appKey"];
  int64_t expiry = time(nullptr) + 3600;

  asio::io_context io;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < o.sessions; ++i) clients.push_back(std::make_shared<Client>(io));

  auto run_until = [&](const std::function<bool()>& done) {
    while (!done()) io.run_one_for(std::chrono::seconds(5));
  };
  auto join_msg = [&](int i) {
    std::string ch = "ch" + std::to_string(i / o.per_channel), user = "u" + std::to_string(i);
    return json{{"type", "join"},
                {"token", parley::MintAccessToken({app_id, ch, user, "", "", expiry, 0}, app_key)},
                {"userName", user}};
  };

  std::printf("signal_load: %d sessions, %d per channel, server pinned to CPU %d, client to CPU %d\n", o.sessions,
              o.per_channel, o.server_cpu, o.client_cpu);

  // 1. Connect everyone.
  int connected = 0, failed = 0;
  auto t0 = Clock::now();
  for (auto& c : clients) c->Connect(ep, [&](bool ok) { ok ? ++connected : ++failed; });
  run_until([&] { return connected + failed == o.sessions; });
  double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("connect:        %d ok, %d failed in %.3f s (%.0f conn/s)\n", connected, failed, connect_s,
              connected / connect_s);

  // Every session pings every 2 s from now to the end, spread evenly, as clients do
  // (the server closes a connection that stays silent past its heartbeat timeout, so a
  // long paced phase needs them); the hold phase measures the pings alone.
  struct {
    std::vector<double> lat;
    bool recording = false;
    bool stopped = false;
    size_t sent = 0;  // while recording
    size_t next = 0;
  } heartbeat;
  asio::steady_timer heartbeat_timer(io);
  const auto ping_interval = std::chrono::microseconds(2000000 / o.sessions);
  std::function<void()> ping_next = [&] {
    if (heartbeat.stopped) return;
    auto sent = Clock::now();
    if (heartbeat.recording) ++heartbeat.sent;
    clients[heartbeat.next++ % clients.size()]->Request({{"type", "ping"}}, [&, sent](const json&) {
      if (heartbeat.recording)
        heartbeat.lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    });
    heartbeat_timer.expires_at(heartbeat_timer.expiry() + ping_interval);
    heartbeat_timer.async_wait([&](beast::error_code ec) {
      if (!ec) ping_next();
    });
  };
  heartbeat_timer.expires_after(ping_interval);
  heartbeat_timer.async_wait([&](beast::error_code ec) {
    if (!ec) ping_next();
  });

  // 2. Burst: everyone joins at once.
  auto do_joins = [&](const char* label, int rate) {
    std::vector<double> lat;
    int done = 0, errors = 0;
    double cpu0 = CpuSeconds(pid);
    auto start = Clock::now();
    asio::steady_timer pacer(io);
    int next = 0;
    std::function<void()> issue = [&] {
      int batch = rate > 0 ? std::max(1, rate / 100) : o.sessions;
      for (int k = 0; k < batch && next < o.sessions; ++k, ++next) {
        auto sent = Clock::now();
        clients[static_cast<size_t>(next)]->Request(join_msg(next), [&, sent](const json& r) {
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
          if (r["code"] != 0) ++errors;
          ++done;
        });
      }
      if (next < o.sessions) {
        pacer.expires_after(std::chrono::milliseconds(10));
        pacer.async_wait([&](beast::error_code) { issue(); });
      }
    };
    issue();
    run_until([&] { return done == o.sessions; });
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = CpuSeconds(pid) - cpu0;
    std::printf(
        "%s %d joins (%d errors) in %.3f s = %.0f joins/s; latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f; "
        "server CPU %.3f s (%.0f%% of one core)\n",
        label, done, errors, wall, done / wall, Percentile(lat, 50), Percentile(lat, 90), Percentile(lat, 99),
        Percentile(lat, 100), cpu, 100 * cpu / wall);
  };
  auto do_leaves = [&]() {
    int done = 0;
    std::vector<double> lat;
    auto start = Clock::now();
    for (auto& c : clients) {
      auto sent = Clock::now();
      c->Request({{"type", "leave"}}, [&, sent](const json&) {
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        ++done;
      });
    }
    run_until([&] { return done == o.sessions; });
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("leave (burst):  %d leaves in %.3f s = %.0f leaves/s; latency ms p50 %.2f p99 %.2f\n", done, wall,
                done / wall, Percentile(lat, 50), Percentile(lat, 99));
  };
  do_joins("join (burst):  ", 0);

  // 3. Hold: the heartbeat alone, measured over --hold-s once the pings held back by
  // the burst have caught up.
  {
    auto settle = Clock::now() + std::chrono::seconds(2);
    run_until([&] { return Clock::now() >= settle; });
    double cpu0 = CpuSeconds(pid);
    auto start = Clock::now();
    heartbeat.lat.clear();
    heartbeat.sent = 0;
    heartbeat.recording = true;
    run_until([&] { return Clock::now() >= start + std::chrono::seconds(o.hold_s); });
    heartbeat.recording = false;
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = CpuSeconds(pid) - cpu0;
    double pings = static_cast<double>(std::max<size_t>(1, heartbeat.sent));
    std::printf(
        "hold:           %zu pings over %.1f s (%d sessions every 2 s); RTT ms p50 %.2f p99 %.2f; "
        "server CPU %.0f%% of one core, %.0f us a ping; RSS %ld KiB\n",
        heartbeat.sent, wall, o.sessions, Percentile(heartbeat.lat, 50), Percentile(heartbeat.lat, 99),
        100 * cpu / wall, cpu / pings * 1e6, RssKb(pid));
  }
  do_leaves();

  // 4. Paced: joins at a fixed rate, to see latency without self-made queueing.
  char label[64];
  std::snprintf(label, sizeof label, "join (%d/s): ", o.rate);
  do_joins(label, o.rate);
  do_leaves();

  heartbeat.stopped = true;
  heartbeat_timer.cancel();
  for (auto& c : clients) c->Close();
  io.poll();
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
