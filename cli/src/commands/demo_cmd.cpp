// parley demo: the whole system on one machine in one command. It starts an
// in-process parleyd on 127.0.0.1 with a fresh data dir, creates an app, and has N
// participants join one channel through libparley, each publishing a test tone and a
// moving pattern and subscribing to the others. A live status updates in place (or a
// line per second when stdout is not a terminal, or JSON), a browser can join the same
// channel from the printed URL, and a summary ends it.
#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "commands/common.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "server.hpp"

namespace parley::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};

struct DemoOptions {
  int participants = 2;
  double duration = 30;
  int port = 0;
  int width = 640, height = 360, fps = 30;
  std::string record_dir;  ///< each participant records what it receives into DIR/<participant>/
};

// One participant's engine events and received media, counted for the status.
class Participant : public EngineEventListener, public MediaFrameObserver {
 public:
  Participant(std::string id, Clock::time_point t0) : id_(std::move(id)), t0_(t0) {}
  const std::string& id() const { return id_; }

  void OnJoinChannelResult(int32_t result, const std::string&, const std::string&, int ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    join_result_ = result;
    join_ms_ = ms;
    state_ = result == 0 ? "joined" : "failed";
  }
  void OnPublishStateChanged(TrackKind, bool published) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (published) state_ = "publishing";
  }
  void OnOccurError(int32_t code, const std::string& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    problems_.push_back({"error", code, m});
  }
  void OnOccurWarning(int32_t code, const std::string& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    problems_.push_back({"warning", code, m});
  }
  void OnRemoteVideoFrame(const std::string& from, TrackKind, const VideoFrame& f) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& r = from_[from];
    if (r.frames == 0) r.first_frame_ms = Ms(Clock::now() - t0_);
    ++r.frames;
    r.width = f.width;
    r.height = f.height;
  }
  void OnRemoteAudioFrame(const std::string& from, const AudioFrame& f) override {
    std::lock_guard<std::mutex> lock(mu_);
    from_[from].audio_samples += f.samples;
  }
  void OnStats(const EngineStats& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = s;
  }

  /// Per-second status (fps since the last call) as JSON.
  json Sample() {
    std::lock_guard<std::mutex> lock(mu_);
    json received = json::object();
    for (auto& [from, r] : from_) {
      received[from] = {{"fps", r.frames - r.frames_seen},
                        {"resolution", fmt::format("{}x{}", r.width, r.height)},
                        {"videoFrames", r.frames},
                        {"audioMs", r.audio_samples / 48}};
      r.frames_seen = r.frames;
    }
    return {{"userId", id_},
            {"state", state_},
            {"received", received},
            {"sendKbps", stats_.send_kbps},
            {"receiveKbps", stats_.receive_kbps},
            {"loss", stats_.loss_rate},
            {"rttMs", stats_.rtt_ms},
            {"quality", stats_.quality}};
  }

  json Summary(const std::vector<std::string>& others, bool* complete) {
    std::lock_guard<std::mutex> lock(mu_);
    json received = json::object();
    for (const auto& o : others) {
      auto it = from_.find(o);
      Received r = it == from_.end() ? Received{} : it->second;
      received[o] = {{"videoFrames", r.frames},
                     {"resolution", fmt::format("{}x{}", r.width, r.height)},
                     {"audioMs", r.audio_samples / 48},
                     {"firstFrameMs", r.first_frame_ms}};
      if (r.frames == 0 || r.audio_samples == 0) *complete = false;
    }
    if (join_result_ != 0) *complete = false;
    json problems = json::array();
    for (const auto& p : problems_)
      problems.push_back({{"kind", p.kind}, {"code", p.code}, {"hex", FormatHex(p.code)}, {"message", p.message}});
    return {{"userId", id_},        {"joinResult", join_result_}, {"joinMs", join_ms_},
            {"received", received}, {"problems", problems},       {"recordings", recordings_}};
  }

  void OnRecordingStarted(const std::string&, TrackKind, const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    recordings_.push_back(path);
  }

 private:
  static int64_t Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
  struct Received {
    uint64_t frames = 0, frames_seen = 0, audio_samples = 0;
    int width = 0, height = 0;
    int64_t first_frame_ms = -1;
  };
  struct Problem {
    std::string kind;
    int32_t code;
    std::string message;
  };
  std::string id_;
  Clock::time_point t0_;
  std::mutex mu_;
  std::string state_ = "joining";
  int32_t join_result_ = -1;
  int join_ms_ = -1;
  std::map<std::string, Received> from_;
  std::vector<Problem> problems_;
  std::vector<std::string> recordings_;
  EngineStats stats_;
};

