// Why a media worker dropped a datagram or a forwarded copy of one, counted per reason.
//
// Every packet the worker does not pass on is counted here under one reason, so that
// "media stopped" can be told apart from "media was refused" in /metrics
// (parley_media_dropped_total{worker,reason}). Counting happens on the worker thread
// only (one writer: a relaxed load and store, no locked add on the packet path); the
// control plane reads the atomics when it renders /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::sfu {

enum class DropReason : uint8_t {
  kUnknownUfrag,         ///< a STUN request whose USERNAME names no transport of this worker
  kBadStun,              ///< STUN that does not parse, or fails its integrity or username check
  kUnvalidatedAddress,   ///< DTLS/SRTP from an address ICE has not validated
  kClosedTransport,      ///< for a transport that has failed or closed
  kNotReady,             ///< DTLS before ICE, or SRTP before the DTLS handshake gave keys
  kSrtpRejected,         ///< SRTP/SRTCP that fails authentication or the replay check
  kMalformed,            ///< not RTP/RTCP once decrypted, or of no class RFC 7983 knows
  kUnknownSsrc,          ///< RTP of no published track
  kDuplicate,            ///< a packet already received (or an unasked-for retransmission)
  kRtxPadding,           ///< an RTX packet without an original (a bandwidth probe)
  kPadding,              ///< a padding-only packet on a media stream (a bandwidth probe; counted as received)
  kSubscriberNotReady,   ///< a copy for a subscriber whose transport is not connected
  kTooLarge,             ///< a copy that would exceed one datagram (RTX adds two bytes)
  kSendBufferFull,       ///< the socket's send buffer was full (sendmmsg sent less)
  kSimulatedLoss,        ///< dropped on purpose (--media-loss-permille, a test aid)
  kSubscriberCongested,  ///< a video copy (or its retransmission) to a subscriber that cannot take video now
  kBadPayloadType,       ///< a published track's packet with a payload type its section did not negotiate
  kMalformedPayload,     ///< a payload not well-formed for its codec, or a picture too large (payload_check.hpp)
  kBadProbe,             ///< a last-mile probe datagram that is malformed, of no open probe, or from another address
  kNoRtx,                ///< a retransmission asked for on a stream without RTX (SRTP never reuses an index)
  kRelayFull,            ///< a packet for another worker's mirror that found the ring to it full (relay_ring.hpp)
  kTcpGone,              ///< for an ICE-TCP connection that is closed, or whose send buffer is full (tcp_links.hpp)
  kCount
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

/// The reason's label in /metrics: lowercase words joined by '-'.
std::string_view Name(DropReason r);

class DropCounters {
 public:
  /// Worker thread only.
  void Count(DropReason r, uint64_t n = 1) {
    auto& c = counts_[static_cast<size_t>(r)];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// Any thread.
  [[nodiscard]] uint64_t Get(DropReason r) const {
    return counts_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  /// Any thread: the sum over every reason.
  [[nodiscard]] uint64_t Total() const;

 private:
  std::array<std::atomic<uint64_t>, kDropReasonCount> counts_{};
};

}  // namespace parley::sfu
