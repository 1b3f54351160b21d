// The worker's outgoing datagrams, sent together.
//
// Packets are protected straight into fixed slots (no allocation per packet) and go out
// with one sendmmsg per batch: at the end of each receive batch, posted batch or tick,
// or when every slot is taken. Consecutive datagrams to one address whose sizes allow it
// (all of one size but the last, which may be shorter) leave as one message with UDP
// generic segmentation offload (UDP_SEGMENT, Linux 4.18+): the kernel takes them through
// its stack once and splits them as late as it can. The forwarder queues a receive
// batch's copies subscriber by subscriber, so a video frame's packets to one subscriber
// sit side by side here.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::sfu {

/// Same family, address and port (and IPv6 scope): one destination. The send batch
/// groups runs by it; a probe session answers only the address it was bound to.
bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b);

class SendBatch {
 public:
  static constexpr size_t kSlots = 64;
  /// At most this many datagrams in one segmented send (the kernel allows 64 or more),
  /// and at most this many bytes (a UDP datagram's limit, with room for headers).
  static constexpr size_t kMaxSegments = 64, kMaxSegmentedBytes = 60'000;

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

  /// Whether the kernel behind `fd` segments UDP (Linux 4.18+ answers for UDP_SEGMENT; an
  /// older one would ignore the option and send a run as one oversized datagram).
  static bool KernelSegments(int fd);
  /// Whether runs to one address go out segmented (on by default; the worker turns it
  /// off when KernelSegments says no). A segmented send the kernel refuses (a path whose
  /// MTU is below the segment, a device that cannot checksum it) goes again datagram by
  /// datagram, with the rest of that flush; the next flush tries segmenting again.
  [[nodiscard]] bool segmenting() const { return segment_; }
  void set_segmenting(bool on) { segment_ = on; }
  /// Segmented sends the kernel refused (each resent datagram by datagram).
  [[nodiscard]] uint64_t segment_refusals() const { return segment_refusals_; }
  /// Messages (system-call entries) and datagrams sent so far: their ratio is what
  /// segmentation saved.
  [[nodiscard]] uint64_t messages_sent() const { return messages_sent_; }
  [[nodiscard]] uint64_t datagrams_sent() const { return datagrams_sent_; }

 private:
  /// Lays out messages_ for the datagrams from `first` on, runs to one address as one
  /// segmented message when `runs`; returns how many.
  size_t Build(size_t first, bool runs);

  size_t slot_bytes_;
  std::vector<uint8_t> bufs_;  ///< kSlots slots of slot_bytes_
  std::array<iovec, kSlots> iov_{};
  std::array<sockaddr_storage, kSlots> addrs_{};
  size_t count_ = 0;
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  };
  std::array<mmsghdr, kSlots> msgs_{};
  std::array<Control, kSlots> control_{};
  std::array<size_t, kSlots> first_{};  ///< each message's first datagram
  bool segment_ = true;
  uint64_t messages_sent_ = 0, datagrams_sent_ = 0, segment_refusals_ = 0;
};

}  // namespace parley::sfu
