#include "sfu/retransmission_buffer.hpp"

#include <cstring>

namespace parley::sfu {

RetransmissionBuffer::RetransmissionBuffer(size_t slots)
    : slots_(slots != 0 && 65536 % slots == 0 ? slots : kVideoSlots),
      data_(slots_ * kSlotBytes),
      len_(slots_, 0),
      seq_(slots_, 0),
      ssrc_(slots_, 0) {}

bool RetransmissionBuffer::Store(std::span<const uint8_t> packet, uint16_t seq, uint32_t ssrc) {
  if (packet.size() > kSlotBytes) return false;
  size_t slot = seq % slots_;
  std::memcpy(data_.data() + slot * kSlotBytes, packet.data(), packet.size());
  len_[slot] = static_cast<uint16_t>(packet.size());
  seq_[slot] = seq;
  ssrc_[slot] = ssrc;
  return true;
}

bool RetransmissionBuffer::Has(uint16_t seq, uint32_t ssrc) const {
  size_t slot = seq % slots_;
  return len_[slot] != 0 && seq_[slot] == seq && ssrc_[slot] == ssrc;
}

std::span<uint8_t> RetransmissionBuffer::Get(uint16_t seq, uint32_t ssrc) {
  if (!Has(seq, ssrc)) return {};
  size_t slot = seq % slots_;
  return {data_.data() + slot * kSlotBytes, len_[slot]};
}

}  // namespace parley::sfu
