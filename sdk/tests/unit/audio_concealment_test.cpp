// The concealed share of remote audio: Opus packet durations from the TOC byte (RFC
// 6716 section 3.1), and the counts of packets and gaps at the decoder's input.
#include "core/audio_concealment.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sdk {
namespace {

uint32_t Samples(std::vector<uint8_t> p) {
  return OpusPacketSamples48k(p.data(), p.size());
}

TEST(OpusPacketSamples, FrameSizeAndCountComeFromTheTocByte) {
  // config << 3 | stereo << 2 | frame count code
  EXPECT_EQ(Samples({(1 << 3) | 0, 0xAA}), 960u);          // SILK NB 20 ms, one frame
  EXPECT_EQ(Samples({(3 << 3) | 0}), 2880u);               // SILK NB 60 ms
  EXPECT_EQ(Samples({(15 << 3) | 0}), 960u);               // hybrid FB 20 ms
  EXPECT_EQ(Samples({(14 << 3) | 0}), 480u);               // hybrid FB 10 ms
  EXPECT_EQ(Samples({(31 << 3) | 0}), 960u);               // CELT FB 20 ms (what opusenc sends)
  EXPECT_EQ(Samples({(28 << 3) | 0}), 120u);               // CELT 2.5 ms
  EXPECT_EQ(Samples({(31 << 3) | 1, 1, 2}), 1920u);        // two equal frames
  EXPECT_EQ(Samples({(31 << 3) | 2, 1, 1, 2}), 1920u);     // two frames of different sizes
  EXPECT_EQ(Samples({(31 << 3) | 3, 3, 0, 0, 0}), 2880u);  // code 3: the count is in byte 1
}

TEST(OpusPacketSamples, EmptyTruncatedAndOverlongPacketsCountNothing) {
  EXPECT_EQ(OpusPacketSamples48k(nullptr, 0), 0u);
  EXPECT_EQ(Samples({}), 0u);
  EXPECT_EQ(Samples({(31 << 3) | 3}), 0u);           // code 3 without its count byte
  EXPECT_EQ(Samples({(31 << 3) | 3, 7, 0}), 0u);     // 7 x 20 ms = 140 ms > 120 ms
  EXPECT_EQ(Samples({(3 << 3) | 3, 3, 0}), 0u);      // 3 x 60 ms
  EXPECT_EQ(Samples({(31 << 3) | 3, 6, 0}), 5760u);  // 120 ms is the most there is
}

TEST(OpusPacketHasFec, TheLbrrFlagFollowsTheVadFlagsOfTheSilkLayer) {
  // Hybrid FB 20 ms (what opusenc sends at 32 kbit/s): VAD then LBRR in the first byte.
  EXPECT_TRUE(OpusPacketHasFec(std::vector<uint8_t>{0x78, 0xC3, 0x6D}.data(), 3));   // 11.. : LBRR
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{0x78, 0x82, 0x2E}.data(), 3));  // 10.. : none
  // SILK 60 ms: three VAD flags, then LBRR (bit 3).
  EXPECT_TRUE(OpusPacketHasFec(std::vector<uint8_t>{(3 << 3), 0b00010000, 0}.data(), 3));
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{(3 << 3), 0b11100000, 0}.data(), 3));
  // Stereo: the side channel's LBRR flag counts too (bit 4 for one SILK frame).
  EXPECT_TRUE(OpusPacketHasFec(std::vector<uint8_t>{0x78 | 0x04, 0b00010000, 0}.data(), 3));
  // Code 2: the first frame starts after its length byte.
  EXPECT_TRUE(OpusPacketHasFec(std::vector<uint8_t>{0x78 | 2, 5, 0xC0, 0, 0, 0, 0, 1}.data(), 8));
  // CELT-only never carries FEC; a packet without frame data neither.
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{(31 << 3), 0xFF, 0xFF}.data(), 3));
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{0x78}.data(), 1));
  EXPECT_FALSE(OpusPacketHasFec(nullptr, 0));
}

