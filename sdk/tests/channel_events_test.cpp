// What one engine learns about the others through a real parleyd besides media:
// messages (to the channel and to one member, with the server's size and rate limits
// answered with codes) and role changes.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

EngineConfig Quiet(const test::ServerProcess& s, ChannelProfile profile = ChannelProfile::kCommunication,
                   ClientRole role = ClientRole::kBroadcaster) {
  EngineConfig c = Config(s, "null");
  c.video_source = "null";
  c.auto_publish = false;
  c.profile = profile;
  c.role = role;
  return c;
}

class Member {
 public:
  Member(const test::ServerProcess& s, const App& app, const std::string& user,
         ChannelProfile profile = ChannelProfile::kCommunication, ClientRole role = ClientRole::kBroadcaster)
      : engine(RtcEngine::Create(Quiet(s, profile, role))) {
    engine->SetEngineEventListener(&probe);
    EXPECT_EQ(engine->JoinChannel(Auth(app, "talk", user), user), 0);
    EXPECT_TRUE(probe.WaitFor([&] { return probe.join_result == 0; }, 10s)) << user;
  }
  ~Member() { RtcEngine::Destroy(engine); }
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;
  RtcEngine* engine;
  Probe probe;
};

TEST(ChannelEvents, MessagesReachTheChannelOrOneMemberAndRefusalsHaveCodes) {
  test::ServerProcess server;
  App app = CreateApp(server);
  Member ann(server, app, "ann"), bob(server, app, "bob"), cy(server, app, "cy");
  ASSERT_TRUE(ann.probe.WaitFor([&] { return ann.probe.online.size() == 2; }, 10s));
  ASSERT_TRUE(cy.probe.WaitFor([&] { return cy.probe.online.count("ann") > 0; }, 10s));

  // Refused before anything is sent.
  EXPECT_EQ(ann.engine->SendMessage("", std::string(4097, 'x')), Code(Errc::kMessageTooLarge));
  EXPECT_EQ(ann.engine->SendMessage("", "\xC3("), Code(Errc::kInvalidField)) << "not UTF-8";
  {
    RtcEngine* outside = RtcEngine::Create(Quiet(server));
    EXPECT_EQ(outside->SendMessage("", "hi"), Code(Errc::kNotInChannel));
    RtcEngine::Destroy(outside);
  }

  EXPECT_EQ(ann.engine->SendMessage("", "hello, 你好"), 0);
  EXPECT_EQ(ann.engine->SendMessage("bob", "only bob"), 0);
  EXPECT_EQ(ann.engine->SendMessage("", std::string(4096, 'm')), 0);
  auto got = [](Member& m, size_t n) { return m.probe.WaitFor([&] { return m.probe.messages.size() >= n; }, 10s); };
  ASSERT_TRUE(got(bob, 3));
  ASSERT_TRUE(got(cy, 2));
  {
    std::lock_guard<std::mutex> lock(bob.probe.mu);
    EXPECT_EQ(bob.probe.messages[0], "ann channel hello, 你好");
    EXPECT_EQ(bob.probe.messages[1], "ann direct only bob");
    EXPECT_EQ(bob.probe.messages[2], "ann channel " + std::string(4096, 'm'));
  }
  {
    std::lock_guard<std::mutex> lock(cy.probe.mu);
    EXPECT_EQ(cy.probe.messages.size(), 2U) << "the direct one went to bob alone";
    EXPECT_TRUE(ann.probe.messages.empty()) << "a sender does not get its own";
  }

  // The server refuses what it cannot deliver, and a sender past its rate.
  EXPECT_EQ(ann.engine->SendMessage("nobody", "?"), 0);
  EXPECT_TRUE(ann.probe.WaitFor([&] { return ann.probe.HasError(Code(Errc::kInvalidField)); }, 10s));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(ann.engine->SendMessage("cy", std::to_string(i)), 0);
  EXPECT_TRUE(ann.probe.WaitFor([&] { return ann.probe.HasError(Code(Errc::kRateLimited)); }, 10s));
  EXPECT_TRUE(ann.engine->IsInCall()) << "a refused message ends nothing";
}

