// Publisher economy: a simulcast layer that no subscriber watches is not worth its
// publisher's encoding and upload. The forwarder looks at each simulcast source now and
// then with the layers its routes forward or are switching to ("wanted"); a layer being
// sent that nobody has wanted for kPauseAfterUs is paused (the control plane tells the
// publisher, whose SDK stops encoding it: `publishLayers` in docs/protocol.md), and a
// paused layer that becomes wanted is resumed at once. While no subscriber wants any
// layer, the smallest one being sent stays: a subscriber that arrives gets a picture at
// once, and it is cheap. A subscriber on auto wants the smallest layer too, whatever it
// receives: it is where auto falls back when the subscriber's link thins, and a paused
// one would first have to be resumed (the notice's trip, the encoder's restart, its
// keyframe: seconds of a queue overflowing on a capped link). Once subscribers want only
// the big layer explicitly (both asked for big), the small one is paused too.
//
// A paused layer stays a choice for subscribers (LayerAvailable): asking for it is what
// resumes it, and the old layer keeps flowing until the resumed one's first keyframe,
// so a resume costs no frozen picture. A layer the publisher stopped by itself (its own
// bandwidth or CPU adaptation) is never paused: it is not a choice until it comes back.
//
// Time is passed in; no allocation, no throw. Worker-thread only.
#pragma once

#include <cstdint>
#include <span>

#include "sfu/publisher_tracks.hpp"

namespace parley::sfu {

inline constexpr int64_t kPauseAfterUs = 2'000'000;
/// How long a resumed layer counts as a choice before its packets arrive: the notice's
/// trip to the publisher, and its encoder's restart with a keyframe.
inline constexpr int64_t kResumeGraceUs = 2'000'000;

/// Whether a subscriber may be switched to layer track `t`: it is being sent, it is
/// paused (asking for it resumes it), or it was resumed and its packets are on the way.
[[nodiscard]] bool LayerAvailable(const PublisherTracks::Track& t, int64_t now_us);

/// The rate to judge layer `t` by: measured, or while paused what it cost before.
[[nodiscard]] inline uint64_t LayerRate(const PublisherTracks::Track& t) {
  return t.paused && t.paused_rate_bps != 0 ? t.paused_rate_bps : t.rate_bps();
}

/// One look at the layers of one source (smallest first): bit i of `wanted` is set when
/// a route forwards layer i or is switching to it. Pauses and resumes as described
/// above; returns whether any layer was paused or resumed.
bool SpareLayers(std::span<PublisherTracks::Track> layers, uint32_t wanted, int64_t now_us);

}  // namespace parley::sfu
