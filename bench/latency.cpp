// End-to-end latency between libparley engines on loopback through parleyd:
//  - the first remote video frame, for a late joiner (the other side already
//    publishing) and for two users who join together, with where the time goes (the
//    startup phases the engine reports);
//  - audio mouth-to-ear and video glass-to-glass: a sender pushes audio and camera
//    frames that carry markers (latency_probe.hpp) as a microphone and a camera would
//    deliver them, and the receiver reads them back from the decoded media it is handed
//    to play (MediaFrameObserver), timing each on the wall clock.
// p50/p95 over the runs and markers. `--short` checks that every probe works (a first
// frame each way, markers detected): what CI runs; it never judges the times.
//   latency [--runs N] [--seconds S] [--short]
// One engine for another program (web/tests, bench/latency_web.mjs): joins, publishes
// markers and reports what it reads from the others as JSON lines until --seconds pass
// (the markers of the first --warmup seconds are not reported):
//   latency --peer --server URL --token T --channel C --user U [--seconds S] [--warmup S]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_bench.hpp"
#include "latency_probe.hpp"
#include "parley/engine.hpp"

namespace {

using namespace parley;
using namespace parley::bench;
using Clock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const char* name, const std::string& dflt = "") {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}
bool Has(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

/// A microphone and a camera made of markers: 10 ms of audio pushed as each 10 ms of
/// wall-clock time ends, 640x360 frames at 30 fps stamped with the time they are
/// pushed (a moving bar below the marker, so the encoder has motion to code).
class MarkerSource {
 public:
  explicit MarkerSource(RtcEngine* engine) : engine_(engine) {
    audio_ = std::thread([this] { PushAudio(); });
    video_ = std::thread([this] { PushVideo(); });
  }
  ~MarkerSource() {
    stop_ = true;
    audio_.join();
    video_.join();
  }
  MarkerSource(const MarkerSource&) = delete;
  MarkerSource& operator=(const MarkerSource&) = delete;

 private:
  void PushAudio() {
    constexpr int kRate = 48000, kChunkUs = 10'000, kSamples = kRate / 100;
    std::vector<int16_t> pcm(kSamples);
    int64_t start = WallUs() / kChunkUs * kChunkUs;  // the chunk being captured now
    while (!stop_) {
      const int64_t end = start + kChunkUs;
      std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::microseconds(end)));
      for (int i = 0; i < kSamples; ++i)
        pcm[static_cast<size_t>(i)] = AudioMarkerSample(start + i * 1'000'000LL / kRate);
      engine_->PushExternalAudioFrame(pcm.data(), kSamples, kRate, 1);
      start = end;
    }
  }
  void PushVideo() {
    constexpr int kW = 640, kH = 360;
    std::vector<uint8_t> px(kW * kH * 3 / 2, 128);
    auto next = Clock::now();
    for (int n = 0; !stop_; ++n) {
      std::fill(px.begin(), px.begin() + kW * kH, static_cast<uint8_t>(60));
      for (int y = kH / 2; y < kH; ++y) std::fill_n(px.begin() + y * kW + (n * 8) % (kW - 40), 40, uint8_t{220});
      const int64_t now = WallUs();
      DrawVideoMarker(px.data(), kW, kH, static_cast<uint16_t>((now / 1000) & 0xffff));
      VideoFrame vf;
      vf.width = kW;
      vf.height = kH;
      vf.data = px.data();
      vf.size = px.size();
      engine_->PushExternalVideoFrame(vf);
      next += std::chrono::microseconds(33'333);
      std::this_thread::sleep_until(next);
    }
  }

  RtcEngine* engine_;
  std::atomic<bool> stop_{false};
  std::thread audio_, video_;
};

/// What one engine learns: its join, its startup phases, its first remote frame and the
/// delays of the markers it reads (by sender). Peer mode prints each as it comes.
struct Receiver : EngineEventListener, MediaFrameObserver {
  std::mutex mu;
  std::condition_variable cv;
  bool print = false;
  int64_t quiet_until_us = 0;  ///< markers read before this are not printed (peer mode's warm-up)
  Clock::time_point first_frame{};
  int32_t result = -1;
  std::map<StartupPhase, int> phases;
  std::map<std::string, std::vector<double>> video_ms, audio_ms;
  std::map<std::string, uint16_t> last_code;
  std::map<std::string, AudioOnsets> onsets;

