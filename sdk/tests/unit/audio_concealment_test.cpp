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

TEST(ConcealmentCounter, GapsCountAsPlayedAndConcealed) {
  ConcealmentCounter c;
  const std::vector<uint8_t> packet = {(31 << 3) | 0, 1, 2, 3};  // 20 ms
  for (int i = 0; i < 9; ++i) c.Packet(packet.data(), packet.size());
  c.Gap(20'000'000);  // one 20 ms packet lost
  EXPECT_EQ(c.samples(), 10u * 960u);
  EXPECT_EQ(c.concealed(), 960u);
}

}  // namespace
}  // namespace parley::sdk
