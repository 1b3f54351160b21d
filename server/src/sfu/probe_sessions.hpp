// The last-mile probes a media worker serves (docs/protocol.md, "Last-mile probe").
//
// Signalling grants a probe (`lastMileProbe`: the client's credentials checked, a
// server-wide cap) and posts it here with a random cookie and nonce. The client then
// talks to the worker's UDP port in probe datagrams (parley/proto/probe_wire.hpp):
//  - echoes, answered at once with the echoed time (RTT), the nonce and what has
//    arrived of its uplink; the first echo binds the probe to its source address, and
//    nothing from another address is answered or counted;
//  - uplink data, counted (packets, bytes, first and last arrival, jitter);
//  - one downlink start carrying the nonce (so the address proved it receives what is
//    sent to it before any downlink flows: a forged source address gets nothing), after
//    which data leaves at the asked rate, at most the granted one, for at most
//    kMaxDownMs, paced packet by packet.
// An echo is never answered with more bytes than it had; a probe lives kLifetimeUs and
// a worker holds at most kMaxSessions. Worker thread only; no allocation per datagram.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "parley/proto/probe_wire.hpp"
#include "sfu/drop_counters.hpp"
#include "sfu/webrtc_transport.hpp"

namespace parley::sfu {

/// A probe signalling granted.
struct ProbeGrant {
  proto::probe::Cookie cookie{};
  proto::probe::Nonce nonce{};
  uint32_t up_kbps = 0;  ///< 0: the uplink is not probed (its data is not counted)
  uint32_t down_kbps = 0;
};

class ProbeSessions {
 public:
  static constexpr size_t kMaxSessions = 64;
  static constexpr int64_t kLifetimeUs = 20'000'000;
  static constexpr uint32_t kMaxDownMs = 5000;
  /// At most this many downlink datagrams leave per wake-up (a late wake-up does not
  /// become a burst: the schedule restarts instead).
  static constexpr int kMaxBurst = 8;

  /// False when the worker already holds kMaxSessions probes (or the cookie is taken).
  bool Open(const ProbeGrant& grant, int64_t now_us);
  /// A datagram whose first byte is the probe's. Answers echoes through `sink`;
  /// anything it does not take is counted in `drops` as kBadProbe.
  void Receive(std::span<const uint8_t> datagram, const sockaddr_storage& from, int64_t now_us,
               WebRtcTransport::PacketSink& sink, DropCounters& drops);
  /// Sends the downlink data now due; forgets expired probes.
  void Run(int64_t now_us, WebRtcTransport::PacketSink& sink);
  /// When downlink data is next due (-1: none is flowing).
  [[nodiscard]] int64_t NextDueUs() const;
  [[nodiscard]] bool empty() const { return sessions_.empty(); }
  [[nodiscard]] size_t size() const { return sessions_.size(); }

 private:
  struct Session {
    ProbeGrant grant;
    int64_t expires_us = 0;
    bool bound = false;
    sockaddr_storage address{};
    proto::probe::UplinkCounters up;
    uint64_t last_transit_us = 0;
    uint64_t jitter_q4 = 0;  ///< jitter × 16 (RFC 3550 A.8's integer form)
    uint32_t echo_seq = 0;
    // The downlink, once started.
    bool down_started = false;
    int64_t down_next_us = -1;  ///< -1: not flowing
    int64_t down_end_us = 0;
    int64_t down_interval_us = 0;
    uint16_t down_bytes = 0;
    uint32_t down_seq = 0;
  };

  Session* Find(const proto::probe::Cookie& cookie);
  void Expire(int64_t now_us);

  std::vector<Session> sessions_;  ///< reserved to kMaxSessions once
};

}  // namespace parley::sfu
