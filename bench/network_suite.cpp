// The network suite: native calls through each profile of the network lab
// (docs/network-lab.md), measured from what the receiving client saw. Per profile and
// direction: video fps received, freezes (gaps > 500 ms between rendered frames) and
// their total time, audio received (ms of decoded audio per second of call), audio
// concealed (the share of it the decoder made up for lost packets), the send
// bitrate, and for outage profiles whether and when media came back. It writes every
// second of every call to a CSV, each client's events and log to <profile>-<user>.log, and with gnuplot installed a PNG
// per profile (send bitrate and fps over time). Needs root: it runs in network namespaces of its own.
//
//   network_suite [--seconds 20] [--profiles good,lossy-10,...] [--out build/network-suite]
//                 [--server-flag --no-video-pacing ...]   (flags for parleyd; repeatable)
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "impairment.hpp"
#include "lab_env.hpp"
#include "run_command.hpp"

namespace {

using nlohmann::json;
using parley::netlab::LabEnvironment;

// The cut of an outage profile starts this long into the call.
constexpr int kOutageAtS = 7;

struct Second {
  double t = 0;
  int fps = 0;
  double audio_ms = 0;                              ///< decoded audio received during this second
  uint64_t audio_samples = 0, audio_concealed = 0;  ///< since the call began (48 kHz)
  double send_kbps = 0, receive_kbps = 0, loss = 0;
  int rtt_ms = -1;
  uint64_t freezes = 0, frozen_ms = 0;
};

struct Direction {
  std::string from, to;
  std::vector<Second> seconds;
  int status = 0;
  std::string error;  ///< the first error event, if any
};

Direction Read(const std::string& from, const std::string& to, const parley::test::CommandResult& r) {
  Direction d{from, to, {}, r.status, {}};
  double audio_before = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.value("event", "") == "error" && d.error.empty()) d.error = j.value("hex", "") + " " + j.value("message", "");
    if (j.value("event", "") != "stats") continue;
    json got = j["received"].value(from, json::object());
    Second s;
    s.t = j.value("t", 0.0);
    s.fps = got.value("fps", 0);
    double audio = got.value("audioMs", 0.0);
    s.audio_ms = audio - audio_before;
    audio_before = audio;
    auto num = [&](const char* k) { return j[k].is_number() ? j[k].get<double>() : 0.0; };
    s.send_kbps = num("sendKbps");
    s.receive_kbps = num("receiveKbps");
    s.loss = num("loss");
    s.rtt_ms = j["rttMs"].is_number() ? j["rttMs"].get<int>() : -1;
    s.audio_samples = j.value("audioSamples", uint64_t{0});
    s.audio_concealed = j.value("audioConcealed", uint64_t{0});
    s.freezes = got.value("freezes", uint64_t{0});
    s.frozen_ms = got.value("frozenMs", uint64_t{0});
    d.seconds.push_back(s);
  }
  return d;
}

struct Summary {
  double fps = 0, audio_pct = 0, send_kbps = 0;
  std::optional<double> concealed_pct;  ///< of the audio played after the first 3 s
  uint64_t freezes = 0, frozen_ms = 0;
  std::optional<double> recovered_s;  ///< after the outage ended: first second with video and audio
};

Summary Summarise(const Direction& d, uint32_t outage_ms) {
  Summary s;
  int n = 0;
  for (const auto& sec : d.seconds) {
    if (sec.t < 3) continue;  // joining and the first keyframe are not the network's doing
    s.fps += sec.fps;
    s.audio_pct += sec.audio_ms / 10;
    s.send_kbps += sec.send_kbps;
    ++n;
  }
  if (n) {
    s.fps /= n;
    s.audio_pct /= n;
    s.send_kbps /= n;
  }
  // Concealment over the settled part of the call, from the receiver's running counts.
  const Second* first = nullptr;
  for (const auto& sec : d.seconds)
    if (sec.t >= 3 && sec.audio_samples > 0) {
      first = &sec;
      break;
    }
  if (first && d.seconds.back().audio_samples > first->audio_samples)
    s.concealed_pct = 100.0 * static_cast<double>(d.seconds.back().audio_concealed - first->audio_concealed) /
                      static_cast<double>(d.seconds.back().audio_samples - first->audio_samples);
  if (!d.seconds.empty()) {
    s.freezes = d.seconds.back().freezes;
    s.frozen_ms = d.seconds.back().frozen_ms;
  }
  if (outage_ms) {
    double end = kOutageAtS + static_cast<double>(outage_ms) / 1000.0;
    for (const auto& sec : d.seconds)
      if (sec.t > end && sec.fps >= 5 && sec.audio_ms >= 500) {
        s.recovered_s = sec.t - end;
        break;
      }
  }
  return s;
}

