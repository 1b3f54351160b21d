// Simulcast on the subscriber's side of one route: which layer of a publisher's video
// source the subscriber gets, and the rewriting that makes the layers it is switched
// between look like one stream.
//
// A simulcast publisher sends one video source as up to three layers (RIDs or SSRCs
// of one section, smallest first). Each route to a subscriber forwards one of them:
//  * the subscriber's choice (setRemoteVideoStreamType): big = the largest layer being
//    sent, small = the smallest, auto = the largest its downstream can carry;
//  * a layer the publisher stops sending (its own encoder dropped it, or it was paused)
//    is left for the nearest one it still sends, at once;
//  * in auto, a lower layer is taken when the one forwarded no longer fits the
//    subscriber's share of its estimate for 300 ms while the estimate is below what the
//    subscriber is sent (a receive-side estimate sits close above what arrives, so only
//    one below it says the link cannot take it; before the pause rule of
//    downstream_estimate.hpp, 2 s, would stop its video), a higher one when it has fitted
//    with 15 % to spare for 2 s; with no estimate (a client that sends no REMB) auto is big.
//    The share is the estimate less what the subscriber's streams without layers take
//    (audio), divided among the simulcast sources it receives;
//  * an estimate grows only from what arrives (libwebrtc's REMB to at most 1.5x the
//    incoming rate, the server's own from transport-cc likewise from what was
//    acknowledged), so a subscriber held on a lower layer may never show room for the
//    next one, even once its link has it. After 4 s held below it without congestion,
//    auto therefore looks for room: where the server estimates the subscriber's link
//    itself (transport-cc) and the route has an RTX stream, it asks for a probe
//    (probe_cluster.hpp) at the share the next layer needs; an answer with room raises
//    the estimate and the usual rule below moves up. A probe that finds no room within
//    1 s doubles the wait for the next (up to 8 s; one that finds room resets it).
//    Without a probe to ask for, auto tries the next layer itself (a trial: the real
//    layer is the probe).
//    Until it fits, while the estimate climbs (a new peak within 2 s; 20 s at most),
//    the trial layer need not fit: only the estimate must not fall while the
//    subscriber is congested (to under 95 % of its peak since the trial began: a queue
//    building), else it is left at once; then the usual rules judge it. A trial left
//    within 10 s failed and doubles the wait (up to 16 s); one that holds 10 s resets it;
//  * a switch happens only where the new layer starts a keyframe (the subscriber's
//    decoder cannot start elsewhere); until then the old layer keeps flowing, so a
//    switch costs no frozen picture. The forwarder asks the publisher for the keyframe.
//    A route that has forwarded nothing yet starts on the first keyframe of the target
//    or of any smaller layer, and climbs to the target at its keyframe: a newcomer's
//    first picture does not wait for a paused layer to resume.
// The route's SeqRewriter keeps sequence numbers and timestamps continuous across the
// change of SSRC; Vp8Ids does the same for VP8's picture ID and TL0PICIDX (RFC 7741
// §4.2), which receivers use to find a frame's references.
//
// Time is passed in; no allocation, no throw. Worker-thread only (part of a Route).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "parley/proto/vocabulary.hpp"
#include "sfu/payload_check.hpp"

namespace parley::sfu {

using parley::VideoStreamType;

/// What the switch knows of one layer of the source.
struct LayerState {
  bool active = false;    ///< the publisher sends it (a packet within the last second)
  uint64_t rate_bps = 0;  ///< its rate over the last second (0: not measured yet)
};

class LayerSwitch {
 public:
  static constexpr uint8_t kNone = 0xFF;
  static constexpr int64_t kDownHoldUs = 300'000;
  static constexpr int64_t kUpHoldUs = 2'000'000;
  static constexpr int64_t kTrialAfterUs = 4'000'000;
  static constexpr int64_t kTrialMaxWaitUs = 16'000'000;
  static constexpr int64_t kTrialStallUs = 2'000'000;
  static constexpr int64_t kTrialLimitUs = 20'000'000;
  static constexpr int64_t kTrialHeldUs = 10'000'000;
  static constexpr int64_t kProbeJudgeUs = 1'000'000;
  static constexpr int64_t kProbeMaxWaitUs = 8'000'000;

