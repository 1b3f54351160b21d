// The signalling hub without sockets: connections are fakes that record what the hub
// sends, so the dispatcher's guarantees are tested directly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "fake_link.hpp"
#include "metrics.hpp"
#include "parley/proto/token.hpp"
#include "sfu/media_plane.hpp"
#include "signal/hub.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

class HubTest : public ::testing::Test {
 protected:
  HubTest() : store_(AppStore::Open(":memory:").value()), hub_(io_, config_, *store_, metrics_) {}
  ~HubTest() override {
    hub_.Stop();
    io_.poll();
  }

  std::pair<uint64_t, std::shared_ptr<FakeLink>> Open() {
    auto link = std::make_shared<FakeLink>();
    return {hub_.OnOpen(link, "127.0.0.1"), link};
  }
  /// Sends request `type` with `body` on connection `c`; the code of its reply.
  Errc Ask(uint64_t c, const FakeLink& link, const std::string& type, json body) {
    body["type"] = type;
    body["id"] = ++next_id_;
    hub_.OnMessage(c, body.dump());
    return static_cast<Errc>(link.sent.back()["code"].get<int32_t>());
  }

  boost::asio::io_context io_;
  ServerConfig config_;
  Metrics metrics_;
  std::unique_ptr<AppStore> store_;
  SignalHub hub_;
  int next_id_ = 0;  ///< of the requests Ask (and the tests' joins) send
};

TEST_F(HubTest, AThrowingHandlerClosesOnlyItsConnection) {
  hub_.AddHandlerForTesting("boom", [](const json&) { throw std::runtime_error("injected"); });
  hub_.AddHandlerForTesting("boom2", [](const json&) { throw 42; });
  auto [victim, victim_link] = Open();
  auto [bystander, bystander_link] = Open();
  hub_.OnMessage(victim, R"({"type":"boom","id":5})");
  ASSERT_EQ(victim_link->sent.size(), 1u);
  EXPECT_EQ(victim_link->sent[0]["code"], static_cast<int32_t>(Errc::kInternalError));
  EXPECT_EQ(victim_link->sent[0]["id"], 5);
  EXPECT_TRUE(victim_link->closed);
  EXPECT_EQ(metrics_.signal_handler_exceptions_total, 1u);
  EXPECT_NE(metrics_.Render().find("parley_signal_handler_exceptions_total 1"), std::string::npos);
  // Anything thrown is caught, and the hub goes on serving others.
  hub_.OnMessage(bystander, R"({"type":"boom2","id":1})");
  EXPECT_EQ(metrics_.signal_handler_exceptions_total, 2u);
  auto [third, third_link] = Open();
  hub_.OnMessage(third, R"({"type":"ping","id":9})");
  ASSERT_EQ(third_link->sent.size(), 1u);
  EXPECT_EQ(third_link->sent[0]["code"], 0);
  EXPECT_FALSE(third_link->closed);
}

TEST_F(HubTest, TestHandlersAreUnknownUnlessRegistered) {
  auto [c, link] = Open();
  hub_.OnMessage(c, R"({"type":"boom","id":1})");
  ASSERT_EQ(link->sent.size(), 1u);
  EXPECT_EQ(link->sent[0]["code"], static_cast<int32_t>(Errc::kUnknownMessageType));
}

