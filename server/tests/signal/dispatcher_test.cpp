#include "signal/dispatcher.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "fake_link.hpp"

namespace parley::server {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// A dispatcher on a clock the test moves, with a heartbeat monitor that records the
// connections it finds silent.
class DispatcherTest : public ::testing::Test, public Dispatcher::Listener, public HeartbeatMonitor::Listener {
 protected:
  void OnConnectionClosed(Conn& c) override { closed.push_back(c.id); }
  void OnSilent(uint64_t conn_id) override { silent.insert(conn_id); }

  std::shared_ptr<FakeLink> Open(uint64_t id) {
    auto link = std::make_shared<FakeLink>();
    dispatcher_.Open(id, link, "127.0.0.1");
    return link;
  }

  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
  Metrics metrics_;
  Responder out_{metrics_};
  HeartbeatMonitor heartbeat_{milliseconds(1000), *this};
  Dispatcher dispatcher_{1024, metrics_, out_, heartbeat_, *this, [this] { return now_; }};
  std::vector<uint64_t> closed;
  std::set<uint64_t> silent;  // the monitor reports in no particular order
};

TEST_F(DispatcherTest, UnknownTypeIsRefusedAndCounted) {
  auto link = Open(1);
  int handled = 0;
  dispatcher_.Register("ping", [&](Conn&, const ClientMessage&) { ++handled; });
  dispatcher_.Message(1, R"({"type":"teleport","id":4})");
  ASSERT_EQ(link->sent.size(), 1u);
  EXPECT_EQ(link->sent[0]["code"], static_cast<int32_t>(Errc::kUnknownMessageType));
  EXPECT_EQ(link->sent[0]["id"], 4);
  EXPECT_EQ(link->sent[0]["request"], "teleport");
  EXPECT_EQ(link->sent[0]["message"], "unknown message type 'teleport'");
  EXPECT_EQ(metrics_.bad_messages_total, 1u);
  EXPECT_EQ(metrics_.messages_in_total, 1u);
  EXPECT_EQ(metrics_.messages_out_total, 1u);
  // A test handler is only known once registered.
  dispatcher_.Message(1, R"({"type":"boom","id":5})");
  EXPECT_EQ(metrics_.bad_messages_total, 2u);
  dispatcher_.RegisterForTesting("boom", [&](const json& body) { handled += body["n"].get<int>(); });
  dispatcher_.Message(1, R"({"type":"boom","id":6,"n":10})");
  dispatcher_.Message(1, R"({"type":"ping","id":7})");
  EXPECT_EQ(handled, 11);
  EXPECT_EQ(metrics_.bad_messages_total, 2u);
  // A message for a connection that is gone is dropped.
  dispatcher_.Message(99, R"({"type":"ping","id":8})");
  EXPECT_EQ(handled, 11);
  EXPECT_EQ(metrics_.messages_in_total, 4u);
}

TEST_F(DispatcherTest, MalformedTextAnswersWithTheIdWhenReadable) {
  auto link = Open(1);
  dispatcher_.Message(1, R"({"id":12,"type":7})");
  dispatcher_.Message(1, "not json");
  dispatcher_.Message(1, std::string(2000, ' '));
  ASSERT_EQ(link->sent.size(), 3u);
  EXPECT_EQ(link->sent[0]["id"], 12);
  EXPECT_EQ(link->sent[0]["request"], "");
  EXPECT_EQ(link->sent[0]["code"], static_cast<int32_t>(Errc::kInvalidField));
  EXPECT_TRUE(link->sent[1]["id"].is_null());
  EXPECT_EQ(link->sent[1]["code"], static_cast<int32_t>(Errc::kMalformedMessage));
  EXPECT_EQ(link->sent[2]["code"], static_cast<int32_t>(Errc::kMessageTooLarge));  // over the 1024 given
  EXPECT_EQ(metrics_.bad_messages_total, 3u);
  EXPECT_FALSE(link->closed);
}

TEST_F(DispatcherTest, AThrowingHandlerClosesOnlyItsConnection) {
  auto bad = Open(1);
  auto good = Open(2);
  dispatcher_.Register("explode", [](Conn&, const ClientMessage&) { throw std::runtime_error("rule broke"); });
  dispatcher_.Register("odd", [](Conn&, const ClientMessage&) { throw 42; });
  dispatcher_.Register("ping", [&](Conn& c, const ClientMessage& m) { out_.Reply(c, m, Errc::kOk, "pong"); });
  dispatcher_.Message(1, R"({"type":"explode","id":1})");
  ASSERT_EQ(bad->sent.size(), 1u);
  EXPECT_EQ(bad->sent[0]["code"], static_cast<int32_t>(Errc::kInternalError));
  EXPECT_EQ(bad->sent[0]["message"], "internal error while handling 'explode'");
  EXPECT_TRUE(bad->closed);
  dispatcher_.Message(2, R"({"type":"odd","id":2})");
  EXPECT_TRUE(good->closed);
  EXPECT_EQ(metrics_.signal_handler_exceptions_total, 2u);
  // Closing is the transport's job: both connections stay until it reports them gone,
  // and the listener hears of each once.
  auto third = Open(3);
  dispatcher_.Message(3, R"({"type":"ping","id":3})");
  EXPECT_FALSE(third->closed);
  EXPECT_EQ(third->sent[0]["code"], 0);
  dispatcher_.Close(1);
  dispatcher_.Close(1);
  EXPECT_EQ(closed, (std::vector<uint64_t>{1}));
  EXPECT_EQ(dispatcher_.size(), 2u);
  EXPECT_EQ(metrics_.ws_open, 2u);
  EXPECT_EQ(metrics_.ws_connections_total, 3u);
}

TEST_F(DispatcherTest, EveryMessageRefreshesLastSeen) {
  Open(1);
  Open(2);
  now_ += milliseconds(800);
  dispatcher_.Message(1, "not json");  // refused, but still a sign of life
  now_ += milliseconds(400);
  heartbeat_.Tick(now_);
  EXPECT_EQ(silent, (std::set<uint64_t>{2}));
  silent.clear();
  heartbeat_.Tick(now_ + milliseconds(600));   // exactly the limit after the message: alive
  EXPECT_EQ(silent, (std::set<uint64_t>{2}));  // (the silent one is reported on every tick)
  silent.clear();
  heartbeat_.Tick(now_ + milliseconds(601));
  EXPECT_EQ(silent, (std::set<uint64_t>{1, 2}));
  // A closed connection is forgotten.
  dispatcher_.Close(2);
  silent.clear();
  heartbeat_.Tick(now_ + milliseconds(5000));
  EXPECT_EQ(silent, (std::set<uint64_t>{1}));
}

}  // namespace
}  // namespace parley::server
