// RTP and RTCP packet views (RFC 3550, RFC 8285 header extensions, RFC 4585 / 5104
// feedback, transport-wide-cc). Parsing never allocates and never throws: a view
// either parses or says why not. Views point into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "sfu/rtcp_writer.hpp"  // the writers of the RTCP the SFU sends

namespace parley::sfu {

inline uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t Load24(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 16) | (static_cast<uint32_t>(p[1]) << 8) | p[2];
}
inline uint32_t Load32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
inline void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

/// What a datagram on the shared media port is, by its first byte (RFC 7983 §7).
enum class PacketClass : uint8_t { kStun, kDtls, kRtp, kRtcp, kUnknown };
PacketClass Classify(std::span<const uint8_t> packet);

/// A parsed RTP packet (RFC 3550 §5.1). Offsets index into `data`.
struct RtpView {
  std::span<uint8_t> data;
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  uint16_t extension_profile = 0;  ///< 0xBEDE one-byte, 0x100x two-byte, 0 = none
  size_t extensions_offset = 0;    ///< first byte of extension elements
  size_t extensions_length = 0;
  size_t payload_offset = 0;
  size_t payload_length = 0;  ///< without padding
  uint8_t padding = 0;

  [[nodiscard]] std::span<uint8_t> payload() const { return data.subspan(payload_offset, payload_length); }
  /// The element with extension id `id` (RFC 8285 one- or two-byte form), if present.
  [[nodiscard]] std::optional<std::span<const uint8_t>> Extension(uint8_t id) const;

  // In-place rewriting (the SFU's per-subscriber rewrite: RFC 3550 §8.2, §5.1).
  void SetSequence(uint16_t v) { Store16(data.data() + 2, sequence = v); }
  void SetTimestamp(uint32_t v) { Store32(data.data() + 4, timestamp = v); }
  void SetSsrc(uint32_t v) { Store32(data.data() + 8, ssrc = v); }
  void SetPayloadType(uint8_t pt) {
    payload_type = pt;
    data[1] = static_cast<uint8_t>((data[1] & 0x80) | (pt & 0x7F));
  }
};

/// Parses an RTP packet; nullopt if it is not well-formed RTP version 2.
std::optional<RtpView> ParseRtp(std::span<uint8_t> packet);

/// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).
enum RtcpType : uint8_t { kSr = 200, kRr = 201, kSdes = 202, kBye = 203, kApp = 204, kRtpfb = 205, kPsfb = 206 };

/// One packet inside a compound RTCP packet (RFC 3550 §6.1).
struct RtcpView {
  uint8_t type = 0;
  uint8_t count = 0;  ///< report count, or feedback message type (FMT) for 205/206
  bool padding = false;
  std::span<const uint8_t> data;  ///< the whole packet including its 4-byte header
  /// Sender SSRC for SR, RR, RTPFB and PSFB; first SSRC/CSRC for SDES and BYE.
  [[nodiscard]] uint32_t sender_ssrc() const { return data.size() >= 8 ? Load32(data.data() + 4) : 0; }
  /// Media source SSRC for RTPFB/PSFB (RFC 4585 §6.1).
  [[nodiscard]] uint32_t media_ssrc() const { return data.size() >= 12 ? Load32(data.data() + 8) : 0; }
};

/// Iterates the packets of a compound RTCP datagram. Stops (valid() false) at the
/// first malformed packet; packets before it were well-formed.
class RtcpIterator {
 public:
  explicit RtcpIterator(std::span<const uint8_t> compound) : rest_(compound) { Advance(); }
  [[nodiscard]] bool done() const { return done_; }
  /// False when iteration stopped on a malformed packet.
  [[nodiscard]] bool valid() const { return valid_; }
  [[nodiscard]] const RtcpView& operator*() const { return current_; }
  const RtcpView* operator->() const { return &current_; }
  void Next() { Advance(); }

 private:
  void Advance();
  std::span<const uint8_t> rest_;
  RtcpView current_;
  bool done_ = false;
  bool valid_ = true;
};

/// True when the whole compound packet parses.
bool IsValidRtcp(std::span<const uint8_t> compound);

/// A sender report's sender info (RFC 3550 §6.4.1).
struct SenderInfo {
  uint64_t ntp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};
std::optional<SenderInfo> ParseSenderInfo(const RtcpView& sr);

/// One report block (RFC 3550 §6.4.1) of an SR or RR.
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;
  uint32_t highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;
};
/// The i-th report block, if present.
std::optional<ReportBlock> GetReportBlock(const RtcpView& report, size_t i);

/// Calls `fn(sequence)` for each sequence number a Generic NACK (RFC 4585 §6.2.1,
/// RTPFB FMT 1) asks for. Returns false if the packet is not a well-formed NACK.
template <typename Fn>
bool ForEachNack(const RtcpView& fb, Fn&& fn) {
  if (fb.type != kRtpfb || fb.count != 1 || fb.data.size() < 16 || (fb.data.size() - 12) % 4 != 0) return false;
  for (size_t off = 12; off + 4 <= fb.data.size(); off += 4) {
    uint16_t pid = Load16(fb.data.data() + off);
    uint16_t blp = Load16(fb.data.data() + off + 2);
    fn(pid);
    for (int bit = 0; bit < 16; ++bit)
      if (blp & (1u << bit)) fn(static_cast<uint16_t>(pid + bit + 1));
  }
  return true;
}

/// PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1): a keyframe request.
bool IsKeyframeRequest(const RtcpView& fb);

/// REMB, Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): a
/// PSFB with FMT 15 whose FCI starts with "REMB", then Num SSRC (8 bits), BR Exp (6
/// bits), BR Mantissa (18 bits) and Num SSRC SSRCs. The receiver's estimate of what it
/// can take in total, in bits per second, is mantissa << exp.
struct Remb {
  uint64_t bitrate_bps = 0;  ///< saturates at UINT64_MAX (an exponent of 63 overflows)
  uint8_t ssrc_count = 0;    ///< the streams the estimate covers
};
/// The REMB `fb` carries; nullopt when it is not one or is shorter than its SSRC list.
std::optional<Remb> ParseRemb(const RtcpView& fb);

/// RFC 1982 serial-number arithmetic for 16-bit RTP sequence numbers.
inline bool SeqNewer(uint16_t a, uint16_t b) {
  return a != b && static_cast<uint16_t>(a - b) < 0x8000;
}

}  // namespace parley::sfu
