#include "sfu/layer_switch.hpp"

#include <algorithm>

namespace parley::sfu {

bool LayerSwitch::Choose(std::span<const LayerState> layers, uint64_t share_bps, int64_t now_us, bool congested,
                         bool can_probe) {
  size_t n = std::min<size_t>(layers.size(), kNone);
  auto at = [&](int i) -> const LayerState& { return layers[static_cast<size_t>(i)]; };
  int lowest = -1, highest = -1;
  for (size_t i = 0; i < n; ++i)
    if (layers[i].active) {
      if (lowest < 0) lowest = static_cast<int>(i);
      highest = static_cast<int>(i);
    }
  if (lowest < 0) return false;  // nothing is sent: keep what was wanted
  lowest_ = static_cast<uint8_t>(lowest);
  // A layer fits when its measured rate (times `margin`) is within the share; one not
  // measured yet fits (no evidence against it).
  auto fits = [&](int i, double margin) {
    return at(i).rate_bps == 0 || static_cast<double>(at(i).rate_bps) * margin <= static_cast<double>(share_bps);
  };
  auto largest_fitting_below = [&](int limit) {
    for (int i = limit - 1; i >= 0; --i)
      if (at(i).active && fits(i, 1.0)) return i;
    return lowest;
  };
  int ref = target_ != kNone && target_ < n && layers[target_].active ? target_ : -1;
  int want = ref;
  // The hold timers run only while auto moves from a layer it has, by the estimate.
  const bool holding = type_ == VideoStreamType::kAuto && share_bps != 0 && ref >= 0;
  if (!holding) {
    up_since_us_ = down_since_us_ = below_since_us_ = probe_at_us_ = -1;
    trying_ = false;
  }
  auto trial_failed = [&] {
    trial_wait_us_ = std::min(trial_wait_us_ * 2, kTrialMaxWaitUs);
    trial_at_us_ = -1;
    trying_ = false;
  };
  if (type_ == VideoStreamType::kBig || (type_ == VideoStreamType::kAuto && share_bps == 0)) {
    want = highest;
  } else if (type_ == VideoStreamType::kSmall) {
    want = lowest;
  } else if (ref < 0) {
    want = largest_fitting_below(static_cast<int>(n));  // a first choice, or the layer went: at once
  } else if (trying_) {
    // The trial layer is the probe: it may not fit yet, but the estimate must not fall.
    if (static_cast<double>(share_bps) > 1.01 * static_cast<double>(trial_peak_bps_)) {  // climbing
      trial_peak_bps_ = share_bps;
      trial_peak_at_us_ = now_us;
    }
    if (congested && static_cast<double>(share_bps) < 0.95 * static_cast<double>(trial_peak_bps_)) {
      trial_failed();
      want = largest_fitting_below(ref);
    } else if (fits(ref, 1.0) || now_us - trial_peak_at_us_ >= kTrialStallUs ||
               now_us - trial_at_us_ >= kTrialLimitUs) {
      trying_ = false;  // judged by the usual rules from now on; held after kTrialHeldUs
    }
  } else if (!fits(ref, 1.0) && congested) {
    up_since_us_ = -1;
    if (down_since_us_ < 0) down_since_us_ = now_us;
    if (now_us - down_since_us_ >= kDownHoldUs) {
      want = largest_fitting_below(ref);
      if (want != ref && trial_at_us_ >= 0 && now_us - trial_at_us_ < kTrialHeldUs) trial_failed();
    }
  } else {  // it fits, or the subscriber takes what it is sent: stay, and look up
    down_since_us_ = -1;
    if (trial_at_us_ >= 0 && now_us - trial_at_us_ >= kTrialHeldUs) {  // the last trial held
      trial_wait_us_ = kTrialAfterUs;
      trial_at_us_ = -1;
    }
    int up = -1;  // one step at a time: the next layer being sent above this one
    for (int i = ref + 1; i <= highest; ++i)
      if (at(i).active) {
        up = i;
        break;
      }
    if (up >= 0 && fits(ref, 1.0) && fits(up, 1.15)) {
      if (probe_at_us_ >= 0) {  // the last probe found room
        trial_wait_us_ = kTrialAfterUs;
        probe_at_us_ = -1;
      }
      below_since_us_ = -1;
      if (up_since_us_ < 0) up_since_us_ = now_us;
      if (now_us - up_since_us_ >= kUpHoldUs) want = up;
    } else {
      up_since_us_ = -1;
      if (probe_at_us_ >= 0 && now_us - probe_at_us_ >= kProbeJudgeUs) {  // the probe found no room
        trial_wait_us_ = std::min(trial_wait_us_ * 2, kProbeMaxWaitUs);
        probe_at_us_ = -1;
      }
      if (up < 0) {
        below_since_us_ = -1;
      } else {
        if (below_since_us_ < 0) below_since_us_ = now_us;
        if (now_us - below_since_us_ >= trial_wait_us_ && can_probe) {  // look for room, cheaply
          if (probe_at_us_ < 0) {
            probe_bps_ = at(up).rate_bps * 115 / 100;  // what fits(up, 1.15) asks of the share
            probe_at_us_ = now_us;
            ++probes_;
          }
          below_since_us_ = now_us;
        } else if (now_us - below_since_us_ >= trial_wait_us_) {  // held below it long enough: try it
          want = up;
          trying_ = true;
          trial_at_us_ = now_us;
          trial_peak_bps_ = share_bps;
          trial_peak_at_us_ = now_us;
          below_since_us_ = -1;
          ++trials_;
        }
      }
    }
  }
  if (want < 0 || want == target_) return false;
  target_ = static_cast<uint8_t>(want);
  up_since_us_ = down_since_us_ = -1;
  return target_ != current_;
}

bool LayerSwitch::Accept(uint8_t layer, bool keyframe_start) {
  if (target_ == kNone) return false;
  if (layer == current_) {
    if (current_ == target_) starting_ = false;  // the target came down to it meanwhile
    return true;
  }
  if (!keyframe_start) return false;
  if (layer == target_) {
    if (current_ != kNone && !starting_) ++switches_;
    starting_ = false;
    current_ = target_;
    return true;
  }
  if (current_ == kNone && layer < target_) {
    // Nothing forwarded yet: a picture now from a smaller layer rather than one after
    // the target's keyframe (a paused layer takes hundreds of ms to resume). The target
    // follows at its keyframe; that climb is not counted as a switch.
    current_ = layer;
    starting_ = true;
    return true;
  }
  return false;
}

void Vp8Ids::Rewrite(std::span<uint8_t> p, uint32_t ssrc, bool retransmission) {
  // RFC 7741 §4.2: X | R | N | S | R | PID, then (X) I | L | T | K | RSV, then the
  // PictureID (M: 15 bits), TL0PICIDX.
  if (p.size() < 2 || !(p[0] & 0x80)) return;
  uint8_t ext = p[1];
  size_t at = 2;
  bool has_pic = ext & 0x80, has_tl0 = ext & 0x40;
  bool wide = false;
  uint16_t pic = 0;
  if (has_pic) {
    if (p.size() <= at) return;
    wide = p[at] & 0x80;
    if (wide && p.size() <= at + 1) return;
    pic = wide ? static_cast<uint16_t>(((p[at] & 0x7F) << 8) | p[at + 1]) : static_cast<uint16_t>(p[at] & 0x7F);
  }
  size_t tl0_at = at + (has_pic ? (wide ? 2 : 1) : 0);
  if (has_tl0 && p.size() <= tl0_at) return;
  uint8_t tl0 = has_tl0 ? p[tl0_at] : 0;
  uint16_t mask = wide ? 0x7FFF : 0x7F;
  if (!retransmission && (!started_ || ssrc != ssrc_)) {
    // A new input stream: its first picture follows the last one sent.
    if (started_) {
      pic_offset_ = static_cast<uint16_t>(last_pic_ + 1 - pic);
      tl0_offset_ = static_cast<uint8_t>(last_tl0_ + 1 - tl0);
    }
    started_ = true;
    ssrc_ = ssrc;
  }
  if (has_pic) {
    uint16_t out = static_cast<uint16_t>((pic + pic_offset_) & mask);
    if (wide) {
      p[at] = static_cast<uint8_t>(0x80 | (out >> 8));
      p[at + 1] = static_cast<uint8_t>(out & 0xFF);
    } else {
      p[at] = static_cast<uint8_t>(out);
    }
    if (!retransmission) {
      // 15-bit (or 7-bit) serial arithmetic: only a newer picture moves the last one.
      auto half = static_cast<uint16_t>((mask + 1) / 2);
      if (!have_pic_ || static_cast<uint16_t>((out - last_pic_) & mask) < half) last_pic_ = out;
      have_pic_ = true;
    }
  }
  if (has_tl0) {
    uint8_t out = static_cast<uint8_t>(tl0 + tl0_offset_);
    p[tl0_at] = out;
    if (!retransmission) {
      if (!have_tl0_ || static_cast<uint8_t>(out - last_tl0_) < 0x80) last_tl0_ = out;
      have_tl0_ = true;
    }
  }
}

}  // namespace parley::sfu