  [[nodiscard]] VideoStreamType type() const { return type_; }
  void SetType(VideoStreamType t) {
    type_ = t;
    up_since_us_ = down_since_us_ = below_since_us_ = trial_at_us_ = probe_at_us_ = -1;
    trying_ = false;
    probe_bps_ = 0;
  }
  /// The layer forwarded now (kNone before the first keyframe of one; until the
  /// target's first keyframe, possibly a smaller layer the route started on).
  [[nodiscard]] uint8_t current() const { return current_; }
  /// Whether a smaller layer than the one forwarded is being sent (at the last Choose).
  [[nodiscard]] bool above_lowest() const { return current_ != kNone && lowest_ != kNone && current_ > lowest_; }
  /// The layer wanted; differs from current() while a switch waits for its keyframe.
  [[nodiscard]] uint8_t target() const { return target_; }
  /// How many switches happened (a counter for the admin view and the tests).
  [[nodiscard]] uint32_t switches() const { return switches_; }
  /// How many times auto tried the next layer up beyond the estimate.
  [[nodiscard]] uint32_t trials() const { return trials_; }
  /// Whether a trial is under way.
  [[nodiscard]] bool trying() const { return trying_; }
  /// How many probes auto asked for.
  [[nodiscard]] uint32_t probes() const { return probes_; }
  /// The share (bit/s) a probe asked for by the last Choose should show room for, once
  /// (0: none wanted). The caller turns it into a probe of the subscriber's link.
  uint64_t TakeProbe() {
    uint64_t bps = probe_bps_;
    probe_bps_ = 0;
    return bps;
  }
  /// The probe TakeProbe asked for could not be sent (one to the subscriber is under
  /// way): it is not counted nor judged, and auto asks again after its wait.
  void ProbeRefused() {
    if (probe_at_us_ >= 0 && probes_ > 0) --probes_;
    probe_at_us_ = -1;
  }

  /// Chooses the target from the layers (smallest first), the subscriber's share of
  /// its downstream estimate (`share_bps`, 0 = no estimate) and the time. `congested`:
  /// the estimate is below what the subscriber is sent (see above). `can_probe`: room is
  /// looked for with a probe (TakeProbe), not a trial. Returns true when the target
  /// changed to a layer other than the current one: the publisher should be asked for a
  /// keyframe.
  bool Choose(std::span<const LayerState> layers, uint64_t share_bps, int64_t now_us, bool congested = true,
              bool can_probe = false);
  /// A packet of `layer` arrived; `keyframe_start` says it begins a keyframe. Whether
  /// it is forwarded (it is of the current layer, or it starts the switch to the target).
  bool Accept(uint8_t layer, bool keyframe_start);

 private:
  VideoStreamType type_ = VideoStreamType::kBig;
  uint8_t current_ = kNone, target_ = kNone, lowest_ = kNone;
  int64_t up_since_us_ = -1, down_since_us_ = -1;
  int64_t below_since_us_ = -1;  ///< auto has been held below the next layer by the estimate since
  int64_t trial_at_us_ = -1;     ///< the last trial began then (-1: none to judge)
  int64_t trial_wait_us_ = kTrialAfterUs;
  uint64_t trial_peak_bps_ = 0;    ///< the highest share seen while trying ...
  int64_t trial_peak_at_us_ = -1;  ///< ... reached then (1 % above the one before)
  bool trying_ = false;
  bool starting_ = false;     ///< current_ is the smaller layer the route started on
  int64_t probe_at_us_ = -1;  ///< the last probe was asked for then (-1: none to judge)
  uint64_t probe_bps_ = 0;    ///< a probe wanted, for TakeProbe
  uint32_t switches_ = 0, trials_ = 0, probes_ = 0;
};

/// VP8 picture ID and TL0PICIDX of one route, continued across the publisher's layers
/// (each layer numbers its own pictures). Rewrites the payload descriptor in place.
class Vp8Ids {
 public:
  /// `payload` begins with the VP8 payload descriptor; `ssrc` is the input stream it
  /// came on (a new one starts new offsets so that the output continues where it was);
  /// a `retransmission` uses the current offsets and moves nothing.
  void Rewrite(std::span<uint8_t> payload, uint32_t ssrc, bool retransmission);

 private:
  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t pic_offset_ = 0, last_pic_ = 0;
  uint8_t tl0_offset_ = 0, last_tl0_ = 0;
  bool have_pic_ = false, have_tl0_ = false;
};

}  // namespace parley::sfu
