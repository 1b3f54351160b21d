// The subscribe side of a call against a fake call and a fake subscribe connection:
// the requests it sends, when it makes a new connection, and what it reports.
#include "call/subscribing.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace parley::sdk::call {
namespace {

using Json = nlohmann::json;

class FakeConnection : public media::SubscribeConnection {
 public:
  void ApplyOffer(const std::string& offer, std::function<void(Result<std::string>)> done) override {
    offers.push_back(offer);
    pending.push_back(std::move(done));
  }
  void CollectStats(std::function<void(media::RtpTotals)> done) override { done({}); }
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window) override {
    windows.push_back({user_id + "/" + std::string(Name(track)), window});
  }
  void SetPlayoutDelay(int) override {}  // the call's heartbeat decides it, not Subscribing
  /// Answers the oldest offer still waiting.
  void Answer(Result<std::string> answer) {
    auto done = std::move(pending.front());
    pending.pop_front();
    done(std::move(answer));
  }
  std::vector<std::string> offers;
  std::deque<std::function<void(Result<std::string>)>> pending;
  std::vector<std::pair<std::string, uint64_t>> windows;
};

class FakeCall : public Subscribing::Listener {
 public:
  [[nodiscard]] bool Live() const override { return live; }
  void Request(std::string_view type, Json body, Subscribing::Reply reply) override {
    body["type"] = std::string(type);
    sent.push_back(body);
    replies.push_back(std::move(reply));
  }
  void Error(int32_t code, const std::string&) override { errors.push_back(code); }
  media::IceSetup Ice(media::IceUse) override { return {}; }
  Result<std::unique_ptr<media::SubscribeConnection>> NewSubscribeConnection() override {
    if (fail_next) return MakeError(Errc::kMediaConnectionCreateFailed, "no media");
    auto c = std::make_unique<FakeConnection>();
    connections.push_back(c.get());
    return std::unique_ptr<media::SubscribeConnection>(std::move(c));
  }
  /// Replies to the oldest request still waiting.
  void Reply(int32_t code, const Json& data = Json()) {
    auto r = std::move(replies.front());
    replies.pop_front();
    r(code, code ? "failed" : "", data);
  }

  bool live = true;
  bool fail_next = false;
  std::vector<Json> sent;
  std::deque<Subscribing::Reply> replies;
  std::vector<int32_t> errors;
  std::vector<FakeConnection*> connections;
};

TEST(CallSubscribing, AnOfferMakesTheConnectionAndItsAnswerIsSent) {
  FakeCall call;
  Subscribing s(call);
  s.SetWindow("ann", TrackKind::kCamera, 7);  // before any connection: kept for it
  s.Subscribe("ann", {TrackKind::kCamera});
  ASSERT_EQ(call.sent.size(), 1U);
  EXPECT_EQ(call.sent[0], (Json{{"type", "subscribe"}, {"userId", "ann"}, {"tracks", {"camera"}}}));
  call.Reply(0, {{"sdp", "offer 1"}});
  ASSERT_EQ(call.connections.size(), 1U);
  FakeConnection& c = *call.connections[0];
  EXPECT_EQ(c.windows, (std::vector<std::pair<std::string, uint64_t>>{{"ann/camera", 7}}));
  EXPECT_EQ(c.offers, std::vector<std::string>{"offer 1"});
  c.Answer(std::string("answer 1"));
  ASSERT_EQ(call.sent.size(), 2U);
  EXPECT_EQ(call.sent[1], (Json{{"type", "subscribeAnswer"}, {"sdp", "answer 1"}}));
  // A later offer (a subscribeOffer notice) goes to the same connection.
  s.ApplyOffer("offer 2");
  EXPECT_EQ(call.connections.size(), 1U);
  EXPECT_EQ(c.offers.size(), 2U);
  call.Reply(static_cast<int32_t>(Errc::kTimeoutSubscribeAnswer));
  EXPECT_EQ(call.errors, std::vector<int32_t>{static_cast<int32_t>(Errc::kTimeoutSubscribeAnswer)});
  s.Unsubscribe("ann", {});
  EXPECT_EQ(call.sent.back(), (Json{{"type", "unsubscribe"}, {"userId", "ann"}}));
}

TEST(CallSubscribing, SubscribeAbortedSubscribesAgainOnANewConnection) {
  FakeCall call;
  Subscribing s(call);
  s.ApplyOffer("offer 1");
  ASSERT_EQ(call.connections.size(), 1U);
  auto still_answering = s.connection();  // as its answer may be on its way to the loop
  s.Aborted({"ann", "bob"});
  EXPECT_EQ(s.connection(), nullptr);
  ASSERT_EQ(call.sent.size(), 2U);
  EXPECT_EQ(call.sent[0]["userId"], "ann");
  EXPECT_EQ(call.sent[1]["userId"], "bob");
  // The dropped connection's late answer is no one's.
  call.connections[0]->Answer(std::string("late"));
  EXPECT_EQ(call.sent.size(), 2U);
  call.Reply(0, {{"sdp", "offer 2"}});
  EXPECT_EQ(call.connections.size(), 2U);
}

TEST(CallSubscribing, AMediaTimeoutIsReportedAndTheNextOfferGetsANewConnection) {
  FakeCall call;
  Subscribing s(call);
  s.ApplyOffer("offer 1");
  call.connections[0]->Answer(
      MakeError(Errc::kMediaConnectionCreateFailed, "webrtcbin did not answer set-remote-description within 5 s"));
  EXPECT_EQ(call.errors, std::vector<int32_t>{static_cast<int32_t>(Errc::kMediaConnectionCreateFailed)});
  EXPECT_EQ(s.connection(), nullptr);
  s.ApplyOffer("offer 2");
  ASSERT_EQ(call.connections.size(), 2U);
  // Any other failure keeps the connection and reports that the stream did not start.
  call.connections[1]->Answer(MakeError(Errc::kMediaConnectionCreateFailed, "bad sdp"));
  EXPECT_EQ(call.errors.back(), static_cast<int32_t>(Errc::kSubscribeStreamStartError));
  EXPECT_NE(s.connection(), nullptr);
  EXPECT_TRUE(call.sent.empty());
}

TEST(CallSubscribing, NothingIsSentOutsideALiveCallAndAFailedConnectionIsReported) {
  FakeCall call;
  Subscribing s(call);
  call.live = false;
  s.Subscribe("ann");
  s.Unsubscribe("ann", {});
  s.ApplyOffer("offer");
  EXPECT_TRUE(call.sent.empty());
  EXPECT_TRUE(call.connections.empty());
  call.live = true;
  call.fail_next = true;
  s.ApplyOffer("offer");
  EXPECT_EQ(call.errors, std::vector<int32_t>{static_cast<int32_t>(Errc::kMediaConnectionCreateFailed)});
  EXPECT_EQ(s.connection(), nullptr);
}

}  // namespace
}  // namespace parley::sdk::call
