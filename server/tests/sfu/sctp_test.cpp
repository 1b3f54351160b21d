// SctpAssociation (usrsctp) back to back in one process: two associations whose packets
// are carried by the test (with loss where asked), as DTLS would carry them. Messages
// of every size up to the bound arrive whole and in order on reliable streams; DCEP
// opens are acknowledged; bounds drop what exceeds them.
#include "sfu/sctp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <random>
#include <thread>

namespace parley::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

// Two associations and the wire between them: each side's packets wait in a queue
// until Pump carries them (dropping `loss` of them), so no call re-enters another.
class Pair {
 public:
  explicit Pair(double loss = 0, SctpAssociation::Limits b_limits = {})
      : a_(5000, 5000, [this](std::span<const uint8_t> p) { to_b_.emplace_back(p.begin(), p.end()); }),
        b_(
            5000, 5000, [this](std::span<const uint8_t> p) { to_a_.emplace_back(p.begin(), p.end()); }, b_limits),
        loss_(loss) {}

  SctpAssociation& a() { return a_; }
  SctpAssociation& b() { return b_; }

  // Carries packets both ways and runs SCTP's timers until `done` or `ms` passed.
  template <typename Done>
  bool PumpUntil(Done done, int ms = 5000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      bool moved = Carry(to_b_, b_) | Carry(to_a_, a_);
      SctpStack::Tick();
      a_.Flush();
      b_.Flush();
      Collect();
      if (done()) return true;
      if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return done();
  }

  std::vector<SctpMessage> got_a, got_b;
  bool collect_b = true;  ///< false: b's messages stay queued in b

 private:
  bool Carry(std::deque<Bytes>& q, SctpAssociation& to) {
    bool moved = false;
    while (!q.empty()) {
      Bytes p = std::move(q.front());
      q.pop_front();
      moved = true;
      if (loss_ > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < loss_) continue;
      to.Input(p);
    }
    return moved;
  }
  void Collect() {
    for (auto& m : a_.TakeMessages()) got_a.push_back(std::move(m));
    if (collect_b)
      for (auto& m : b_.TakeMessages()) got_b.push_back(std::move(m));
  }

  std::deque<Bytes> to_a_, to_b_;
  SctpAssociation a_, b_;
  double loss_;
  std::mt19937 rng_{7};
};

Bytes Text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

bool Open(Pair& p) {
  if (!p.a().Start() || !p.b().Start()) return false;
  return p.PumpUntil(
      [&] { return p.a().state() == SctpAssociation::State::kOpen && p.b().state() == SctpAssociation::State::kOpen; });
}

TEST(Sctp, TwoAssociationsOpenAndExchangeMessagesOfEverySize) {
  Pair p;
  ASSERT_TRUE(Open(p));
  EXPECT_GE(SctpStack::associations(), 2u);
  std::vector<Bytes> sent;
  for (size_t size : {size_t{1}, size_t{100}, size_t{1190}, size_t{1191}, size_t{5000}, size_t{64 * 1024}}) {
    Bytes m(size);
    for (size_t i = 0; i < size; ++i) m[i] = static_cast<uint8_t>(i * 7 + size);
    ASSERT_TRUE(p.a().Send(0, kPpidBinary, m, {}));
    sent.push_back(std::move(m));
  }
  ASSERT_TRUE(p.a().Send(0, kPpidString, Text("hello"), {}));
  ASSERT_TRUE(p.a().Send(0, kPpidString, {}, {}));  // empty: one byte under PPID 56 on the wire
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_b.size() == sent.size() + 2; }));
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(p.got_b[i].ppid, kPpidBinary);
    EXPECT_EQ(p.got_b[i].data, sent[i]) << "message " << i;
  }
  EXPECT_EQ(p.got_b[sent.size()].data, Text("hello"));
  EXPECT_EQ(p.got_b[sent.size()].ppid, kPpidString);
  EXPECT_TRUE(p.got_b.back().data.empty());
  EXPECT_EQ(p.got_b.back().ppid, kPpidString);
  // And back the other way, on another stream.
  ASSERT_TRUE(p.b().Send(3, kPpidString, Text("pong"), {.ordered = false, .reliable = false}));
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_a.size() == 1; }));
  EXPECT_EQ(p.got_a[0].stream, 3);
  EXPECT_EQ(p.got_a[0].data, Text("pong"));
}

