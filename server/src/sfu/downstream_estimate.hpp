// One subscriber's downstream: what its network can take, and whether video to it is
// allowed.
//
// An SFU forwards whatever its publishers send; a subscriber behind a thinner or lossier
// link than the publisher's would get every stream late or broken, audio included. The
// estimate decides per subscriber "video allowed / paused" so that, when it cannot take
// the video, the SFU stops sending it video (never audio: audio is small and is what
// keeps a call going) and asks for a keyframe when it can take it again. The simulcast
// work hooks its layer switching onto the same decision.
//
// It is fed an estimate of the subscriber's total bitrate: the server's own, from the
// subscriber's transport-cc feedback (send_side_bwe.hpp), or, for a subscriber that does
// not send that, its REMB (draft-alvestrand-rmcat-remb: the receiver's own estimate);
// "REMB" below stands for either. Also the fraction lost of its receiver reports
// (RFC 3550 §6.4.1, per stream), the video the routes offer it and the bytes actually
// sent to it. It decides
// with hysteresis, so that a short dip does not cost a keyframe and a pause does not
// flap:
// The offered video rate is what cannot get smaller: single streams and simulcast
// sources on their smallest layer (a larger layer is the layer switch's to move down,
// layer_switch.hpp, which it does sooner).
//   pause  when REMB stays below 80 % of the offered video rate for 2 s without rising
//          by 10 % (a rising one is catching up, not congested), or the worst
//          stream's loss stays above 25 % for 3 s;
//   resume when REMB (if there is a fresh one) is at least 1.3x the offered video rate
//          and the loss is below 5 %, both for 3 s.
// After a layer switch down (Settle) the REMB rule waits 6 s: the larger layer's queue
// drains and the estimate recovers, and pausing would only add a frozen picture.
// Video that is paused is still offered, so the rate resuming needs is the publisher's
// current one, not the one before the pause.
//
// A paused receiver cannot raise its REMB by itself: libwebrtc's receive-side estimate
// grows only to 1.5x what arrives, and with video paused only audio arrives, so a link
// that got its bandwidth back would never see video again. So a pause for a low REMB
// is retried: after 4 s video resumes on trial (a probe with the real video); a link
// still too thin brings the REMB down again and the pause back within its 2 s, and the
// next trial waits twice as long (up to 32 s); a trial that holds for 10 s ends the
// backing off. Video that resumes lets the REMB climb (the pause rule forgives a rising
// one), which is how a subscriber whose estimate collapsed gets its video back.
//
// Loss is not always ours: on a path with random loss (radio), pausing video leaves
// the loss as it was. A pause for loss that has not brought the loss down (to below
// 80 % of what it was) within 3 s is ended, and the loss rule then rests for 30 s,
// so such a path keeps its video (repaired by NACK) instead of losing it for good.
// A REMB older than 5 s is ignored: while
// paused a receiver sees no video to estimate from, and a stale low estimate must not
// keep video off forever (the loss rule still holds; if the link really is too thin,
// the pause comes back after its delay).
//
// Time is passed in (no clock reads); Update(now) rolls the rate window and decides.
// Worker-thread only; no allocation, no lock, no throw: the forwarder calls OnSent and
// OnVideoOffered per packet.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace parley::sfu {

struct DownstreamOptions {
  int64_t window_us = 1'000'000;      ///< rates are measured over windows this long
  double pause_below = 0.8;           ///< pause when REMB < this x offered video rate ...
  int64_t pause_remb_us = 2'000'000;  ///< ... for this long
  /// Or when loss > this (of 256) for pause_loss_us. Off by default (255 is never
  /// exceeded): random loss on the path is not caused by our video, NACK/RTX repairs
  /// what it can, and pausing for it only costs the subscriber its video. A deployment
  /// that sees congestion as loss only (clients without REMB) may set 64 (25 %).
  uint8_t pause_loss = 255;
  int64_t pause_loss_us = 3'000'000;
  double resume_above = 1.3;           ///< resume when REMB >= this x offered video rate ...
  uint8_t resume_loss = 13;            ///< (after a pause for loss: and loss < this, of 256: 5 %)
  int64_t resume_us = 3'000'000;       ///< ... for this long
  int64_t stale_us = 5'000'000;        ///< a REMB or a stream's loss older than this is ignored
  int64_t loss_rest_us = 30'000'000;   ///< the loss rule rests this long after a pause that did not help
  int64_t retry_after_us = 4'000'000;  ///< a pause for a low REMB is tried again after this long ...
  int64_t retry_max_us = 32'000'000;   ///< ... doubled after each trial that failed, up to this
  int64_t retry_held_us = 10'000'000;  ///< a trial not paused within this long held
};

class DownstreamEstimate {
 public:
  /// What Update decided.
  enum class Change : uint8_t { kNone, kPaused, kResumed };

  explicit DownstreamEstimate(DownstreamOptions options = {}) : options_(options) {}

