// libparley on loopback: time from JoinChannel to the join result and to the first
// remote video frame, with where it goes (the startup phases the engine reports:
// signalling, ICE, DTLS, first packets, first decoded frame) (p50/p95 over N runs, a fresh pair of engines each run,
// the other participant already publishing, in dual stream and in one stream), and the CPU of engines that publish
// 640x360@30 VP8 + Opus and subscribe to one such stream (getrusage of this process,
// which holds exactly two engines; the server is another process).
//   sdk_bench [runs=20] [cpu-seconds=10]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_bench.hpp"
#include "parley/engine.hpp"

namespace {

using namespace parley;
using Clock = std::chrono::steady_clock;
using bench::Percentile;

struct Waiter : EngineEventListener, MediaFrameObserver {
  std::mutex mu;
  std::condition_variable cv;
  Clock::time_point joined{}, first_frame{};
  int32_t result = -1;
  std::vector<std::pair<StartupPhase, int>> phases;  ///< OnStartupPhase, as reported
  void OnStartupPhase(StartupPhase p, int ms) override {
    std::lock_guard<std::mutex> lock(mu);
    phases.emplace_back(p, ms);
  }
  void OnJoinChannelResult(int32_t r, const std::string&, const std::string&, int) override {
    std::lock_guard<std::mutex> lock(mu);
    result = r;
    joined = Clock::now();
    cv.notify_all();
  }
  void OnRemoteVideoFrame(const std::string&, TrackKind, const VideoFrame&) override {
    std::lock_guard<std::mutex> lock(mu);
    if (first_frame == Clock::time_point{}) first_frame = Clock::now();
    cv.notify_all();
  }
  bool WaitFrame(std::chrono::seconds t) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, t, [&] { return first_frame != Clock::time_point{}; });
  }
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  int cpu_seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  bench::EngineBenchServer server;
  auto auth = [&](const std::string& channel, const std::string& user) { return server.Auth(channel, user); };
  const EngineConfig cfg = server.Config();

  // The first frame with the publisher's dual stream (the default) and with one
  // stream, side by side: alone in its channel a dual-stream publisher's big layer is
  // paused, and the newcomer's first picture must not wait for it to resume.
  for (bool dual : {true, false}) {
    EngineConfig pub_cfg = cfg;
    pub_cfg.dual_stream = dual;
    std::vector<double> join_ms, frame_ms;
    std::map<StartupPhase, std::vector<double>> phase_ms;  ///< the newcomer's startup phases
    for (int i = 0; i < runs; ++i) {
      std::string channel = std::string(dual ? "dual" : "single") + std::to_string(i);
      Waiter wa, wb;
      RtcEngine* a = RtcEngine::Create(pub_cfg);
      a->SetEngineEventListener(&wa);
      a->JoinChannel(auth(channel, "a"), "a");
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a is publishing
      RtcEngine* b = RtcEngine::Create(cfg);
      b->SetEngineEventListener(&wb);
      b->SetMediaFrameObserver(&wb);
      auto t0 = Clock::now();
      b->JoinChannel(auth(channel, "b"), "b");
      bool ok = wb.WaitFrame(std::chrono::seconds(10));
      if (ok && wb.result == 0) {
        join_ms.push_back(std::chrono::duration<double, std::milli>(wb.joined - t0).count());
        frame_ms.push_back(std::chrono::duration<double, std::milli>(wb.first_frame - t0).count());
        std::lock_guard<std::mutex> lock(wb.mu);
        for (const auto& [p, ms] : wb.phases) phase_ms[p].push_back(ms);
      }
      RtcEngine::Destroy(b);
      RtcEngine::Destroy(a);
    }
    const char* what = dual ? "publisher in dual stream" : "publisher in one stream";
    std::printf("%s: runs %d ok %zu\n", what, runs, frame_ms.size());
    std::printf("  JoinChannel -> join result: p50 %.1f ms  p95 %.1f ms\n", Percentile(join_ms, 0.5),
                Percentile(join_ms, 0.95));
    std::printf("  JoinChannel -> first remote video frame: p50 %.0f ms  p95 %.0f ms\n", Percentile(frame_ms, 0.5),
                Percentile(frame_ms, 0.95));
    // Where that time goes: each phase's time since JoinChannel (OnStartupPhase).
    std::printf("  phases (ms since JoinChannel, p50 / p95):");
    for (const auto& [p, v] : phase_ms)
      std::printf(" %s %.0f / %.0f;", std::string(Name(p)).c_str(), Percentile(v, 0.5), Percentile(v, 0.95));
    std::printf("\n");
  }

  // CPU: two engines, each publishing 640x360@30 VP8 + Opus and subscribing to the
  // other — once with GStreamer's test pattern as the camera (videotestsrc draws every
  // frame, which a camera does not), once with camera-like frames: 30 prepared I420
  // frames (a moving bar) pushed at 30 fps through PushExternalVideoFrame, one copy
  // per frame as from a capture buffer.
  for (bool camera_like : {false, true}) {
    EngineConfig c = cfg;
    if (camera_like) c.video_source = "external";
    Waiter wa, wb;
    RtcEngine* a = RtcEngine::Create(c);
    RtcEngine* b = RtcEngine::Create(c);
    a->SetMediaFrameObserver(&wa);
    b->SetMediaFrameObserver(&wb);
    std::string channel = camera_like ? "cpu-camera" : "cpu-pattern";
    a->JoinChannel(auth(channel, "a"), "a");
    b->JoinChannel(auth(channel, "b"), "b");
    std::atomic<bool> stop{false};
    std::thread pusher;
    if (camera_like) {
      pusher = std::thread([&] {
        constexpr int kW = 640, kH = 360;
        std::vector<std::vector<uint8_t>> frames(30, std::vector<uint8_t>(kW * kH * 3 / 2, 128));
        for (int f = 0; f < 30; ++f) {
          auto& px = frames[static_cast<size_t>(f)];
          std::fill(px.begin(), px.begin() + kW * kH, static_cast<uint8_t>(60));
          for (int y = 0; y < kH; ++y) std::fill_n(px.begin() + y * kW + f * 20, 40, static_cast<uint8_t>(220));
        }
        auto next = Clock::now();
        for (int n = 0; !stop; ++n) {
          VideoFrame vf;
          vf.width = kW;
          vf.height = kH;
          vf.data = frames[static_cast<size_t>(n % 30)].data();
          vf.size = frames[0].size();
          for (RtcEngine* e : {a, b}) e->PushExternalVideoFrame(vf);
          next += std::chrono::microseconds(33333);
          std::this_thread::sleep_until(next);
        }
      });
    }
    wa.WaitFrame(std::chrono::seconds(10));
    wb.WaitFrame(std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    double c0 = CpuSeconds();
    auto w0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(cpu_seconds));
    double cpu = CpuSeconds() - c0;
    double wall = std::chrono::duration<double>(Clock::now() - w0).count();
    std::printf(
        "CPU per engine (publish 640x360@30 VP8 + Opus from %s, subscribe one such stream): %.1f %% of one "
        "core\n",
        camera_like ? "camera-like frames" : "videotestsrc", 100.0 * cpu / wall / 2.0);
    stop = true;
    if (pusher.joinable()) pusher.join();
    RtcEngine::Destroy(a);
    RtcEngine::Destroy(b);
  }
  return 0;
}
