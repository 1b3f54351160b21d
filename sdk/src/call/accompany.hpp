// The accompaniment's state on the engine thread (RtcEngine::StartAudioAccompany and
// friends): the media's playback, the events it causes, and what API threads read.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "call/publishing.hpp"
#include "media/media.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

/// Volumes 0..100, loop_cycles -1 or 1.., a start at 0 or later.
[[nodiscard]] bool ValidAccompanyConfig(const AudioAccompanyConfig& c);

class AccompanyControl {
 public:
  AccompanyControl(Publishing::Listener& listener, media::MediaFactory& media, const EngineConfig& config)
      : listener_(listener), media_(media), config_(config) {}
  ~AccompanyControl() { Drop(); }
  AccompanyControl(const AccompanyControl&) = delete;
  AccompanyControl& operator=(const AccompanyControl&) = delete;

  // Engine thread; each tells its state change (or a failure: kFailed and the code).
  void Start(const std::string& path, const AudioAccompanyConfig& config);
  void Stop();
  void Pause();
  void Resume();
  void Seek(int64_t position_ms);
  /// -1 leaves a volume as it is.
  void SetVolumes(int publish, int playout);

  // Any thread:
  /// Marks an accompaniment as asked for (RtcEngine::StartAudioAccompany, before it is
  /// posted), so the calls right after it are not refused.
  void Asked() { active_ = true; }
  [[nodiscard]] bool active() const { return active_; }
  [[nodiscard]] int64_t PositionMs() const;
  [[nodiscard]] int64_t DurationMs() const;

 private:
  void Drop();  // the playback goes (the media's threads stop)
  void Tell(AudioAccompanyState state, int32_t code = 0);

  Publishing::Listener& listener_;
  media::MediaFactory& media_;
  const EngineConfig& config_;
  int publish_volume_ = 100, playout_volume_ = 100;
  bool paused_ = false;
  uint64_t gen_ = 0;  ///< which playback an end posted from the media belongs to
  std::atomic<bool> active_{false};
  mutable std::mutex mu_;
  std::shared_ptr<media::Accompaniment> playing_;  ///< under mu_ (read by API threads)
};

}  // namespace parley::sdk::call
