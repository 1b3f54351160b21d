// Probing a subscriber's downstream: one cluster of padding packets at a chosen rate.
//
// A subscriber on `auto` held on a small layer is sent little, and an estimate from what
// it acknowledges cannot show room for more (parley/congestion/probe_meter.hpp says
// why). Instead of trying the larger layer with real video (seconds of queue on a link
// that cannot take it: a frozen picture), the layer switch asks for a probe: about
// kDurationUs of padding-only packets on the route's RTX stream (RFC 4588's SSRC and
// payload type; nothing in them to decode, receivers drop them), each numbered with the
// transport-wide sequence like media, at a rate above what the larger layer would need. The
// subscriber's feedback then says how fast they arrived, and the send-side estimate
// takes the answer (send_side_bwe.hpp); the layer switch's usual rule moves up when the
// estimate has room.
//
// A cluster costs a few kilobytes: on a link that cannot take the rate, some tens of
// milliseconds of queue, once every few seconds at most.
//
// This plans one cluster's timing; the forwarder writes the packets (WriteProbe) and
// sends them as they fall due. Worker-thread only; no allocation, no throw.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sfu/own_extensions.hpp"
#include "sfu/router.hpp"

namespace parley::sfu {

class ProbeCluster {
 public:
  static constexpr int64_t kDurationUs = 25'000;
  static constexpr size_t kMinPackets = 8, kMaxPackets = 64;
  /// Padding per packet: RTP's padding count is one octet, so at most 255.
  static constexpr size_t kPadding = 255;

  /// How many packets of `packet_bytes` (as sent) a cluster at `rate_bps` has.
  [[nodiscard]] static size_t PacketsFor(uint64_t rate_bps, size_t packet_bytes);
  /// Plans a cluster (`id`: the send-side estimate's, send_side_bwe.hpp) at `rate_bps`
  /// of packets `packet_bytes` long as sent, for the route to the subscriber's `ssrc`,
  /// starting now. Returns the number of packets (PacketsFor).
  size_t Start(uint64_t rate_bps, size_t packet_bytes, uint32_t ssrc, uint16_t id, int64_t now_us);
  [[nodiscard]] bool active() const { return left_ > 0; }
  /// When the next packet is due (-1: none).
  [[nodiscard]] int64_t next_us() const { return left_ > 0 ? next_us_ : -1; }
  /// Whether a packet is due at `now_us`; the caller sends it, then calls Sent.
  [[nodiscard]] bool Due(int64_t now_us) const { return left_ > 0 && now_us >= next_us_; }
  /// A packet went at `now_us`: the next one is due an interval later. A late wake does
  /// not send the overdue ones together (that would shorten the send span and inflate
  /// the rate the cluster measures): packets are never closer than the interval, so the
  /// cluster leaves at the planned rate or slower, and its answer cannot exceed it.
  void Sent(int64_t now_us) {
    if (left_ > 0) --left_;
    next_us_ = now_us + interval_us_;
    started_ = true;
  }
  /// Whether none of its packets went yet.
  [[nodiscard]] bool unstarted() const { return left_ > 0 && !started_; }
  /// Before its first packet: starts no earlier than `at_us`.
  void Postpone(int64_t at_us) {
    if (!started_) next_us_ = std::max(next_us_, at_us);
  }
  /// When it was planned to start (Start's `now_us`).
  [[nodiscard]] int64_t planned_us() const { return planned_us_; }
  /// Ends the cluster early (its route went, the subscriber cannot be sent to).
  void Cancel() { left_ = 0; }
  [[nodiscard]] uint32_t ssrc() const { return ssrc_; }
  [[nodiscard]] uint16_t id() const { return id_; }

 private:
  size_t left_ = 0;
  bool started_ = false;
  int64_t next_us_ = 0, interval_us_ = 0, planned_us_ = 0;
  uint32_t ssrc_ = 0;
  uint16_t id_ = 0;
};

/// Writes one probe packet for route `r` into `slot`: a padding-only RTX packet (the
/// route's RTX SSRC and payload type, its next RTX sequence number, the media stream's
/// last timestamp) with the server's own header extensions `ext` and `padding` bytes of
/// padding (1..255). Returns its length; 0 when the route has no RTX stream.
size_t WriteProbe(uint8_t* slot, Route& r, const OwnExtensions& ext, size_t padding = ProbeCluster::kPadding);

}  // namespace parley::sfu
