// A "device:<id>" source is missing only when the system lists other real devices of
// its kind and not that one.
#include "call/devices.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::sdk::call {
namespace {

DeviceInfo Device(const std::string& id) {
  DeviceInfo d;
  d.id = id;
  d.name = id;
  return d;
}

TEST(CallDevices, MissingOnlyWhenTheSystemHasOtherRealDevices) {
  int listed = 0;
  std::vector<DeviceInfo> devices;
  auto list = [&] {
    ++listed;
    return devices;
  };
  EXPECT_FALSE(MissingDevice("test:tone", list));
  EXPECT_FALSE(MissingDevice("auto", list));
  EXPECT_EQ(listed, 0) << "only a device: source enumerates";
  EXPECT_FALSE(MissingDevice("device:hw:1", list)) << "no devices at all: opening it says why";
  devices = {Device("test:tone"), Device("external"), Device("null"), Device("auto")};
  EXPECT_FALSE(MissingDevice("device:hw:1", list)) << "only synthetic ones";
  devices.push_back(Device("hw:0"));
  EXPECT_TRUE(MissingDevice("device:hw:1", list));
  EXPECT_FALSE(MissingDevice("device:hw:0", list));
  EXPECT_EQ(listed, 4);
}

}  // namespace
}  // namespace parley::sdk::call
