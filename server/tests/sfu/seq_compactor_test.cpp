// Forwarded sequence numbers without a publisher's padding-only packets: what follows
// padding continues the numbers, reordered and retransmitted media keep their place,
// late padding stays a gap rather than giving two packets one number, old padding
// folds into one offset, and a new SSRC starts over. Through PublisherTracks: padding
// is received (no loss, no NACK) and the packets after it are renumbered and kept in
// the retransmission buffer under the numbers subscribers see.
#include "sfu/seq_compactor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "sfu/publisher_tracks.hpp"

namespace parley::sfu {
namespace {

TEST(SeqCompactor, NumbersPassThroughUntilPaddingComes) {
  SeqCompactor c;
  for (uint16_t s : std::vector<uint16_t>{65530, 65535, 0, 3}) EXPECT_EQ(c.Map(s), s);
  EXPECT_FALSE(c.active());
}

TEST(SeqCompactor, MediaAfterPaddingContinuesWithoutAGap) {
  SeqCompactor c;
  EXPECT_EQ(c.Map(100), 100);
  EXPECT_EQ(c.Map(101), 101);
  for (uint16_t s = 102; s < 112; ++s) c.Remove(s);  // ten padding packets
  EXPECT_EQ(c.Map(112), 102);
  EXPECT_EQ(c.Map(113), 103);
  c.Remove(114);
  EXPECT_EQ(c.Map(115), 104);
}

TEST(SeqCompactor, ReorderedAndRetransmittedMediaKeepTheirPlace) {
  SeqCompactor c;
  EXPECT_EQ(c.Map(10), 10);
  c.Remove(11);
  EXPECT_EQ(c.Map(13), 12);
  EXPECT_EQ(c.Map(12), 11) << "12 arrives late: after 11 (removed), before 13";
  EXPECT_EQ(c.Map(12), 11) << "the same number as often as it comes (a retransmission)";
}

TEST(SeqCompactor, MediaNumbersStayDistinctAndConsecutiveAcrossWrapAndReordering) {
  // Padding in bursts between media (i % 7 == 3 and i % 11 == 0); media that follow each
  // other directly arrive swapped in pairs (a reordering network); numbers wrap.
  auto padding = [](int i) { return i % 7 == 3 || i % 11 == 0; };
  std::vector<uint16_t> order;  // media numbers in arrival order; 0 marks a padding slot
  for (int i = 0; i < 1500; ++i) {
    uint16_t s = static_cast<uint16_t>(65000 + i);
    if (padding(i)) continue;
    if (!order.empty() && i % 4 == 1 && !padding(i - 1) && i > 0) std::swap(s, order.back());
    order.push_back(s);
  }
  SeqCompactor c;
  std::set<uint16_t> out;
  size_t next = 0;
  for (int i = 0; i < 1500; ++i) {
    if (padding(i)) {
      c.Remove(static_cast<uint16_t>(65000 + i));
      continue;
    }
    auto m = c.Map(order[next++]);
    ASSERT_TRUE(m);
    EXPECT_TRUE(out.insert(static_cast<uint16_t>(*m - 60000)).second) << "two packets numbered " << *m;
  }
  ASSERT_EQ(out.size(), order.size());
  EXPECT_EQ(*out.rbegin() - *out.begin() + 1u, order.size()) << "no holes";
}

TEST(SeqCompactor, LatePaddingStaysAGapRatherThanRenumberingWhatWentOut) {
  SeqCompactor c;
  EXPECT_EQ(c.Map(10), 10);
  EXPECT_EQ(c.Map(12), 12);
  c.Remove(11);  // after 12 went out as 12
  EXPECT_EQ(c.Map(13), 13) << "13 must not take 12's number";
  EXPECT_FALSE(c.active());
}

TEST(SeqCompactor, PaddingOutOfOrderAmongItselfIsStillTakenOut) {
  SeqCompactor c;
  EXPECT_EQ(c.Map(10), 10);
  c.Remove(13);
  c.Remove(11);  // before 13, but after the newest media: no number went out past it
  c.Remove(12);
  c.Remove(12);  // twice is once
  EXPECT_EQ(c.Map(14), 11);
}

TEST(SeqCompactor, OldPaddingFoldsIntoOneOffsetAndWhatPrecedesItIsRefused) {
  SeqCompactor c;
  c.Remove(5);
  EXPECT_EQ(c.Map(6), 5);
  EXPECT_EQ(c.Map(4), 4) << "older than the padding: not shifted";
  uint16_t far = 6 + SeqCompactor::kHorizon + 10;
  EXPECT_EQ(c.Map(far), far - 1);  // 5 folds now
  EXPECT_EQ(c.Map(far - SeqCompactor::kHorizon + 1), far - SeqCompactor::kHorizon) << "within the horizon: placed";
  EXPECT_FALSE(c.Map(4)) << "before the folded number: its place is no longer known";
  // More padding than is kept one by one: the oldest fold early, numbers stay consecutive.
  uint16_t s = far + 1;
  for (size_t i = 0; i < SeqCompactor::kKept + 5; ++i) c.Remove(s++);
  EXPECT_EQ(c.Map(s), static_cast<uint16_t>(far - 1 + 1));
}

TEST(SeqCompactor, LongAfterAFoldEveryNewPacketIsStillPlaced) {
  // Padding at the start (Chromium's first probes), then media alone for longer than
  // half the number space, across a wrap: the horizon follows, nothing is refused.
  SeqCompactor c;
  EXPECT_EQ(c.Map(100), 100);
  for (uint16_t s = 101; s < 110; ++s) c.Remove(s);
  uint16_t seq = 110;
  for (int i = 0; i < 3 * 65536; ++i, ++seq) {
    auto m = c.Map(seq);
    ASSERT_TRUE(m) << "packet " << i << " (" << seq << ") refused";
    ASSERT_EQ(*m, static_cast<uint16_t>(seq - 9)) << "packet " << i;
  }
  // A retransmission a little late still finds its place; one far too late does not.
  EXPECT_EQ(c.Map(static_cast<uint16_t>(seq - 100)), static_cast<uint16_t>(seq - 109));
  EXPECT_FALSE(c.Map(static_cast<uint16_t>(seq - SeqCompactor::kHorizon - 100)));
}

TEST(SeqCompactor, ResetStartsOver) {
  SeqCompactor c;
  c.Remove(1);
  EXPECT_EQ(c.Map(2), 1);
  c.Reset();
  EXPECT_EQ(c.Map(2), 2);
  EXPECT_FALSE(c.active());
}

std::vector<uint8_t> Packet(uint16_t seq, uint32_t ssrc, bool padding_only) {
  std::vector<uint8_t> p(12, 0);
  p[0] = padding_only ? 0xA0 : 0x80;
  p[1] = 96;
  Store16(p.data() + 2, seq);
  Store32(p.data() + 4, 3000u * seq);
  Store32(p.data() + 8, ssrc);
  if (padding_only) {
    p.resize(12 + 200, 0);
    p.back() = 200;
  } else {
    p.insert(p.end(), {0x10, 1, 2, 3});
  }
  return p;
}

TEST(PublisherTracks, PaddingIsReceivedAndWhatFollowsIsRenumberedAndKeptSo) {
  PublisherTracks tracks;
  tracks.Set({{true, 2222, 96, 97, 2223}});
  auto& t = tracks[0];
  auto receive = [&](uint16_t seq, bool padding, int64_t at) {
    std::vector<uint8_t> p = Packet(seq, 2222, padding);
    auto v = ParseRtp(p);
    EXPECT_TRUE(v);
    if (padding) {
      EXPECT_EQ(v->payload_length, 0u);
      PublisherTracks::Padding(t, *v, at);
      return int{-1};
    }
    bool ok = PublisherTracks::Received(t, *v, at);
    EXPECT_EQ(Load16(p.data() + 2), v->sequence) << "the packet's bytes carry the new number";
    return ok ? int{v->sequence} : -2;
  };
  EXPECT_EQ(receive(50, false, 0), 50);
  for (uint16_t s = 51; s < 60; ++s) receive(s, true, 1000);
  EXPECT_EQ(receive(61, false, 2000), 52) << "60 is lost: 61 comes two after 50";
  EXPECT_EQ(t.nack.size(), 1u) << "only the lost media is asked for, not the padding";
  EXPECT_EQ(t.stats.TakeReportBlock(2000).cumulative_lost, 1) << "padding counts as received in reports";
  EXPECT_TRUE(t.ring->Has(52, 2222)) << "kept under the number subscribers see";
  EXPECT_FALSE(t.ring->Has(61, 2222));
  // The retransmission of 60 arrives: forwarded as 50's successor.
  EXPECT_EQ(receive(60, false, 3000), 51);
  EXPECT_EQ(t.nack.size(), 0u);
  EXPECT_EQ(receive(60, false, 3000), -2) << "a duplicate";
}

}  // namespace
}  // namespace parley::sfu
