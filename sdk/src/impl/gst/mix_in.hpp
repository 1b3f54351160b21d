// Audio added to the published microphone from outside its pipeline (the
// accompaniment): written in real time by a decoder, taken by the publish pipeline's
// probe just before the mute, so the mute, the level and the encoder see the mix. The
// writer's clock and the microphone's are not the same: the reader keeps a small lead
// (kLeadFrames) in hand, waits for it again after running dry, and skips ahead when
// the writer gets too far in front. Any thread; each call holds a short lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace parley::sdk::gst {

class MixIn {
 public:
  /// 48 kHz stereo: what the writer writes.
  static constexpr int kRate = 48000;
  static constexpr size_t kCapacityFrames = kRate;     ///< a second; the oldest is dropped beyond
  static constexpr size_t kLeadFrames = kRate / 25;    ///< 40 ms in hand before mixing starts
  static constexpr size_t kMaxLeadFrames = kRate / 5;  ///< 200 ms: further ahead is skipped

  MixIn() : ring_(kCapacityFrames * 2) {}
  /// A new stream: what was written before is forgotten. `gain` 0..1 for what is
  /// added; `replace`: the microphone is left out while the stream plays.
  void Open(double gain, bool replace);
  /// Nothing is added from now on.
  void Close();
  void SetGain(double gain);
  /// Interleaved S16 stereo at 48 kHz.
  void Write(const int16_t* stereo, size_t frames);
  /// Adds what is due to `pcm` (interleaved S16 at 48 kHz, `channels` of them: mono
  /// takes the average of left and right, a third channel and more the same), with
  /// saturation; the microphone is silenced first when the stream replaces it.
  void MixInto(int16_t* pcm, size_t frames, int channels);
  /// Cheap check for the probe: a stream is open.
  [[nodiscard]] bool open() const { return open_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> open_{false};
  std::mutex mu_;
  std::vector<int16_t> ring_;  // kCapacityFrames stereo frames (under mu_)
  uint64_t written_ = 0;       // frames written since Open (under mu_)
  uint64_t read_ = 0;          // frames taken since Open (under mu_)
  bool priming_ = true;        // waiting for kLeadFrames (under mu_)
  double gain_ = 1.0;          // (under mu_)
  bool replace_ = false;       // (under mu_)
};

}  // namespace parley::sdk::gst
