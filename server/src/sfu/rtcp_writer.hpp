// The RTCP packets the SFU originates: keyframe requests (PLI, RFC 4585 §6.3.1), Generic
// NACKs (RFC 4585 §6.2.1), receiver reports to publishers (RFC 3550 §6.4.2) and the
// sender reports subscribers get for their copy of a stream (RFC 3550 §6.4.1, §7.2).
// Writers fill the caller's buffer: no allocation, no throw, so the packet path may
// call them. Transport-wide-cc feedback has its own writer (twcc.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parley::sfu {

struct SenderInfo;   // rtp.hpp
struct ReportBlock;  // rtp.hpp

/// Writes a PLI for `media_ssrc` into `out` (12 bytes); returns the length.
size_t WritePli(uint8_t* out, uint32_t sender_ssrc, uint32_t media_ssrc);

/// Writes Generic NACK for the given sequence numbers (at most 16 pairs).
size_t WriteNack(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint32_t media_ssrc,
                 std::span<const uint16_t> sequences);

/// Sequence numbers one NACK packet carries at most: 16 pairs when none share a pair,
/// which keeps a packet at 76 bytes.
inline constexpr size_t kNackSequencesPerPacket = 16;
inline constexpr size_t kMaxNackPacket = 12 + 4 * kNackSequencesPerPacket;

/// Writes NACKs for `sequences` (oldest first, as NackGenerator hands them out), up to
/// kNackSequencesPerPacket of them per packet, and calls `fn(packet, count)` for each
/// packet in order, `count` being how many sequence numbers it asks for. The packet
/// lives on this function's stack: send or copy it inside `fn`.
template <typename Fn>
void ForEachNackPacket(uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> sequences, Fn&& fn) {
  uint8_t packet[kMaxNackPacket];
  for (size_t off = 0; off < sequences.size();) {
    size_t take = std::min(kNackSequencesPerPacket, sequences.size() - off);
    size_t len = WriteNack(packet, sizeof packet, sender_ssrc, media_ssrc, sequences.subspan(off, take));
    if (len) fn(std::span<const uint8_t>(packet, len), take);
    off += take;
  }
}

/// Writes a REMB (draft-alvestrand-rmcat-remb-03 §2.2) of `bitrate_bps` for `ssrcs` (at
/// most 255) into `out`; returns the length (20 + 4 per SSRC), 0 if it does not fit in
/// `capacity`. The bitrate is rounded down to what an 18-bit mantissa can say. Clients
/// send REMB; the SFU writes one in tests (and to tell publishers an estimate later).
size_t WriteRemb(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint64_t bitrate_bps,
                 std::span<const uint32_t> ssrcs);

/// RFC 3550 §6.4.1 sender report without report blocks (28 bytes).
inline constexpr size_t kSenderReportBytes = 28;
size_t WriteSenderReport(uint8_t* out, uint32_t ssrc, const SenderInfo& info);

/// The SR a subscriber gets for its copy of a publisher's stream: the SFU forwards as an
/// RTP translator (RFC 3550 §7.2), so the report names the subscriber's SSRC, keeps the
/// publisher's NTP time, carries the publisher's RTP timestamp moved into the
/// subscriber's timeline (`rtp_timestamp`), and counts what this stream carried. With it
/// the subscriber maps the stream onto the sender's clock (lip sync). 28 bytes.
size_t WriteRewrittenSenderReport(uint8_t* out, uint32_t ssrc, const SenderInfo& publisher, uint32_t rtp_timestamp,
                                  uint32_t packets, uint32_t octets);

/// RFC 3550 §6.4.2 receiver report with up to 31 blocks; returns 0 if it does not fit.
size_t WriteReceiverReport(uint8_t* out, size_t capacity, uint32_t sender_ssrc, const ReportBlock* blocks,
                           size_t count);

/// Report blocks in one receiver report the SFU sends a publisher, one per inbound track
/// that has received media. Clients publish up to three tracks (audio, camera, screen),
/// so eight leave room while the packet stays small (200 bytes); tracks past the eighth
/// go unreported.
inline constexpr size_t kMaxReportBlocks = 8;
inline constexpr size_t kMaxReceiverReport = 8 + 24 * kMaxReportBlocks;

}  // namespace parley::sfu
