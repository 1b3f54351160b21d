#include "channel/transport_failure_monitor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace parley::server {
namespace {

using sfu::Failure;
using State = sfu::Transport::State;
using Events = std::vector<std::string>;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

// Transports whose state the test sets; it records what the monitor does and reports.
class FakeMedia final : public MediaStatus, public TransportFailureMonitor::Listener {
 public:
  std::optional<sfu::TransportStatus> Publish(const Session& s) override { return Get(pub, s.id); }
  std::optional<sfu::TransportStatus> Subscribe(const Session& s) override { return Get(sub, s.id); }
  std::optional<uint32_t> TakeAudioPeak(const Session&) override { return std::nullopt; }
  void DropSubscribe(Session& s) override {
    sub.erase(s.id);
    events.push_back("dropped " + s.user_id);
  }
  void OnPublishFailed(Session& s, Failure why, Errc code) override {
    events.push_back("publish " + s.user_id + " " + std::string(sfu::Name(why)) + " " +
                     FormatHex(static_cast<int32_t>(code)));
  }
  void OnSubscribeFailed(Session& s, Failure why, const std::vector<std::string>& users) override {
    std::string e = "subscribe " + s.user_id + " " + std::string(sfu::Name(why));
    for (const auto& u : users) e += " " + u;
    events.push_back(e);
  }
  Events Take() {
    Events out;
    out.swap(events);
    return out;
  }
  static std::optional<sfu::TransportStatus> Get(const std::map<uint64_t, sfu::TransportStatus>& m, uint64_t id) {
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  std::map<uint64_t, sfu::TransportStatus> pub, sub;
  Events events;
};

class TransportFailureMonitorTest : public ::testing::Test {
 protected:
  Session& Add(uint64_t id, const std::string& user) {
    Session& s = sessions_.Create(id, "tok" + std::to_string(id));
    s.user_id = user;
    s.channel = &channel_;
    return s;
  }
  Channel channel_;
  SessionTable sessions_;
  FakeMedia media_;
  TransportFailureMonitor monitor_{media_, media_};
};

TEST_F(TransportFailureMonitorTest, PublishFailureReportedOnceWithItsCode) {
  Add(1, "broke");
  Add(2, "never");
  Add(3, "closed");
  Session& outside = Add(4, "outside");
  outside.channel = nullptr;  // left its channel: not looked at
  media_.pub[1] = {10, State::kConnected, Failure::kNone, 5};
  media_.pub[2] = {11, State::kNew, Failure::kNone, 0};
  media_.pub[3] = {12, State::kConnected, Failure::kNone, 5};
  media_.pub[4] = {13, State::kFailed, Failure::kIceTimeout, 0};
  monitor_.Tick(kT0, sessions_);
  EXPECT_TRUE(media_.Take().empty());

  media_.pub[1] = {10, State::kFailed, Failure::kConsentLost, 5};
  media_.pub[2] = {11, State::kFailed, Failure::kIceTimeout, 0};
  media_.pub[3] = {12, State::kFailed, Failure::kClosedByPeer, 5};
  monitor_.Tick(kT0, sessions_);
  Events got = media_.Take();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Events{"publish broke consent-lost 0x01050202", "publish never ice-timeout 0x01050201"}));
  // Once per transport: the same failure is not reported again...
  monitor_.Tick(kT0, sessions_);
  EXPECT_TRUE(media_.Take().empty());
  // ... until the session opens a new publish transport, which fails in turn.
  monitor_.Start(2);
  monitor_.Tick(kT0, sessions_);
  EXPECT_EQ(media_.Take(), (Events{"publish never ice-timeout 0x01050201"}));
  // A forgotten session starts afresh too (its id is never reused, but the set stays small).
  monitor_.Forget(1);
  monitor_.Tick(kT0, sessions_);
  EXPECT_EQ(media_.Take(), (Events{"publish broke consent-lost 0x01050202"}));
}

TEST_F(TransportFailureMonitorTest, SubscribeFailureDropsTheTransportAndListsSubscriptions) {
  Session& s = Add(1, "viewer");
  s.subscriptions["alice"] = {Track::kAudio};
  s.subscriptions["bob"] = {Track::kCamera};
  media_.sub[1] = {20, State::kConnected, Failure::kNone, 0};
  monitor_.Tick(kT0, sessions_);
  EXPECT_TRUE(media_.Take().empty());
  media_.sub[1] = {20, State::kFailed, Failure::kDtlsTimeout, 0};
  monitor_.Tick(kT0, sessions_);
  EXPECT_EQ(media_.Take(), (Events{"dropped viewer", "subscribe viewer dtls-timeout alice bob"}));
  EXPECT_EQ(s.subscriptions.size(), 2u);  // it stays subscribed, to subscribe again
  // The dropped transport is gone; a new one that fails is reported again.
  monitor_.Tick(kT0, sessions_);
  EXPECT_TRUE(media_.Take().empty());
  media_.sub[1] = {21, State::kFailed, Failure::kConsentLost, 0};
  monitor_.Tick(kT0, sessions_);
  EXPECT_EQ(media_.Take(), (Events{"dropped viewer", "subscribe viewer consent-lost alice bob"}));
}

}  // namespace
}  // namespace parley::server
