#include "channel/lifecycle.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fake_link.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

// Members of one channel in a real table and registry, on a plane without workers.
class SessionLifecycleTest : public ::testing::Test, public Notifier, public SessionLifecycle::Listener {
 protected:
  void SendTo(Conn& c, std::string text) override { c.link->Send(std::move(text)); }
  void OnSessionRemoved(uint64_t id) override { removed_.push_back(id); }

  Session& Join(const std::string& user) {
    Channel* ch = registry_.Find("app", "room");
    if (!ch) ch = &registry_.Create({"app", "room", Profile::kCommunication, true, Clock::now(), 0});
    auto conn = std::make_unique<Conn>();
    conn->id = next_id_;
    auto link = std::make_shared<FakeLink>();
    conn->link = link;
    links_[user] = link;
    Session& s = sessions_.Create(next_id_++, "tok-" + user);
    s.user_id = user;
    s.channel = ch;
    s.conn = conn.get();
    conn->session = &s;
    ch->members[user] = &s;
    conns_.push_back(std::move(conn));
    return s;
  }

  boost::asio::io_context io_;
  Metrics metrics_;
  sfu::MediaPlane plane_{{}, ""};
  SessionTable sessions_;
  ChannelRegistry registry_{plane_};
  UsageMeter usage_;
  SessionLifecycle lifecycle_{io_, std::chrono::milliseconds(0), sessions_, registry_, usage_, *this, metrics_, *this};
  std::vector<std::unique_ptr<Conn>> conns_;
  std::map<std::string, std::shared_ptr<FakeLink>> links_;
  std::vector<uint64_t> removed_;
  uint64_t next_id_ = 1;
};

TEST_F(SessionLifecycleTest, ARemovedSessionIsToldWhyAndTheOthersSeeItGo) {
  Join("a");
  Session& b = Join("b");
  b.published = {Track::kAudio, Track::kCamera};
  uint64_t b_id = b.id;
  lifecycle_.Remove(b, "kicked", true, true);
  const FakeLink& bl = *links_["b"];
  ASSERT_EQ(bl.sent.size(), 1u);
  EXPECT_EQ(bl.sent[0]["type"], "sessionRemoved");
  EXPECT_EQ(bl.sent[0]["code"], static_cast<int32_t>(Errc::kSessionRemoved));
  EXPECT_EQ(bl.sent[0]["reason"], "kicked");
  EXPECT_TRUE(bl.closed);
  // The others hear the tracks go, then the user, with the reason.
  EXPECT_EQ(links_["a"]->Types(), (std::vector<std::string>{"trackUnpublished", "trackUnpublished", "userOffline"}));
  EXPECT_EQ(links_["a"]->sent[2]["reason"], "kicked");
  EXPECT_EQ(removed_, std::vector<uint64_t>{b_id});
  EXPECT_EQ(sessions_.Find(b_id), nullptr);
  EXPECT_EQ(sessions_.ByResumeToken("tok-b"), nullptr);
  EXPECT_EQ(conns_[1]->session, nullptr);
  EXPECT_EQ(metrics_.sessions_removed_by_reason["kicked"], 1u);
  EXPECT_EQ(metrics_.sessions, 1u);
  EXPECT_EQ(metrics_.channels, 1u);
  // Removed quietly (a leave): nothing is sent to it and its link stays open.
  Session& c = Join("c");
  lifecycle_.Remove(c, "left", false, false);
  EXPECT_EQ(links_["c"]->sent.size(), 0u);
  EXPECT_FALSE(links_["c"]->closed);
}

TEST_F(SessionLifecycleTest, TheLastMemberOutClosesTheChannel) {
  Session& a = Join("a");
  Session& b = Join("b");
  lifecycle_.Remove(a, "left", false, false);
  EXPECT_EQ(registry_.size(), 1u);
  lifecycle_.Remove(b, "left", false, false);
  EXPECT_EQ(registry_.size(), 0u);
  EXPECT_EQ(metrics_.channels, 0u);
  // b heard a go; nobody was left to hear b go.
  EXPECT_EQ(links_["b"]->Types(), std::vector<std::string>{"userOffline"});
}

TEST_F(SessionLifecycleTest, ALostConnectionKeepsTheSessionForTheGracePeriod) {
  Join("a");
  Session& b = Join("b");
  uint64_t b_id = b.id;
  lifecycle_.ConnectionLost(*conns_[1]);
  // Not removed at once: the others see its network as disconnected.
  EXPECT_EQ(sessions_.Find(b_id), &b);
  EXPECT_EQ(b.conn, nullptr);
  EXPECT_EQ(conns_[1]->session, nullptr);
  ASSERT_EQ(links_["a"]->sent.size(), 1u);
  EXPECT_EQ(links_["a"]->sent[0]["type"], "userNetwork");
  EXPECT_EQ(links_["a"]->sent[0]["state"], "disconnected");
  // The grace period (0 ms here) ends: removed as connection-lost.
  io_.poll();
  EXPECT_EQ(sessions_.Find(b_id), nullptr);
  EXPECT_EQ(metrics_.sessions_removed_by_reason["connection-lost"], 1u);
  EXPECT_EQ(links_["a"]->Types().back(), "userOffline");
  // Once the server stops, a lost connection starts no timer and tells nobody.
  lifecycle_.Stop();
  size_t told = links_["a"]->sent.size();
  Join("c");
  lifecycle_.ConnectionLost(*conns_.back());
  io_.poll();
  EXPECT_EQ(links_["a"]->sent.size(), told);
  EXPECT_NE(sessions_.ByResumeToken("tok-c"), nullptr);
}

TEST_F(SessionLifecycleTest, ASilentConnectionIsRemovedWithItsOwnReasonOnlyAfterTheGrace) {
  Join("a");
  Session& b = Join("b");
  uint64_t b_id = b.id;
  lifecycle_.ConnectionLost(*conns_[1], "heartbeat-lost");
  EXPECT_EQ(sessions_.Find(b_id), &b);
  EXPECT_EQ(links_["a"]->Types(), std::vector<std::string>{"userNetwork"});
  io_.poll();
  EXPECT_EQ(sessions_.Find(b_id), nullptr);
  EXPECT_EQ(metrics_.sessions_removed_by_reason["heartbeat-lost"], 1u);
  EXPECT_EQ(metrics_.sessions_removed_by_reason["connection-lost"], 0u);
  ASSERT_EQ(links_["a"]->sent.back()["type"], "userOffline");
  EXPECT_EQ(links_["a"]->sent.back()["reason"], "heartbeat-lost");
}

}  // namespace
}  // namespace parley::server
