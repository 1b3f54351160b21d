// Data messages through a real media worker over UDP on 127.0.0.1: clients that did
// ICE, the DTLS handshake and opened SCTP over it (as a browser's data channel does)
// send Parley envelopes; the worker relays each to the channel, or to the one user it
// names, with the sender's id, the way it came (stream), and drops what is malformed,
// addressed to nobody or over the sender's rate, counting each.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "data_peer.hpp"
#include "on_worker.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {
namespace {

using test_peer::DataPeer;

std::string Text(const SctpMessage& m) {
  return std::string(m.data.begin(), m.data.end());
}

class WorkerData : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = *DtlsCertificate::Generate();
    worker_ = *MediaWorker::Create("127.0.0.1", 0, cert_);
    worker_->Start();
  }
  void TearDown() override {
    peers_.clear();
    worker_->Stop();
  }

  // A member `user` of route table `channel` with data connection `id`, connected.
  DataPeer& Join(uint64_t id, uint64_t channel, const std::string& user) {
    auto peer = std::make_unique<DataPeer>(worker_->port());
    TransportParams params{"u" + std::to_string(id), "password-of-the-server-" + std::to_string(id), "c",
                           peer->fingerprint()};
    params.sctp_port = kSctpPort;
    OnWorker(*worker_, [&] {
      worker_->AddTransport(id, params, channel);
      worker_->AddDataMember(id, channel, user);
      return 0;
    });
    EXPECT_TRUE(peer->Connect(params.local_ufrag + ":c", params.local_pwd, cert_->fingerprint())) << user;
    peers_.push_back(std::move(peer));
    return *peers_.back();
  }
  // Steps every client (a sender's SCTP goes on only as it reads its acknowledgements)
  // until `done` or `ms` passed.
  template <typename Done>
  bool Until(Done done, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < end)
      for (auto& p : peers_) p->Step(1);
    return done();
  }
  DataRelayCounters Counters() {
    return OnWorker(*worker_, [&] { return worker_->data_counters(); });
  }

  std::shared_ptr<DtlsCertificate> cert_;
  std::unique_ptr<MediaWorker> worker_;
  std::vector<std::unique_ptr<DataPeer>> peers_;
};

