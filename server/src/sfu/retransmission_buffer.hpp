// The last packets of one repaired published track, kept so a subscriber's NACK
// (RFC 4585 §6.2.1) can be answered from the SFU instead of travelling to the
// publisher and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parley::sfu {

/// A ring of datagrams, indexed by sequence number modulo its number of slots.
/// Worker-thread only. All memory is taken in the constructor: the packet path stores
/// and looks up without allocating.
class RetransmissionBuffer {
 public:
  /// 512 packets is about 0.5 s of 8 Mbit/s video: longer than a NACK round trip on
  /// any network where retransmission still helps, shorter than a keyframe interval.
  static constexpr size_t kVideoSlots = 512;
  /// Audio sends 50 (at most 100) packets a second: 64 hold 0.64–1.28 s, as long a
  /// repair window as video's for an eighth of the memory (96 KB instead of 768 KB).
  static constexpr size_t kAudioSlots = 64;
  /// One Ethernet-MTU datagram per slot; larger packets are simply not kept.
  static constexpr size_t kSlotBytes = 1500;

  /// `slots` divides 65536 (a power of two), so numbers that wrap keep their slot.
  explicit RetransmissionBuffer(size_t slots = kVideoSlots);
  [[nodiscard]] size_t slots() const { return slots_; }

  /// Copies `packet` into the slot of `seq`, replacing what was there. A packet
  /// longer than kSlotBytes is not stored (false) and the slot keeps its old packet,
  /// which Has/Get still tell apart by its own sequence number.
  bool Store(std::span<const uint8_t> packet, uint16_t seq, uint32_t ssrc);
  /// Whether exactly this packet (sequence number and SSRC) is still held. The SSRC is
  /// part of the key because a publisher that restarts reuses sequence numbers.
  [[nodiscard]] bool Has(uint16_t seq, uint32_t ssrc) const;
  /// The stored packet, writable in place (the caller rewrites its header into a send
  /// slot, not here); empty when it was overwritten or never stored.
  std::span<uint8_t> Get(uint16_t seq, uint32_t ssrc);

 private:
  size_t slots_;
  std::vector<uint8_t> data_;  ///< slots_ x kSlotBytes
  std::vector<uint16_t> len_;  ///< 0 = empty slot
  std::vector<uint16_t> seq_;
  std::vector<uint32_t> ssrc_;
};

}  // namespace parley::sfu
