// Data messages on the native side (call/data_messages.hpp) over the fake media: the
// connection opens through openData, messages are checked and enveloped before they are
// sent, what arrives is taken apart, and a failure is told and reopened.
#include "call/data_messages.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <boost/asio/post.hpp>
#include <set>

#include "fake_media.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::call {
namespace {

using namespace std::chrono_literals;

int32_t C(Errc e) {
  return static_cast<int32_t>(e);
}

struct TestHost final : DataMessages::Host {
  explicit TestHost(boost::asio::io_context& loop) : io(loop) {}
  void AskOpenData(const std::string& offer,
                   std::function<void(int32_t, const std::string&, const std::string&)> reply) override {
    offers.push_back(offer);
    boost::asio::post(io, [this, reply = std::move(reply)] { reply(refuse, refuse ? "refused" : "", "answer"); });
  }
  void PostToEngine(std::function<void()> fn) override { boost::asio::post(io, std::move(fn)); }
  void DataMessage(const std::string& from, const std::vector<uint8_t>& data, const DataMessageOptions& o) override {
    received.push_back(from + "|" + std::string(data.begin(), data.end()) + "|" + (o.text ? "t" : "b") +
                       (o.reliable ? "r" : "u") + (o.ordered ? "o" : "x"));
  }
  void DataState(DataChannelState s) override { states.push_back(s); }
  void DataError(int32_t code, const std::string&) override { errors.push_back(code); }
  [[nodiscard]] bool IsMember(const std::string& user) const override { return members.count(user) > 0; }
  [[nodiscard]] bool InCall() const override { return in_call; }
  media::IceSetup Ice(media::IceUse) override { return {}; }

  boost::asio::io_context& io;
  int32_t refuse = 0;
  bool in_call = true;
  std::set<std::string> members{"bob"};
  std::vector<std::string> offers, received;
  std::vector<DataChannelState> states;
  std::vector<int32_t> errors;
};

class DataMessagesTest : public ::testing::Test {
 protected:
  DataMessagesTest() : media_(io_), host_(io_), data_(host_, media_, io_) {}
  void Run() {
    io_.restart();
    io_.poll();
  }
  /// Enables and opens the connection (the fake says its channels opened).
  void Open() {
    data_.Enable(true);
    Run();
    ASSERT_FALSE(media_.datas.empty());
    media_.datas.back()->callbacks.state(true);
    Run();
    ASSERT_EQ(data_.state(), DataChannelState::kOpen);
  }
  int32_t Send(const std::string& to, const std::string& s, DataMessageOptions o = {}) {
    return data_.Send(to, s.data(), s.size(), o);
  }

  boost::asio::io_context io_;
  testing::FakeMedia media_;
  TestHost host_;
  DataMessages data_;
};

TEST_F(DataMessagesTest, EnablingInACallOpensTheConnectionThroughOpenData) {
  Open();
  EXPECT_EQ(host_.offers, std::vector<std::string>{"data offer 1"});
  EXPECT_EQ(media_.datas[0]->answers, std::vector<std::string>{"answer"});
  EXPECT_EQ(host_.states, (std::vector<DataChannelState>{DataChannelState::kConnecting, DataChannelState::kOpen}));
  data_.Enable(false);
  EXPECT_FALSE(media_.datas[0]->alive);
  EXPECT_EQ(host_.states.back(), DataChannelState::kClosed);
}

TEST_F(DataMessagesTest, NotInACallItOpensAtTheJoinAndClosesWhenTheCallEnds) {
  host_.in_call = false;
  data_.Enable(true);
  Run();
  EXPECT_TRUE(media_.datas.empty());
  host_.in_call = true;
  data_.Joined();
  Run();
  ASSERT_EQ(media_.datas.size(), 1u);
  data_.Ended();
  EXPECT_FALSE(media_.datas[0]->alive);
}

TEST_F(DataMessagesTest, MessagesAreEnvelopedOnTheChannelOfTheirDelivery) {
  Open();
  EXPECT_EQ(Send("", "hello", {true, true, true}), 0);
  EXPECT_EQ(Send("bob", "x", {false, false, false}), 0);
  EXPECT_EQ(Send("", "y", {false, true, false}), 0);
  EXPECT_EQ(Send("", "z", {false, false, true}), 0);
  const auto& sent = media_.datas[0]->sent;
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].channel, 0);
  EXPECT_TRUE(sent[0].text);
  EXPECT_EQ(sent[0].envelope, ":hello");
  EXPECT_EQ(sent[1].channel, 3);
  EXPECT_EQ(sent[1].envelope, "bob:x");
  EXPECT_EQ(sent[2].channel, 1);
  EXPECT_EQ(sent[3].channel, 2);
}

