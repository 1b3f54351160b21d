// One subscriber's video pacer: spreads bursts of forwarded video over time.
//
// A publisher's keyframe is many times the size of its other frames and arrives as one
// burst of packets; forwarded as it came, it lands on the subscriber's bottleneck
// (a capped uplink, a radio cell) at once, overflows its queue and is lost, and the
// lost keyframe costs a retransmission round or another keyframe. The pacer lets video
// leave at most at `factor` times the video rate offered to the subscriber (2.5 x, the
// margin senders' own pacers use), with a short burst allowance, and keeps what must
// wait in a bounded FIFO of protected datagrams. Audio never waits (it is small and it
// is what keeps a call going) but its bytes count against the same budget.
//
// Time is passed in; the FIFO is allocated once in the constructor (control path), so
// Admit/Push/Release allocate nothing. Worker-thread only, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace parley::sfu {

struct PacerOptions {
  double factor = 2.5;              ///< pacing rate = factor x the offered video rate ...
  uint64_t min_rate_bps = 500'000;  ///< ... but never below this
  int64_t burst_us = 40'000;        ///< what may leave at once: this long at the pacing rate
  int64_t max_delay_us = 300'000;   ///< a packet that waited this long goes at once
};

class Pacer {
 public:
  /// Queued datagrams at most; beyond, Push refuses and the caller sends the oldest
  /// early (SendOldest) to make room: pacing gives way, nothing is dropped.
  static constexpr size_t kSlots = 128;
  static constexpr size_t kSlotBytes = 1500 + 20;  ///< a protected datagram: 1500 and SRTP's overhead

  explicit Pacer(PacerOptions options = {});

  /// Sets the pacing rate from the video rate the routes offer the subscriber.
  void SetVideoRate(uint64_t video_bps);
  [[nodiscard]] uint64_t rate_bps() const { return rate_bps_; }

  /// Whether a video datagram of `bytes` may leave now: nothing is waiting and the
  /// budget has room. When true the bytes are taken from the budget.
  bool Admit(size_t bytes, int64_t now_us);
  /// Audio (or anything that must not wait) leaving now: its bytes use the budget.
  void Spend(size_t bytes, int64_t now_us);
  /// Queues a datagram that may not leave yet; false when the FIFO is full or the
  /// datagram is larger than a slot.
  bool Push(std::span<const uint8_t> datagram, int64_t now_us);
  /// Calls `send(datagram)` for each queued datagram that may leave now, in order.
  template <typename Send>
  size_t Release(int64_t now_us, Send&& send) {
    size_t sent = 0;
    Refill(now_us);
    while (count_ > 0) {
      size_t i = head_;
      bool overdue = now_us - queued_at_[i] >= options_.max_delay_us;
      if (!overdue && tokens_ < static_cast<double>(len_[i])) break;
      Take(len_[i]);
      send(std::span<const uint8_t>(data_.get() + i * kSlotBytes, len_[i]));
      queued_bytes_ -= len_[i];
      head_ = (head_ + 1) % kSlots;
      --count_;
      ++sent;
    }
    return sent;
  }
  /// Sends the oldest queued datagram now, whatever the budget says (it is still spent).
  template <typename Send>
  void SendOldest(Send&& send) {
    if (count_ == 0) return;
    Take(len_[head_]);
    send(std::span<const uint8_t>(data_.get() + head_ * kSlotBytes, len_[head_]));
    queued_bytes_ -= len_[head_];
    head_ = (head_ + 1) % kSlots;
    --count_;
  }
  /// When a video datagram of `bytes` offered now would leave: after what is queued, as
  /// the budget allows, at most max_delay_us from now. (The send time a subscriber's
  /// abs-send-time carries, written before the datagram is protected and queued.)
  [[nodiscard]] int64_t DepartureUs(size_t bytes, int64_t now_us) const;
  /// When the head of the FIFO may leave (now_us when it may already); -1 when empty.
  [[nodiscard]] int64_t NextReleaseUs(int64_t now_us) const;
  [[nodiscard]] size_t queued() const { return count_; }

 private:
  void Refill(int64_t now_us);
  /// The budget Refill would give at `now_us`, without changing it (as it stands before
  /// the first refill).
  [[nodiscard]] double TokensAt(int64_t now_us) const;
  /// How long earning `bytes` of budget takes.
  [[nodiscard]] int64_t WaitUs(double bytes) const;
  /// Takes `bytes` from the budget, which may go below zero but not below -Burst(), so
  /// that overdue video or a run of audio cannot hold the next video back for long.
  void Take(size_t bytes);
  [[nodiscard]] double Burst() const;

  PacerOptions options_;
  uint64_t rate_bps_;
  double tokens_ = 0;  ///< bytes that may leave now
  int64_t last_us_ = -1;
  // kSlots x kSlotBytes mapped straight from the kernel (malloc may hand back memory
  // already resident): the pages (190 KiB) become resident only when video waits, and
  // only as deep as it ever waited (an empty FIFO starts again at slot 0), so a
  // subscriber whose video never queues (audio only, an idle link) costs none of it and
  // one whose keyframes wait a dozen datagrams deep about 16 KiB.
  struct Unmap {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Unmap> data_;
  std::vector<uint16_t> len_;
  std::vector<int64_t> queued_at_;
  size_t head_ = 0, count_ = 0;
  size_t queued_bytes_ = 0;
};

}  // namespace parley::sfu