// One PNG per profile from the per-receiver files Write() left: what each client sent
// (kbit/s) and the frames per second it received, over the call.
void Plot(const std::filesystem::path& dir, const std::string& profile) {
  if (access("/usr/bin/gnuplot", X_OK) != 0) return;
  auto data = [&](const char* user) { return (dir / (profile + "-" + user + ".dat")).string(); };
  const auto script = dir / (profile + ".gp");
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 900,520 font 'DejaVu Sans,10'\n"
     << "set output '" << (dir / (profile + ".png")).string() << "'\n"
     << "set multiplot layout 2,1 title 'network suite: " << profile << "'\n"
     << "set key outside right\nset grid\nset xrange [0:*]\nset ylabel 'send kbit/s'\n"
     << "plot '" << data("alice") << "' using 1:3 with lines title 'alice sends', '" << data("bob")
     << "' using 1:3 with lines title 'bob sends'\n"
     << "set ylabel 'fps received'\nset xlabel 'seconds'\nset yrange [0:35]\n"
     << "plot '" << data("alice") << "' using 1:2 with lines title 'alice receives', '" << data("bob")
     << "' using 1:2 with lines title 'bob receives'\nunset multiplot\n";
  gp.close();
  parley::test::RunCommand({"/usr/bin/gnuplot", script.string()});
}

