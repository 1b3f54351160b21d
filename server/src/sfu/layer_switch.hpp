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
//    subscriber's share of its estimate for 300 ms (before the pause rule of
//    downstream_estimate.hpp, 2 s, would stop its video), a higher one when it has fitted
//    with 15 % to spare for 2 s; with no estimate (a client that sends no REMB) auto is big;
//  * a switch happens only where the new layer starts a keyframe (the subscriber's
//    decoder cannot start elsewhere); until then the old layer keeps flowing, so a
//    switch costs no frozen picture. The forwarder asks the publisher for the keyframe.
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

  [[nodiscard]] VideoStreamType type() const { return type_; }
  void SetType(VideoStreamType t) {
    type_ = t;
    up_since_us_ = down_since_us_ = -1;
  }
  /// The layer forwarded now (kNone before the first keyframe of one).
  [[nodiscard]] uint8_t current() const { return current_; }
  /// The layer wanted; differs from current() while a switch waits for its keyframe.
  [[nodiscard]] uint8_t target() const { return target_; }
  /// How many switches happened (a counter for the admin view and the tests).
  [[nodiscard]] uint32_t switches() const { return switches_; }

  /// Chooses the target from the layers (smallest first), the subscriber's share of
  /// its downstream estimate (`share_bps`, 0 = no estimate) and the time. Returns true
  /// when the target changed to a layer other than the current one: the publisher
  /// should be asked for a keyframe.
  bool Choose(std::span<const LayerState> layers, uint64_t share_bps, int64_t now_us);
  /// A packet of `layer` arrived; `keyframe_start` says it begins a keyframe. Whether
  /// it is forwarded (it is of the current layer, or it starts the switch to the target).
  bool Accept(uint8_t layer, bool keyframe_start);

 private:
  VideoStreamType type_ = VideoStreamType::kBig;
  uint8_t current_ = kNone, target_ = kNone;
  int64_t up_since_us_ = -1, down_since_us_ = -1;
  uint32_t switches_ = 0;
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
