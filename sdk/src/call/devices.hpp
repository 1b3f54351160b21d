// Which device a source names, and whether the system lacks it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "parley/types.hpp"

namespace parley::sdk::call {

/// "device:<id>" names a device the system does not have, while it has other real
/// devices of that kind (so the sound or video system itself is reachable; with none
/// at all, opening the source reports that instead). `list` enumerates the devices of
/// the kind and is called only for a "device:" source (enumerating is slow).
bool MissingDevice(const std::string& source, const std::function<std::vector<DeviceInfo>()>& list);

}  // namespace parley::sdk::call
