// GStreamer's start-up check and the devices it sees.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

/// Initializes GStreamer once and checks that every element the engine needs exists;
/// a missing one is 0x01010103 naming the element and the Debian package holding it.
Status InitMedia();
/// After InitMedia: a thread that has GStreamer's DTLS certificate (made once per
/// process, when the first DTLS element is) generated, for the caller to join; none
/// after the first call.
std::thread WarmUpDtls();

/// Devices GstDeviceMonitor sees now, then the synthetic sources and sinks.
std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind);
/// Every element the engine uses (those InitMedia requires and those of one feature)
/// and whether each is present; empty when GStreamer cannot initialise.
std::vector<MediaPluginInfo> ListMediaPlugins();

/// Microphones, speakers and cameras the system adds or removes while it exists, as
/// GstDeviceMonitor's providers (PulseAudio, V4L2) tell them: `changed` runs on the
/// provider's thread, never after the destructor returns. The devices present when the
/// first watch starts are not reported. All watches share one monitor, which runs
/// while any exists (EnumerateDevices lists through it then).
class DeviceWatch {
 public:
  using Changed = std::function<void(const DeviceInfo& device, bool added)>;
  explicit DeviceWatch(Changed changed);
  ~DeviceWatch();
  DeviceWatch(const DeviceWatch&) = delete;
  DeviceWatch& operator=(const DeviceWatch&) = delete;

 private:
  int id_;
};

}  // namespace parley::sdk::gst