std::string RandomKey() {
  std::random_device rd;
  return fmt::format("{:016x}{:016x}", (uint64_t{rd()} << 32) | rd(), (uint64_t{rd()} << 32) | rd());
}

std::string StatusLine(const json& p) {
  std::string line = fmt::format("{:<8} {:<10} send {:>4} kbps  recv {:>4} kbps  loss {:>4.1f}%  rtt {:>3} ms  q{}",
                                 p["userId"].get<std::string>(), p["state"].get<std::string>(),
                                 p["sendKbps"].get<int>(), p["receiveKbps"].get<int>(), p["loss"].get<double>() * 100.0,
                                 p["rttMs"].get<int>(), p["quality"].get<int>());
  for (auto& [from, r] : p["received"].items())
    line += fmt::format("  <- {}: {} {:>2} fps, audio {:.1f} s", from, r["resolution"].get<std::string>(),
                        r["fps"].get<uint64_t>(), static_cast<double>(r["audioMs"].get<uint64_t>()) / 1000.0);
  if (p["received"].empty()) line += "  (waiting for media)";
  return line;
}

int Run(const DemoOptions& o) {
  if (o.participants < 1 || o.participants > 16) {
    fmt::print(stderr, "parley demo: --participants must be 1..16\n");
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::warn);
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "parley-demo-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    fmt::print(stderr, "parley demo: cannot create a temporary directory\n");
    return kExitFailure;
  }
  std::string admin_key = RandomKey();
  server::ServerConfig sc;
  sc.listen_address = "127.0.0.1";
  sc.port = static_cast<uint16_t>(o.port);
  sc.data_dir = tmpl;
  sc.admin_key = admin_key;
  sc.media_address = "127.0.0.1";
  sc.log_level = "warn";
  server::Server srv(sc);
  if (Status st = srv.Start(); !st) {
    PrintError(st.error());
    return kExitFailure;
  }
  std::thread server_thread([&] { srv.Run(); });
  auto cleanup = [&] {
    srv.Stop();
    server_thread.join();
    std::error_code ec;
    fs::remove_all(tmpl, ec);
  };
  std::string http = fmt::format("http://127.0.0.1:{}", srv.Port());
  auto app = AdminCall(http, admin_key, "POST", "/v1/admin/apps", {{"name", "demo"}});
  if (!app) {
    PrintError(app.error());
    cleanup();
    return kExitFailure;
  }
  std::string app_id = (*app)["appId"], channel = "demo";
  auto guest = AdminCall(http, admin_key, "POST", "/v1/admin/apps/" + app_id + "/tokens",
                         {{"channelId", channel}, {"userId", "guest"}, {"ttlSeconds", 3600}});
  std::string browser_url = guest ? fmt::format("{}/demo/#token={}", http, (*guest)["token"].get<std::string>()) : "";
  if (Globals().json)
    fmt::print("{}\n", json{{"event", "started"},
                            {"server", http},
                            {"appId", app_id},
                            {"channelId", channel},
                            {"browserUrl", browser_url}}
                           .dump());
  else
    fmt::print(
        "parley demo: server on {} (data in {}), app {}, channel '{}'\n"
        "join from a browser on this machine: {}\n\n",
        http, tmpl, app_id, channel, browser_url);
  std::fflush(stdout);

  auto t0 = Clock::now();
  std::vector<std::unique_ptr<Participant>> people;
  std::vector<RtcEngine*> engines;
  std::vector<std::string> ids;
  for (int i = 0; i < o.participants; ++i) ids.push_back(fmt::format("user{}", i + 1));
  for (int i = 0; i < o.participants; ++i) {
    EngineConfig cfg;
    cfg.server_url = fmt::format("ws://127.0.0.1:{}/v1/signal", srv.Port());
    cfg.audio_source = fmt::format("test:tone:{}", 330 + 110 * i);
    cfg.video = {o.width, o.height, o.fps, 800, VideoCodec::kVp8};
    if (!o.record_dir.empty()) cfg.record_dir = o.record_dir + "/" + ids[static_cast<size_t>(i)];
    RtcEngine* e = RtcEngine::Create(cfg);
    if (!e) {
      std::string m;
      int32_t code = RtcEngine::LastCreateError(&m);
      PrintError(MakeError(static_cast<Errc>(code), m));
      for (RtcEngine* x : engines) RtcEngine::Destroy(x);
      cleanup();
      return kExitFailure;
    }
    auto p = std::make_unique<Participant>(ids[static_cast<size_t>(i)], t0);
    e->SetEngineEventListener(p.get());
    e->SetMediaFrameObserver(p.get());
    auto token = AdminCall(http, admin_key, "POST", "/v1/admin/apps/" + app_id + "/tokens",
                           {{"channelId", channel}, {"userId", p->id()}, {"ttlSeconds", 3600}});
    if (token) e->JoinChannel((*token)["token"].get<std::string>(), channel, p->id(), p->id());
    engines.push_back(e);
    people.push_back(std::move(p));
  }

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  bool tty = !Globals().json && isatty(STDOUT_FILENO);
  size_t drawn = 0;
  for (int tick = 1; !g_stop; ++tick) {
    auto until = t0 + std::chrono::seconds(tick);
    while (!g_stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    double t = std::chrono::duration<double>(Clock::now() - t0).count();
    json status = json::array();
    for (auto& p : people) status.push_back(p->Sample());
    if (Globals().json) {
      fmt::print("{}\n", json{{"event", "status"}, {"t", t}, {"participants", status}}.dump());
    } else {
      if (tty && drawn) fmt::print("\033[{}A", drawn);  // redraw in place
      drawn = 0;
      fmt::print("{}{:.0f} s\n", tty ? "\033[2K" : "", t);
      ++drawn;
      for (auto& p : status) {
        fmt::print("{}  {}\n", tty ? "\033[2K" : "", StatusLine(p));
        ++drawn;
      }
      if (!tty) fmt::print("\n");
    }
    std::fflush(stdout);
    if (o.duration > 0 && t + 0.05 >= o.duration) break;
  }

  for (RtcEngine* e : engines) e->LeaveChannel();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  bool complete = true;
  json summary = json::array();
  for (size_t i = 0; i < people.size(); ++i) {
    std::vector<std::string> others;
    for (const auto& id : ids)
      if (id != people[i]->id()) others.push_back(id);
    summary.push_back(people[i]->Summary(others, &complete));
  }
  for (RtcEngine* e : engines) RtcEngine::Destroy(e);
  cleanup();
  if (Globals().json) {
    fmt::print("{}\n", json{{"event", "summary"}, {"complete", complete}, {"participants", summary}}.dump());
  } else {
    fmt::print("\nsummary ({} participants, {:.0f} s):\n", people.size(),
               std::chrono::duration<double>(Clock::now() - t0).count());
    for (auto& s : summary) {
      fmt::print("  {}: joined in {} ms", s["userId"].get<std::string>(), s["joinMs"].get<int>());
      for (auto& [from, r] : s["received"].items())
        fmt::print("; from {}: first frame {} ms, {} frames ({}), {:.1f} s audio", from,
                   r["firstFrameMs"].get<int64_t>(), r["videoFrames"].get<uint64_t>(),
                   r["resolution"].get<std::string>(), static_cast<double>(r["audioMs"].get<uint64_t>()) / 1000.0);
      fmt::print("\n");
      for (auto& r : s["recordings"]) fmt::print("    recorded {}\n", r.get<std::string>());
      for (auto& p : s["problems"])
        fmt::print("    {} {}: {}\n", p["kind"].get<std::string>(), p["hex"].get<std::string>(),
                   p["message"].get<std::string>());
    }
    fmt::print("{}\n",
               complete ? "every participant saw and heard every other one" : "some media did not arrive (see above)");
  }
  return complete ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "Run a server and N participants in one channel on this machine");
  cmd->add_option("--participants", o->participants, "How many participants (1-16)")->capture_default_str();
  cmd->add_option("--duration", o->duration, "Seconds to run (0: until Ctrl-C)")->capture_default_str();
  cmd->add_option("--port", o->port, "HTTP/WebSocket port of the embedded server (0: any free port)");
  cmd->add_option("--width", o->width, "Video width")->capture_default_str();
  cmd->add_option("--height", o->height, "Video height")->capture_default_str();
  cmd->add_option("--fps", o->fps, "Video frame rate")->capture_default_str();
  cmd->add_option("--record", o->record_dir,
                  "Each participant writes what it receives to DIR/<participant>/ (.ogg audio, .webm video)");
  AddJsonFlag(cmd, "One JSON object per line: started, status every second, summary");
  cmd->callback([o, runner] { *runner = [o] { return Run(*o); }; });
}

}  // namespace parley::cli