// The plot's input: "t fps send_kbps" per second for one receiver.
void Write(const std::filesystem::path& dir, const std::string& profile, const Direction& d) {
  std::ofstream out(dir / (profile + "-" + d.to + ".dat"));
  for (const auto& s : d.seconds) out << fmt::format("{:.1f} {} {:.0f}\n", s.t, s.fps, s.send_kbps);
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 20;
  std::string profiles_arg, out_dir = "build/network-suite";
  std::vector<std::string> server_flags;
  // Options come in pairs; a lone word (--help, a flag without its value) gets the usage.
  if (argc % 2 == 0) {
    fmt::print(stderr, "usage: network_suite [--seconds N] [--profiles a,b,...] [--out DIR] [--server-flag F]...\n");
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds")
      seconds = std::max(10, std::atoi(argv[i + 1]));
    else if (a == "--profiles")
      profiles_arg = argv[i + 1];
    else if (a == "--out")
      out_dir = argv[i + 1];
    else if (a == "--server-flag")
      server_flags.emplace_back(argv[i + 1]);
    else {
      fmt::print(stderr, "usage: network_suite [--seconds N] [--profiles a,b,...] [--out DIR] [--server-flag F]...\n");
      return 2;
    }
  }
  std::vector<const parley::netlab::Profile*> profiles;
  if (profiles_arg.empty()) {
    for (const auto& p : parley::netlab::Profiles()) profiles.push_back(&p);
  } else {
    std::stringstream ss(profiles_arg);
    for (std::string name; std::getline(ss, name, ',');) {
      const auto* p = parley::netlab::FindProfile(name);
      if (!p) {
        fmt::print(stderr, "network_suite: unknown profile {}\n", name);
        return 2;
      }
      profiles.push_back(p);
    }
  }
  if (std::string e = LabEnvironment::Enter(); !e.empty()) {
    fmt::print(stderr, "network_suite: {}\n", e);
    return 1;
  }
  std::filesystem::create_directories(out_dir);
  const auto csv_path = std::filesystem::absolute(out_dir) / "network_suite.csv";
  std::ofstream csv(csv_path);
  csv << "profile,receiver,t,fps,audio_ms,send_kbps,receive_kbps,loss,rtt_ms,freezes,frozen_ms,audio_samples,"
         "audio_concealed\n";
  LabEnvironment lab(PARLEY_NETEM, PARLEY_CLI);
  if (std::string e = lab.Start(server_flags); !e.empty()) {
    fmt::print(stderr, "network_suite: {}\n", e);
    return 1;
  }
  fmt::print("{:<11} {:<13} {:>6} {:>8} {:>10} {:>8} {:>9} {:>9} {:>10}  {}\n", "profile", "direction", "fps",
             "audio %", "concealed%", "freezes", "frozen s", "send kbps", "recovered", "ended with");
  for (const auto* p : profiles) {
    lab.Ctl("profile good");
    if (!p->outage_ms) lab.Ctl("profile " + p->name);
    int call_s = p->outage_ms ? kOutageAtS + static_cast<int>(p->outage_ms / 1000) + 10 : seconds;
    parley::test::CommandResult a, b;
    auto args = [&](const char* user) {
      return lab.JoinArgs(p->name, user, call_s,
                          {"--width", "640", "--height", "360", "--fps", "30", "--log-level", "debug"});
    };
    std::thread ta([&] { a = parley::test::RunCommand(args("alice")); });
    std::thread tb([&] { b = parley::test::RunCommand(args("bob")); });
    if (p->outage_ms) {
      std::this_thread::sleep_for(std::chrono::seconds(kOutageAtS));
      lab.Ctl("outage " + std::to_string(p->outage_ms));
    }
    ta.join();
    tb.join();
    // Each client's own record of the call (its JSON events, then its log), to see
    // what happened when a number looks wrong.
    for (const auto& [user, r] : {std::pair{"alice", &a}, std::pair{"bob", &b}}) {
      std::ofstream log(std::filesystem::absolute(out_dir) / (p->name + "-" + user + ".log"));
      log << r->out << "\n--- log ---\n" << r->err;
    }
    // alice's output shows what alice received from bob: the bob -> alice direction.
    for (const auto& d : {Read("bob", "alice", a), Read("alice", "bob", b)}) {
      for (const auto& s : d.seconds)
        csv << fmt::format("{},{},{:.1f},{},{:.0f},{:.0f},{:.0f},{:.3f},{},{},{},{},{}\n", p->name, d.to, s.t, s.fps,
                           s.audio_ms, s.send_kbps, s.receive_kbps, s.loss, s.rtt_ms, s.freezes, s.frozen_ms,
                           s.audio_samples, s.audio_concealed);
      Write(std::filesystem::absolute(out_dir), p->name, d);
      Summary s = Summarise(d, p->outage_ms);
      fmt::print("{:<11} {:<13} {:>6.1f} {:>8.1f} {:>10} {:>8} {:>9.1f} {:>9.0f} {:>10}  {}\n", p->name,
                 d.from + "→" + d.to, s.fps, s.audio_pct,
                 s.concealed_pct ? fmt::format("{:.1f}", *s.concealed_pct) : std::string("-"), s.freezes,
                 static_cast<double>(s.frozen_ms) / 1000.0, s.send_kbps,
                 !p->outage_ms   ? std::string("-")
                 : d.status != 0 ? std::string("ended")
                 : s.recovered_s ? fmt::format("{:.1f} s", *s.recovered_s)
                                 : std::string("never"),
                 d.status == 0 ? std::string("ok") : d.error);
    }
    csv.flush();
    Plot(std::filesystem::absolute(out_dir), p->name);
  }
  // The server's side of every call (add --server-flag --log-level --server-flag debug
  // for the media transports' steps).
  std::ofstream(std::filesystem::absolute(out_dir) / "parleyd.log") << lab.server().Log();
  fmt::print("per-second data: {}\n", csv_path.string());
  return 0;
}