TEST(ConcealmentCounter, GapsArePlayedOutAndConcealedUnlessTheNextPacketRestoresThem) {
  ConcealmentCounter c;
  const std::vector<uint8_t> plain = {0x78, 0x82, 1, 2};  // hybrid 20 ms, no FEC
  const std::vector<uint8_t> fec = {0x78, 0xC3, 1, 2};    // hybrid 20 ms, FEC for the one before
  for (int i = 0; i < 8; ++i) c.Packet(plain.data(), plain.size());
  c.Gap(20'000'000);  // one 20 ms packet lost, and the next has no FEC: concealed
  c.Packet(plain.data(), plain.size());
  EXPECT_EQ(c.samples(), 10u * 960u);
  EXPECT_EQ(c.concealed(), 960u);
  EXPECT_EQ(c.restored(), 0u);
  c.Gap(20'000'000);  // lost, and the next packet carries its FEC: restored
  c.Packet(fec.data(), fec.size());
  EXPECT_EQ(c.concealed(), 960u);
  EXPECT_EQ(c.restored(), 960u);
  c.Gap(20'000'000);  // two lost in a row: FEC restores only the second
  c.Gap(20'000'000);
  c.Packet(fec.data(), fec.size());
  EXPECT_EQ(c.concealed(), 2u * 960u);
  EXPECT_EQ(c.restored(), 2u * 960u);
  EXPECT_EQ(c.samples(), 15u * 960u);
}

// A DTX sender pauses in silence: one comfort-noise packet every 400 ms, consecutive
// sequence numbers. The jitter buffer gives a loss there the whole pause; the counter
// counts one packet, while a loss in continuous speech (and an outage) counts whole.
TEST(ConcealmentCounter, ALossInADtxPauseCountsOnePacketNotThePause) {
  ConcealmentCounter c;
  const std::vector<uint8_t> p = {0x78, 0x82, 1, 2};  // hybrid 20 ms, no FEC
  constexpr uint64_t kMs = 1'000'000;
  uint64_t t = 0;
  for (int i = 0; i < 5; ++i, t += 20 * kMs) c.Packet(p.data(), p.size(), t);
  c.Gap(20 * kMs);  // speech: one lost
  t += 20 * kMs;
  c.Packet(p.data(), p.size(), t);
  EXPECT_EQ(c.concealed(), 960u);
  // Silence: refreshes 400 ms apart, then one is lost and the jitter buffer says 420 ms.
  for (int i = 0; i < 3; ++i) c.Packet(p.data(), p.size(), t += 420 * kMs);
  const uint64_t before = c.samples();
  c.Gap(420 * kMs);
  c.Packet(p.data(), p.size(), t += 840 * kMs);
  EXPECT_EQ(c.concealed(), 2u * 960u);
  EXPECT_EQ(c.samples(), before + 2u * 960u);
  // Speech again: two packets in a row end the pause, and a 300 ms outage counts whole.
  c.Packet(p.data(), p.size(), t += 420 * kMs);
  c.Packet(p.data(), p.size(), t += 20 * kMs);
  c.Gap(300 * kMs);
  c.Packet(p.data(), p.size(), t += 320 * kMs);
  EXPECT_EQ(c.concealed(), 2u * 960u + 300u * 48u);
  // Without presentation times nothing is taken for a pause.
  ConcealmentCounter u;
  u.Packet(p.data(), p.size());
  u.Gap(420 * kMs);
  EXPECT_EQ(u.concealed(), 420u * 48u);
}

TEST(ConcealmentCounter, AGapBeforeTheFirstPacketIsNotConcealment) {
  // A stream setting up through loss: the jitter buffer may declare the time before
  // its first packet lost, but nothing was playing yet.
  constexpr uint64_t kMs = 1'000'000;
  ConcealmentCounter c;
  c.Gap(10'000 * kMs);
  EXPECT_EQ(c.samples(), 0u);
  EXPECT_EQ(c.concealed(), 0u);
  const std::vector<uint8_t> plain = {0x78, 0x82, 1, 2};  // hybrid 20 ms, no FEC
  c.Packet(plain.data(), plain.size());
  c.Gap(20 * kMs);
  c.Packet(plain.data(), plain.size());
  EXPECT_EQ(c.samples(), 3u * 960u);
  EXPECT_EQ(c.concealed(), 960u);
}

}  // namespace
}  // namespace parley::sdk