  void OnStartupPhase(StartupPhase p, int ms) override {
    std::lock_guard<std::mutex> lock(mu);
    phases.emplace(p, ms);
    if (print) std::printf("{\"event\":\"phase\",\"phase\":\"%s\",\"ms\":%d}\n", std::string(Name(p)).c_str(), ms);
  }
  void OnJoinChannelResult(int32_t r, const std::string&, const std::string&, int) override {
    std::lock_guard<std::mutex> lock(mu);
    result = r;
    if (print) std::printf("{\"event\":\"joined\",\"result\":%d}\n", r);
    cv.notify_all();
  }
  void OnRemoteVideoFrame(const std::string& user, TrackKind track, const VideoFrame& f) override {
    const int64_t now = WallUs();
    std::optional<uint16_t> code;
    if (track == TrackKind::kCamera && f.data) code = ReadVideoMarker(f.data, f.width, f.height);
    std::lock_guard<std::mutex> lock(mu);
    if (first_frame == Clock::time_point{}) first_frame = Clock::now();
    cv.notify_all();
    if (!code) return;
    auto [it, fresh] = last_code.emplace(user, *code);
    if (!fresh && it->second == *code) return;  // the same picture again: timed when it first came
    it->second = *code;
    const double ms = VideoDelayMs(now, *code);
    video_ms[user].push_back(ms);
    if (print && now >= quiet_until_us)
      std::printf("{\"event\":\"video\",\"from\":\"%s\",\"ms\":%.1f}\n", user.c_str(), ms);
  }
  void OnRemoteAudioFrame(const std::string& user, const AudioFrame& f) override {
    const int64_t now = WallUs();
    std::lock_guard<std::mutex> lock(mu);
    if (auto ms = onsets[user].Feed(f.data, f.samples, f.channels, f.sample_rate, now)) {
      audio_ms[user].push_back(*ms);
      if (print && now >= quiet_until_us)
        std::printf("{\"event\":\"audio\",\"from\":\"%s\",\"ms\":%.1f}\n", user.c_str(), *ms);
    }
  }
  bool WaitFrame(std::chrono::seconds t) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, t, [&] { return first_frame != Clock::time_point{}; });
  }
};

std::string P50P95(const std::vector<double>& v, int digits = 0) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "p50 %.*f ms  p95 %.*f ms  (n=%zu)", digits, Percentile(v, 0.5), digits,
                Percentile(v, 0.95), v.size());
  return buf;
}

