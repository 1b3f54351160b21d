// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01): the receiver tells the sender when each packet of the transport
// arrived, and the sender's bandwidth estimator (a browser's GCC) uses the delay
// trend. The SFU is the receiver for every publisher.
//
// The recorder keeps a fixed window of arrival times indexed by the unwrapped
// transport sequence number, so recording a packet allocates nothing.
#pragma once

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sfu/rtp.hpp"

namespace parley::sfu {

/// The unwrapped value of transport-wide number `seq`: the one nearest `near` (an
/// unwrapped number already known).
[[nodiscard]] inline int64_t UnwrapNear(uint16_t seq, int64_t near) {
  return near + static_cast<int16_t>(static_cast<uint16_t>(seq - static_cast<uint16_t>(near)));
}

class TwccRecorder {
 public:
  static constexpr size_t kWindow = 1024;
  /// At most this many packets go into one feedback packet (keeps it under 1200 bytes).
  static constexpr size_t kMaxPerFeedback = 400;

  TwccRecorder() { arrival_us_.fill(-1); }
  /// Records that transport sequence `seq` arrived at `arrival_us` (any monotonic
  /// microsecond clock). Returns false when the packet is too far ahead of what is
  /// unreported: the caller writes feedback first and records again.
  bool Record(uint16_t seq, int64_t arrival_us);
  /// True when packets are waiting to be reported.
  [[nodiscard]] bool pending() const { return base_ >= 0 && max_ >= base_; }
  /// Writes one RTPFB FMT 15 packet covering the oldest unreported packets (at most
  /// kMaxPerFeedback) and forgets them. Returns its length, 0 if nothing is pending or
  /// `capacity` is too small (needs 1200 bytes at most).
  size_t WriteFeedback(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint32_t media_ssrc);

 private:
  int64_t Unwrap(uint16_t seq);
  std::array<int64_t, kWindow> arrival_us_{};
  int64_t base_ = -1;  ///< first unreported (unwrapped) sequence number
  int64_t max_ = -1;   ///< highest recorded
  int64_t last_ = -1;  ///< highest unwrapped seen, for unwrapping
  uint8_t feedback_count_ = 0;
};

/// The fixed fields of a transport-cc feedback packet.
struct TwccHeader {
  uint32_t sender_ssrc = 0, media_ssrc = 0;
  uint16_t base_sequence = 0;
  uint16_t status_count = 0;
  int32_t reference_time = 0;  ///< 24-bit signed, in 64 ms units
  uint8_t feedback_count = 0;
};

/// An arrival ParseTwccResults writes for a packet reported as not received.
inline constexpr int64_t kTwccNotReceived = INT64_MIN;

/// Parses a transport-cc feedback packet (a sender's side: the SFU towards its
/// subscribers) without allocating: the header, and for the packets from base_sequence
/// on, at most `arrivals_us.size()` of them, each one's arrival in µs relative to
/// reference_time * 64 ms, or kTwccNotReceived. Returns how many were written, nullopt
/// when the packet is malformed (its status chunks are checked to the end; the deltas
/// of the packets written).
std::optional<size_t> ParseTwccResults(const RtcpView& fb, TwccHeader& header, std::span<int64_t> arrivals_us);

/// A parsed transport-cc feedback packet, every packet of it (tests, fuzzing, diagnostics).
struct TwccFeedback : TwccHeader {
  /// One entry per packet from base_sequence: arrival in µs relative to
  /// reference_time * 64 ms, or nullopt when not received.
  std::vector<std::optional<int64_t>> arrivals_us;
};
std::optional<TwccFeedback> ParseTwccFeedback(const RtcpView& fb);

}  // namespace parley::sfu
