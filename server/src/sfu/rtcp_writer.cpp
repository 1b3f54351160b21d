#include "sfu/rtcp_writer.hpp"

#include "sfu/rtp.hpp"

namespace parley::sfu {

size_t WritePli(uint8_t* out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  out[0] = 0x80 | 1;  // V=2, FMT=1
  out[1] = kPsfb;
  Store16(out + 2, 2);  // length in 32-bit words minus one
  Store32(out + 4, sender_ssrc);
  Store32(out + 8, media_ssrc);
  return 12;
}

size_t WriteNack(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint32_t media_ssrc,
                 std::span<const uint16_t> sequences) {
  if (sequences.empty() || capacity < 16) return 0;
  size_t off = 12;
  size_t i = 0;
  while (i < sequences.size() && off + 4 <= capacity && off < 12 + 4 * 16) {
    uint16_t pid = sequences[i++];
    uint16_t blp = 0;
    while (i < sequences.size()) {
      uint16_t d = static_cast<uint16_t>(sequences[i] - pid);
      if (d == 0 || d > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
      ++i;
    }
    Store16(out + off, pid);
    Store16(out + off + 2, blp);
    off += 4;
  }
  out[0] = 0x80 | 1;
  out[1] = kRtpfb;
  Store16(out + 2, static_cast<uint16_t>(off / 4 - 1));
  Store32(out + 4, sender_ssrc);
  Store32(out + 8, media_ssrc);
  return off;
}

size_t WriteSenderReport(uint8_t* out, uint32_t ssrc, const SenderInfo& info) {
  out[0] = 0x80;
  out[1] = kSr;
  Store16(out + 2, 6);
  Store32(out + 4, ssrc);
  Store32(out + 8, static_cast<uint32_t>(info.ntp >> 32));
  Store32(out + 12, static_cast<uint32_t>(info.ntp));
  Store32(out + 16, info.rtp_timestamp);
  Store32(out + 20, info.packet_count);
  Store32(out + 24, info.octet_count);
  return kSenderReportBytes;
}

size_t WriteRewrittenSenderReport(uint8_t* out, uint32_t ssrc, const SenderInfo& publisher, uint32_t rtp_timestamp,
                                  uint32_t packets, uint32_t octets) {
  return WriteSenderReport(out, ssrc, {publisher.ntp, rtp_timestamp, packets, octets});
}

size_t WriteReceiverReport(uint8_t* out, size_t capacity, uint32_t sender_ssrc, const ReportBlock* blocks,
                           size_t count) {
  size_t len = 8 + 24 * count;
  if (count > 31 || len > capacity) return 0;
  out[0] = static_cast<uint8_t>(0x80 | count);
  out[1] = kRr;
  Store16(out + 2, static_cast<uint16_t>(len / 4 - 1));
  Store32(out + 4, sender_ssrc);
  uint8_t* b = out + 8;
  for (size_t i = 0; i < count; ++i, b += 24) {
    const ReportBlock& r = blocks[i];
    Store32(b, r.ssrc);
    uint32_t lost = static_cast<uint32_t>(std::clamp(r.cumulative_lost, -0x800000, 0x7FFFFF)) & 0xFFFFFF;
    Store32(b + 4, (static_cast<uint32_t>(r.fraction_lost) << 24) | lost);
    Store32(b + 8, r.highest_sequence);
    Store32(b + 12, r.jitter);
    Store32(b + 16, r.last_sr);
    Store32(b + 20, r.delay_since_last_sr);
  }
  return len;
}

size_t WriteRemb(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint64_t bitrate_bps,
                 std::span<const uint32_t> ssrcs) {
  size_t len = 20 + 4 * ssrcs.size();
  if (ssrcs.size() > 255 || len > capacity) return 0;
  unsigned exp = 0;
  while ((bitrate_bps >> exp) >= (1u << 18)) ++exp;
  uint64_t mantissa = bitrate_bps >> exp;
  out[0] = 0x80 | 15;  // V=2, FMT=15 (application layer feedback)
  out[1] = kPsfb;
  Store16(out + 2, static_cast<uint16_t>(len / 4 - 1));
  Store32(out + 4, sender_ssrc);
  Store32(out + 8, 0);  // media source: always 0 for REMB
  out[12] = 'R';
  out[13] = 'E';
  out[14] = 'M';
  out[15] = 'B';
  out[16] = static_cast<uint8_t>(ssrcs.size());
  out[17] = static_cast<uint8_t>((exp << 2) | (mantissa >> 16));
  Store16(out + 18, static_cast<uint16_t>(mantissa));
  for (size_t i = 0; i < ssrcs.size(); ++i) Store32(out + 20 + 4 * i, ssrcs[i]);
  return len;
}

}  // namespace parley::sfu
