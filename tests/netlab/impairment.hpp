// The network lab's model of one direction of a bad link: what happens to each packet
// (random and burst loss, a bandwidth cap with a bounded drop-tail queue, delay and
// jitter with or without reordering, duplication, outages), the text form a test or
// a person writes it in ("loss=10%,delay=40ms,jitter=20ms"), and the named profiles
// the network suite runs (good, lossy-10, 3g, cap-300k, outage-5s, ...).
//
// Nothing here touches a socket or a clock: link.hpp applies an Impairment to packets
// at times it is given, so every rule is unit-tested deterministically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::netlab {

struct Impairment {
  double loss = 0;  ///< independent random loss, 0..1
  /// Burst loss, a two-state Gilbert–Elliott chain stepped once per packet: from good
  /// to bad with probability burst_p, back with burst_r; every packet in the bad state
  /// is lost. Mean loss burst_p / (burst_p + burst_r), mean burst 1 / burst_r packets.
  double burst_p = 0, burst_r = 1;
  uint32_t delay_ms = 0;             ///< one-way delay added to every packet
  uint32_t jitter_ms = 0;            ///< each packet's delay varies uniformly within ± this
  bool reorder = false;              ///< whether jitter may deliver a later packet first
  double duplicate = 0;              ///< probability that a packet is delivered twice, 0..1
  uint64_t rate_bps = 0;             ///< bandwidth cap in bit/s (0: none)
  uint32_t queue_bytes = 64 * 1024;  ///< the cap's queue; a packet that does not fit is dropped
  bool down = false;                 ///< an outage: every packet, and those in flight, are lost

  bool operator==(const Impairment&) const = default;
};

/// Parses "key=value,..." (also bare flags): loss=10%, burst=5%/4 (mean loss and mean
/// burst length in packets), delay=40ms, jitter=20ms, reorder, dup=1%, rate=300k
/// (k/m: 10^3/10^6 bit/s), queue=64k (bytes, k = 1024), down, and "good" or "" for a
/// perfect link. Returns nullopt and sets *error for anything else; never throws.
std::optional<Impairment> ParseImpairment(std::string_view spec, std::string* error);
/// The canonical text form ("good" for a perfect link); parsing it back gives a link
/// that Describe()s the same (percentages keep 4 significant digits).
std::string Describe(const Impairment& i);

/// A named network condition: each direction impaired on its own (uplink is client to
/// server). outage_ms: the suite cuts the link once, mid-call, for this long.
struct Profile {
  std::string name, description;
  Impairment uplink, downlink;
  uint32_t outage_ms = 0;
};
const std::vector<Profile>& Profiles();
const Profile* FindProfile(std::string_view name);

}  // namespace parley::netlab