TEST_F(WorkerData, MessagesReachTheChannelOrTheOneUserNamedWithTheSendersId) {
  DataPeer& alice = Join(1, 7, "alice");
  DataPeer& bob = Join(2, 7, "bob");
  DataPeer& carol = Join(3, 7, "carol");
  DataPeer& dave = Join(4, 8, "dave");  // another channel
  ASSERT_TRUE(alice.SendTo("", "hello everyone"));
  ASSERT_TRUE(bob.PumpUntil([&] { return !bob.got.empty(); }, 3000));
  ASSERT_TRUE(carol.PumpUntil([&] { return !carol.got.empty(); }, 3000));
  EXPECT_EQ(Text(bob.got[0]), std::string("alice:hello everyone"));
  EXPECT_EQ(bob.got[0].ppid, kPpidString);
  EXPECT_EQ(bob.got[0].stream, 0);
  EXPECT_EQ(Text(carol.got[0]), Text(bob.got[0]));
  // To one user, binary, on the unordered reliable stream.
  ASSERT_TRUE(alice.SendTo("bob", "psst", 1, kPpidBinary));
  ASSERT_TRUE(bob.PumpUntil([&] { return bob.got.size() == 2; }, 3000));
  EXPECT_EQ(Text(bob.got[1]), std::string("alice:psst"));
  EXPECT_EQ(bob.got[1].ppid, kPpidBinary);
  EXPECT_EQ(bob.got[1].stream, 1);
  // Carol did not get bob's message, the sender gets no copy, and the other channel nothing.
  carol.Pump(200);
  alice.Pump(50);
  dave.Pump(50);
  EXPECT_EQ(carol.got.size(), 1u);
  EXPECT_TRUE(alice.got.empty());
  EXPECT_TRUE(dave.got.empty());
  // A payload of the largest size goes through whole.
  std::string big(kMaxDataPayload, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(carol.SendTo("alice", big, 0, kPpidBinary));
  ASSERT_TRUE(Until([&] { return !alice.got.empty(); }, 10000));
  EXPECT_EQ(Text(alice.got[0]), "carol:" + big);
  auto c = Counters();
  EXPECT_EQ(c.relayed, 3u);
  EXPECT_EQ(c.delivered, 4u);
}

TEST_F(WorkerData, MalformedUnaddressableAndTooFastMessagesAreDroppedAndCounted) {
  DataPeer& alice = Join(1, 7, "alice");
  DataPeer& bob = Join(2, 7, "bob");
  ASSERT_TRUE(alice.SendRaw({'n', 'o', 'c', 'o', 'l', 'o', 'n'}));                       // no envelope
  ASSERT_TRUE(alice.SendRaw({'b', 'a', 'd', ' ', 'i', 'd', ':', 'x'}));                  // not an id
  ASSERT_TRUE(alice.SendTo("", "on a stream that is not Parley's", 9));                  // stream 9
  ASSERT_TRUE(alice.SendTo("nobody", "to a user without a data connection"));            // no recipient
  ASSERT_TRUE(alice.SendTo("", std::string(kMaxDataPayload + 1, 'x'), 0, kPpidBinary));  // too large
  ASSERT_TRUE(Until([&] { return Counters().malformed == 4 && Counters().no_recipient == 1; }, 10000));
  bob.Pump(100);
  EXPECT_TRUE(bob.got.empty());
  // A burst beyond the message rate: the bucket lets one second's worth through.
  int accepted = 0;
  for (uint32_t i = 0; i < kDataMessagesPerSecond + 100; ++i) accepted += alice.SendTo("", "burst") ? 1 : 0;
  ASSERT_EQ(accepted, static_cast<int>(kDataMessagesPerSecond + 100));
  ASSERT_TRUE(
      Until([&] { return Counters().relayed + Counters().rate_limited >= kDataMessagesPerSecond + 100; }, 10000));
  auto c = Counters();
  // One second's worth, plus what refilled while the burst was under way.
  EXPECT_GT(c.rate_limited, 0u);
  EXPECT_GE(c.relayed, kDataMessagesPerSecond);
  EXPECT_EQ(c.relayed + c.rate_limited, kDataMessagesPerSecond + 100u);
  // The server stays up and relays again once the rate allows.
  Until([] { return false; }, 1100);  // the rest of the burst arrives; the bucket refills
  bob.got.clear();
  ASSERT_TRUE(alice.SendTo("bob", "later"));
  ASSERT_TRUE(Until([&] { return !bob.got.empty(); }, 3000));
  EXPECT_EQ(Text(bob.got.back()), std::string("alice:later"));
}

TEST_F(WorkerData, AUsersNewDataConnectionReplacesTheOldAndARemovedOneGetsNothing) {
  DataPeer& alice = Join(1, 7, "alice");
  DataPeer& old_bob = Join(2, 7, "bob");
  DataPeer& bob = Join(3, 7, "bob");  // bob reconnected
  ASSERT_TRUE(alice.SendTo("bob", "which bob?"));
  ASSERT_TRUE(bob.PumpUntil([&] { return !bob.got.empty(); }, 3000));
  old_bob.Pump(100);
  EXPECT_TRUE(old_bob.got.empty());
  OnWorker(*worker_, [&] {
    worker_->RemoveTransport(3);
    return 0;
  });
  ASSERT_TRUE(alice.SendTo("bob", "gone"));
  alice.PumpUntil([&] { return Counters().no_recipient == 1; }, 2000);
  EXPECT_EQ(Counters().no_recipient, 1u);
}

}  // namespace
}  // namespace parley::sfu
