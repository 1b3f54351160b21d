// The forwarder's probing of subscribers' links (probe_cluster.hpp): starting a cluster
// when the layer switch asks for one, and sending its packets as they fall due.
#include <algorithm>

#include "sfu/forwarder.hpp"
#include "sfu/send_side_bwe.hpp"

namespace parley::sfu {
namespace {

// A probe packet as sent: header, the server's extensions, the padding and SRTP's tag.
constexpr size_t kProbeBytes = 12 + kOwnExtensionsMax + ProbeCluster::kPadding + 16;
// A cluster that could not start (video kept waiting in the pacer) for this long is
// dropped: its feedback would come after the estimate gave it up.
constexpr int64_t kMaxPostponeUs = 500'000;

}  // namespace

bool Forwarder::StartProbe(Transport& sub, Route& r, uint64_t rate_bps, int64_t now_us) {
  auto it = clusters_.find(sub.id());
  SendSideBwe* bwe = sub.send_side_bwe();
  if (it == clusters_.end() || it->second.active() || !bwe || r.spec.rtx_ssrc == 0) return false;
  const uint16_t id = bwe->BeginProbe(ProbeCluster::PacketsFor(rate_bps, kProbeBytes), now_us);
  it->second.Start(rate_bps, kProbeBytes, r.spec.ssrc, id, now_us);
  probing_ = true;
  return true;
}

void Forwarder::SendProbes(int64_t now_us) {
  probing_ = false;
  for (auto& [id, cluster] : clusters_) {
    if (!cluster.active()) continue;
    Transport* sub = transports_.Find(id);
    SendSideBwe* bwe = sub ? sub->send_side_bwe() : nullptr;
    Router* router = RouterOf(id);
    Route* r = router ? router->Find(id, cluster.ssrc()) : nullptr;
    if (!sub || sub->state() != Transport::State::kConnected || !bwe || !r || sub->transport_cc_id() == 0) {
      cluster.Cancel();  // its subscriber or route went: what was sent is measured, or given up
      continue;
    }
    Pacer* pacer = nullptr;
    if (auto p = pacers_.find(id); p != pacers_.end()) pacer = p->second.get();
    // A cluster starts when no video waits in the pacer: video is numbered when it is
    // written, so probes numbered later and sent ahead of it would arrive out of order
    // (and be read as loss). Once under way it does not spend the pacer's budget, so
    // video goes on leaving as it would, in the order it was numbered.
    if (cluster.unstarted() && pacer && pacer->queued() > 0) {
      if (now_us - cluster.planned_us() >= kMaxPostponeUs) {  // the pacer never emptied: not now
        cluster.Cancel();
        continue;
      }
      int64_t at = pacer->NextReleaseUs(now_us);
      cluster.Postpone(at > now_us ? at : now_us + 1000);
      probing_ = true;
      continue;
    }
    while (cluster.Due(now_us)) {
      uint8_t* slot = sink_.Slot();
      OwnExtensions ext{sub->abs_send_time_id(), now_us, sub->transport_cc_id(), bwe->NextSequence()};
      size_t len = WriteProbe(slot, *r, ext);
      size_t n = len ? sub->ProtectRtp(slot, len) : 0;
      if (!n) {
        drops_.Count(DropReason::kSubscriberNotReady);
        cluster.Cancel();
        break;
      }
      bwe->OnSent(now_us, n, cluster.id());
      sink_.Queue(n, sub->path());
      cluster.Sent(now_us);
    }
    probing_ = probing_ || cluster.active();
  }
}

}  // namespace parley::sfu
