// What the SDK tests share: an app on a test parleyd, AuthInfo for it, and a Probe
// that records an engine's events and media and waits for conditions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "media_file.hpp"
#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/token.hpp"
#include "run_command.hpp"
#include "server_process.hpp"

namespace parley {

using nlohmann::json;

struct App {
  std::string id, key;
};

/// A catalog code as the API returns it.
inline int32_t Code(Errc e) {
  return static_cast<int32_t>(e);
}

inline App CreateApp(const test::ServerProcess& s) {
  auto r = test::HttpRequest(s.port(), "POST", "/v1/admin/apps", json{{"name", "sdk"}}.dump(), s.admin_key());
  auto j = json::parse(r.body);
  return {j["appId"], j["appKey"]};
}

inline AuthInfo Auth(const App& app, const std::string& channel, const std::string& user) {
  AuthInfo a;
  a.app_id = app.id;
  a.channel_id = channel;
  a.user_id = user;
  a.nonce = "n";
  a.timestamp = time(nullptr) + 3600;
  a.token = MintAccessToken({a.app_id, channel, user, a.nonce, "", a.timestamp, 0}, app.key);
  return a;
}

// Records events and media; waits for conditions.
class Probe : public EngineEventListener, public MediaFrameObserver {
 public:
  void OnPublishStateChanged(TrackKind t, bool published) override {
    Note([&] {
      if (published)
        published_tracks.insert(t);
      else
        published_tracks.erase(t);
    });
  }
  void OnRemoteTrackMuted(const std::string& id, TrackKind t, bool muted) override {
    Note([&] { muted_tracks[id + "/" + std::to_string(static_cast<int>(t))] = muted; });
  }
  void OnMediaFileProgress(int64_t position_ms, int64_t duration_ms) override {
    Note([&] { progress.push_back({position_ms, duration_ms}); });
  }
  void OnMediaFileStateChanged(MediaFileState s) override {
    Note([&] { file_states.push_back(s); });
  }
  void OnRecordingStarted(const std::string&, TrackKind, const std::string& path) override {
    Note([&] { recordings.push_back(path); });
  }
  void OnAudioCaptureTestLevel(int volume) override {
    Note([&] { test_levels.push_back(volume); });
  }
  void OnDeviceStateChanged(const DeviceInfo& d, DeviceState state) override {
    Note([&] { devices.push_back({d, state}); });
  }
  /// Inside WaitFor predicates: whether `id` was `state`d.
  bool HasDevice(const std::string& id, DeviceState state) {
    for (auto& [d, s] : devices)
      if (d.id == id && s == state) return true;
    return false;
  }
  void OnSnapshotComplete(const std::string& user, TrackKind, const std::string& path, int32_t result) override {
    Note([&] { snapshots[path] = {user, result}; });
  }
  /// Inside WaitFor predicates (mu is held there).
  bool HasError(int32_t code) {
    for (auto& [c, m] : errors)
      if (c == code) return true;
    return false;
  }
  void OnJoinChannelResult(int32_t result, const std::string&, const std::string&, int elapsed_ms) override {
    Note([&] {
      join_result = result;
      join_ms = elapsed_ms;
    });
  }
  void OnLeaveChannelResult(int32_t) override {
    Note([&] { left = true; });
  }
  void OnRemoteUserOnline(const std::string& id) override {
    Note([&] { online.insert(id); });
  }
  void OnRemoteTrackAvailable(const std::string& id, TrackKind t) override {
    Note([&] { tracks[id].insert(t); });
  }
  void OnOccurError(int32_t code, const std::string& m) override {
    Note([&] { errors.push_back({code, m}); });
  }
  void OnConnectionStatusChanged(ConnectionStatus s) override {
    Note([&] { statuses.push_back(s); });
  }
  void OnOccurWarning(int32_t code, const std::string& m) override {
    Note([&] { warnings.push_back({code, m}); });
  }
  void OnBye(const std::string& reason) override {
    Note([&] { bye = reason; });
  }
  void OnRemoteUserOffline(const std::string& id, const std::string& reason) override {
    Note([&] {
      online.erase(id);
      offline_reasons[id] = reason;
    });
  }
  void OnMessage(const std::string& from, const std::string& data, bool direct) override {
    Note([&] { messages.push_back(from + (direct ? " direct " : " channel ") + data); });
  }
  void OnDataMessage(const std::string& from, const std::vector<uint8_t>& data, const DataMessageOptions& o) override {
    Note([&] {
      data_messages.push_back(from + " " + std::string(data.begin(), data.end()) + (o.text ? " text" : " bytes") +
                              (o.reliable ? "" : " unreliable") + (o.ordered ? "" : " unordered"));
    });
  }
  void OnDataChannelStateChanged(DataChannelState s) override {
    Note([&] { data_states.push_back(s); });
  }
  void OnRemoteUserRoleChanged(const std::string& id, ClientRole role) override {
    Note([&] { roles[id] = role; });
  }
  void OnAudioVolumeIndication(const std::vector<AudioVolumeInfo>& v) override {
    Note([&] { volumes.push_back(v); });
  }
  /// Inside WaitFor predicates.
  bool HasWarning(int32_t code) {
    for (auto& [c, m] : warnings)
      if (c == code) return true;
    return false;
  }
  bool HasStatus(ConnectionStatus s) { return std::find(statuses.begin(), statuses.end(), s) != statuses.end(); }
  void OnStats(const EngineStats& s) override {
    Note([&] { stats.push_back(s); });
  }
  void OnNetworkQualityChanged(const std::string& id, NetworkQuality up, NetworkQuality down) override {
    Note([&] { quality[id] = {static_cast<int>(up), static_cast<int>(down)}; });
  }
  void OnRemoteVideoFrame(const std::string& id, TrackKind track, const VideoFrame& f) override {
    // Mean luma and the first chroma sample of the last frame (muted camera: 16/128).
    uint64_t sum = 0;
    size_t luma = static_cast<size_t>(f.width) * static_cast<size_t>(f.height);
    for (size_t i = 0; i < luma && i < f.size; i += 7) sum += f.data[i];
    int mean = luma ? static_cast<int>(sum * 7 / luma) : 0;
    Note([&] {
      if (track == TrackKind::kScreen) {
        ++screen_frames[id];
        screen_width[id] = f.width;
        screen_luma[id] = mean;
        return;
      }
      luma_mean[id] = mean;
      ++frames[id];
      width[id] = f.width;
      height[id] = f.height;
      if (first_frame_at.count(id) == 0) first_frame_at[id] = std::chrono::steady_clock::now();
    });
  }
  void OnRemoteAudioFrame(const std::string& id, const AudioFrame& f) override {
    // Zero crossings of the mono 48 kHz signal give the tone's frequency.
    Note([&] {
      auto& a = audio[id];
      for (size_t i = 0; i < f.samples; ++i) {
        int16_t s = f.data[i * static_cast<size_t>(f.channels)];
        if ((s >= 0) != (a.last >= 0)) ++a.crossings;
        a.last = s;
        peak[id] = std::max(peak[id], std::abs(static_cast<int>(s)));
        a.energy += static_cast<double>(s) * s;
        if (f.channels == 2) {
          int16_t r = f.data[i * 2 + 1];
          a.right_energy += static_cast<double>(r) * r;
        }
      }
      a.samples += f.samples;
      a.channels = f.channels;
    });
  }
  /// Reads recorded state under the lock (media threads keep writing it).
  template <typename Fn>
  auto Locked(Fn fn) {
    std::lock_guard<std::mutex> lock(mu);
    return fn();
  }
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, [&] { return pred(); });
  }
  /// Forgets what came from `id`, then collects what arrives from it over `period`.
  void Listen(const std::string& id, std::chrono::milliseconds period) {
    {
      std::lock_guard<std::mutex> lock(mu);
      audio[id] = {};
    }
    std::this_thread::sleep_for(period);
  }
  /// The RMS level of what arrived from `id`, in dB below full scale (-120: nothing).
  double LevelDb(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    const auto& a = audio[id];
    if (!a.samples || a.energy <= 0) return -120;
    return 10 * std::log10(a.energy / static_cast<double>(a.samples) / (32768.0 * 32768.0));
  }
  double Frequency(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    const auto& a = audio[id];
    return a.samples ? static_cast<double>(a.crossings) / 2.0 * 48000.0 / static_cast<double>(a.samples) : 0;
  }

  std::mutex mu;
  std::condition_variable cv;
  int32_t join_result = -1;
  int join_ms = -1;
  bool left = false;
  std::set<std::string> online;
  std::map<std::string, std::string> offline_reasons;  ///< the last reason, by user
  std::map<std::string, std::set<TrackKind>> tracks;
  std::vector<std::pair<int32_t, std::string>> errors;
  std::vector<std::string> messages;       ///< "<from> direct|channel <data>"
  std::vector<std::string> data_messages;  ///< "<from> <data> text|bytes[ unreliable][ unordered]"
  std::vector<DataChannelState> data_states;
  std::map<std::string, ClientRole> roles;
  std::vector<std::vector<AudioVolumeInfo>> volumes;  ///< each volume indication
  std::vector<EngineStats> stats;
  std::map<std::string, std::pair<int, int>> quality;  ///< up, down by user ("" is the local user)
  std::map<std::string, int> frames, width, height, peak;
  std::map<std::string, std::chrono::steady_clock::time_point> first_frame_at;
  struct Audio {
    size_t samples = 0, crossings = 0;
    double energy = 0;        ///< sum of squared samples (of the first channel)
    double right_energy = 0;  ///< the same of the second channel, when there is one
    int channels = 0;         ///< of the last frame
    int16_t last = 0;
  };
  std::map<std::string, Audio> audio;
  std::set<TrackKind> published_tracks;
  std::map<std::string, bool> muted_tracks;
  std::vector<std::pair<int64_t, int64_t>> progress;
  std::vector<MediaFileState> file_states;
  std::vector<std::string> recordings;
  std::map<std::string, std::pair<std::string, int32_t>> snapshots;  ///< path -> user, result
  std::vector<std::pair<int32_t, std::string>> warnings;
  std::vector<ConnectionStatus> statuses;
  std::string bye;
  std::map<std::string, int> screen_frames, screen_width, screen_luma, luma_mean;
  std::vector<std::string> speakers;                               ///< OnActiveSpeaker, in order
  std::vector<std::pair<DeviceInfo, DeviceState>> devices;         ///< OnDeviceStateChanged, in order
  std::vector<int> test_levels;                                    ///< OnAudioCaptureTestLevel, in order
  std::vector<std::pair<AudioAccompanyState, int32_t>> accompany;  ///< OnAudioAccompanyStateChanged

  void OnAudioAccompanyStateChanged(AudioAccompanyState state, int32_t code) override {
    Note([&] { accompany.emplace_back(state, code); });
  }
  /// The loudest of the next `n` OnAudioCaptureTestLevel reports (those before are
  /// forgotten); a failure when they do not come within 5 s.
  int LoudestTestLevel(size_t n) {
    Locked([&] { test_levels.clear(); });
    EXPECT_TRUE(WaitFor([&] { return test_levels.size() >= n; }, std::chrono::seconds(5))) << "no level reports";
    return Locked([&] { return test_levels.empty() ? -1 : *std::max_element(test_levels.begin(), test_levels.end()); });
  }
  /// The accompaniment's last state was `state`.
  bool AccompanyIs(AudioAccompanyState state) { return !accompany.empty() && accompany.back().first == state; }

  void OnActiveSpeaker(const std::string& user_id) override {
    Note([&] { speakers.push_back(user_id); });
  }

 private:
  template <typename Fn>
  void Note(Fn fn) {
    {
      std::lock_guard<std::mutex> lock(mu);
      fn();
    }
    cv.notify_all();
  }
};

