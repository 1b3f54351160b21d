// The C ABI's process-wide functions, which need no engine handle.
#include <string>

#include "parley/engine.hpp"
#include "parley/parley.h"
#include "parley/proto/errc.hpp"

extern "C" {

int parley_enumerate_devices(int kind, void (*fn)(void*, const char*, const char*, int), void* user_data) {
  if (kind < PARLEY_DEVICE_MICROPHONE || kind > PARLEY_DEVICE_CAMERA) return 0;
  try {
    auto devices = parley::RtcEngine::EnumerateDevices(static_cast<parley::DeviceKind>(kind));
    if (fn)
      for (const auto& d : devices) fn(user_data, d.id.c_str(), d.name.c_str(), d.is_default ? 1 : 0);
    return static_cast<int>(devices.size());
  } catch (...) {
    return 0;
  }
}

int parley_enumerate_screen_sources(const char* display,
                                    void (*fn)(void*, int, uint64_t, const char*, int, int, int, int),
                                    void* user_data) {
  try {
    auto sources = parley::RtcEngine::EnumerateScreenShareSources(std::string(display ? display : ""));
    if (fn)
      for (const auto& s : sources)
        fn(user_data, static_cast<int>(s.kind), s.id, s.title.c_str(), s.x, s.y, s.width, s.height);
    return static_cast<int>(sources.size());
  } catch (...) {
    return 0;
  }
}

int32_t parley_set_h5_compatible_mode(int enable) {
  try {
    return parley::RtcEngine::SetH5CompatibleMode(enable != 0);
  } catch (...) {
    return static_cast<int32_t>(parley::Errc::kInternalError);
  }
}

const char* parley_sdk_version(void) {
  return PARLEY_VERSION;
}

}  // extern "C"
