// Network quality per direction on the scale both SDKs and the wire share, ARTC's
// AliEngineNetworkQuality: 0 excellent, 1 good, 2 poor, 3 bad, 4 very bad, 5 down
// (disconnected), 6 unknown. From 0 to 5 a greater number is a worse link; 6 is no
// measurement at all and never "worse" than one (WorseQuality). Every stats interval (2 s)
// each direction gets a raw band from what was measured (the worst of its metrics), and
// a filter turns the raw bands into the reported one, so a single noisy interval does
// not flip what the application shows. The rule is written out in docs/network-lab.md
// ("Network quality"); parley.js implements the same one. Pure functions and a small
// state machine: tested without a network or a clock.
#pragma once

#include <optional>

namespace parley::sdk {

/// The public scale, and the bands that mean "weak" (warning 0x00000101: bad or worse)
/// and "recovered" (0x00000102: good or better).
inline constexpr int kQualityExcellent = 0;
inline constexpr int kQualityGood = 1;
inline constexpr int kQualityBad = 3;
inline constexpr int kQualityDown = 5;
inline constexpr int kQualityUnknown = 6;

/// The worse of two qualities; an unknown one gives way to a measured one.
constexpr int WorseQuality(int a, int b) {
  if (a == kQualityUnknown) return b;
  if (b == kQualityUnknown) return a;
  return a > b ? a : b;
}
/// An interval's losses count against at least this many packets.
inline constexpr long long kLossFloorPackets = 50;

/// What the local user sent over one interval, as the server's receiver reports tell it.
struct UplinkSample {
  bool link_down = false;       ///< the signalling link is lost (reconnecting)
  long long sent = 0;           ///< packets sent in the interval
  long long lost = -1;          ///< of those, reported lost by the server (<0: no report yet)
  int rtt_ms = -1;              ///< <0: unknown
  double bandwidth_ratio = -1;  ///< send estimate / what the encoders want (<0: unknown)
};

/// What the local user received over one interval.
struct DownlinkSample {
  bool link_down = false;
  bool expecting = false;  ///< subscribed to something that should be flowing
  long long received = 0;  ///< packets received in the interval (first transmissions)
  long long lost = 0;      ///< packets lost after repair
  long long repaired = 0;  ///< packets lost on the way that retransmission brought back
  int jitter_ms = 0;
  int rtt_ms = -1;
  bool froze = false;  ///< a subscribed, unmuted video showed no new frame for > 500 ms
};

/// The raw band of one interval.
int UplinkBand(const UplinkSample& s);
int DownlinkBand(const DownlinkSample& s);

/// Turns raw bands into the reported band: it moves only when two intervals in a row
/// agree that it should (both worse: to the better of the two; both better: to the
/// worse of the two), except that it leaves 6 (the first measurement), enters or
/// leaves 5 (down), and falls by two bands or more at once.
class QualityFilter {
 public:
  /// Adds one raw band; returns the reported band after it.
  int Add(int raw);
  [[nodiscard]] int reported() const { return reported_; }
  void Reset() { *this = QualityFilter{}; }

 private:
  int reported_ = kQualityUnknown;
  int last_raw_ = -1;  ///< the previous raw band (-1: none)
};

/// The local user's quality: both directions filtered, and the weak-network warning
/// and its recovery, each told once.
class LocalQuality {
 public:
  struct Update {
    int up = kQualityUnknown, down = kQualityUnknown;
    bool changed = false;    ///< the reported pair differs from the previous one
    bool weak = false;       ///< report 0x00000101 now
    bool recovered = false;  ///< report 0x00000102 now
  };
  Update Add(int raw_up, int raw_down);
  void Reset() { *this = LocalQuality{}; }

 private:
  QualityFilter up_, down_;
  bool weak_ = false;
};

}  // namespace parley::sdk
