// The last-mile probe's datagrams (docs/protocol.md, "Last-mile probe"): what a client
// and a media worker exchange over UDP once signalling has granted a probe
// (`lastMileProbe`). The first byte is 0x50 ('P'), in RFC 7983's unassigned range
// 80..127, so the probe shares a worker's port with STUN, DTLS and SRTP.
//
// Every datagram starts with the same 36-byte header; the cookie (16 random bytes the
// server handed out over authenticated signalling) names the probe. Integers are
// big-endian. Parse checks a datagram alone (size, magic, version, kind, the kind's
// fixed fields) and copies nothing; Write* fill a caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace parley::proto::probe {

inline constexpr uint8_t kMagic[4] = {0x50, 0x4C, 0x4D, 0x50};  // "PLMP"
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 36;
/// What an echo reply carries after the header: the echoed time, the nonce, the
/// uplink counters.
inline constexpr size_t kEchoReplyBytes = kHeaderBytes + 8 + 16 + 4 + 4 + 8 + 8 + 8 + 4;
/// An echo must be at least as large as its reply: the server never answers with more
/// bytes than it was sent (no amplification).
inline constexpr size_t kMinEchoBytes = kEchoReplyBytes;
inline constexpr size_t kDownStartBytes = kHeaderBytes + 16 + 4 + 4 + 2;
inline constexpr size_t kMinDataBytes = kHeaderBytes;
inline constexpr size_t kMaxDataBytes = 1200;  ///< up and down data packets, the header included

using Cookie = std::array<uint8_t, 16>;
using Nonce = std::array<uint8_t, 16>;

enum class Kind : uint8_t {
  kEcho = 1,       ///< client → server: answered with kEchoReply (RTT, the uplink so far, the nonce)
  kEchoReply = 2,  ///< server → client
  kUp = 3,         ///< client → server: uplink data, counted
  kDownStart = 4,  ///< client → server: send me downlink data (carries the echo reply's nonce)
  kDown = 5,       ///< server → client: downlink data
};

struct Header {
  Kind kind = Kind::kEcho;
  Cookie cookie{};
  uint32_t seq = 0;      ///< numbered per kind by its sender
  uint64_t time_us = 0;  ///< the sender's clock when it sent the datagram
};

/// What the server has received of a probe's uplink (kUp datagrams) so far.
struct UplinkCounters {
  uint32_t packets = 0;
  uint32_t highest_seq = 0;  ///< the highest kUp seq seen (valid when packets > 0)
  uint64_t bytes = 0;
  /// The server's clock at the first and the last arrival: the rate is what arrived
  /// after the first datagram over that span.
  uint64_t first_us = 0;
  uint64_t last_us = 0;
  uint32_t jitter_us = 0;  ///< RFC 3550 interarrival jitter of the uplink
};

struct EchoReply {
  uint64_t echoed_time_us = 0;  ///< the echo's time_us, for the client's RTT
  Nonce nonce{};
  UplinkCounters up;
};

struct DownStart {
  Nonce nonce{};
  uint32_t kbps = 0;
  uint32_t duration_ms = 0;
  uint16_t packet_bytes = 0;
};

/// A datagram that parsed: its header and, for kEchoReply and kDownStart, their fields.
struct Datagram {
  Header header;
  EchoReply reply;
  DownStart start;
  size_t size = 0;
};

/// One step of RFC 3550 A.8's interarrival jitter, kept ×16 in `jitter_q4`: `transit` is
/// an arrival time minus the sender's clock in the datagram, both in microseconds, in
/// wrapping arithmetic (the sender's clock is whatever the datagram says); the change
/// from `last_transit` counts at most 10 s.
inline void JitterStep(uint64_t& jitter_q4, uint64_t transit, uint64_t last_transit) {
  const uint64_t d = transit - last_transit;
  uint64_t magnitude = (d >> 63) ? 0 - d : d;
  if (magnitude > 10'000'000) magnitude = 10'000'000;
  jitter_q4 += magnitude - ((jitter_q4 + 8) >> 4);
}

/// Whether the first byte is the probe's (a cheap test for a demultiplexer).
inline bool LooksLikeProbe(std::span<const uint8_t> d) {
  return !d.empty() && d[0] == kMagic[0];
}
/// Null when the datagram is not a well-formed probe datagram: shorter than its kind
/// needs (an echo shorter than kMinEchoBytes), longer than kMaxDataBytes, another
/// magic or version, an unknown kind, a down start asking for a packet size outside
/// kMinDataBytes..kMaxDataBytes.
std::optional<Datagram> Parse(std::span<const uint8_t> d);

/// Each writes into `out` and returns the datagram's length (0 if `out` is too small).
/// `size` is the total length wanted for padded kinds (echo, up, down), clamped to the
/// kind's minimum and kMaxDataBytes.
size_t WritePadded(std::span<uint8_t> out, const Header& h, size_t size);
size_t WriteEchoReply(std::span<uint8_t> out, const Header& h, const EchoReply& r);
size_t WriteDownStart(std::span<uint8_t> out, const Header& h, const DownStart& s);

}  // namespace parley::proto::probe
