// parley doctor: what stands between this machine and a good call. It checks the
// GStreamer elements libparley uses, the microphones, speakers and cameras, whether the
// server answers, and (with credentials) the network to it with a last-mile probe, and
// explains each finding that is not fine with its catalog code and the catalog's advice.
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands/common.hpp"
#include "commands/join_words.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"

namespace parley::cli {
namespace {

enum class Verdict { kOk, kWarn, kFail, kSkip };

const char* VerdictName(Verdict v) {
  return v == Verdict::kOk ? "ok" : v == Verdict::kWarn ? "warn" : v == Verdict::kFail ? "fail" : "skip";
}

struct Finding {
  std::string area;
  Verdict verdict = Verdict::kOk;
  std::string what;
  Errc code = Errc::kOk;  ///< kOk: nothing to explain
};

class Report {
 public:
  explicit Report(bool json_out) : json_(json_out) {}

  void Section(const std::string& title) {
    if (!json_) fmt::print("\n{}\n", title);
  }
  void Add(Finding f) {
    if (json_) {
      nlohmann::json j{{"area", f.area}, {"verdict", VerdictName(f.verdict)}, {"what", f.what}};
      if (f.code != Errc::kOk) {
        const ErrorInfo& info = Info(f.code);
        j["code"] = FormatHex(info.value());
        j["name"] = info.name;
        j["advice"] = info.advice_en;
      }
      items_.push_back(j);
    } else {
      fmt::print("  {:<5} {}\n", VerdictName(f.verdict), f.what);
      if (f.code != Errc::kOk) {
        const ErrorInfo& info = Info(f.code);
        fmt::print("        {} {}: {}\n", FormatHex(info.value()), info.name, info.description);
        if (info.advice_en != "-") fmt::print("        advice: {}\n", info.advice_en);
      }
    }
    if (f.verdict == Verdict::kFail) ++failures_;
    if (f.verdict == Verdict::kWarn) ++warnings_;
  }
  /// The probe's measurement, for --json.
  void SetProbe(nlohmann::json probe) { probe_ = std::move(probe); }
  int Finish() {
    if (json_) {
      nlohmann::json out{{"findings", items_}, {"failures", failures_}, {"warnings", warnings_}};
      if (!probe_.is_null()) out["probe"] = probe_;
      fmt::print("{}\n", out.dump());
    } else {
      fmt::print("\n{} failure{}, {} warning{}\n", failures_, failures_ == 1 ? "" : "s", warnings_,
                 warnings_ == 1 ? "" : "s");
    }
    return failures_ ? kExitFailure : kExitOk;
  }

