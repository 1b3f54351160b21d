// RetransmissionBuffer: the ring a subscriber's NACK is answered from.
#include "sfu/retransmission_buffer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::sfu {
namespace {

std::vector<uint8_t> Packet(size_t size, uint8_t fill) {
  return std::vector<uint8_t>(size, fill);
}

TEST(RetransmissionBuffer, AllocatesOnceAndReturnsOnlyTheExactSeqAndSsrc) {
  RetransmissionBuffer ring;
  EXPECT_FALSE(ring.Has(0, 0)) << "an empty slot holds nothing, not packet 0 of SSRC 0";
  EXPECT_TRUE(ring.Get(0, 0).empty());

  ASSERT_TRUE(ring.Store(Packet(100, 0xAA), 7, 1111));
  EXPECT_TRUE(ring.Has(7, 1111));
  std::span<uint8_t> got = ring.Get(7, 1111);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[0], 0xAA);
  EXPECT_EQ(got[99], 0xAA);
  EXPECT_FALSE(ring.Has(7, 2222)) << "same number, other SSRC (a restarted publisher)";
  EXPECT_FALSE(ring.Has(7 + RetransmissionBuffer::kVideoSlots, 1111)) << "same slot, other number";
  EXPECT_TRUE(ring.Get(8, 1111).empty());

  // The next packet for that slot replaces it in the same memory: nothing is allocated
  // after construction, whatever the sequence numbers do (including the wrap).
  const uint8_t* where = got.data();
  auto later = static_cast<uint16_t>(7 + RetransmissionBuffer::kVideoSlots);
  ASSERT_TRUE(ring.Store(Packet(60, 0xBB), later, 1111));
  EXPECT_FALSE(ring.Has(7, 1111)) << "overwritten";
  EXPECT_EQ(ring.Get(later, 1111).data(), where);
  EXPECT_EQ(ring.Get(later, 1111).size(), 60u);
  for (uint32_t i = 0; i < 70000; ++i) ASSERT_TRUE(ring.Store(Packet(20, 1), static_cast<uint16_t>(i), 5));
  auto wrapped = static_cast<uint16_t>(70000 - 1);
  EXPECT_TRUE(ring.Has(wrapped, 5));
  EXPECT_FALSE(ring.Has(static_cast<uint16_t>(wrapped - RetransmissionBuffer::kVideoSlots), 5));
  // Still the one block from the start: slot k sits k slots after slot 0.
  const uint8_t* base = where - 7 * RetransmissionBuffer::kSlotBytes;
  EXPECT_EQ(ring.Get(wrapped, 5).data(),
            base + (wrapped % RetransmissionBuffer::kVideoSlots) * RetransmissionBuffer::kSlotBytes);
}

// An audio ring is smaller: it keeps the last kAudioSlots packets across the wrap.
TEST(RetransmissionBuffer, AnAudioRingKeepsItsOwnWindow) {
  RetransmissionBuffer ring(RetransmissionBuffer::kAudioSlots);
  EXPECT_EQ(ring.slots(), RetransmissionBuffer::kAudioSlots);
  for (uint32_t i = 65500; i < 65536 + 40; ++i) ASSERT_TRUE(ring.Store(Packet(80, 2), static_cast<uint16_t>(i), 7));
  const auto last = static_cast<uint16_t>(65536 + 39);
  for (uint16_t back = 0; back < RetransmissionBuffer::kAudioSlots; ++back)
    EXPECT_TRUE(ring.Has(static_cast<uint16_t>(last - back), 7)) << back;
  EXPECT_FALSE(ring.Has(static_cast<uint16_t>(last - RetransmissionBuffer::kAudioSlots), 7));
  // A size that does not divide 65536 would lose packets at the wrap: it is not used.
  EXPECT_EQ(RetransmissionBuffer(100).slots(), RetransmissionBuffer::kVideoSlots);
}

TEST(RetransmissionBuffer, OversizedPacketsAreNotStored) {
  RetransmissionBuffer ring;
  ASSERT_TRUE(ring.Store(Packet(RetransmissionBuffer::kSlotBytes, 1), 3, 9)) << "exactly one slot fits";
  EXPECT_EQ(ring.Get(3, 9).size(), RetransmissionBuffer::kSlotBytes);
  EXPECT_FALSE(ring.Store(Packet(RetransmissionBuffer::kSlotBytes + 1, 2), 4, 9));
  EXPECT_FALSE(ring.Has(4, 9));
  // The refused packet's slot keeps what it had: an older packet, still told apart.
  auto same_slot = static_cast<uint16_t>(3 + RetransmissionBuffer::kVideoSlots);
  EXPECT_FALSE(ring.Store(Packet(RetransmissionBuffer::kSlotBytes + 1, 2), same_slot, 9));
  EXPECT_TRUE(ring.Has(3, 9));
  EXPECT_FALSE(ring.Has(same_slot, 9));
  EXPECT_EQ(ring.Get(3, 9)[0], 1);
}

}  // namespace
}  // namespace parley::sfu
