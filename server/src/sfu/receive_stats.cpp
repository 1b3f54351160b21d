#include "sfu/receive_stats.hpp"

#include <algorithm>
#include <cmath>

namespace parley::sfu {

ReceiveStats::Arrival ReceiveStats::OnPacket(uint32_t ssrc, uint16_t seq, uint32_t rtp_timestamp, int64_t now_us) {
  Arrival a;
  if (!started_ || ssrc != ssrc_) {
    // A.1: the first packet fixes the base. A new SSRC is a new source (RFC 3550
    // §8.2), so its numbers start from scratch too; the last SR's time is kept until
    // the new source sends one.
    a.kind = started_ ? Kind::kRestart : Kind::kFirst;
    started_ = true;
    ssrc_ = ssrc;
    max_seq_ = seq;
    base_seq_ = seq;
    cycles_ = received_ = expected_prior_ = received_prior_ = 0;
    jitter_ = 0;
  } else {
    auto delta = static_cast<uint16_t>(seq - max_seq_);
    if (delta == 0) return {Kind::kDuplicate, 0};
    if (delta >= 0x8000) return {Kind::kLate, 0};  // half the number space behind counts as older
    if (seq < max_seq_) cycles_ += 65536;          // wrapped past 65535
    a.kind = Kind::kNewer;
    a.missing_before = static_cast<uint16_t>(delta - 1);
    max_seq_ = seq;
  }
  Count(rtp_timestamp, now_us);
  return a;
}

void ReceiveStats::Count(uint32_t rtp_timestamp, int64_t now_us) {
  ++received_;
  // Interarrival jitter in timestamp units (§6.4.1, A.8): the smoothed difference of
  // transit times, so a constant network delay, whatever it is, gives zero.
  auto arrival = static_cast<int64_t>(static_cast<double>(now_us) * clock_rate_ / 1e6);
  int64_t transit = arrival - static_cast<int64_t>(rtp_timestamp);
  if (received_ > 1) jitter_ += (std::fabs(static_cast<double>(transit - last_transit_)) - jitter_) / 16.0;
  last_transit_ = transit;
}

void ReceiveStats::OnSenderReport(uint64_t ntp, int64_t now_us) {
  last_sr_mid_ = static_cast<uint32_t>(ntp >> 16);
  last_sr_at_us_ = now_us;
}

ReportBlock ReceiveStats::TakeReportBlock(int64_t now_us) {
  // A.3: loss over the interval since the last report, and in total.
  uint32_t extended = cycles_ + max_seq_;
  uint32_t expected = extended - base_seq_ + 1;
  uint32_t expected_interval = expected - expected_prior_;
  uint32_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  int64_t lost_interval = static_cast<int64_t>(expected_interval) - received_interval;
  ReportBlock b;
  b.ssrc = ssrc_;
  // Duplicates can make the interval's loss negative; the field is unsigned, so 0.
  b.fraction_lost = expected_interval == 0 || lost_interval <= 0
                        ? 0
                        : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  b.cumulative_lost = static_cast<int32_t>(static_cast<int64_t>(expected) - received_);
  b.highest_sequence = extended;
  b.jitter = static_cast<uint32_t>(jitter_);
  b.last_sr = last_sr_mid_;
  // DLSR is in 1/65536 s; 0 means no SR yet.
  b.delay_since_last_sr = last_sr_at_us_ ? static_cast<uint32_t>((now_us - last_sr_at_us_) * 65536 / 1'000'000) : 0;
  return b;
}

}  // namespace parley::sfu
