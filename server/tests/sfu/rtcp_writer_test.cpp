// The RTCP the SFU writes, read back with the parsers the other end uses.
#include "sfu/rtcp_writer.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

// The sequence numbers a NACK packet asks for, in the order it lists them.
std::vector<uint16_t> Asked(std::span<const uint8_t> packet) {
  std::vector<uint16_t> out;
  RtcpIterator it(packet);
  EXPECT_FALSE(it.done());
  EXPECT_TRUE(ForEachNack(*it, [&](uint16_t seq) { out.push_back(seq); }));
  EXPECT_EQ(it->sender_ssrc(), 7u);
  EXPECT_EQ(it->media_ssrc(), 0xABCDu);
  it.Next();
  EXPECT_TRUE(it.done());
  return out;
}

TEST(RtcpWriter, NacksArePackedSixteenPairsPerPacketOldestFirst) {
  // 40 losses far apart (none share a pair) across the 16-bit wrap.
  std::vector<uint16_t> lost;
  for (int i = 0; i < 40; ++i) lost.push_back(static_cast<uint16_t>(65000 + i * 30));
  std::vector<std::vector<uint16_t>> packets;
  std::vector<size_t> counts, lengths;
  ForEachNackPacket(7, 0xABCD, lost, [&](std::span<const uint8_t> p, size_t count) {
    packets.push_back(Asked(p));
    counts.push_back(count);
    lengths.push_back(p.size());
  });
  EXPECT_EQ(counts, (std::vector<size_t>{16, 16, 8}));
  EXPECT_EQ(lengths, (std::vector<size_t>{kMaxNackPacket, kMaxNackPacket, 12 + 4 * 8}));
  std::vector<uint16_t> all;
  for (const auto& p : packets) all.insert(all.end(), p.begin(), p.end());
  EXPECT_EQ(all, lost);

  // A run of neighbours shares pairs (PID + bitmask): 16 numbers in one 2-pair packet.
  std::vector<uint16_t> run;
  for (int i = 0; i < 20; ++i) run.push_back(static_cast<uint16_t>(100 + i));
  packets.clear();
  counts.clear();
  lengths.clear();
  ForEachNackPacket(7, 0xABCD, run, [&](std::span<const uint8_t> p, size_t count) {
    packets.push_back(Asked(p));
    counts.push_back(count);
    lengths.push_back(p.size());
  });
  EXPECT_EQ(counts, (std::vector<size_t>{16, 4}));
  EXPECT_EQ(lengths, (std::vector<size_t>{12 + 4 * 1, 12 + 4 * 1}));  // 100 + 15 following; 116 + 3
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].front(), 100);
  EXPECT_EQ(packets[0].back(), 115);
  EXPECT_EQ(packets[1], (std::vector<uint16_t>{116, 117, 118, 119}));

  size_t calls = 0;
  ForEachNackPacket(7, 0xABCD, {}, [&](std::span<const uint8_t>, size_t) { ++calls; });
  EXPECT_EQ(calls, 0u);
}

TEST(RtcpWriter, RewrittenSrCarriesTheRoutesSsrcTimeAndCounts) {
  SenderInfo publisher{0x0102030405060708ull, 50000, 999, 88888};
  uint8_t sr[kSenderReportBytes];
  ASSERT_EQ(WriteRewrittenSenderReport(sr, 0xC0FFEE, publisher, 123456, 5, 500), sizeof sr);
  RtcpIterator it(sr);
  ASSERT_FALSE(it.done());
  EXPECT_EQ(it->type, kSr);
  EXPECT_EQ(it->count, 0);  // no report blocks
  EXPECT_EQ(it->sender_ssrc(), 0xC0FFEEu);
  auto info = ParseSenderInfo(*it);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ntp, publisher.ntp);  // the publisher's wall clock, unchanged
  EXPECT_EQ(info->rtp_timestamp, 123456u);
  EXPECT_EQ(info->packet_count, 5u);  // this stream's counts, not the publisher's
  EXPECT_EQ(info->octet_count, 500u);
  it.Next();
  EXPECT_TRUE(it.done());
  EXPECT_TRUE(IsValidRtcp(sr));
}

TEST(RtcpWriter, ReceiverReportHoldsAtMostEightBlocks) {
  std::vector<ReportBlock> blocks(kMaxReportBlocks + 1);
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i].ssrc = static_cast<uint32_t>(100 + i);
    blocks[i].fraction_lost = 25;
    blocks[i].cumulative_lost = -3;
    blocks[i].highest_sequence = 70000;
  }
  uint8_t rr[kMaxReceiverReport];
  EXPECT_EQ(WriteReceiverReport(rr, sizeof rr, 9, blocks.data(), kMaxReportBlocks + 1), 0u);  // does not fit
  size_t n = WriteReceiverReport(rr, sizeof rr, 9, blocks.data(), kMaxReportBlocks);
  ASSERT_EQ(n, sizeof rr);
  RtcpIterator it({rr, n});
  ASSERT_FALSE(it.done());
  EXPECT_EQ(it->type, kRr);
  EXPECT_EQ(it->count, kMaxReportBlocks);
  EXPECT_EQ(it->sender_ssrc(), 9u);
  for (size_t i = 0; i < kMaxReportBlocks; ++i) {
    auto b = GetReportBlock(*it, i);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->ssrc, 100 + i);
    EXPECT_EQ(b->fraction_lost, 25);
    EXPECT_EQ(b->cumulative_lost, -3);
    EXPECT_EQ(b->highest_sequence, 70000u);
  }
  EXPECT_FALSE(GetReportBlock(*it, kMaxReportBlocks));
  // An RR with no blocks (nothing received yet) is the 8-byte header alone.
  EXPECT_EQ(WriteReceiverReport(rr, sizeof rr, 9, blocks.data(), 0), 8u);
}

TEST(RtcpWriter, PliNamesTheMediaSsrc) {
  uint8_t pli[12];
  ASSERT_EQ(WritePli(pli, 7, 0xABCD), sizeof pli);
  RtcpIterator it(pli);
  ASSERT_FALSE(it.done());
  EXPECT_TRUE(IsKeyframeRequest(*it));
  EXPECT_EQ(it->media_ssrc(), 0xABCDu);
}

}  // namespace
}  // namespace parley::sfu
