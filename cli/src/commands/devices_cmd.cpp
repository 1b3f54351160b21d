// parley devices: the microphones, speakers and cameras libparley can use, with the
// ids `parley join --source device:ID` / `--speaker device:ID` take; with --screens,
// the screens and windows `parley join --publish screen --screen-window ID` shares;
// and with --check,
// a check of a microphone and a speaker before a call (the speaker plays a test tone,
// the microphone's level is shown), with the devices plugged in or pulled meanwhile.
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "commands/common.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"

namespace parley::cli {
namespace {

const char* KindName(DeviceKind k) {
  return k == DeviceKind::kMicrophone ? "microphone" : k == DeviceKind::kSpeaker ? "speaker" : "camera";
}

int List(bool json_out) {
  nlohmann::json all = nlohmann::json::object();
  for (auto [kind, name] : {std::pair{DeviceKind::kMicrophone, "microphones"},
                            std::pair{DeviceKind::kSpeaker, "speakers"}, std::pair{DeviceKind::kCamera, "cameras"}}) {
    auto devices = RtcEngine::EnumerateDevices(kind);
    nlohmann::json list = nlohmann::json::array();
    if (!json_out) fmt::print("{}:\n", name);
    for (const auto& d : devices) {
      list.push_back({{"id", d.id}, {"name", d.name}, {"default", d.is_default}});
      if (!json_out) fmt::print("  {:<40} {}{}\n", d.id, d.name, d.is_default ? " (default)" : "");
    }
    all[name] = list;
  }
  if (json_out) fmt::print("{}\n", all.dump());
  return kExitOk;
}

int ListScreens(const std::string& display, bool json_out) {
  nlohmann::json list = nlohmann::json::array();
  auto sources = RtcEngine::EnumerateScreenShareSources(display);
  for (const auto& s : sources) {
    const char* kind = s.kind == ScreenSourceKind::kScreen ? "screen" : "window";
    list.push_back({{"kind", kind},
                    {"id", s.id},
                    {"title", s.title},
                    {"x", s.x},
                    {"y", s.y},
                    {"width", s.width},
                    {"height", s.height}});
    if (!json_out)
      fmt::print("{:<7} {:<12} {:>5}x{:<5} at {},{}  {}\n", kind, s.id, s.width, s.height, s.x, s.y, s.title);
  }
  if (json_out) fmt::print("{}\n", nlohmann::json{{"screens", list}}.dump());
  if (sources.empty()) {
    PrintError(MakeError(Errc::kPublishStreamStartError,
                         "no X display to list (" + (display.empty() ? std::string("$DISPLAY") : display) + ")"));
    return kExitFailure;
  }
  return kExitOk;
}

// What the engine reports during a check, printed as it comes (one line each; JSON
// lines with --json).
class CheckListener : public EngineEventListener {
 public:
  explicit CheckListener(bool json_out) : json_(json_out) {}
  void OnAudioCaptureTestLevel(int volume) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reported_ = true;
    }
    cv_.notify_all();
    if (json_) return Line({{"event", "level"}, {"volume", volume}});
    const int bars = volume * 40 / 255;
    Text(fmt::format("microphone {:<40} {:3}", std::string(static_cast<size_t>(bars), '#'), volume));
  }
  void OnDeviceStateChanged(const DeviceInfo& d, DeviceState s) override {
    const char* what = s == DeviceState::kAdded ? "added" : "removed";
    if (json_) return Line({{"event", "device"}, {"kind", KindName(d.kind)}, {"id", d.id}, {"state", what}});
    Text(fmt::format("{} {}: {} ({})", KindName(d.kind), what, d.id, d.name));
  }
  void OnOccurError(int32_t code, const std::string& message) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      failed_ = true;
    }
    cv_.notify_all();
    if (json_) return Line({{"event", "error"}, {"code", FormatHex(code)}, {"message", message}});
    Text(fmt::format("error {}: {} (parley errors {} explains it)", FormatHex(code), message, FormatHex(code)));
  }
  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  /// Waits up to `timeout` for the microphone's first report (or a failure).
  void WaitForFirst(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return reported_ || failed_; });
  }

 private:
  void Line(const nlohmann::json& j) { Text(j.dump()); }
  void Text(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu_);
    fmt::print("{}\n", s);
    std::fflush(stdout);
  }
  bool json_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool failed_ = false, reported_ = false;
};

int Check(int seconds, const std::string& source, const std::string& speaker, bool json_out) {
  EngineConfig cfg;
  cfg.server_url = "ws://127.0.0.1:7080/v1/signal";  // never contacted: no call is joined
  cfg.audio_source = source;
  cfg.audio_playout = speaker;
  cfg.video_source = "null";
  cfg.log_level = "off";
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> engine(RtcEngine::Create(cfg), &RtcEngine::Destroy);
  if (!engine) {
    std::string why;
    const int32_t code = RtcEngine::LastCreateError(&why);
    PrintError(MakeError(static_cast<Errc>(code), why));
    return kExitFailure;
  }
  CheckListener listener(json_out);
  engine->SetEngineEventListener(&listener);
  if (!json_out)
    fmt::print("checking microphone {} and speaker {} for {} s{}\n", source, speaker, seconds,
               speaker == "null" ? "" : " (the speaker plays a 440 Hz tone)");
  for (int32_t code :
       {engine->StartAudioCaptureTest(source), speaker == "null" ? 0 : engine->StartAudioPlayoutTest(speaker)})
    if (code) {
      PrintError(MakeError(static_cast<Errc>(code), "the device check did not start"));
      return code == static_cast<int32_t>(Errc::kPublishConfigInvalid) ? kExitUsage : kExitFailure;
    }
  // The time counts from the microphone's first report (opening a device takes a moment).
  listener.WaitForFirst(std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  engine->StopAudioPlayoutTest();
  engine->StopAudioCaptureTest();
  engine.reset();  // no report reaches the listener afterwards
  return listener.failed() ? kExitFailure : kExitOk;
}

}  // namespace

void RegisterDevicesCommand(CLI::App& app, Runner* runner) {
  struct Options {
    bool json = false;
    int check = 0;
    std::string source = "device", speaker = "device";
    bool screens = false;
    std::string display;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("devices", "List microphones, speakers and cameras (and the synthetic sources)");
  cmd->add_flag("--json", o->json, "One JSON object (with --check: one JSON object per line)");
  cmd->add_option("--check", o->check,
                  "Check a microphone and a speaker for SECONDS: the speaker plays a tone, the microphone's level "
                  "is shown, devices plugged in or pulled meanwhile are told")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--source", o->source, "The microphone to check (an id as `parley join --source` takes)");
  cmd->add_option("--speaker", o->speaker, "The speaker to check (null: none)");
  cmd->add_flag("--screens", o->screens, "List the screens and windows a screen share can capture instead");
  cmd->add_option("--display", o->display, "The X display for --screens (default $DISPLAY)");
  cmd->callback([o, runner] {
    *runner = [o] {
      if (o->screens) return ListScreens(o->display, o->json);
      return o->check ? Check(o->check, o->source, o->speaker, o->json) : List(o->json);
    };
  });
}

}  // namespace parley::cli