TEST(ChannelEvents, ARoleChangeIsToldToTheOthers) {
  test::ServerProcess server;
  App app = CreateApp(server);
  Member ann(server, app, "ann", ChannelProfile::kInteractiveLive),
      bob(server, app, "bob", ChannelProfile::kInteractiveLive);
  ASSERT_TRUE(bob.probe.WaitFor([&] { return bob.probe.online.count("ann") > 0; }, 10s));
  // A broadcaster turning audience changes role, then goes offline for the others: the
  // audience of a live channel is not listed.
  EXPECT_EQ(ann.engine->SetClientRole(ClientRole::kAudience), 0);
  ASSERT_TRUE(bob.probe.WaitFor([&] { return bob.probe.offline_reasons.count("ann") > 0; }, 10s));
  {
    std::lock_guard<std::mutex> lock(bob.probe.mu);
    EXPECT_EQ(bob.probe.roles["ann"], ClientRole::kAudience);
    EXPECT_EQ(bob.probe.offline_reasons["ann"], "becameAudience");
  }
  for (const auto& u : bob.engine->GetOnlineRemoteUsers()) EXPECT_NE(u.user_id, "ann") << "audience is not listed";
  // An audience member joining is not announced; one becoming a broadcaster is.
  Member cy(server, app, "cy", ChannelProfile::kInteractiveLive, ClientRole::kAudience);
  EXPECT_TRUE(cy.probe.WaitFor([&] { return cy.probe.online.count("bob") > 0; }, 10s)) << "the audience sees hosts";
  {
    std::lock_guard<std::mutex> lock(cy.probe.mu);
    EXPECT_EQ(cy.probe.online.count("ann"), 0U) << "but not the other audience";
  }
  // An unlisted audience member's message reaches the hosts, and a host can answer it.
  EXPECT_EQ(cy.engine->SendMessage("", "hello hosts"), 0);
  ASSERT_TRUE(bob.probe.WaitFor([&] { return !bob.probe.messages.empty(); }, 10s));
  EXPECT_EQ(cy.engine->SendMessage("bob", "just bob"), 0);
  ASSERT_TRUE(bob.probe.WaitFor([&] { return bob.probe.messages.size() >= 2; }, 10s));
  EXPECT_EQ(bob.engine->SendMessage("cy", "hello cy"), 0);
  ASSERT_TRUE(cy.probe.WaitFor([&] { return !cy.probe.messages.empty(); }, 10s));
  {
    std::lock_guard<std::mutex> lock(bob.probe.mu);
    EXPECT_EQ(bob.probe.messages[0], "cy channel hello hosts");
    EXPECT_EQ(bob.probe.messages[1], "cy direct just bob");
  }
  {
    std::lock_guard<std::mutex> lock(cy.probe.mu);
    EXPECT_EQ(cy.probe.messages[0], "bob direct hello cy");
  }
  EXPECT_EQ(ann.engine->SetClientRole(ClientRole::kBroadcaster), 0);
  ASSERT_TRUE(bob.probe.WaitFor([&] { return bob.probe.online.count("ann") > 0; }, 10s));
  ASSERT_TRUE(cy.probe.WaitFor([&] { return cy.probe.online.count("ann") > 0; }, 10s));
  // For bob ann is a new member that came online as a broadcaster: no role change.
  bool listed = false;
  for (const auto& u : bob.engine->GetOnlineRemoteUsers())
    if (u.user_id == "ann") listed = u.role == ClientRole::kBroadcaster;
  EXPECT_TRUE(listed) << "GetOnlineRemoteUsers has the new broadcaster";
  {
    std::lock_guard<std::mutex> lock(bob.probe.mu);
    EXPECT_EQ(bob.probe.online.count("cy"), 0U) << "cy's join was not announced";
  }
}

}  // namespace
}  // namespace parley
