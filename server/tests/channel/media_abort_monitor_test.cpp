#include "channel/media_abort_monitor.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace parley::server {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

// Publishers whose counts the test sets, and the events the monitor reports.
class FakePublishers final : public MediaAbortMonitor::Listener {
 public:
  std::optional<MediaAbortMonitor::Sample> SamplePublisher(uint64_t id) override {
    auto it = now.find(id);
    if (it == now.end()) return std::nullopt;
    return it->second;
  }
  void OnAborted(uint64_t id) override { events.push_back("aborted " + std::to_string(id)); }
  void OnResumed(uint64_t id) override { events.push_back("resumed " + std::to_string(id)); }
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    out.swap(events);
    return out;
  }
  std::map<uint64_t, MediaAbortMonitor::Sample> now;
  std::vector<std::string> events;
};

using Events = std::vector<std::string>;

TEST(MediaAbortMonitor, SilentConnectedPublisherAbortsOnceAfterTheLimit) {
  FakePublishers pubs;
  MediaAbortMonitor monitor(milliseconds(5000), pubs);
  monitor.Start(1, kT0);
  // Connecting takes a while: a transport that is not connected is never aborted.
  pubs.now[1] = {0, false};
  monitor.Tick(kT0 + milliseconds(9000));
  EXPECT_TRUE(pubs.Take().empty());
  // Connected with packets, then silent: the limit counts from the last change.
  pubs.now[1] = {100, true};
  monitor.Tick(kT0 + milliseconds(10000));
  monitor.Tick(kT0 + milliseconds(14999));
  EXPECT_TRUE(pubs.Take().empty());
  monitor.Tick(kT0 + milliseconds(15000));
  EXPECT_EQ(pubs.Take(), (Events{"aborted 1"}));
  EXPECT_TRUE(monitor.aborted(1));
  // Once per silence.
  monitor.Tick(kT0 + milliseconds(60000));
  EXPECT_TRUE(pubs.Take().empty());
  // A session without a transport to watch is skipped.
  pubs.now.erase(1);
  monitor.Tick(kT0 + milliseconds(90000));
  EXPECT_TRUE(pubs.Take().empty());
}

TEST(MediaAbortMonitor, MediaBackIsResumed) {
  FakePublishers pubs;
  MediaAbortMonitor monitor(milliseconds(1000), pubs);
  monitor.Start(7, kT0);
  pubs.now[7] = {50, true};
  monitor.Tick(kT0 + milliseconds(100));
  monitor.Tick(kT0 + milliseconds(1100));
  EXPECT_EQ(pubs.Take(), (Events{"aborted 7"}));
  pubs.now[7] = {51, true};
  monitor.Tick(kT0 + milliseconds(1200));
  EXPECT_EQ(pubs.Take(), (Events{"resumed 7"}));
  EXPECT_FALSE(monitor.aborted(7));
  // Moving packets never abort; a new silence aborts again.
  for (int i = 1; i <= 5; ++i) {
    pubs.now[7].packets += 10;
    monitor.Tick(kT0 + milliseconds(1200 + 900 * i));
  }
  EXPECT_TRUE(pubs.Take().empty());
  monitor.Tick(kT0 + milliseconds(1200 + 900 * 5 + 1000));
  EXPECT_EQ(pubs.Take(), (Events{"aborted 7"}));
}

TEST(MediaAbortMonitor, ANewTransportStartsAFreshWatch) {
  FakePublishers pubs;
  MediaAbortMonitor monitor(milliseconds(1000), pubs);
  monitor.Start(3, kT0);
  pubs.now[3] = {500, true};
  monitor.Tick(kT0 + milliseconds(10));
  monitor.Tick(kT0 + milliseconds(1010));
  EXPECT_EQ(pubs.Take(), (Events{"aborted 3"}));
  // Renegotiated: the new transport counts from zero and the old abort is forgotten,
  // so its first packets are not announced as a resume.
  monitor.Start(3, kT0 + milliseconds(2000));
  EXPECT_FALSE(monitor.aborted(3));
  pubs.now[3] = {0, true};
  monitor.Tick(kT0 + milliseconds(2999));
  EXPECT_TRUE(pubs.Take().empty());
  monitor.Tick(kT0 + milliseconds(3000));
  EXPECT_EQ(pubs.Take(), (Events{"aborted 3"}));
  pubs.now[3] = {20, true};
  monitor.Tick(kT0 + milliseconds(3100));
  EXPECT_EQ(pubs.Take(), (Events{"resumed 3"}));
  // A forgotten session is not sampled at all.
  monitor.Forget(3);
  pubs.now[3] = {20, true};
  monitor.Tick(kT0 + std::chrono::hours(1));
  EXPECT_TRUE(pubs.Take().empty());
}

}  // namespace
}  // namespace parley::server
