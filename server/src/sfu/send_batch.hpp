// The worker's outgoing datagrams, sent together.
//
// Packets are protected straight into fixed slots (no allocation per packet) and go out
// with one sendmmsg per batch: at the end of each receive batch, posted batch or tick,
// or when every slot is taken.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::sfu {

class SendBatch {
 public:
  static constexpr size_t kSlots = 32;

  /// `slot_bytes` is the size of one slot (a datagram plus what SRTP adds).
  explicit SendBatch(size_t slot_bytes);

  [[nodiscard]] bool full() const { return count_ == kSlots; }
  [[nodiscard]] size_t size() const { return count_; }
  /// The next free slot; the caller flushes first when full().
  [[nodiscard]] uint8_t* Slot() { return bufs_.data() + count_ * slot_bytes_; }
  /// Takes the slot Slot() returned, filled with `length` bytes, for `to`.
  void Queue(size_t length, const sockaddr_storage& to);
  /// Sends what is queued on `fd` (non-blocking) and empties the batch. Returns how many
  /// datagrams were not sent: a full socket buffer drops the rest, since media tolerates
  /// loss and the retries (NACK, DTLS retransmission) live above this layer.
  size_t Flush(int fd);

 private:
  size_t slot_bytes_;
  std::vector<uint8_t> bufs_;  ///< kSlots slots of slot_bytes_
  std::array<mmsghdr, kSlots> msgs_{};
  std::array<iovec, kSlots> iov_{};
  std::array<sockaddr_storage, kSlots> addrs_{};
  size_t count_ = 0;
};

}  // namespace parley::sfu
