// Joins a channel, publishes a test tone and pattern, and renders every remote video
// as coarse ASCII art in the terminal once a second.
//   parley_example ws://127.0.0.1:7880/v1/signal <single-parameter token> [seconds]
#include <parley/engine.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

class App : public parley::EngineEventListener, public parley::MediaFrameObserver {
 public:
  void OnJoinChannelResult(int32_t result, const std::string& channel, const std::string& user, int ms) override {
    std::printf("join %s as %s: 0x%08X in %d ms\n", channel.c_str(), user.c_str(), static_cast<unsigned>(result), ms);
  }
  void OnRemoteUserOnline(const std::string& user) override { std::printf("%s is online\n", user.c_str()); }
  void OnOccurError(int32_t code, const std::string& message) override {
    std::printf("error 0x%08X: %s\n", static_cast<unsigned>(code), message.c_str());
  }
  // Keeps a 48x16 thumbnail of the luma plane of the latest frame per user.
  void OnRemoteVideoFrame(const std::string& user, parley::TrackKind, const parley::VideoFrame& f) override {
    std::string art;
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 48; ++x) {
        uint8_t luma = f.data[static_cast<size_t>(y * f.height / 16) * static_cast<size_t>(f.width) +
                              static_cast<size_t>(x * f.width / 48)];
        art += " .:-=+*#%@"[luma * 10 / 256];
      }
      art += '\n';
    }
    std::lock_guard<std::mutex> lock(mu_);
    thumbnails_[user] = art;
  }
  void Render() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [user, art] : thumbnails_) std::printf("-- %s --\n%s", user.c_str(), art.c_str());
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> thumbnails_;
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <server url> <token> [seconds]\n", argv[0]);
    return 2;
  }
  parley::EngineConfig config;
  config.server_url = argv[1];
  parley::RtcEngine* engine = parley::RtcEngine::Create(config);
  if (!engine) return 1;
  App app;
  engine->SetEngineEventListener(&app);
  engine->SetMediaFrameObserver(&app);
  if (int32_t rc = engine->JoinChannel(argv[2], "", "", "example"); rc != 0) {
    std::printf("join refused: 0x%08X\n", static_cast<unsigned>(rc));
    parley::RtcEngine::Destroy(engine);
    return 1;
  }
  int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  for (int i = 0; i < seconds; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    app.Render();
  }
  engine->LeaveChannel();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  parley::RtcEngine::Destroy(engine);
  return 0;
}
