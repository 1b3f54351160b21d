// The way a call's next media connection gathers after ICE failures. libnice nominates
// a pair only once every better pair has failed, and a UDP check that a network drops
// silently fails only after its last retransmission (about a minute), so where UDP is
// dropped on the way a connection never nominates its working ICE-TCP pair within the
// server's connect bound (0x01050201, reason ice-timeout, or dtls-timeout when the server
// answered checks the network then dropped). Each such failure moves the
// next connection on: every candidate -> TCP only (no UDP pair to wait for) -> relay
// only (through the join answer's TURN servers, when there are any) -> every candidate
// again. The publish and subscribe connections made together fail together: failures
// closer than kSameAttempt to the last move count once. Engine thread.
#pragma once

#include <chrono>

#include "media/media.hpp"

namespace parley::sdk::call {

class IceFallback {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Way { kAll, kTcpOnly, kRelayOnly };
  static constexpr std::chrono::seconds kSameAttempt{5};

  /// A connection of the call failed ICE at `now`; `relays`: the join answer had TURN
  /// servers.
  void Failed(Clock::time_point now, bool relays) {
    if (moved_ && now - last_move_ < kSameAttempt) return;
    moved_ = true;
    last_move_ = now;
    way_ = way_ == Way::kAll ? Way::kTcpOnly : way_ == Way::kTcpOnly && relays ? Way::kRelayOnly : Way::kAll;
  }
  /// `base` as the next connection should gather.
  [[nodiscard]] media::IceSetup Apply(media::IceSetup base) const {
    if (way_ == Way::kTcpOnly) base.tcp_only = true;
    if (way_ == Way::kRelayOnly) base.relay_only = true;
    return base;
  }
  [[nodiscard]] Way way() const { return way_; }

 private:
  Way way_ = Way::kAll;
  bool moved_ = false;
  Clock::time_point last_move_{};
};

}  // namespace parley::sdk::call
