// The SFU's own estimate of a subscriber's downstream, as a sender makes it: from
// transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01).
//
// A subscriber whose answer took the transport-cc extension gets a transport-wide
// sequence number in every video packet the server sends it (OnSent, with the time the
// packet leaves: the pacer's departure). The subscriber reports when each arrived or that
// it did not (RTPFB FMT 15), and OnFeedback pairs the reports with what was sent and runs
// the same estimator libparley's publisher runs (parley/congestion/bandwidth_estimator.hpp:
// delay trend and congestive loss). Every receiver that reports is measured the same way,
// Chromium and webrtcbin alike, instead of relying on a receiver's own estimate (REMB),
// which only some send and each computes its own way.
//
// Only video is numbered. Packets are numbered and protected when they are written, and
// paced video leaves later than audio written after it: numbered too, audio would reach
// the receiver ahead of lower numbers still in the pacer, which its next report would
// call lost. Video alone leaves in the order it is numbered (the pacer is a FIFO). Audio's
// rate, measured here (OnUnnumbered), is added to the estimate, which so stands for
// everything the subscriber can take, as a REMB does.
//
// The receiver's 24-bit reference time (64 ms units) wraps every 12.4 days of its
// clock; it is unwrapped across reports. Arrival times are the receiver's word: the
// estimator bounds what it keeps whatever they say (a hostile subscriber only spoils its
// own estimate).
//
// Fixed memory: kWindow packets remembered (older ones are not matched), at most
// kMaxResults results read from one report. Worker-thread only; no allocation on the
// packet path (the estimator's own short windows aside), no throw.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "parley/congestion/bandwidth_estimator.hpp"
#include "parley/congestion/probe_meter.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {

class SendSideBwe {
 public:
  static constexpr size_t kWindow = 2048;     ///< packets remembered: ~10 s at 2 Mbit/s, ~1 s at 20
  static constexpr size_t kMaxResults = 512;  ///< results read from one report at most

  SendSideBwe();

  /// The transport-wide sequence number the next packet carries ...
  [[nodiscard]] uint16_t NextSequence() const { return static_cast<uint16_t>(next_); }
  /// ... and that packet, `bytes` long as sent (protected), leaving at `send_us`: the
  /// number is used. (A packet that was not sent after all leaves its number to the next.)
  /// `cluster`: the probe cluster it belongs to (BeginProbe), 0 for media.
  void OnSent(int64_t send_us, size_t bytes, uint16_t cluster = 0);
  /// A probe cluster of `packets` packets starts now (probe_cluster.hpp); its id, for
  /// OnSent. When the feedback has told the fate of them all, what they measured
  /// (parley/congestion/probe_meter.hpp) may raise the estimate.
  uint16_t BeginProbe(size_t packets, int64_t now_us);
  /// A packet sent without a number (audio), `bytes` long as sent.
  void OnUnnumbered(size_t bytes, int64_t now_us);
  /// One feedback packet from the subscriber, received at `now_us`. False when it is not
  /// transport-cc feedback or is malformed (ignored).
  bool OnFeedback(const RtcpView& fb, int64_t now_us);

  /// What the path to the subscriber carries, in bit/s: the estimate for the numbered
  /// packets and the rate of the others; 0 before the first feedback.
  [[nodiscard]] uint64_t estimate_bps(int64_t now_us) const;
  /// The rate of the packets sent without a number over the last full second (0 when
  /// none went for two).
  [[nodiscard]] uint64_t unnumbered_bps(int64_t now_us) const;
  /// Feedback packets taken.
  [[nodiscard]] uint32_t feedbacks() const { return feedbacks_; }
  /// Probe clusters measured (an answer or none), and the last answer in bit/s (0: none).
  [[nodiscard]] uint32_t probes_measured() const { return probes_measured_; }
  [[nodiscard]] int64_t last_probe_bps() const { return last_probe_bps_; }
  [[nodiscard]] const congestion::BandwidthEstimator& estimator() const { return bwe_; }

 private:
  struct Sent {
    int64_t send_us = -1;
    uint32_t bytes = 0;
    uint16_t seq = 0;
    uint16_t cluster = 0;  ///< probe cluster (0: media)
  };

  std::array<Sent, kWindow> sent_{};
  int64_t next_ = 0;        ///< the next number, unwrapped
  int64_t reported_ = -1;   ///< the highest number a report has covered (unwrapped)
  int64_t reference_ = -1;  ///< the receiver's last reference time, unwrapped (64 ms units)
  std::array<int64_t, kMaxResults> arrivals_{};
  std::array<congestion::PacketResult, kMaxResults> results_{};
  congestion::BandwidthEstimator bwe_;
  congestion::ProbeMeter probes_;
  uint16_t next_cluster_ = 0;
  uint32_t feedbacks_ = 0, probes_measured_ = 0;
  int64_t last_probe_bps_ = 0;
  uint64_t unnumbered_bytes_ = 0, unnumbered_bps_ = 0;
  int64_t unnumbered_since_us_ = -1;
};

}  // namespace parley::sfu