TEST_F(DataMessagesTest, WhatCannotBeSentIsRefusedWithItsCode) {
  EXPECT_EQ(Send("", "early"), C(Errc::kDataChannelNotOpen));
  const auto opened = std::chrono::steady_clock::now();
  Open();
  EXPECT_EQ(Send("", std::string(64 * 1024 + 1, 'a')), C(Errc::kDataMessageTooLarge));
  EXPECT_EQ(Send("", std::string(64 * 1024, 'a')), 0);
  EXPECT_EQ(Send("carol", "hi"), C(Errc::kDataUserNotInChannel));
  DataMessageOptions text;
  text.text = true;
  EXPECT_EQ(Send("", std::string("a\0b", 3), text), C(Errc::kInvalidField));
  EXPECT_EQ(Send("", "\xff\xfe", text), C(Errc::kInvalidField));
  EXPECT_EQ(Send("", "\xff\xfe"), 0);  // bytes may be anything
  // 256 messages a second, with a second saved up: the burst runs out. (The bucket
  // fills as time passes: a slow run, under a sanitizer, earns a token per 4 ms.)
  int sent = 0, refused = 0;
  for (int i = 0; i < 400; ++i) (Send("", "m") == 0 ? sent : refused)++;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
  EXPECT_GE(sent, 250);
  EXPECT_LE(sent, 256 + static_cast<int>(elapsed * 256) + 1);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(Send("", "m"), C(Errc::kDataMessageRateLimited));
}

TEST_F(DataMessagesTest, ArrivingEnvelopesNameTheSenderAndTheWayTheyCame) {
  Open();
  auto& cb = media_.datas[0]->callbacks;
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  cb.message(0, true, bytes("alice:hi: there"));
  cb.message(3, false, bytes("bob:"));
  cb.message(1, false, bytes("no separator"));  // not an envelope: dropped
  Run();
  EXPECT_EQ(host_.received, (std::vector<std::string>{"alice|hi: there|tro", "bob||bux"}));
}

TEST_F(DataMessagesTest, AFailureIsToldAndTheConnectionReopens) {
  Open();
  media_.datas[0]->callbacks.state(false);
  Run();
  EXPECT_EQ(host_.errors, std::vector<int32_t>{C(Errc::kDataChannelFailed)});
  EXPECT_EQ(host_.states.back(), DataChannelState::kFailed);
  EXPECT_FALSE(media_.datas[0]->alive);
  EXPECT_EQ(Send("", "x"), C(Errc::kDataChannelNotOpen));
  // 2 s later it opens again.
  io_.restart();
  io_.run_for(2500ms);
  ASSERT_EQ(media_.datas.size(), 2u);
  EXPECT_EQ(host_.offers.size(), 2u);
  // A refused openData fails it too (and a connection that never opens, after 10 s).
  host_.refuse = C(Errc::kInvalidField);
  data_.Enable(false);
  data_.Enable(true);
  Run();
  EXPECT_EQ(host_.errors.size(), 2u);
  EXPECT_EQ(host_.states.back(), DataChannelState::kFailed);
}

TEST_F(DataMessagesTest, AConnectionThatCannotBeMadeFails) {
  media_.data_error = Error{Errc::kMediaConnectionCreateFailed, "no webrtcbin"};
  data_.Enable(true);
  Run();
  EXPECT_EQ(host_.errors, std::vector<int32_t>{C(Errc::kDataChannelFailed)});
  EXPECT_EQ(data_.state(), DataChannelState::kFailed);
}

}  // namespace
}  // namespace parley::sdk::call