  /// An estimate of everything the subscriber can receive: the server's own from its
  /// transport-cc feedback (send_side_bwe.hpp), or the subscriber's REMB. (The rules
  /// below say REMB for either.)
  void OnEstimate(uint64_t bitrate_bps, int64_t now_us);
  /// One report block of the subscriber's SR/RR: the fraction of `ssrc` lost since its
  /// last report (0..255). Streams are kept apart (a client may report each in its own
  /// packet, and a paused video stream reports no loss), and the worst fresh one counts.
  void OnLoss(uint32_t ssrc, uint8_t fraction_lost, int64_t now_us);
  /// A video copy the routes would send the subscriber, `bytes` long, sent or not.
  /// `lower_layer`: a smaller layer of its source could go instead; such video is left
  /// to the layer switch (layer_switch.hpp), and only what cannot get smaller (single
  /// streams, a source's smallest layer) decides a pause or a resume.
  void OnVideoOffered(size_t bytes, bool lower_layer = false) {
    video_bytes_ += bytes;
    if (!lower_layer) floor_bytes_ += bytes;
  }
  /// `bytes` actually sent to the subscriber (any media, retransmissions included);
  /// `fixed` when it is of a stream without layers to choose from (audio, a single-layer
  /// video): what the layered sources' share of the estimate leaves out.
  void OnSent(size_t bytes, bool fixed = false) {
    sent_bytes_ += bytes;
    if (fixed) fixed_bytes_ += bytes;
  }
  /// A simulcast route to the subscriber moved to a smaller layer: the REMB rule waits
  /// until `until_us` (the larger layer's queue drains, the estimate recovers).
  void Settle(int64_t until_us) { settle_until_us_ = std::max(settle_until_us_, until_us); }
  /// Rolls the rate window when it is due and applies the rules; call it often (each
  /// worker tick). Returns kPaused / kResumed when the decision changed just now.
  Change Update(int64_t now_us);

  [[nodiscard]] bool video_allowed() const { return !paused_; }
  /// How many times paused video was resumed on trial (the REMB alone did not allow it).
  [[nodiscard]] uint32_t trials() const { return trials_; }
  /// The last REMB, 0 when the subscriber sent none (or none lately).
  [[nodiscard]] uint64_t estimate_bps(int64_t now_us) const;
  /// The video the routes offered over the last full window.
  [[nodiscard]] uint64_t video_bps() const { return video_bps_; }
  /// ... of it, what could not get smaller: the rate the pause and resume rules weigh.
  [[nodiscard]] uint64_t floor_bps() const { return floor_bps_; }
  /// What was sent over the last full window.
  [[nodiscard]] uint64_t sent_bps() const { return sent_bps_; }
  /// ... of it, of streams without layers.
  [[nodiscard]] uint64_t fixed_bps() const { return fixed_bps_; }
  /// The worst fresh per-stream loss (0..255).
  [[nodiscard]] uint8_t loss(int64_t now_us) const;

 private:
  /// Streams whose loss is tracked: a subscriber sees a few (audio, camera, screen of
  /// each publisher); past this many, the stalest entry is reused.
  static constexpr size_t kStreams = 16;
  struct StreamLoss {
    uint32_t ssrc = 0;
    uint8_t fraction = 0;
    int64_t at_us = 0;
  };

  DownstreamOptions options_;
  bool paused_ = false;
  uint64_t remb_bps_ = 0;
  int64_t remb_at_us_ = 0;
  bool has_remb_ = false;
  std::array<StreamLoss, kStreams> losses_{};
  uint64_t video_bytes_ = 0, sent_bytes_ = 0, fixed_bytes_ = 0, floor_bytes_ = 0;  ///< in the current window
  uint64_t video_bps_ = 0, sent_bps_ = 0, fixed_bps_ = 0, floor_bps_ = 0;          ///< over the last full window
  int64_t window_start_us_ = 0;
  bool started_ = false;
  // When each condition began to hold without a break; -1 = it does not hold now.
  int64_t remb_low_since_ = -1, loss_high_since_ = -1, good_since_ = -1, no_better_since_ = -1;
  uint64_t remb_low_from_ = 0;     ///< the REMB when the low period began (a rising one restarts it)
  bool loss_pause_ = false;        ///< the pause was for loss alone
  uint8_t loss_at_pause_ = 0;      ///< ... at this loss
  int64_t loss_rule_from_us_ = 0;  ///< the loss rule rests until then
  int64_t paused_at_us_ = 0;       ///< when the current pause began
  int64_t settle_until_us_ = 0;    ///< the REMB rule waits until then (Settle)
  int64_t retry_delay_us_ = 0;     ///< how long this pause waits for its trial
  int64_t trial_at_us_ = -1;       ///< when the last trial resumed video (-1: none pending)
  uint32_t trials_ = 0;
};

}  // namespace parley::sfu
