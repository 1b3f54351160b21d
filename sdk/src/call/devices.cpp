#include "call/devices.hpp"

namespace parley::sdk::call {

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

}  // namespace parley::sdk::call
