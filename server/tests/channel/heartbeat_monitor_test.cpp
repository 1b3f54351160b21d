#include "channel/heartbeat_monitor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace parley::server {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

class Recorder final : public HeartbeatMonitor::Listener {
 public:
  void OnSilent(uint64_t conn_id) override {
    silent.push_back(conn_id);
    if (monitor && forget_on_report) monitor->Forget(conn_id);
  }
  std::vector<uint64_t> Take() {
    std::vector<uint64_t> out;
    out.swap(silent);
    std::sort(out.begin(), out.end());
    return out;
  }
  HeartbeatMonitor* monitor = nullptr;
  bool forget_on_report = false;
  std::vector<uint64_t> silent;
};

TEST(HeartbeatMonitor, SilentLongerThanIntervalTimesMissesIsDropped) {
  Recorder rec;
  HeartbeatMonitor monitor(milliseconds(2000 * 3), rec);
  monitor.Seen(1, kT0);
  monitor.Seen(2, kT0);
  monitor.Seen(3, kT0);
  // Exactly at the limit: still alive.
  monitor.Tick(kT0 + milliseconds(6000));
  EXPECT_TRUE(rec.Take().empty());
  // Any message counts as a sign of life.
  monitor.Seen(2, kT0 + milliseconds(5000));
  monitor.Tick(kT0 + milliseconds(6001));
  EXPECT_EQ(rec.Take(), (std::vector<uint64_t>{1, 3}));
  // Reported again on every tick until the connection is gone...
  monitor.Forget(1);
  monitor.Tick(kT0 + milliseconds(6002));
  EXPECT_EQ(rec.Take(), (std::vector<uint64_t>{3}));
  // ... and a listener that closes connections may forget them as it goes.
  rec.monitor = &monitor;
  rec.forget_on_report = true;
  monitor.Tick(kT0 + milliseconds(11001));
  EXPECT_EQ(rec.Take(), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(monitor.size(), 0u);
  monitor.Tick(kT0 + std::chrono::hours(1));
  EXPECT_TRUE(rec.Take().empty());
}

// A listener closing one connection may forget another that was also due: the
// forgotten one is not reported.
TEST(HeartbeatMonitor, AConnectionForgottenDuringATickIsNotReported) {
  class ForgetOther final : public HeartbeatMonitor::Listener {
   public:
    void OnSilent(uint64_t conn_id) override {
      reported.push_back(conn_id);
      monitor->Forget(conn_id);
      monitor->Forget(conn_id == 1 ? 2 : 1);
    }
    HeartbeatMonitor* monitor = nullptr;
    std::vector<uint64_t> reported;
  } listener;
  HeartbeatMonitor monitor(milliseconds(100), listener);
  listener.monitor = &monitor;
  monitor.Seen(1, kT0);
  monitor.Seen(2, kT0);
  monitor.Tick(kT0 + milliseconds(101));
  EXPECT_EQ(listener.reported.size(), 1u);
  EXPECT_EQ(monitor.size(), 0u);
}

}  // namespace
}  // namespace parley::server
