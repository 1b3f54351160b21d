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

}  // namespace parley
