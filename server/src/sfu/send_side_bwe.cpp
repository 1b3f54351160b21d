#include "sfu/send_side_bwe.hpp"

#include <algorithm>

#include "sfu/twcc.hpp"

namespace parley::sfu {
namespace {

// The server's estimate: it starts where a call's video usually fits and may grow to
// what a subscriber of many streams takes; the floor keeps audio and a small layer.
congestion::BandwidthEstimator::Config EstimatorConfig() {
  congestion::BandwidthEstimator::Config c;
  c.min_bps = 50'000;
  c.start_bps = 1'000'000;
  c.max_bps = 50'000'000;
  return c;
}

constexpr int64_t kReferenceUs = 64'000;
// Arrival times are the receiver's reference time plus the packet's offset; this keeps
// them positive (a negative one would read as lost) whatever the offsets.
constexpr int64_t kArrivalBaseUs = 1'000'000'000;

}  // namespace

SendSideBwe::SendSideBwe() : bwe_(EstimatorConfig()) {}

void SendSideBwe::OnSent(int64_t send_us, size_t bytes, uint16_t cluster) {
  sent_[static_cast<size_t>(next_) % kWindow] = {send_us, static_cast<uint32_t>(bytes), static_cast<uint16_t>(next_),
                                                 cluster};
  ++next_;
}

uint16_t SendSideBwe::BeginProbe(size_t packets, int64_t now_us) {
  if (++next_cluster_ == 0) next_cluster_ = 1;
  probes_.Begin(next_cluster_, packets, now_us);
  return next_cluster_;
}

bool SendSideBwe::OnFeedback(const RtcpView& fb, int64_t now_us) {
  TwccHeader h;
  auto n = ParseTwccResults(fb, h, arrivals_);
  if (!n) return false;
  // The reference time, unwrapped: the signed 24-bit step from the last one.
  const auto ref24 = static_cast<int64_t>(static_cast<uint32_t>(h.reference_time) & 0xFFFFFF);
  if (reference_ < 0) {
    reference_ = ref24;
  } else {
    int64_t step = (ref24 - (reference_ & 0xFFFFFF)) & 0xFFFFFF;
    if (step >= 0x800000) step -= 0x1000000;
    // Bounded whatever the reports say (2^40 units: 2 billion years of a receiver's
    // clock), so that the time in microseconds below cannot overflow.
    reference_ = std::clamp<int64_t>(reference_ + step, 0, int64_t{1} << 40);
  }
  const int64_t reference_us = reference_ * kReferenceUs;
  size_t count = 0;
  int64_t highest = reported_;
  int64_t probed = 0;  // the highest answer of a cluster this report completed
  for (size_t i = 0; i < *n; ++i) {
    auto seq = static_cast<uint16_t>(h.base_sequence + i);
    int64_t u = UnwrapNear(seq, next_ - 1);
    // Reported before, never sent, or too old to be remembered: not a result.
    if (u <= reported_ || u >= next_ || next_ - u > static_cast<int64_t>(kWindow)) continue;
    const Sent& s = sent_[static_cast<size_t>(u) % kWindow];
    if (s.send_us < 0 || s.seq != seq) continue;
    congestion::PacketResult& r = results_[count++];
    r.seq = seq;
    r.send_us = s.send_us;
    r.size = s.bytes;
    r.probe = s.cluster != 0;
    r.recv_us = arrivals_[i] == kTwccNotReceived ? -1 : kArrivalBaseUs + reference_us + arrivals_[i];
    if (r.recv_us < 0) r.recv_us = -1;
    highest = std::max(highest, u);
    if (s.cluster != 0)
      if (int64_t answer = probes_.Add(s.cluster, r, now_us); answer >= 0) {
        ++probes_measured_;
        last_probe_bps_ = answer;
        probed = std::max(probed, answer);
      }
  }
  reported_ = highest;
  ++feedbacks_;
  if (count > 0) bwe_.OnFeedback(now_us, std::span<const congestion::PacketResult>(results_.data(), count));
  if (probed > 0) bwe_.OnProbe(probed);
  return true;
}

void SendSideBwe::OnUnnumbered(size_t bytes, int64_t now_us) {
  if (unnumbered_since_us_ < 0) unnumbered_since_us_ = now_us;
  const int64_t elapsed = now_us - unnumbered_since_us_;
  if (elapsed >= 1'000'000) {
    unnumbered_bps_ = elapsed < 2'000'000 ? unnumbered_bytes_ * 8 * 1'000'000 / static_cast<uint64_t>(elapsed) : 0;
    unnumbered_bytes_ = 0;
    unnumbered_since_us_ = now_us;
  }
  unnumbered_bytes_ += bytes;
}

uint64_t SendSideBwe::unnumbered_bps(int64_t now_us) const {
  return unnumbered_since_us_ >= 0 && now_us - unnumbered_since_us_ < 2'000'000 ? unnumbered_bps_ : 0;
}

uint64_t SendSideBwe::estimate_bps(int64_t now_us) const {
  if (feedbacks_ == 0) return 0;
  return static_cast<uint64_t>(std::max<int64_t>(bwe_.target_bps(), 0)) + unnumbered_bps(now_us);
}

}  // namespace parley::sfu
