// RtcEngine's questions about the machine and the SDK that need no engine.
#include "media/media.hpp"
#include "parley/engine.hpp"

namespace parley {

std::vector<DeviceInfo> RtcEngine::EnumerateDevices(DeviceKind kind) {
  if (!sdk::media::InitMedia()) return {};
  return sdk::media::ListDevices(kind);
}

std::vector<MediaPluginInfo> RtcEngine::CheckMediaPlugins() {
  return sdk::media::ListMediaPlugins();
}

std::vector<ScreenSourceInfo> RtcEngine::EnumerateScreenShareSources(const std::string& display) {
  return sdk::media::ListScreenSources(display);
}

std::string RtcEngine::SdkVersion() {
  return PARLEY_VERSION;
}

std::string_view Name(StartupPhase phase) {
  switch (phase) {
    case StartupPhase::kJoined: return "joined";
    case StartupPhase::kPublishAnswered: return "publishAnswered";
    case StartupPhase::kSubscribeOffered: return "subscribeOffered";
    case StartupPhase::kSubscribeAnswered: return "subscribeAnswered";
    case StartupPhase::kIceConnected: return "iceConnected";
    case StartupPhase::kDtlsConnected: return "dtlsConnected";
    case StartupPhase::kFirstRtp: return "firstRtp";
    case StartupPhase::kFirstFrame: return "firstFrame";
  }
  return "unknown";
}

}  // namespace parley