// Which error a client sees first is part of the contract: the joined check runs
// before any field is read, join reads its fields before the failed-join limit and
// its credentials after it, and a credential that cannot be read is a failed join.
TEST_F(HubTest, ErrorPrecedenceIsUnchanged) {
  ServerConfig config;
  config.join_failures_per_connection = 1;
  SignalHub hub(io_, config, *store_, metrics_);
  App app = store_->Create("precedence").value();
  auto token = [&](const std::string& user) {
    return MintAccessToken({app.app_id, "room", user, "", "", 4102444800, 0}, app.app_key);
  };
  auto open = [&] {
    auto link = std::make_shared<FakeLink>();
    return std::make_pair(hub.OnOpen(link, "127.0.0.1"), link);
  };
  auto last_code = [](const FakeLink& l) { return l.sent.empty() ? -1 : l.sent.back()["code"].get<int32_t>(); };
  struct Row {
    const char* what;
    std::vector<json> requests;  // sent in order on one fresh connection
    Errc code;                   // of the last reply
  };
  const std::string good = token("u1");
  const std::vector<Row> rows = {
      {"a publish before joining, with bad tracks, is not-in-channel",
       {{{"type", "publish"}, {"id", 1}, {"tracks", {"smell"}}}},
       Errc::kNotInChannel},
      {"a mute before joining, without tracks, is not-in-channel",
       {{{"type", "mute"}, {"id", 1}}},
       Errc::kNotInChannel},
      {"a rate-limited join with a bad profile is refused for the profile",
       {{{"type", "join"}, {"id", 1}, {"token", "x.y.z"}},
        {{"type", "join"}, {"id", 2}, {"token", good}, {"profile", "lecture"}}},
       Errc::kInvalidField},
      {"a rate-limited join with good fields is rate-limited before its token is read",
       {{{"type", "join"}, {"id", 1}, {"token", "x.y.z"}}, {{"type", "join"}, {"id", 2}, {"token", good}}},
       Errc::kRateLimited},
      {"a non-string token counts as a failed join",
       {{{"type", "join"}, {"id", 1}, {"token", 5}}, {{"type", "join"}, {"id", 2}, {"token", good}}},
       Errc::kRateLimited},
      {"a join without credentials counts as a failed join",
       {{{"type", "join"}, {"id", 1}}, {{"type", "join"}, {"id", 2}, {"token", good}}},
       Errc::kRateLimited},
      {"a joined connection joining again with a bad profile is already-in-channel",
       {{{"type", "join"}, {"id", 1}, {"token", token("u2")}},
        {{"type", "join"}, {"id", 2}, {"token", good}, {"profile", "lecture"}}},
       Errc::kAlreadyInChannel},
      {"a resume with a bad token on a joined connection is refused for the token",
       {{{"type", "join"}, {"id", 1}, {"token", token("u3")}}, {{"type", "resume"}, {"id", 2}, {"resumeToken", 7}}},
       Errc::kInvalidField},
      {"a joined mute of an unpublished track without tracks is refused for the field",
       {{{"type", "join"}, {"id", 1}, {"token", token("u4")}}, {{"type", "mute"}, {"id", 2}}},
       Errc::kInvalidField},
      {"a joined mute of an unpublished track is not-publishing",
       {{{"type", "join"}, {"id", 1}, {"token", token("u5")}}, {{"type", "mute"}, {"id", 2}, {"track", "audio"}}},
       Errc::kNotPublishing},
  };
  for (const Row& row : rows) {
    auto [c, link] = open();
    for (const json& r : row.requests) hub.OnMessage(c, r.dump());
    EXPECT_EQ(last_code(*link), static_cast<int32_t>(row.code)) << row.what << ": " << link->sent.back().dump();
  }

  // A mute without "muted" mutes.
  auto [pub, pub_link] = open();
  auto [sub, sub_link] = open();
  hub.OnMessage(pub, json{{"type", "join"}, {"id", 1}, {"token", token("speaker")}}.dump());
  hub.OnMessage(sub, json{{"type", "join"}, {"id", 1}, {"token", token("listener")}}.dump());
  hub.OnMessage(pub, json{{"type", "publish"}, {"id", 2}, {"tracks", {"audio"}}}.dump());
  ASSERT_EQ(last_code(*pub_link), 0) << pub_link->sent.back().dump();
  hub.OnMessage(pub, json{{"type", "mute"}, {"id", 3}, {"track", "audio"}}.dump());
  ASSERT_EQ(last_code(*pub_link), 0) << pub_link->sent.back().dump();
  const json& note = sub_link->sent.back();
  EXPECT_EQ(note["type"], "trackMuted");
  EXPECT_EQ(note["userId"], "speaker");
  EXPECT_EQ(note["track"], "audio");
  EXPECT_EQ(note["muted"], true);
  hub.Stop();
  io_.poll();
}

