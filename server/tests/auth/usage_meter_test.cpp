#include "auth/usage_meter.hpp"

#include <gtest/gtest.h>

#include <set>

namespace parley::server {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

// Records what it is asked to store; can be told to fail or to forget an app.
class FakeSink final : public UsageSink {
 public:
  [[nodiscard]] bool Knows(const std::string& app_id) const override { return !unknown.count(app_id); }
  Status AddUsage(const std::map<std::string, int64_t>& seconds_by_app) override {
    ++calls;
    if (fail) return MakeError(Errc::kInternalError, "disk full");
    for (const auto& [app, secs] : seconds_by_app) stored[app] += secs;
    return {};
  }
  std::set<std::string> unknown;
  bool fail = false;
  int calls = 0;
  std::map<std::string, int64_t> stored;
};

TEST(UsageMeter, CountsMembersTimesElapsedPerApp) {
  UsageMeter meter;
  Clock::time_point a1 = kT0, a2 = kT0, b1 = kT0;
  meter.Count("a", 3, a1, kT0 + milliseconds(2000));  // 3 users for 2 s
  meter.Count("a", 1, a2, kT0 + milliseconds(500));   // another channel of the same app
  meter.Count("b", 2, b1, kT0 + milliseconds(250));
  EXPECT_EQ(meter.PendingMs("a"), 6500);
  EXPECT_EQ(meter.PendingMs("b"), 500);
  EXPECT_EQ(meter.PendingMs("c"), 0);
  // Each channel's mark moved: counting again adds only the time since.
  EXPECT_EQ(a1, kT0 + milliseconds(2000));
  meter.Count("a", 3, a1, kT0 + milliseconds(3000));
  EXPECT_EQ(meter.PendingMs("a"), 9500);
  // Counting twice at the same instant adds nothing.
  meter.Count("a", 3, a1, kT0 + milliseconds(3000));
  EXPECT_EQ(meter.PendingMs("a"), 9500);
  // An empty channel costs nothing.
  meter.Count("b", 0, b1, kT0 + std::chrono::hours(1));
  EXPECT_EQ(meter.PendingMs("b"), 500);
}

TEST(UsageMeter, FlushesWholeSecondsAndKeepsTheRemainder) {
  UsageMeter meter;
  FakeSink sink;
  Clock::time_point a = kT0, b = kT0;
  meter.Count("a", 1, a, kT0 + milliseconds(2750));
  meter.Count("b", 1, b, kT0 + milliseconds(999));  // under a second: not stored yet
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.calls, 1);
  EXPECT_EQ(sink.stored, (std::map<std::string, int64_t>{{"a", 2}}));
  EXPECT_EQ(meter.PendingMs("a"), 750);
  EXPECT_EQ(meter.PendingMs("b"), 999);
  // The remainders add up to whole seconds later.
  meter.Count("a", 1, a, kT0 + milliseconds(3000));
  meter.Count("b", 1, b, kT0 + milliseconds(1000));
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.stored, (std::map<std::string, int64_t>{{"a", 3}, {"b", 1}}));
  EXPECT_EQ(meter.PendingMs("a"), 0);
  EXPECT_EQ(meter.PendingMs("b"), 0);
  // Nothing whole to store: the sink is not called at all.
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.calls, 2);
  // An app the sink no longer knows is kept out of the batch, and kept.
  sink.unknown.insert("a");
  meter.Count("a", 1, a, kT0 + milliseconds(5000));
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.calls, 2);
  EXPECT_EQ(meter.PendingMs("a"), 2000);
}

TEST(UsageMeter, KeepsEverythingWhenTheSinkFails) {
  UsageMeter meter;
  FakeSink sink;
  Clock::time_point a = kT0, b = kT0;
  meter.Count("a", 2, a, kT0 + milliseconds(1500));
  meter.Count("b", 1, b, kT0 + milliseconds(4000));
  sink.fail = true;
  Status s = meter.Flush(sink);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "disk full");
  EXPECT_EQ(meter.PendingMs("a"), 3000);
  EXPECT_EQ(meter.PendingMs("b"), 4000);
  // The next flush stores all of it.
  sink.fail = false;
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.stored, (std::map<std::string, int64_t>{{"a", 3}, {"b", 4}}));
  EXPECT_EQ(meter.PendingMs("a"), 0);
}

TEST(UsageMeter, ForgetsARevokedApp) {
  UsageMeter meter;
  FakeSink sink;
  Clock::time_point a = kT0, b = kT0;
  meter.Count("a", 1, a, kT0 + milliseconds(5000));
  meter.Count("b", 1, b, kT0 + milliseconds(5000));
  meter.Forget("a");
  EXPECT_EQ(meter.PendingMs("a"), 0);
  ASSERT_TRUE(meter.Flush(sink));
  EXPECT_EQ(sink.stored, (std::map<std::string, int64_t>{{"b", 5}}));
}

}  // namespace
}  // namespace parley::server
