#include "sfu/layer_economy.hpp"

namespace parley::sfu {

bool LayerAvailable(const PublisherTracks::Track& t, int64_t now_us) {
  return PublisherTracks::Active(t, now_us) || t.paused ||
         (t.resumed_us >= 0 && now_us - t.resumed_us < kResumeGraceUs);
}

bool SpareLayers(std::span<PublisherTracks::Track> layers, uint32_t wanted, int64_t now_us) {
  bool changed = false;
  // With no wanted layer on offer, the smallest one on offer stays (the publisher's own
  // first may be off: a camera too small for two layers sends the big one alone).
  bool wanted_on_offer = false;
  for (size_t i = 0; i < layers.size() && i < 32; ++i)
    wanted_on_offer = wanted_on_offer || ((wanted >> i & 1u) != 0 && LayerAvailable(layers[i], now_us));
  size_t keep = layers.size();  // none
  if (!wanted_on_offer) {
    keep = 0;
    while (keep + 1 < layers.size() && !LayerAvailable(layers[keep], now_us)) ++keep;
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    PublisherTracks::Track& t = layers[i];
    const bool want = i == keep || i >= 32 || (wanted >> i & 1u) != 0;
    if (want) {
      t.unwanted_since_us = -1;
      if (t.paused) {
        t.paused = false;
        t.resumed_us = now_us;
        changed = true;
      }
      continue;
    }
    if (t.paused) continue;
    if (!PublisherTracks::Active(t, now_us)) {  // not being sent: nothing to spare
      t.unwanted_since_us = -1;
      continue;
    }
    if (t.unwanted_since_us < 0) t.unwanted_since_us = now_us;
    if (now_us - t.unwanted_since_us < kPauseAfterUs) continue;
    t.paused = true;
    t.paused_rate_bps = t.rate_bps();
    t.unwanted_since_us = -1;
    changed = true;
  }
  return changed;
}

}  // namespace parley::sfu