TEST(Sctp, ReliableOrderedMessagesSurviveLossInOrder) {
  Pair p(0.1);  // a tenth of the packets, both ways, handshake included
  ASSERT_TRUE(Open(p));
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    Bytes m = Text("message " + std::to_string(i));
    m.resize(300 + static_cast<size_t>(i) * 10, '.');
    ASSERT_TRUE(p.a().Send(0, kPpidString, m, {}));
  }
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_b.size() == kCount; }, 20000)) << p.got_b.size();
  for (int i = 0; i < kCount; ++i) {
    const Bytes& got = p.got_b[static_cast<size_t>(i)].data;
    std::string want = "message " + std::to_string(i);
    ASSERT_EQ(got.size(), 300 + static_cast<size_t>(i) * 10) << i;
    EXPECT_EQ(std::string(got.begin(), got.begin() + static_cast<long>(want.size())), want);
  }
}

TEST(Sctp, UnreliableMessagesAreNotRetransmitted) {
  Pair p(0.3);
  ASSERT_TRUE(Open(p));
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(p.a().Send(2, kPpidBinary, Bytes(200, 1), {.reliable = false}));
  // Long enough for every retransmission a reliable message would get: the lost stay lost.
  p.PumpUntil([] { return false; }, 4000);
  EXPECT_LT(p.got_b.size(), static_cast<size_t>(kCount));
  EXPECT_GT(p.got_b.size(), 0u);
}

TEST(Sctp, DcepOpenIsAcknowledgedAndBoundsDropWhatExceedsThem) {
  SctpAssociation::Limits small;
  small.max_message = 1000;
  small.max_queued_messages = 4;
  Pair p(0, small);
  ASSERT_TRUE(Open(p));
  // RFC 8832 DATA_CHANNEL_OPEN: type 3, reliable channel, priority, label "chat".
  Bytes open = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 'c', 'h', 'a', 't'};
  ASSERT_TRUE(p.a().Send(8, kPpidDcep, open, {}));
  ASSERT_TRUE(p.a().Send(8, kPpidString, Text("after open"), {}));
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_b.size() == 1; }));
  EXPECT_EQ(p.b().dcep_opens(), 1u);
  EXPECT_EQ(p.got_b[0].data, Text("after open"));  // the OPEN itself is not a message
  // Over b's size bound: read to its end and dropped.
  ASSERT_TRUE(p.a().Send(0, kPpidBinary, Bytes(5000, 2), {}));
  ASSERT_TRUE(p.a().Send(0, kPpidBinary, Bytes(10, 3), {}));
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_b.size() == 2; }));
  EXPECT_EQ(p.got_b[1].data, Bytes(10, 3));
  EXPECT_EQ(p.b().dropped(), 1u);
  // A PPID data channels do not use is dropped.
  ASSERT_TRUE(p.a().Send(0, 99, Text("x"), {}));
  ASSERT_TRUE(p.a().Send(0, kPpidString, Text("y"), {}));
  ASSERT_TRUE(p.PumpUntil([&] { return p.got_b.size() == 3; }));
  EXPECT_EQ(p.b().dropped(), 2u);
  // The queue bound: while b's owner takes nothing, the fifth message on is dropped.
  p.collect_b = false;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(p.a().Send(0, kPpidString, Text("q"), {}));
  ASSERT_TRUE(p.PumpUntil([&] { return p.b().dropped() == 4u; }));
  EXPECT_EQ(p.b().TakeMessages().size(), 4u);
}

TEST(Sctp, SendingBeforeOpenOrTooLargeIsRefused) {
  Pair p;
  EXPECT_FALSE(p.a().Send(0, kPpidString, Text("early"), {}));
  ASSERT_TRUE(Open(p));
  EXPECT_FALSE(p.a().Send(0, kPpidBinary, Bytes(p.a().limits().max_message + 1, 0), {}));
  EXPECT_TRUE(p.a().Send(0, kPpidBinary, Bytes(p.a().limits().max_message, 0), {}));
}

}  // namespace
}  // namespace parley::sfu
