// The way a call's next media connection gathers after ICE failures. libnice nominates
// a pair only once every better pair has failed, and a UDP check that a network drops
// silently fails only after its last retransmission (about a minute), so where UDP is
// dropped on the way a connection never nominates its working ICE-TCP pair within the
// server's connect bound (0x01050201, reason ice-timeout, or dtls-timeout when the
// server answered checks the network then dropped). Each such failure moves the next
// connections on: every candidate -> TCP only (no UDP pair to wait for) -> relay only
// (through the join answer's TURN servers, when it has any) -> every candidate again.
// Only the failure of a connection made the current way moves on: the publish and
// subscribe connections made together fail together and count once, and one made
// before the last move says nothing about the new way. An app that asked for relay
// only keeps it (without UDP there would be no UDP relays either). Engine thread.
#pragma once

#include <array>
#include <cstddef>

#include "media/media.hpp"

namespace parley::sdk::call {

class IceFallback {
 public:
  enum class Way { kAll, kTcpOnly, kRelayOnly };

  /// `base` as the next connection for `use` should gather; remembers the way it was
  /// made.
  media::IceSetup Apply(media::IceSetup base, media::IceUse use) {
    made_[Index(use)] = step_;
    if (base.relay_only) return base;
    if (way_ == Way::kTcpOnly) base.tcp_only = true;
    if (way_ == Way::kRelayOnly) base.relay_only = true;
    return base;
  }
  /// The connection for `use` failed ICE; `relays`: the join answer had TURN servers.
  void Failed(media::IceUse use, bool relays) {
    if (made_[Index(use)] != step_) return;  // made another way: already moved on
    ++step_;
    way_ = way_ == Way::kAll ? Way::kTcpOnly : way_ == Way::kTcpOnly && relays ? Way::kRelayOnly : Way::kAll;
  }
  /// A new call starts from every candidate again.
  void Reset() { *this = IceFallback(); }
  [[nodiscard]] Way way() const { return way_; }

 private:
  static size_t Index(media::IceUse use) { return static_cast<size_t>(use); }
  Way way_ = Way::kAll;
  unsigned step_ = 0;
  std::array<unsigned, 3> made_{};  ///< the step each kind of connection was last made at
};

}  // namespace parley::sdk::call