// A media plane without workers: the hub asks the channel's media for everything, and
// every channel refuses it the way a server without media always did. Signalling goes
// on: tracks are published and subscribed without SDP, and the admin API lists the
// users without media counters.
TEST_F(HubTest, WithoutMediaWorkersOffersAreRefusedAndSignallingGoesOn) {
  sfu::MediaPlane plane({}, "127.0.0.1");
  SignalHub hub(io_, config_, *store_, metrics_, &plane);
  App app = store_->Create("no-media").value();
  auto join = [&](const std::string& user) {
    auto link = std::make_shared<FakeLink>();
    uint64_t c = hub.OnOpen(link, "127.0.0.1");
    hub.OnMessage(c, json{{"type", "join"},
                          {"id", 1},
                          {"token", MintAccessToken({app.app_id, "room", user, "", "", 4102444800, 0}, app.app_key)}}
                         .dump());
    return std::make_pair(c, link);
  };
  // The reply to request `id` (notifications come in between).
  auto reply = [](const FakeLink& l, int id) {
    for (auto it = l.sent.rbegin(); it != l.sent.rend(); ++it)
      if (it->contains("id") && (*it)["id"] == id) return *it;
    return json();
  };
  auto code = [&](const FakeLink& l, int id) {
    json r = reply(l, id);
    return r.contains("code") ? r["code"].get<int32_t>() : -1;
  };
  auto [pub, pub_link] = join("speaker");
  auto [sub, sub_link] = join("listener");
  ASSERT_EQ(code(*pub_link, 1), 0) << reply(*pub_link, 1).dump();
  ASSERT_EQ(code(*sub_link, 1), 0) << reply(*sub_link, 1).dump();

  hub.OnMessage(pub, json{{"type", "publish"}, {"id", 2}, {"tracks", {"audio"}}, {"sdp", "v=0\r\n"}}.dump());
  EXPECT_EQ(code(*pub_link, 2), static_cast<int32_t>(Errc::kMediaConnectionCreateFailed));
  hub.OnMessage(pub, json{{"type", "publish"}, {"id", 3}, {"tracks", {"audio"}}}.dump());
  ASSERT_EQ(code(*pub_link, 3), 0) << reply(*pub_link, 3).dump();
  EXPECT_FALSE(reply(*pub_link, 3)["data"].contains("sdp"));
  hub.OnMessage(pub, json{{"type", "updatePublish"}, {"id", 4}, {"sdp", "v=0\r\n"}}.dump());
  EXPECT_EQ(code(*pub_link, 4), static_cast<int32_t>(Errc::kMediaConnectionCreateFailed));

  hub.OnMessage(sub, json{{"type", "subscribe"}, {"id", 2}, {"userId", "speaker"}}.dump());
  ASSERT_EQ(code(*sub_link, 2), 0) << reply(*sub_link, 2).dump();
  EXPECT_FALSE(reply(*sub_link, 2)["data"].contains("sdp"));
  EXPECT_EQ(reply(*sub_link, 2)["data"]["tracks"], json::array({"audio"}));
  hub.OnMessage(sub, json{{"type", "subscribeAnswer"}, {"id", 3}, {"sdp", "v=0\r\n"}}.dump());
  EXPECT_EQ(code(*sub_link, 3), static_cast<int32_t>(Errc::kSubscribeStreamNotExist));

  json channels = hub.admin().ListChannels("");
  ASSERT_EQ(channels.size(), 1u);
  ASSERT_EQ(channels[0]["users"].size(), 2u);
  for (const json& u : channels[0]["users"]) {
    EXPECT_FALSE(u.contains("media")) << u.dump();
    EXPECT_FALSE(u.contains("subscribeMedia")) << u.dump();
  }
  // Unpublishing the last track and leaving go through the channel's media too.
  hub.OnMessage(pub, json{{"type", "unpublish"}, {"id", 5}, {"tracks", {"audio"}}}.dump());
  EXPECT_EQ(code(*pub_link, 5), 0) << reply(*pub_link, 5).dump();
  hub.OnMessage(pub, json{{"type", "leave"}, {"id", 6}}.dump());
  EXPECT_EQ(code(*pub_link, 6), 0) << reply(*pub_link, 6).dump();
  EXPECT_EQ(hub.ChannelCount(), 1u);
  hub.Stop();
  io_.poll();
}

}  // namespace
}  // namespace parley::server

