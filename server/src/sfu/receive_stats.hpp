// What a receiver knows about one incoming RTP stream (RFC 3550 §6.4.1 and
// appendices A.1, A.3, A.8): where each packet sits in the sequence space, the
// interarrival jitter, and the report block sent back to the sender, which its
// congestion control and the publisher's stats pages read.
#pragma once

#include <cstdint>

#include "sfu/rtp.hpp"

namespace parley::sfu {

/// Worker-thread only; no allocation. Time is passed in (`now_us`, a steady clock).
class ReceiveStats {
 public:
  enum class Kind : uint8_t {
    kFirst,      ///< the stream's first packet: counted
    kRestart,    ///< a new SSRC: the sender restarted, everything starts again from it
    kNewer,      ///< beyond the highest so far: counted
    kDuplicate,  ///< the highest again: not counted
    kLate,       ///< older than the highest: NOT counted yet, see CountLate
  };
  struct Arrival {
    Kind kind = Kind::kFirst;
    uint16_t missing_before = 0;  ///< kNewer: packets skipped just before this one
  };

  /// Audio is 48 kHz (Opus), video 90 kHz; jitter is kept in these units.
  explicit ReceiveStats(uint32_t clock_rate = 48000) : clock_rate_(clock_rate) {}

  /// Places one packet in the stream and, unless it is a duplicate or late, counts it
  /// (received, jitter). A late packet is either a lost one arriving after all or a
  /// retransmission of one we have; only the caller, which holds the retransmission
  /// buffer and the loss list, can tell, so it confirms with CountLate.
  Arrival OnPacket(uint32_t ssrc, uint16_t seq, uint32_t rtp_timestamp, int64_t now_us);
  /// Counts a late packet the caller accepted.
  void CountLate(uint32_t rtp_timestamp, int64_t now_us) { Count(rtp_timestamp, now_us); }
  /// The sender's SR for this stream: its time is echoed in the next report block so
  /// the sender can compute the round trip (RFC 3550 §6.4.1 LSR/DLSR).
  void OnSenderReport(uint64_t ntp, int64_t now_us);
  /// The report block for the interval since the last one, which it starts anew.
  /// Only meaningful once started().
  ReportBlock TakeReportBlock(int64_t now_us);

  [[nodiscard]] bool started() const { return started_; }
  /// The stream's SSRC (0 before its first packet).
  [[nodiscard]] uint32_t ssrc() const { return ssrc_; }

 private:
  void Count(uint32_t rtp_timestamp, int64_t now_us);

  uint32_t clock_rate_;
  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0, base_seq_ = 0, received_ = 0, expected_prior_ = 0, received_prior_ = 0;
  double jitter_ = 0;
  int64_t last_transit_ = 0;
  uint32_t last_sr_mid_ = 0;  ///< middle 32 bits of the last SR's NTP time
  int64_t last_sr_at_us_ = 0;
};

}  // namespace parley::sfu
