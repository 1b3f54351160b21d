// GStreamer's start-up check and the devices it sees.
#pragma once

#include <vector>

#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

/// Initializes GStreamer once and checks that every element the engine needs exists;
/// a missing one is 0x01010103 naming the element and the Debian package holding it.
Status InitMedia();

/// Devices GstDeviceMonitor sees now, then the synthetic sources and sinks.
std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind);

}  // namespace parley::sdk::gst
