#include "sfu/rtp.hpp"

namespace parley::sfu {

PacketClass Classify(std::span<const uint8_t> p) {
  if (p.empty()) return PacketClass::kUnknown;
  uint8_t b = p[0];
  if (b <= 3) return PacketClass::kStun;
  if (b >= 20 && b <= 63) return PacketClass::kDtls;
  if (b >= 128 && b <= 191) {
    // RTP and RTCP share the port (rtcp-mux, RFC 5761 §4): RTCP packet types 192-223
    // sit where RTP would have marker + payload type 64-95, which RTP never uses.
    if (p.size() >= 2 && p[1] >= 192 && p[1] <= 223) return PacketClass::kRtcp;
    return PacketClass::kRtp;
  }
  return PacketClass::kUnknown;
}

std::optional<RtpView> ParseRtp(std::span<uint8_t> p) {
  if (p.size() < 12 || (p[0] >> 6) != 2) return std::nullopt;
  RtpView v;
  v.data = p;
  bool has_padding = p[0] & 0x20;
  bool has_extension = p[0] & 0x10;
  v.csrc_count = p[0] & 0x0F;
  v.marker = p[1] & 0x80;
  v.payload_type = p[1] & 0x7F;
  v.sequence = Load16(&p[2]);
  v.timestamp = Load32(&p[4]);
  v.ssrc = Load32(&p[8]);
  size_t off = 12 + 4u * v.csrc_count;
  if (off > p.size()) return std::nullopt;
  if (has_extension) {
    if (off + 4 > p.size()) return std::nullopt;
    v.extension_profile = Load16(&p[off]);
    size_t words = Load16(&p[off + 2]);
    v.extensions_offset = off + 4;
    v.extensions_length = 4 * words;
    off = v.extensions_offset + v.extensions_length;
    if (off > p.size()) return std::nullopt;
  }
  size_t end = p.size();
  if (has_padding) {
    v.padding = p[end - 1];
    if (v.padding == 0 || v.padding > end - off) return std::nullopt;
    end -= v.padding;
  }
  v.payload_offset = off;
  v.payload_length = end - off;
  return v;
}

std::optional<std::span<const uint8_t>> RtpView::Extension(uint8_t id) const {
  if (extensions_length == 0) return std::nullopt;
  const uint8_t* p = data.data() + extensions_offset;
  size_t n = extensions_length, i = 0;
  if (extension_profile == 0xBEDE) {  // one-byte header (RFC 8285 §4.2)
    while (i < n) {
      uint8_t b = p[i];
      if (b == 0) {  // padding
        ++i;
        continue;
      }
      uint8_t eid = b >> 4;
      size_t len = (b & 0x0F) + 1u;
      if (eid == 15) break;  // reserved: stop parsing
      if (i + 1 + len > n) break;
      if (eid == id) return std::span<const uint8_t>(p + i + 1, len);
      i += 1 + len;
    }
  } else if ((extension_profile & 0xFFF0) == 0x1000) {  // two-byte header (RFC 8285 §4.3)
    while (i < n) {
      if (p[i] == 0) {
        ++i;
        continue;
      }
      if (i + 2 > n) break;
      uint8_t eid = p[i];
      size_t len = p[i + 1];
      if (i + 2 + len > n) break;
      if (eid == id) return std::span<const uint8_t>(p + i + 2, len);
      i += 2 + len;
    }
  }
  return std::nullopt;
}

void RtcpIterator::Advance() {
  if (rest_.empty()) {
    done_ = true;
    return;
  }
  if (rest_.size() < 4 || (rest_[0] >> 6) != 2) {
    done_ = true;
    valid_ = false;
    return;
  }
  size_t len = 4 * (static_cast<size_t>(Load16(&rest_[2])) + 1);
  if (len > rest_.size()) {
    done_ = true;
    valid_ = false;
    return;
  }
  current_.type = rest_[1];
  current_.count = rest_[0] & 0x1F;
  current_.padding = rest_[0] & 0x20;
  current_.data = rest_.first(len);
  if (current_.type < 192 || current_.type > 223) {
    done_ = true;
    valid_ = false;
    return;
  }
  rest_ = rest_.subspan(len);
}

bool IsValidRtcp(std::span<const uint8_t> compound) {
  if (compound.empty()) return false;
  RtcpIterator it(compound);
  while (!it.done()) it.Next();
  return it.valid();
}

std::optional<SenderInfo> ParseSenderInfo(const RtcpView& sr) {
  if (sr.type != kSr || sr.data.size() < 28) return std::nullopt;
  const uint8_t* p = sr.data.data();
  SenderInfo s;
  s.ntp = (static_cast<uint64_t>(Load32(p + 8)) << 32) | Load32(p + 12);
  s.rtp_timestamp = Load32(p + 16);
  s.packet_count = Load32(p + 20);
  s.octet_count = Load32(p + 24);
  return s;
}

std::optional<ReportBlock> GetReportBlock(const RtcpView& r, size_t i) {
  size_t base = r.type == kSr ? 28 : r.type == kRr ? 8 : 0;
  if (base == 0 || i >= r.count) return std::nullopt;
  size_t off = base + 24 * i;
  if (off + 24 > r.data.size()) return std::nullopt;
  const uint8_t* p = r.data.data() + off;
  ReportBlock b;
  b.ssrc = Load32(p);
  b.fraction_lost = p[4];
  uint32_t lost = Load24(p + 5);
  b.cumulative_lost = (lost & 0x800000) ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
  b.highest_sequence = Load32(p + 8);
  b.jitter = Load32(p + 12);
  b.last_sr = Load32(p + 16);
  b.delay_since_last_sr = Load32(p + 20);
  return b;
}

bool IsKeyframeRequest(const RtcpView& fb) {
  if (fb.type != kPsfb) return false;
  if (fb.count == 1) return fb.data.size() >= 12;                                    // PLI
  if (fb.count == 4) return fb.data.size() >= 20 && (fb.data.size() - 12) % 8 == 0;  // FIR
  return false;
}

std::optional<Remb> ParseRemb(const RtcpView& fb) {
  // Header (4), sender SSRC (4), media SSRC (4, always 0), "REMB" (4), counts and
  // bitrate (4), then 4 bytes per SSRC: every read below is inside those 20 + 4n bytes.
  if (fb.type != kPsfb || fb.count != 15 || fb.data.size() < 20) return std::nullopt;
  const uint8_t* p = fb.data.data();
  if (p[12] != 'R' || p[13] != 'E' || p[14] != 'M' || p[15] != 'B') return std::nullopt;
  Remb r;
  r.ssrc_count = p[16];
  if (fb.data.size() < 20 + 4 * static_cast<size_t>(r.ssrc_count)) return std::nullopt;
  unsigned exp = p[17] >> 2;
  uint64_t mantissa = (static_cast<uint64_t>(p[17] & 0x03) << 16) | Load16(p + 18);
  // The mantissa has 18 bits: any exponent above 46 could shift bits out of 64.
  r.bitrate_bps = exp > 46 && (mantissa >> (64 - exp)) != 0 ? UINT64_MAX : mantissa << exp;
  return r;
}

}  // namespace parley::sfu