namespace parley::server {
namespace {

// A last-mile probe's request is checked like a join (fields, then credentials, whose
// failures count like a failed join's) and only outside a channel; this hub has no
// media workers, so a good request is refused for that (probe_test.cpp serves one).
TEST_F(HubTest, LastMileProbeIsCheckedLikeAJoinBeforeAnyMedia) {
  App app = store_->Create("probe").value();
  auto token = [&](const std::string& key) {
    return MintAccessToken({app.app_id, "room", "u1", "", "", 4102444800, 0}, key);
  };
  auto [c, link] = Open();
  auto ask = [&, c = c, link = link](json body) { return Ask(c, *link, "lastMileProbe", std::move(body)); };
  EXPECT_EQ(ask({{"token", token(app.app_key)}, {"uplinkKbps", 0}, {"downlinkKbps", 0}}), Errc::kInvalidField);
  EXPECT_EQ(ask({{"token", token(app.app_key)}, {"downlinkKbps", 20000}}), Errc::kInvalidField);
  EXPECT_EQ(ask({{"token", token("not-the-key")}}), Errc::kTokenInvalid);
  EXPECT_EQ(ask(json::object()), Errc::kInvalidField);  // no credentials
  EXPECT_EQ(ask({{"token", token(app.app_key)}}), Errc::kMediaConnectionCreateFailed);
  hub_.OnMessage(c, json{{"type", "join"}, {"id", ++next_id_}, {"token", token(app.app_key)}}.dump());
  ASSERT_EQ(link->sent.back()["code"], 0);
  EXPECT_EQ(ask({{"token", token(app.app_key)}}), Errc::kAlreadyInChannel);
}

}  // namespace
}  // namespace parley::server

namespace parley::server {
namespace {

// setRemoteVideoStreamType: only in a channel, a type of the three, not for oneself,
// and at most 256 users with a type of their own (a client cannot grow the map without
// bound); the default and a user already named always go.
TEST_F(HubTest, RemoteVideoStreamTypesAreCheckedAndBounded) {
  App app = store_->Create("layers").value();
  auto [c, link] = Open();
  auto ask = [&, c = c, link = link](json body) { return Ask(c, *link, "setRemoteVideoStreamType", std::move(body)); };
  EXPECT_EQ(ask({{"streamType", "small"}}), Errc::kNotInChannel);
  hub_.OnMessage(c, json{{"type", "join"},
                         {"id", ++next_id_},
                         {"token", MintAccessToken({app.app_id, "room", "me", "", "", 4102444800, 0}, app.app_key)}}
                        .dump());
  ASSERT_EQ(link->sent.back()["code"], 0);
  EXPECT_EQ(ask({{"streamType", "small"}}), Errc::kOk);
  EXPECT_EQ(link->sent.back()["data"], (json{{"streamType", "small"}}));
  EXPECT_EQ(ask({{"streamType", "tiny"}}), Errc::kInvalidField);
  EXPECT_EQ(ask({{"streamType", "big"}, {"userId", "me"}}), Errc::kSubscribeConfigInvalid);
  for (int i = 0; i < 256; ++i)
    ASSERT_EQ(ask({{"streamType", "big"}, {"userId", "u" + std::to_string(i)}}), Errc::kOk) << i;
  EXPECT_EQ(ask({{"streamType", "big"}, {"userId", "one-too-many"}}), Errc::kInvalidField);
  EXPECT_EQ(ask({{"streamType", "auto"}, {"userId", "u7"}}), Errc::kOk) << "a user already named may change";
  EXPECT_EQ(ask({{"streamType", "auto"}}), Errc::kOk) << "so may the default";
}

// A data connection (issue #15) needs a channel and an offer; this hub has no media
// workers, so a good request is refused for that (worker_data_test.cpp relays).
TEST_F(HubTest, OpenDataNeedsAChannelAndAnOffer) {
  App app = store_->Create("data").value();
  auto [c, link] = Open();
  auto ask = [&, c = c, link = link](json body) { return Ask(c, *link, "openData", std::move(body)); };
  EXPECT_EQ(ask({{"sdp", "v=0\r\n"}}), Errc::kNotInChannel);
  hub_.OnMessage(c, json{{"type", "join"},
                         {"id", ++next_id_},
                         {"token", MintAccessToken({app.app_id, "room", "me", "", "", 4102444800, 0}, app.app_key)}}
                        .dump());
  ASSERT_EQ(link->sent.back()["code"], 0);
  EXPECT_EQ(ask(json::object()), Errc::kInvalidField);
  EXPECT_EQ(ask({{"sdp", 5}}), Errc::kInvalidField);
  EXPECT_EQ(ask({{"sdp", std::string(70000, 'x')}}), Errc::kMessageTooLarge);  // over the message bound first
  EXPECT_EQ(ask({{"sdp", "v=0\r\n"}}), Errc::kMediaConnectionCreateFailed);
}

}  // namespace
}  // namespace parley::server
