// Devices: which one a source names, whether the system lacks it, and the choices the
// application makes during a call (a new microphone, camera or speaker, in place
// where the media allows) with what happens when the system adds or takes one away.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "call/publishing.hpp"
#include "media/media.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

/// "device:<id>" names a device the system does not have, while it has other real
/// devices of that kind (so the sound or video system itself is reachable; with none
/// at all, opening the source reports that instead). `list` enumerates the devices of
/// the kind and is called only for a "device:" source (enumerating is slow).
bool MissingDevice(const std::string& source, const std::function<std::vector<DeviceInfo>()>& list);

/// An id the API takes for `kind`: a source ("device", "device:<id>", "test:tone",
/// "test:tone:<Hz>", "test:silence" / "test:pattern", "test:bars", "external",
/// "file:<path>", "null") or, for the speaker, "null", "auto", "device",
/// "device:<sink>".
bool ValidDeviceId(DeviceKind kind, const std::string& id);

/// 0, or the code for why `id` cannot be used for `kind`: its form (0x01010405), or a
/// named device the system lacks (`list` enumerates them, MissingDevice).
int32_t CheckDeviceId(DeviceKind kind, const std::string& id, const std::function<std::vector<DeviceInfo>()>& list);

/// Whether a published track can go from source `from` to `to` in place: both are
/// captured (a device or a synthetic source, not external frames, a file or "null"),
/// and for audio both or neither are devices (a device microphone's processing sits
/// behind it).
bool SwapsInPlace(DeviceKind kind, const std::string& from, const std::string& to);

/// The application's device choices during a call and the system's device changes.
/// Engine thread, except where a method says otherwise.
class DeviceControl {
 public:
  DeviceControl(Publishing::Listener& listener, Publishing& publishing, media::MediaFactory& media,
                EngineConfig& config)
      : listener_(listener), publishing_(publishing), media_(media), config_(config) {
    Track();
    WatchIfUsed();
  }
  ~DeviceControl() {
    if (watching_) media_.WatchDevices(nullptr);  // no change reaches this afterwards
    media_.StopMicrophoneCheck();                 // nor a level
    media_.StopSpeakerCheck();
  }
  DeviceControl(const DeviceControl&) = delete;
  DeviceControl& operator=(const DeviceControl&) = delete;

  /// Uses `id` (ValidDeviceId) for `kind` from now on: the next publish takes it, and a
  /// published track switches in place (SwapsInPlace) or is published again; the
  /// playout changes its speaker. Starts watching the system's devices once one is used.
  void Use(DeviceKind kind, const std::string& id);
  /// Starts watching when the configuration names a device (at creation).
  void WatchIfUsed();
  /// The system added or removed `device` (posted from the media's watch): the
  /// application is told; a removed device in use raises its code and the engine falls
  /// back to the system's default.
  void Changed(const DeviceInfo& device, bool added);

  /// Device checks (RtcEngine::StartAudioCaptureTest and friends): `id` empty is the
  /// configured microphone or speaker. Failures are raised.
  void StartMicrophoneCheck(const std::string& id);
  void StopMicrophoneCheck() {
    ++check_gen_;  // a report already on its way is dropped
    media_.StopMicrophoneCheck();
  }
  void StartSpeakerCheck(const std::string& id);
  void StopSpeakerCheck() { media_.StopSpeakerCheck(); }

  // Any thread:
  [[nodiscard]] bool external_audio() const { return external_audio_; }
  [[nodiscard]] bool external_video() const { return external_video_; }

 private:
  void Track();  ///< the flags API threads read, after a source changed
  std::string& Slot(DeviceKind kind);

  Publishing::Listener& listener_;
  Publishing& publishing_;
  media::MediaFactory& media_;
  EngineConfig& config_;
  bool watching_ = false;
  uint64_t check_gen_ = 0;  ///< which microphone check's reports count
  std::atomic<bool> external_audio_{false}, external_video_{false};
};

}  // namespace parley::sdk::call
