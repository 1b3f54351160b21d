#include "channel/transport_failure_monitor.hpp"

namespace parley::server {

void TransportFailureMonitor::Tick(Clock::time_point /*now*/, SessionTable& sessions) {
  constexpr auto kFailed = sfu::Transport::State::kFailed;
  for (auto& [id, sp] : sessions) {
    Session& s = *sp;
    if (!s.channel) continue;
    auto pub = media_.Publish(s);
    if (pub && pub->state == kFailed && publish_reported_.insert(s.id).second) {
      sfu::Failure f = pub->failure;
      if (f != sfu::Failure::kClosedByPeer) {
        // Never connected: could not be established; connected and then lost: broke.
        Errc code = f == sfu::Failure::kConsentLost ? Errc::kMediaConnectionReconnectFailed
                                                    : Errc::kMediaConnectionCreateFailed;
        listener_.OnPublishFailed(s, f, code);
      }
    }
    auto sub = media_.Subscribe(s);
    if (sub && sub->state == kFailed) {
      // The failed connection goes with its routes; the subscriptions stay.
      media_.DropSubscribe(s);
      std::vector<std::string> users;
      for (const auto& [uid, tracks] : s.subscriptions) users.push_back(uid);
      listener_.OnSubscribeFailed(s, sub->failure, users);
    }
  }
}

}  // namespace parley::server
