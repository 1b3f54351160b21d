// TURN credentials handed out with a join: the URL checks, the time-limited password
// (checked against a value computed apart, with `openssl dgst -sha1 -hmac`), and the
// join and resume answers that carry them.
#include "auth/turn_credentials.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "fake_link.hpp"
#include "metrics.hpp"
#include "parley/proto/token.hpp"
#include "signal/hub.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

TEST(TurnUrl, TheFormsClientsParseAreAccepted) {
  for (const char* ok : {"turn:turn.example.com", "turn:10.0.0.1:3478", "turn:10.0.0.1:3478?transport=udp",
                         "turn:10.0.0.1:3478?transport=tcp", "turns:turn.example.com:443?transport=tcp",
                         "stun:stun.example.com:19302", "turn:[::1]:3478", "turn:[2001:db8::1]"})
    EXPECT_TRUE(CheckIceServerUrl(ok)) << ok;
}

TEST(TurnUrl, AnythingElseIsRefusedWithTheReason) {
  for (const char* bad : {"", "turn:", "http://turn.example.com", "turn://turn.example.com:3478",
                          "turn:user:pass@turn.example.com", "turn:turn.example.com:", "turn:turn.example.com:0",
                          "turn:turn.example.com:65536", "turn:turn.example.com:34a8", "turn:host/path",
                          "turn:host?transport=sctp", "stun:host?transport=udp", "turn:[::1", "turn:[::1]x",
                          "turn:[zz::1]", "turn:ho st", "turn:host?", "stun:host?", "turn:host\r\nInjected: 1"}) {
    auto s = CheckIceServerUrl(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, Errc::kInvalidField);
    EXPECT_NE(s.error().message.find("ICE server URL"), std::string::npos) << s.error().message;
  }
}

TEST(TurnCredential, IsTheHmacSha1OfTheUsernameUnderTheSecret) {
  // printf '%s' 1800003600:alice | openssl dgst -sha1 -hmac a-secret-of-16-chars -binary | base64
  EXPECT_EQ(TurnPassword("a-secret-of-16-chars", "1800003600:alice"), "jvcPOqCOODGc5YMl6P4PifCs9vw=");
  auto servers = IceServers({"turn:10.0.0.1:3478?transport=udp", "stun:10.0.0.1:3478"}, "a-secret-of-16-chars", 3600,
                            "alice", 1'800'000'000);
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["urls"], json({"turn:10.0.0.1:3478?transport=udp", "stun:10.0.0.1:3478"}));
  EXPECT_EQ(servers[0]["username"], "1800003600:alice");
  EXPECT_EQ(servers[0]["credential"], "jvcPOqCOODGc5YMl6P4PifCs9vw=");
  // STUN alone needs no credential; no URL, no servers.
  EXPECT_FALSE(IceServers({"stun:10.0.0.1"}, "", 3600, "alice", 0)[0].contains("username"));
  EXPECT_TRUE(IceServers({}, "a-secret-of-16-chars", 3600, "alice", 0).empty());
}

TEST(TurnConfig, ATurnUrlNeedsASecretAndTheSecretFileIsRead) {
  unsetenv("PARLEY_TURN_SECRET");
  ServerConfig c;
  c.turn_urls = {"turn:10.0.0.1:3478"};
  EXPECT_FALSE(ResolveTurnSecret(c));
  auto path = testing::TempDir() + "turn-secret";
  { std::ofstream(path) << "a-secret-of-16-chars\n"; }
  c.turn_secret_file = path;
  ASSERT_TRUE(ResolveTurnSecret(c));
  EXPECT_EQ(c.turn_secret, "a-secret-of-16-chars");
  c.turn_urls = {"turn:10.0.0.1:3478?transport=quic"};
  EXPECT_FALSE(Validate(c));
  c.turn_urls = {"turn:10.0.0.1:3478"};
  c.turn_ttl_s = 10;
  EXPECT_FALSE(Validate(c));
}

TEST(TurnConfig, JoinAndResumeAnswersCarryFreshCredentials) {
  boost::asio::io_context io;
  ServerConfig config;
  config.turn_urls = {"turn:10.0.0.1:3478?transport=udp", "turns:10.0.0.1:5349?transport=tcp"};
  config.turn_secret = "a-secret-of-16-chars";
  config.turn_ttl_s = 600;
  Metrics metrics;
  auto store = AppStore::Open(":memory:").value();
  App app = store->Create("turn").value();
  SignalHub hub(io, config, *store, metrics);
  auto link = std::make_shared<FakeLink>();
  uint64_t c = hub.OnOpen(link, "127.0.0.1");
  const auto before = static_cast<int64_t>(std::time(nullptr));
  hub.OnMessage(c, json{{"type", "join"},
                        {"id", 1},
                        {"token", MintAccessToken({app.app_id, "room", "alice", "", "", 4102444800, 0}, app.app_key)}}
                       .dump());
  json joined = link->sent.back();
  ASSERT_EQ(joined["code"], 0) << joined.dump();
  json servers = joined["data"]["iceServers"];
  ASSERT_EQ(servers.size(), 1u) << joined.dump();
  EXPECT_EQ(servers[0]["urls"].size(), 2u);
  auto username = servers[0]["username"].get<std::string>();
  auto colon = username.find(':');
  ASSERT_NE(colon, std::string::npos);
  EXPECT_EQ(username.substr(colon + 1), "alice");
  int64_t expiry = std::stoll(username.substr(0, colon));
  EXPECT_GE(expiry, before + 600);
  EXPECT_LE(expiry, static_cast<int64_t>(std::time(nullptr)) + 600);
  EXPECT_EQ(servers[0]["credential"], TurnPassword(config.turn_secret, username));

  // The connection drops; a resume on a new one gets credentials again.
  std::string resume_token = joined["data"]["resumeToken"];
  hub.OnClose(c);
  auto link2 = std::make_shared<FakeLink>();
  uint64_t c2 = hub.OnOpen(link2, "127.0.0.1");
  hub.OnMessage(c2, json{{"type", "resume"}, {"id", 2}, {"resumeToken", resume_token}}.dump());
  json resumed = link2->sent.back();
  ASSERT_EQ(resumed["code"], 0) << resumed.dump();
  EXPECT_EQ(resumed["data"]["iceServers"][0]["credential"],
            TurnPassword(config.turn_secret, resumed["data"]["iceServers"][0]["username"].get<std::string>()));
  hub.Stop();
  io.poll();
}

}  // namespace
}  // namespace parley::server
