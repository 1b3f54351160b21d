#include "core/network_quality.hpp"

#include <algorithm>
#include <cstdlib>

namespace parley::sdk {
namespace {

// The bands' upper bounds, excellent to bad; past the last one is very bad (4).
int Band(double v, double b1, double b2, double b3, double b4) {
  return v < b1 ? 0 : v < b2 ? 1 : v < b3 ? 2 : v < b4 ? 3 : 4;
}

// A few packets say little about loss: a silent microphone with DTX sends 2.5 a
// second, and one lost of five would read as 20 %. Losses are counted against at
// least kLossFloorPackets (a second of 20 ms audio).
int LossBand(long long lost, long long total) {
  if (total <= 0) return kQualityExcellent;
  const long long base = std::max(total, kLossFloorPackets);
  return Band(static_cast<double>(lost) / static_cast<double>(base), 0.01, 0.03, 0.08, 0.15);
}

int RttBand(int rtt_ms) {
  return rtt_ms < 0 ? kQualityExcellent : Band(rtt_ms, 100, 200, 400, 800);
}

}  // namespace

int UplinkBand(const UplinkSample& s) {
  if (s.link_down) return kQualityDown;
  bool loss_known = s.sent > 0 && s.lost >= 0;
  if (!loss_known && s.rtt_ms < 0) return kQualityUnknown;
  int band = RttBand(s.rtt_ms);
  if (loss_known) band = std::max(band, LossBand(std::min(s.lost, s.sent), s.sent));
  // A sender that may send only a fraction of what its encoders want is squeezed.
  if (s.bandwidth_ratio >= 0) {
    double r = s.bandwidth_ratio;
    band = std::max(band, r >= 0.9 ? 0 : r >= 0.6 ? 1 : r >= 0.35 ? 2 : r >= 0.2 ? 3 : 4);
  }
  return band;
}

int DownlinkBand(const DownlinkSample& s) {
  if (s.link_down) return kQualityDown;
  // The network's loss: what retransmission repaired was lost all the same (it costs a
  // round trip and bandwidth, and at 30 % loss repair hides most of it from the count
  // that is left).
  const long long network_lost = std::max(0LL, s.lost) + std::max(0LL, s.repaired);
  const long long expected = std::max(0LL, s.received) + network_lost;
  // Media was flowing and nothing at all arrived for the whole interval: cut off.
  if (s.expecting && s.received + std::max(0LL, s.repaired) == 0) return kQualityDown;
  if (expected == 0 && s.rtt_ms < 0) return kQualityUnknown;
  int band = std::max(RttBand(s.rtt_ms), LossBand(network_lost, expected));
  // Jitter is a property of what arrived: with nothing received it says nothing.
  if (expected > 0) band = std::max(band, Band(std::max(0, s.jitter_ms), 30, 50, 100, 200));
  if (s.froze) band = std::max(band, kQualityBad);
  return band;
}

int QualityFilter::Add(int raw) {
  raw = std::clamp(raw, kQualityExcellent, kQualityUnknown);
  int prev = last_raw_;
  last_raw_ = raw;
  const int now = reported_;
  if (raw == now) return now;
  // Taken at once: the first measurement, a change to or from "down", nothing measured
  // any more, and a fall of two bands or more.
  if (now == kQualityUnknown || now == kQualityDown || raw == kQualityDown || raw == kQualityUnknown ||
      raw - now >= 2) {
    reported_ = raw;
    return reported_;
  }
  // Otherwise two intervals in a row must agree on the direction; the move is the
  // smaller of the two.
  if (prev >= kQualityExcellent && prev < kQualityDown) {
    if (raw > now && prev > now) reported_ = std::min(raw, prev);
    if (raw < now && prev < now) reported_ = std::max(raw, prev);
  }
  return reported_;
}

LocalQuality::Update LocalQuality::Add(int raw_up, int raw_down) {
  Update u;
  int before_up = up_.reported(), before_down = down_.reported();
  u.up = up_.Add(raw_up);
  u.down = down_.Add(raw_down);
  u.changed = u.up != before_up || u.down != before_down;
  // "Down" has its own notices (0x00000103 / 0x00000105); weak is about a link that
  // works badly, so down and unknown are left out of the worst band here (-1).
  auto measured = [](int q) { return q >= kQualityExcellent && q < kQualityDown ? q : -1; };
  int worst = std::max(measured(u.up), measured(u.down));
  if (!weak_ && worst >= kQualityBad) {
    weak_ = true;
    u.weak = true;
  } else if (weak_ && worst >= kQualityExcellent && worst <= kQualityGood) {
    weak_ = false;
    u.recovered = true;
  }
  return u;
}

}  // namespace parley::sdk
