#include "sfu/downstream_estimate.hpp"

#include <algorithm>

namespace parley::sfu {

void DownstreamEstimate::OnEstimate(uint64_t bitrate_bps, int64_t now_us) {
  remb_bps_ = bitrate_bps;
  remb_at_us_ = now_us;
  has_remb_ = true;
}

void DownstreamEstimate::OnLoss(uint32_t ssrc, uint8_t fraction_lost, int64_t now_us) {
  StreamLoss* slot = &losses_[0];
  for (auto& l : losses_) {
    if (l.ssrc == ssrc && l.at_us != 0) {
      slot = &l;
      break;
    }
    if (l.at_us < slot->at_us) slot = &l;  // an empty entry (at 0) or the stalest
  }
  *slot = {ssrc, fraction_lost, now_us == 0 ? 1 : now_us};
}

uint64_t DownstreamEstimate::estimate_bps(int64_t now_us) const {
  return has_remb_ && now_us - remb_at_us_ <= options_.stale_us ? remb_bps_ : 0;
}

uint8_t DownstreamEstimate::loss(int64_t now_us) const {
  uint8_t worst = 0;
  for (const auto& l : losses_)
    if (l.at_us != 0 && now_us - l.at_us <= options_.stale_us) worst = std::max(worst, l.fraction);
  return worst;
}

DownstreamEstimate::Change DownstreamEstimate::Update(int64_t now_us) {
  if (!started_) {
    started_ = true;
    window_start_us_ = now_us;
  }
  int64_t elapsed = now_us - window_start_us_;
  if (elapsed >= options_.window_us) {
    auto bps = [&](uint64_t bytes) { return bytes * 8 * 1'000'000 / static_cast<uint64_t>(elapsed); };
    video_bps_ = bps(video_bytes_);
    floor_bps_ = bps(floor_bytes_);
    sent_bps_ = bps(sent_bytes_);
    fixed_bps_ = bps(fixed_bytes_);
    video_bytes_ = sent_bytes_ = fixed_bytes_ = floor_bytes_ = 0;
    window_start_us_ = now_us;
  }
  uint64_t remb = estimate_bps(now_us);
  uint8_t lost = loss(now_us);
  // How long a condition has held without a break (-1: it does not hold now).
  auto held_for = [now_us](int64_t& since, bool holds) -> int64_t {
    if (!holds) {
      since = -1;
      return -1;
    }
    if (since < 0) since = now_us;
    return now_us - since;
  };
  if (!paused_) {
    // No REMB, or no video offered: nothing to compare, nothing to pause for.
    // Settling after a layer switch down, the queue the larger layer built drains and
    // the REMB recovers: not a reason to pause yet.
    bool remb_low = remb != 0 && floor_bps_ != 0 && now_us >= settle_until_us_ &&
                    static_cast<double>(remb) < options_.pause_below * static_cast<double>(floor_bps_);
    // A rising REMB is a receiver's estimate catching up with more video (libwebrtc's
    // grows a few per cent a second, to 1.5x what arrives: after a simulcast switch up it
    // trails the new rate for seconds), not congestion: the low period starts again
    // whenever the REMB has risen 10 % above where it began.
    if (remb_low && remb_low_since_ >= 0 && remb > remb_low_from_ + remb_low_from_ / 10) remb_low_since_ = -1;
    if (remb_low && remb_low_since_ < 0) remb_low_from_ = remb;
    int64_t low_for = held_for(remb_low_since_, remb_low);
    int64_t lossy_for = held_for(loss_high_since_, lost > options_.pause_loss && now_us >= loss_rule_from_us_);
    if (trial_at_us_ >= 0 && now_us - trial_at_us_ >= options_.retry_held_us) trial_at_us_ = -1;  // it held
    if (low_for >= options_.pause_remb_us || lossy_for >= options_.pause_loss_us) {
      paused_ = true;
      loss_pause_ = low_for < options_.pause_remb_us;
      loss_at_pause_ = lost;
      paused_at_us_ = now_us;
      // The first pause (or the first since a trial held) waits the shortest; a trial
      // that failed doubles the wait.
      retry_delay_us_ = trial_at_us_ < 0
                            ? options_.retry_after_us
                            : std::min(options_.retry_max_us, std::max(retry_delay_us_, options_.retry_after_us) * 2);
      trial_at_us_ = -1;
      remb_low_since_ = loss_high_since_ = good_since_ = no_better_since_ = -1;
      return Change::kPaused;
    }
    return Change::kNone;
  }
  bool remb_ok = remb == 0 || static_cast<double>(remb) >= options_.resume_above * static_cast<double>(floor_bps_);
  // A pause for a low REMB ends on the REMB alone: the path's random loss (which NACK
  // repairs) must not keep video off once the bandwidth is back.
  bool helped = held_for(good_since_, remb_ok && (!loss_pause_ || lost < options_.resume_loss)) >= options_.resume_us;
  // Paused for loss, and the loss stayed (at least 80 % of it): it is the path's, not
  // caused by our video, and the pause only costs video.
  bool useless =
      held_for(no_better_since_, loss_pause_ && remb_ok && lost * 5 >= loss_at_pause_ * 4) >= options_.resume_us;
  // A pause for a low REMB the REMB cannot end (see the header): video on trial.
  bool trial = !helped && !useless && !loss_pause_ && now_us - paused_at_us_ >= retry_delay_us_;
  if (helped || useless || trial) {
    if (useless && !helped) loss_rule_from_us_ = now_us + options_.loss_rest_us;
    if (trial) {
      trial_at_us_ = now_us;
      ++trials_;
    } else {
      trial_at_us_ = -1;
    }
    paused_ = false;
    remb_low_since_ = loss_high_since_ = good_since_ = no_better_since_ = -1;
    return Change::kResumed;
  }
  return Change::kNone;
}

}  // namespace parley::sfu