inline EngineConfig Config(const test::ServerProcess& s, const std::string& tone) {
  EngineConfig c;
  c.server_url = "ws://127.0.0.1:" + std::to_string(s.port()) + "/v1/signal";
  c.audio_source = tone;
  c.video.width = 320;
  c.video.height = 240;
  c.video.fps = 15;
  c.video.bitrate_kbps = 300;
  return c;
}

using Engine = std::unique_ptr<RtcEngine, void (*)(RtcEngine*)>;

inline EngineConfig AudioOnly(EngineConfig c) {
  c.video_source = "null";
  return c;
}

/// A server and an app of their own; Alice publishes audio from `source` (no camera,
/// playing to `playout`, "" the default) and Bob publishes nothing and hears her; each
/// engine with its probe (Bob's also sees the media).
struct AudioPair {
  explicit AudioPair(const std::string& source, const std::string& playout = "")
      : alice(RtcEngine::Create(AliceConfig(server, source, playout)), &RtcEngine::Destroy),
        bob(RtcEngine::Create(AudioOnly(Config(server, "null"))), &RtcEngine::Destroy) {
    if (alice) alice->SetEngineEventListener(&pa);
    if (bob) {
      bob->SetEngineEventListener(&pb);
      bob->SetMediaFrameObserver(&pb);
    }
  }
  /// Both ask to join `channel`: true when both requests were taken.
  bool Join(const std::string& channel) {
    return alice->JoinChannel(Auth(app, channel, "alice"), "Alice") == 0 &&
           bob->JoinChannel(Auth(app, channel, "bob"), "Bob") == 0;
  }

  test::ServerProcess server;
  App app = CreateApp(server);
  Probe pa, pb;  // before the engines, which call them until they go
  Engine alice, bob;

 private:
  static EngineConfig AliceConfig(const test::ServerProcess& s, const std::string& source, const std::string& playout) {
    EngineConfig c = AudioOnly(Config(s, source));
    if (!playout.empty()) c.audio_playout = playout;
    return c;
  }
};

}  // namespace parley
