// Soak: does a client or the server grow while people come and go? A real parleyd and
// N `parley join` clients stay in one channel for the whole run while one more joins
// for --visit-s, leaves, and comes back after --gap-s (as the same user, as a person
// rejoining would). Every --sample-s the resident memory, open files and threads of the
// server and of each staying client are printed and written to soak.csv; at the end
// each process's growth per hour (least squares over the samples after the first five
// minutes, or the second half of a shorter run) is printed, and with gnuplot
// installed soak.png plots memory over time.
//   soak [--clients 3] [--minutes 60] [--visit-s 12] [--gap-s 3] [--sample-s 60]
//        [--out DIR] [--width 320] [--height 240] [--fps 15] [--parley PATH]
// (--parley: the client binary, default the build's; $PARLEYD: the server's.)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "run_command.hpp"
#include "server_process.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using parley::test::ProcessUse;

struct Options {
  int clients = 3;
  double minutes = 60, visit_s = 12, gap_s = 3, sample_s = 60;
  std::string out = "soak-out", width = "320", height = "240", fps = "15", parley = PARLEY_CLI;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--clients")
      o.clients = std::max(1, std::atoi(v.c_str()));
    else if (k == "--minutes")
      o.minutes = std::atof(v.c_str());
    else if (k == "--visit-s")
      o.visit_s = std::atof(v.c_str());
    else if (k == "--gap-s")
      o.gap_s = std::atof(v.c_str());
    else if (k == "--sample-s")
      o.sample_s = std::max(1.0, std::atof(v.c_str()));
    else if (k == "--out")
      o.out = v;
    else if (k == "--width")
      o.width = v;
    else if (k == "--height")
      o.height = v;
    else if (k == "--fps")
      o.fps = v;
    else if (k == "--parley")
      o.parley = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

struct Sample {
  double minute = 0;
  int visits = 0;
  std::vector<ProcessUse> use;  ///< the server, then each staying client
};

// Least-squares slope of rss over minutes, in MB per hour, over samples from `from`.
double GrowthPerHour(const std::vector<Sample>& samples, size_t column, double from) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& s : samples) {
    if (s.minute < from) continue;
    double x = s.minute, y = static_cast<double>(s.use[column].rss_kb) / 1024.0;
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  if (n < 2 || n * sxx - sx * sx == 0) return 0;
  return (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60.0;
}

void Plot(const Options& o, const std::filesystem::path& csv) {
  if (access("/usr/bin/gnuplot", X_OK) != 0) return;
  const auto script = std::filesystem::path(o.out) / "soak.gp";
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 900,480 font 'DejaVu Sans,10'\n"
     << "set output '" << (std::filesystem::path(o.out) / "soak.png").string() << "'\n"
     << "set datafile separator ','\nset key outside right\nset grid\n"
     << "set title 'soak: " << o.clients << " clients stay, one comes and goes every " << o.visit_s + o.gap_s << " s'\n"
     << "set xlabel 'minutes'\nset ylabel 'resident memory (MiB)'\nset yrange [0:*]\n"
     << "plot '" << csv.string() << "' using 1:($3/1024) with linespoints title 'parleyd'";
  for (int c = 0; c < o.clients; ++c)
    gp << ", '' using 1:($" << 6 + 3 * c << "/1024) with linespoints title 'client " << c + 1 << "'";
  gp << "\n";
  gp.close();
  parley::test::RunCommand({"/usr/bin/gnuplot", script.string()});
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::filesystem::create_directories(o.out);
  parley::test::ServerProcess server({"--log-level", "warn"});
  auto created =
      parley::test::HttpRequest(server.port(), "POST", "/v1/admin/apps", R"({"name":"soak"})", server.admin_key());
  auto app = nlohmann::json::parse(created.body, nullptr, false);
  if (app.is_discarded() || !app.contains("appId")) {
    std::fprintf(stderr, "cannot create an app: %s\n", created.body.c_str());
    return 1;
  }
  auto join = [&](const std::string& user) {
    return std::vector<std::string>{
        o.parley,    "join",       "--server",  "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/signal",
        "--app-id",  app["appId"], "--app-key", app["appKey"],
        "--channel", "soak",       "--user",    user,
        "--width",   o.width,      "--height",  o.height,
        "--fps",     o.fps,        "--json"};
  };
  std::vector<std::unique_ptr<parley::test::ChildProcess>> stayers;
  for (int c = 0; c < o.clients; ++c)
    stayers.push_back(std::make_unique<parley::test::ChildProcess>(join("stayer" + std::to_string(c + 1))));

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.minutes * 60));
  std::atomic<int> visits{0}, failed{0};
  std::thread visitor([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the stayers are in
    while (Clock::now() + std::chrono::duration<double>(o.visit_s) < end) {
      auto args = join("visitor");
      args.insert(args.end(), {"--duration", std::to_string(o.visit_s)});
      if (parley::test::RunCommand(args).status != 0) ++failed;
      ++visits;
      std::this_thread::sleep_for(std::chrono::duration<double>(o.gap_s));
    }
  });

  const auto csv = std::filesystem::path(o.out) / "soak.csv";
  std::ofstream out(csv);
  out << "minute,visits,server_rss_kb,server_fds,server_threads";
  for (int c = 1; c <= o.clients; ++c)
    out << ",client" << c << "_rss_kb,client" << c << "_fds,client" << c << "_threads";
  out << "\n";
  std::printf("machine: %u cores, %s\n", std::thread::hardware_concurrency(), o.out.c_str());
  std::printf("%7s %6s  %-22s", "minute", "visits", "parleyd kB/fds/thr");
  for (int c = 1; c <= o.clients; ++c) std::printf("  client%-2d kB/fds/thr  ", c);
  std::printf("\n");
  std::vector<Sample> samples;
  const auto every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.sample_s));
  for (auto next = start + every;; next += every) {
    std::this_thread::sleep_until(std::min(next, end));
    Sample s;
    s.minute = std::chrono::duration<double>(Clock::now() - start).count() / 60.0;
    s.visits = visits;
    s.use.push_back(parley::test::UseOf(server.pid()));
    for (auto& c : stayers) s.use.push_back(parley::test::UseOf(c->pid()));
    std::printf("%7.1f %6d ", s.minute, s.visits);
    out << s.minute << "," << s.visits;
    for (const auto& u : s.use) {
      std::printf("  %9ld/%3d/%3d        ", u.rss_kb, u.fds, u.threads);
      out << "," << u.rss_kb << "," << u.fds << "," << u.threads;
    }
    std::printf("\n");
    std::fflush(stdout);
    out << "\n";
    out.flush();
    samples.push_back(std::move(s));
    if (Clock::now() >= end) break;
  }
  visitor.join();
  int stopped = 0;
  for (auto& c : stayers) stopped += c->Running() ? 0 : 1;
  for (auto& c : stayers) c->Interrupt();
  out.close();
  Plot(o, csv);

  const double from = o.minutes > 10 ? 5 : o.minutes / 2;
  std::printf("\n%d visits (%d failed); %d of %d staying clients ended early\n", visits.load(), failed.load(), stopped,
              o.clients);
  std::printf("growth per hour from minute %.1f (least squares): parleyd %+.1f MB", from,
              GrowthPerHour(samples, 0, from));
  for (size_t c = 1; c < samples.front().use.size(); ++c)
    std::printf(", client %zu %+.1f MB", c, GrowthPerHour(samples, c, from));
  std::printf("\n");
  if (samples.size() >= 2) {  // every sample has the server and each client
    const Sample& first = samples.front();
    const Sample& last = samples.back();
    std::printf("first -> last sample: parleyd %ld -> %ld kB, %d -> %d fds", first.use[0].rss_kb, last.use[0].rss_kb,
                first.use[0].fds, last.use[0].fds);
    for (size_t c = 1; c < first.use.size(); ++c)
      std::printf("; client %zu %ld -> %ld kB, %d -> %d fds", c, first.use[c].rss_kb, last.use[c].rss_kb,
                  first.use[c].fds, last.use[c].fds);
    std::printf("\n");
  }
  return failed > 0 || stopped > 0 ? 1 : 0;
}
