// What one media worker hands another: a bounded single-producer, single-consumer ring
// of fixed entries, and the consumer's wake-up.
//
// A channel too big for one core keeps its publishers on its own worker (its home) and
// puts subscribers on others; each of those holds a mirror of each publisher it needs
// (relay.cpp). The home worker copies each forwarded packet of a publisher into the ring
// to every worker holding its mirror; the other way go the mirrors' keyframe requests
// and which layers their subscribers want, and the packets a full ring lost (answered
// from the publisher's retransmission buffer). One ring per ordered pair of workers: the
// producer is one worker thread, the consumer another, and neither ever waits for the
// other. A full ring drops what does not fit (counted, as a full socket would). The
// consumer is woken through its loop's eventfd, which the ring holds a duplicate of, so
// either worker may stop or go first. Entries live in one allocation made when the ring
// is; nothing is allocated per entry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace parley::sfu {

/// One message between workers. Sized for a datagram: a forwarded packet fits whole.
struct RelayEntry {
  enum class Kind : uint8_t {
    kRtp,       ///< home → mirror: a packet of inbound track `track` of publisher `target`'s mirror
    kRtcp,      ///< home → mirror: the publisher's RTCP (its sender reports)
    kLayers,    ///< home → mirror: which of the publisher's layers are paused (RelayLayerState)
    kKeyframe,  ///< mirror → home: a subscriber of the mirror needs a keyframe of `target`
    kWanted,    ///< mirror → home: the layers of source `track` the mirror's routes want (`value`)
    kNack,      ///< mirror → home: packets of track `track` (SSRC `value`) the ring lost: uint16 numbers in `data`
  };
  Kind kind = Kind::kRtp;
  uint16_t length = 0;  ///< bytes of `data` used
  uint32_t track = 0;
  uint32_t value = 0;
  uint64_t target = 0;  ///< the transport on the consuming worker (a mirror, or the publisher)
  uint64_t mirror = 0;  ///< kWanted: which mirror speaks
  uint8_t data[1500];
};

/// Whether entries of `kind` go home → mirror (their target is a mirror); the others
/// are a mirror's requests to the publisher's worker.
inline bool ToMirror(RelayEntry::Kind kind) {
  return kind == RelayEntry::Kind::kRtp || kind == RelayEntry::Kind::kRtcp || kind == RelayEntry::Kind::kLayers;
}

/// One layer's pause state as the home worker decided it (layer_economy.hpp), for the
/// mirror's subscribers to choose layers by.
struct RelayLayerState {
  uint8_t paused = 0;
  uint64_t paused_rate_bps = 0;
  int64_t resumed_ago_us = -1;  ///< how long ago it was resumed (-1: never)
};

class RelayRing {
 public:
  /// `wake_fd`: the consumer's eventfd (duplicated: the ring keeps its own descriptor).
  /// Null when the descriptor cannot be duplicated.
  static std::shared_ptr<RelayRing> Create(int wake_fd, size_t capacity = kDefaultCapacity);
  ~RelayRing();
  RelayRing(const RelayRing&) = delete;
  RelayRing& operator=(const RelayRing&) = delete;

  static constexpr size_t kDefaultCapacity = 512;

  // Producer thread only.
  /// The next free entry, or null when the ring is full (the caller counts the drop).
  RelayEntry* Reserve();
  /// Publishes the entry Reserve returned.
  void Commit();
  /// Wakes the consumer when something was committed since the last wake.
  void WakeIfPending();

  // Consumer thread only.
  /// The `i`th oldest entry not yet freed (0: the oldest), or null past the newest.
  RelayEntry* Peek(size_t i = 0);
  /// Frees the `n` oldest entries (at most as many as there are).
  void Pop(size_t n = 1);

  [[nodiscard]] size_t capacity() const { return slots_.size(); }

 private:
  RelayRing(int fd, size_t capacity);

  std::vector<RelayEntry> slots_;
  int wake_fd_;
  alignas(64) std::atomic<size_t> head_{0};  ///< next to consume (written by the consumer)
  alignas(64) std::atomic<size_t> tail_{0};  ///< next to fill (written by the producer)
  bool pending_ = false;                     ///< producer: committed since the last wake
};

}  // namespace parley::sfu
