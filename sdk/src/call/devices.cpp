#include "call/devices.hpp"

#include "call/call_link.hpp"
#include "call/file_control.hpp"
#include "log.hpp"

namespace parley::sdk::call {
namespace {

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool Digits(const std::string& s) {
  return !s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Captured here: a device or a synthetic source (not the application's frames, a
// file or nothing).
bool Captured(const std::string& id) {
  return id != "external" && id != "null" && !IsFileSource(id);
}

}  // namespace

bool MissingDevice(const std::string& source, const std::function<std::vector<DeviceInfo>()>& list) {
  if (source.rfind("device:", 0) != 0) return false;
  std::string id = source.substr(7);
  bool any_real = false;
  for (const DeviceInfo& d : list()) {
    if (d.id == id) return false;
    bool synthetic = d.id.rfind("test:", 0) == 0 || d.id == "external" || d.id == "null" || d.id == "auto";
    any_real = any_real || !synthetic;
  }
  return any_real;
}

int32_t CheckDeviceId(DeviceKind kind, const std::string& id, const std::function<std::vector<DeviceInfo>()>& list) {
  if (!ValidDeviceId(kind, id)) return Code(Errc::kPublishConfigInvalid);
  if (MissingDevice(id, list))
    return Code(kind == DeviceKind::kMicrophone ? Errc::kAudioRecordDeviceNotFound
                : kind == DeviceKind::kSpeaker  ? Errc::kAudioPlayDeviceNotFound
                                                : Errc::kCameraOpenFailed);
  return 0;
}

bool ValidDeviceId(DeviceKind kind, const std::string& id) {
  if (id == "null" || id == "device" || (StartsWith(id, "device:") && id.size() > 7)) return true;
  switch (kind) {
    case DeviceKind::kSpeaker: return id == "auto";
    case DeviceKind::kMicrophone:
      return id == "test:tone" || id == "test:silence" || id == "external" ||
             (StartsWith(id, "test:tone:") && Digits(id.substr(10))) || (StartsWith(id, "file:") && id.size() > 5);
    case DeviceKind::kCamera:
      return id == "test:pattern" || id == "test:bars" || id == "external" ||
             (StartsWith(id, "file:") && id.size() > 5);
  }
  return false;
}

bool SwapsInPlace(DeviceKind kind, const std::string& from, const std::string& to) {
  if (!Captured(from) || !Captured(to)) return false;
  return kind != DeviceKind::kMicrophone || StartsWith(from, "device") == StartsWith(to, "device");
}

std::string& DeviceControl::Slot(DeviceKind kind) {
  return kind == DeviceKind::kMicrophone ? config_.audio_source
         : kind == DeviceKind::kCamera   ? config_.video_source
                                         : config_.audio_playout;
}

void DeviceControl::Track() {
  external_audio_ = config_.audio_source == "external";
  external_video_ = config_.video_source == "external";
}

void DeviceControl::WatchIfUsed() {
  if (watching_) return;
  for (const std::string* id : {&config_.audio_source, &config_.video_source, &config_.audio_playout})
    if (StartsWith(*id, "device") || *id == "auto") {
      watching_ = true;
      media_.WatchDevices(
          [this](const DeviceInfo& d, bool added) { listener_.Post([this, d, added] { Changed(d, added); }); });
      return;
    }
}

void DeviceControl::Use(DeviceKind kind, const std::string& id) {
  std::string& slot = Slot(kind);
  if (slot == id) return;
  const std::string before = slot;
  slot = id;
  Track();
  WatchIfUsed();
  if (kind == DeviceKind::kSpeaker) {
    if (Status st = media_.SetPlayout(id); !st) listener_.Error(Code(st.error().code), st.error().message);
    return;
  }
  const TrackKind track = kind == DeviceKind::kMicrophone ? TrackKind::kAudio : TrackKind::kCamera;
  publishing_.SourceChanged(track, SwapsInPlace(kind, before, id));
}

void DeviceControl::StartMicrophoneCheck(const std::string& id) {
  const std::string source = id.empty() ? config_.audio_source : id;
  const uint64_t gen = ++check_gen_;
  auto on_error = [this](int32_t code, const std::string& m) {
    listener_.Post([this, code, m] { listener_.Error(code, m); });
  };
  Status st = media_.StartMicrophoneCheck(
      source,
      [this, gen](int volume) {
        listener_.Post([this, gen, volume] {
          if (gen == check_gen_) listener_.Notify([&](EngineEventListener& l) { l.OnAudioCaptureTestLevel(volume); });
        });
      },
      on_error);
  if (!st) listener_.Error(Code(st.error().code), st.error().message);
}

void DeviceControl::StartSpeakerCheck(const std::string& id) {
  const std::string playout = id.empty() ? config_.audio_playout : id;
  Status st = media_.StartSpeakerCheck(playout, [this](int32_t code, const std::string& m) {
    listener_.Post([this, code, m] { listener_.Error(code, m); });
  });
  if (!st) listener_.Error(Code(st.error().code), st.error().message);
}

void DeviceControl::Changed(const DeviceInfo& device, bool added) {
  listener_.Notify([&](EngineEventListener& l) {
    l.OnDeviceStateChanged(device, added ? DeviceState::kAdded : DeviceState::kRemoved);
  });
  if (added || Slot(device.kind) != "device:" + device.id) return;
  // The device in use went away: say so, and go on with the system's default.
  const Errc code = device.kind == DeviceKind::kMicrophone ? Errc::kAudioRecordDeviceNotFound
                    : device.kind == DeviceKind::kSpeaker  ? Errc::kAudioPlayDeviceNotFound
                                                           : Errc::kCameraCaptureError;
  listener_.Error(Code(code), "the device in use was removed (" + device.name + "): using the system's default");
  Log().info("parley: device {} removed while in use; falling back to the default", device.id);
  Use(device.kind, "device");
}

}  // namespace parley::sdk::call
