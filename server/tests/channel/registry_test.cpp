#include "channel/registry.hpp"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(WorkerPlacement, PinsToTheLeastLoadedAndReleasesOnClose) {
  WorkerPlacement placement(3);
  EXPECT_EQ(placement.Pick(), 0u);
  EXPECT_EQ(placement.Pick(), 1u);
  EXPECT_EQ(placement.Pick(), 2u);
  EXPECT_EQ(placement.Pick(), 0u);  // all equal again: the first wins
  placement.Release(1);
  EXPECT_EQ(placement.load(1), 0u);
  EXPECT_EQ(placement.Pick(), 1u);  // the emptied worker is the least loaded
  EXPECT_EQ(placement.load(0), 2u);
  // Releasing more than was picked, or a worker that does not exist, changes nothing.
  placement.Release(2);
  placement.Release(2);
  placement.Release(7);
  EXPECT_EQ(placement.load(2), 0u);
  // Without workers every channel is on "worker 0" and nothing is counted.
  WorkerPlacement none(0);
  EXPECT_EQ(none.Pick(), 0u);
  none.Release(0);
  EXPECT_EQ(none.load(0), 0u);
}

TEST(ChannelRegistry, AppsNeverShareAChannel) {
  sfu::MediaPlane plane({}, "");
  ChannelRegistry registry(plane);
  auto now = Clock::now();
  Channel& one = registry.Create({"app1", "room", Profile::kCommunication, true, now, 100});
  Channel& two = registry.Create({"app2", "room", Profile::kInteractiveLive, false, now, 200});
  EXPECT_NE(&one, &two);
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.Find("app1", "room"), &one);
  EXPECT_EQ(registry.Find("app2", "room"), &two);
  EXPECT_EQ(registry.Find("app3", "room"), nullptr);
  EXPECT_EQ(two.profile, Profile::kInteractiveLive);
  EXPECT_EQ(two.created_at_unix, 200);
  EXPECT_EQ(two.metered_at, now);
  ASSERT_NE(one.media, nullptr);
  EXPECT_EQ(registry.ForApp("app1"), std::vector<Channel*>{&one});
  registry.Close(one);
  EXPECT_EQ(registry.Find("app1", "room"), nullptr);
  EXPECT_TRUE(registry.ForApp("app1").empty());
  EXPECT_EQ(registry.Find("app2", "room"), &two);
}

}  // namespace
}  // namespace parley::server