int Peer(int argc, char** argv) {
  EngineConfig cfg;
  cfg.server_url = Flag(argc, argv, "--server");
  cfg.audio_source = "external";
  cfg.video_source = "external";
  const int seconds = std::stoi(Flag(argc, argv, "--seconds", "20"));
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each event as it happens, not all at exit
  Receiver r;
  r.print = true;
  r.quiet_until_us = WallUs() + std::stoll(Flag(argc, argv, "--warmup", "0")) * 1'000'000;
  RtcEngine* e = RtcEngine::Create(cfg);
  e->SetEngineEventListener(&r);
  e->SetMediaFrameObserver(&r);
  {
    MarkerSource source(e);
    e->JoinChannel(Flag(argc, argv, "--token"), Flag(argc, argv, "--channel"), Flag(argc, argv, "--user"), "");
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
  RtcEngine::Destroy(e);
  std::printf("{\"event\":\"done\"}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (Has(argc, argv, "--peer")) return Peer(argc, argv);
  const bool quick = Has(argc, argv, "--short");
  const int runs = std::stoi(Flag(argc, argv, "--runs", quick ? "1" : "10"));
  const int seconds = std::stoi(Flag(argc, argv, "--seconds", quick ? "6" : "30"));
  EngineBenchServer server;
  const EngineConfig cfg = server.Config();
  bool ok = true;

  // The first remote frame: a late joiner (the other side publishing for 1.5 s), and
  // two users who join together (both directions timed).
  for (bool together : {false, true}) {
    std::vector<double> frame_ms;
    std::map<StartupPhase, std::vector<double>> phase_ms;
    int failed = 0;
    for (int i = 0; i < runs; ++i) {
      std::string channel = std::string(together ? "together" : "late") + std::to_string(i);
      Receiver ra, rb;
      RtcEngine* a = RtcEngine::Create(cfg);
      a->SetEngineEventListener(&ra);
      a->SetMediaFrameObserver(&ra);
      auto ta = Clock::now();
      a->JoinChannel(server.Auth(channel, "a"), "a");
      if (!together) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      RtcEngine* b = RtcEngine::Create(cfg);
      b->SetEngineEventListener(&rb);
      b->SetMediaFrameObserver(&rb);
      auto tb = Clock::now();
      b->JoinChannel(server.Auth(channel, "b"), "b");
      std::vector<std::pair<Receiver*, Clock::time_point>> timed{{&rb, tb}};
      if (together) timed.emplace_back(&ra, ta);
      for (auto [r, t0] : timed) {
        if (!r->WaitFrame(std::chrono::seconds(10))) {
          ++failed;
          continue;
        }
        std::lock_guard<std::mutex> lock(r->mu);
        frame_ms.push_back(std::chrono::duration<double, std::milli>(r->first_frame - t0).count());
        for (const auto& [p, ms] : r->phases) phase_ms[p].push_back(ms);
      }
      RtcEngine::Destroy(b);
      RtcEngine::Destroy(a);
    }
    std::printf("native -> native, first remote frame, %s: %s%s\n",
                together ? "both join together" : "late joiner (the other publishing)", P50P95(frame_ms).c_str(),
                failed ? (" — " + std::to_string(failed) + " never came").c_str() : "");
    std::printf("  phases (ms since JoinChannel, p50 / p95):");
    for (const auto& [p, v] : phase_ms)
      std::printf(" %s %.0f / %.0f;", std::string(Name(p)).c_str(), Percentile(v, 0.5), Percentile(v, 0.95));
    std::printf("\n");
    ok = ok && failed == 0;
  }

  // Mouth-to-ear and glass-to-glass: a sends markers, b reads them.
  {
    EngineConfig send = cfg;
    send.audio_source = "external";
    send.video_source = "external";
    Receiver ra, rb;
    RtcEngine* a = RtcEngine::Create(send);
    RtcEngine* b = RtcEngine::Create(cfg);
    a->SetEngineEventListener(&ra);
    b->SetEngineEventListener(&rb);
    b->SetMediaFrameObserver(&rb);
    {
      MarkerSource source(a);
      a->JoinChannel(server.Auth("probe", "a"), "a");
      b->JoinChannel(server.Auth("probe", "b"), "b");
      rb.WaitFrame(std::chrono::seconds(10));
      std::this_thread::sleep_for(std::chrono::seconds(2));  // joining is timed above
      {
        std::lock_guard<std::mutex> lock(rb.mu);
        rb.video_ms.clear();
        rb.audio_ms.clear();
      }
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
    }
    // Copied out: the engines' media threads take the lock to report, and Destroy waits
    // for them.
    std::vector<double> audio, video;
    {
      std::lock_guard<std::mutex> lock(rb.mu);
      audio = rb.audio_ms["a"];
      video = rb.video_ms["a"];
    }
    std::printf("native -> native, audio mouth-to-ear (capture -> decoded audio handed to playout): %s\n",
                P50P95(audio, 1).c_str());
    std::printf("native -> native, video glass-to-glass (capture -> decoded frame handed to the renderer): %s\n",
                P50P95(video, 1).c_str());
    // Every burst (one a second) and most frames (30 a second) must be read back.
    const bool heard = audio.size() + 1 >= static_cast<size_t>(seconds) - 1;
    const bool seen = video.size() >= static_cast<size_t>(seconds) * 15;
    if (!heard) std::printf("  audio markers: %zu detected in %d s (expected one a second)\n", audio.size(), seconds);
    if (!seen) std::printf("  video markers: %zu read in %d s (expected ~30 a second)\n", video.size(), seconds);
    ok = ok && heard && seen;
    RtcEngine::Destroy(b);
    RtcEngine::Destroy(a);
  }
  return ok ? 0 : 1;
}
