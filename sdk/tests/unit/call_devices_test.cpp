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

TEST(CallDevices, AnIdIsValidForItsKind) {
  for (const char* id :
       {"device", "device:hw:0", "null", "test:tone", "test:tone:880", "test:silence", "external", "file:/a.webm"})
    EXPECT_TRUE(ValidDeviceId(DeviceKind::kMicrophone, id)) << id;
  for (const char* id :
       {"", "device:", "test:pattern", "test:tone:", "test:tone:8a", "test:tone:1234567", "auto", "file:", "tone"})
    EXPECT_FALSE(ValidDeviceId(DeviceKind::kMicrophone, id)) << id;
  for (const char* id : {"device", "device:/dev/video1", "test:pattern", "test:bars", "external", "null"})
    EXPECT_TRUE(ValidDeviceId(DeviceKind::kCamera, id)) << id;
  EXPECT_FALSE(ValidDeviceId(DeviceKind::kCamera, "test:tone"));
  for (const char* id : {"auto", "device", "device:sink", "null"}) EXPECT_TRUE(ValidDeviceId(DeviceKind::kSpeaker, id));
  for (const char* id : {"test:tone", "external", "file:/a.ogg", ""})
    EXPECT_FALSE(ValidDeviceId(DeviceKind::kSpeaker, id)) << id;
}

TEST(CallDevices, CapturedSourcesSwapInPlaceAndAMicrophoneKeepsItsProcessing) {
  EXPECT_TRUE(SwapsInPlace(DeviceKind::kMicrophone, "device:a", "device"));
  EXPECT_TRUE(SwapsInPlace(DeviceKind::kMicrophone, "test:tone", "test:silence"));
  EXPECT_FALSE(SwapsInPlace(DeviceKind::kMicrophone, "test:tone", "device:a")) << "the processing is for devices";
  EXPECT_FALSE(SwapsInPlace(DeviceKind::kMicrophone, "external", "test:tone"));
  EXPECT_FALSE(SwapsInPlace(DeviceKind::kMicrophone, "device", "file:/x.ogg"));
  EXPECT_TRUE(SwapsInPlace(DeviceKind::kCamera, "test:pattern", "device:/dev/video0"));
  EXPECT_FALSE(SwapsInPlace(DeviceKind::kCamera, "null", "test:bars"));
}

}  // namespace
}  // namespace parley::sdk::call