 private:
  bool json_;
  nlohmann::json items_ = nlohmann::json::array();
  nlohmann::json probe_;
  int failures_ = 0, warnings_ = 0;
};

void CheckPlugins(Report& r) {
  r.Section("media (GStreamer elements)");
  auto plugins = RtcEngine::CheckMediaPlugins();
  if (plugins.empty())
    return r.Add({"media", Verdict::kFail, "GStreamer does not start", Errc::kInitMediaEngineFailed});
  int present = 0;
  for (const auto& p : plugins) {
    if (p.present) {
      ++present;
      continue;
    }
    r.Add({"media", p.required ? Verdict::kFail : Verdict::kWarn,
           fmt::format("{} is missing: {} will not work (Debian package {})", p.element, p.purpose, p.package),
           Errc::kInitMissingPlugin});
  }
  r.Add({"media", Verdict::kOk,  // a summary: what is missing was told above
         fmt::format("{} of {} elements present", present, plugins.size())});
}

void CheckDevices(Report& r) {
  r.Section("devices");
  struct Kind {
    DeviceKind kind;
    const char* name;
    Errc missing;
  };
  for (const Kind& k : {Kind{DeviceKind::kMicrophone, "microphone", Errc::kAudioRecordDeviceNotFound},
                        Kind{DeviceKind::kSpeaker, "speaker", Errc::kAudioPlayDeviceNotFound},
                        Kind{DeviceKind::kCamera, "camera", Errc::kCameraOpenFailed}}) {
    std::vector<DeviceInfo> real;
    for (auto& d : RtcEngine::EnumerateDevices(k.kind))
      if (d.id.rfind("device:", 0) == 0) real.push_back(d);
    if (real.empty()) {
      r.Add({"devices", Verdict::kWarn,
             fmt::format("no {}: only the synthetic sources can stand in (`parley devices` lists them)", k.name),
             k.missing});
      continue;
    }
    const DeviceInfo* chosen = &real.front();
    for (const auto& d : real)
      if (d.is_default) chosen = &d;
    r.Add({"devices", Verdict::kOk,
           fmt::format("{}: {}{} ({} found)", k.name, chosen->name, chosen->is_default ? " (the default)" : "",
                       real.size())});
  }
}

bool CheckServer(Report& r, const std::string& server) {
  r.Section("server");
  std::string http = server;
  if (http.rfind("ws://", 0) == 0) http = "http://" + http.substr(5);
  if (http.rfind("wss://", 0) == 0) http = "https://" + http.substr(6);
  if (auto cut = http.find("/v1/signal"); cut != std::string::npos) http.resize(cut);
  const auto start = std::chrono::steady_clock::now();
  auto health = PublicGet(http, "/healthz");
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (!health) {
    r.Add({"server", Verdict::kFail, fmt::format("{} does not answer: {}", http, health.error().message),
           Errc::kSignalRequestError});
    return false;
  }
  r.Add({"server", Verdict::kOk, fmt::format("{}/healthz answered in {} ms", http, ms)});
  return true;
}

// Waits for the engine's last-mile result.
class ProbeListener : public EngineEventListener {
 public:
  void OnLastMileDetectResult(NetworkQuality q) override { quality_ = q; }
  void OnLastMileProbeResult(int32_t code, const LastMileProbeResult& result) override {
    std::lock_guard<std::mutex> lock(mu_);
    code_ = code;
    result_ = result;
    done_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }
  int32_t code_ = 0;
  LastMileProbeResult result_;
  NetworkQuality quality_ = NetworkQuality::kUnknown;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

struct ProbeOptions {
  std::string token, channel = "doctor", user = "doctor";
  int up = 1000, down = 1000;
  bool skip = false;
};

void CheckNetwork(Report& r, const std::string& server, const ProbeOptions& o) {
  r.Section(fmt::format("network (last-mile probe, {} kbit/s up, {} kbit/s down)", o.up, o.down));
  const GlobalOptions& g = Globals();
  std::string token = o.token;
  if (token.empty() && !g.app_id.empty() && !g.app_key.empty()) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    token = MintAccessToken({g.app_id, o.channel, o.user, "", "", now + 600, now}, g.app_key);
  }
  if (o.skip || token.empty()) {
    r.Add({"network", Verdict::kSkip,
           o.skip ? "not asked for (--no-probe)"
                  : "no credentials: give --token, or --app-id and --app-key, to measure the network"});
    return;
  }
  EngineConfig cfg;
  cfg.server_url = SignalUrl(server);
  cfg.log_level = "off";
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  if (!engine) return r.Add({"network", Verdict::kFail, "the engine does not start", Errc::kInitMediaEngineFailed});
  ProbeListener listener;
  engine->SetEngineEventListener(&listener);
  LastMileProbeConfig pc;
  pc.expected_uplink_kbps = o.up;
  pc.expected_downlink_kbps = o.down;
  if (int32_t rc = engine->StartLastMileDetect(token, pc))
    return r.Add({"network", Verdict::kFail, "the probe did not start", static_cast<Errc>(rc)});
  if (!listener.Wait(std::chrono::seconds(30)))
    return r.Add({"network", Verdict::kFail, "the probe did not finish in 30 s", Errc::kLastMileProbeFailed});
  engine.reset();
  if (listener.code_ != 0)
    return r.Add({"network", Verdict::kFail, "the probe measured nothing", static_cast<Errc>(listener.code_)});
  const auto& m = listener.result_;
  auto way = [](const LastMileProbeOneWay& d) {
    return nlohmann::json{{"bandwidthKbps", d.available_bandwidth_kbps},
                          {"lossPercent", d.packet_loss_percent},
                          {"jitterMs", d.jitter_ms}};
  };
  r.SetProbe({{"state", static_cast<int>(m.state)},
              {"quality", static_cast<int>(listener.quality_)},
              {"rttMs", m.rtt_ms},
              {"uplink", way(m.uplink)},
              {"downlink", way(m.downlink)}});
  r.Add({"network", Verdict::kOk, fmt::format("round trip {} ms", m.rtt_ms)});
  auto direction = [&](const char* name, const LastMileProbeOneWay& d, int expected) {
    const bool weak = d.packet_loss_percent >= 5 || d.available_bandwidth_kbps * 10 < expected * 8;
    r.Add({"network", weak ? Verdict::kWarn : Verdict::kOk,
           fmt::format("{}: {} kbit/s of {} got through, {}% lost, jitter {} ms", name, d.available_bandwidth_kbps,
                       expected, d.packet_loss_percent, d.jitter_ms),
           weak ? Errc::kNetworkWeak : Errc::kOk});
  };
  direction("uplink", m.uplink, o.up);
  direction("downlink", m.downlink, o.down);
  const bool bad = static_cast<int>(listener.quality_) >= 3 && listener.quality_ != NetworkQuality::kUnknown;
  r.Add({"network", bad ? Verdict::kWarn : Verdict::kOk,
         fmt::format("quality {}", QualityWord(static_cast<int>(listener.quality_))),
         bad ? Errc::kNetworkWeak : Errc::kOk});
}

}  // namespace

void RegisterDoctorCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<ProbeOptions>();
  auto* cmd = app.add_subcommand(
      "doctor", "Check this machine and the network to a server: media elements, devices, the server, a probe");
  AddServerOptions(cmd, false);
  AddJsonFlag(cmd, "One JSON object with every finding");
  cmd->add_option("--app-id", Globals().app_id,
                  "AppId, with --app-key: the probe's token is minted here (env PARLEY_APP_ID)");
  cmd->add_option("--app-key", Globals().app_key, "AppKey (env PARLEY_APP_KEY)");
  cmd->add_option("--token", o->token, "Access token for the probe (default: minted from PARLEY_APP_ID/KEY)");
  cmd->add_option("--channel", o->channel, "Channel the minted token names")->capture_default_str();
  cmd->add_option("--user", o->user, "User the minted token names")->capture_default_str();
  cmd->add_option("--up", o->up, "Uplink rate to probe, kbit/s")->check(CLI::Range(100, 10000))->capture_default_str();
  cmd->add_option("--down", o->down, "Downlink rate to probe, kbit/s")
      ->check(CLI::Range(100, 10000))
      ->capture_default_str();
  cmd->add_flag("--no-probe", o->skip, "Skip the last-mile probe");
  cmd->footer(
      "Exit status 1 when something fails (warnings alone: 0). Each finding that is not fine names its "
      "catalog code; `parley errors CODE` says more.");
  cmd->callback([o, runner] {
    *runner = [o] {
      const GlobalOptions& g = Globals();
      Report r(g.json);
      if (!g.json) fmt::print("parley doctor: this machine and {}\n", g.server);
      CheckPlugins(r);
      CheckDevices(r);
      if (CheckServer(r, g.server)) {
        CheckNetwork(r, g.server, *o);
      } else {
        r.Section("network");
        r.Add({"network", Verdict::kSkip, "not probed: the server does not answer"});
      }
      return r.Finish();
    };
  });
}

}  // namespace parley::cli
