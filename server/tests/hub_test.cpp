// The signalling hub without sockets: connections are fakes that record what the hub
// sends, so the dispatcher's guarantees are tested directly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "parley/proto/token.hpp"
#include "signal/hub.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

class FakeLink final : public SignalConnection {
 public:
  void Send(std::string text) override { sent.push_back(json::parse(text)); }
  void Close() override { closed = true; }
  std::vector<json> sent;
  bool closed = false;
};

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

  boost::asio::io_context io_;
  ServerConfig config_;
  Metrics metrics_;
  std::unique_ptr<AppStore> store_;
  SignalHub hub_;
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

}  // namespace
}  // namespace parley::server
