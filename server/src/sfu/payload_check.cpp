#include "sfu/payload_check.hpp"

#include <algorithm>

#include "sfu/red.hpp"
#include "sfu/sdp.hpp"

namespace parley::sfu {

namespace {

bool PictureFits(uint32_t width, uint32_t height) {
  return width > 0 && height > 0 && width <= kMaxPictureSide && height <= kMaxPictureSide &&
         uint64_t{width} * height <= kMaxPicturePixels;
}

// ---- Opus (RFC 6716 §3.4) ----

constexpr size_t kMaxOpusFrame = 1275;

// One frame length (§3.2.1): one byte below 252, else two. False when the bytes run out.
bool ReadOpusLength(std::span<const uint8_t>& p, size_t* length) {
  if (p.empty()) return false;
  if (p[0] < 252) {
    *length = p[0];
    p = p.subspan(1);
    return true;
  }
  if (p.size() < 2) return false;
  *length = size_t{p[1]} * 4 + p[0];
  p = p.subspan(2);
  return true;
}

// A frame's duration in units of 2.5 ms, from the TOC's configuration (§3.1, Table 2).
unsigned OpusFrameUnits(uint8_t toc) {
  unsigned config = toc >> 3;
  if (config < 12) {
    static constexpr unsigned kSilk[] = {4, 8, 16, 24};  // 10, 20, 40, 60 ms
    return kSilk[config % 4];
  }
  if (config < 16) return (config % 2) ? 8 : 4;      // hybrid: 10, 20 ms
  static constexpr unsigned kCelt[] = {1, 2, 4, 8};  // 2.5, 5, 10, 20 ms
  return kCelt[config % 4];
}

// ---- VP8 (RFC 7741 §4.2, RFC 6386 §9.1) ----

// The payload descriptor's length, or 0 when it does not fit.
size_t Vp8DescriptorLength(std::span<const uint8_t> p) {
  size_t n = 1;
  if (!(p[0] & 0x80)) return n;  // X: no extension byte
  if (p.size() < 2) return 0;
  uint8_t ext = p[1];
  n = 2;
  if (ext & 0x80) {  // I: PictureID, 7 or 15 bits
    if (p.size() <= n) return 0;
    n += (p[n] & 0x80) ? 2u : 1u;
  }
  if (ext & 0x40) n += 1;  // L: TL0PICIDX
  if (ext & 0x30) n += 1;  // T or K: TID/Y/KEYIDX
  return n <= p.size() ? n : 0;
}

// ---- H.264 (RFC 6184, ITU-T H.264) ----

enum NalType : uint8_t { kSps = 7, kPps = 8, kStapA = 24, kFuA = 28 };

// A NAL unit header as packetization modes 0 and 1 allow it inside a packet or an
// aggregate: forbidden bit clear, type 1..23.
bool PlainNalHeader(uint8_t h) {
  uint8_t type = h & 0x1F;
  return !(h & 0x80) && type >= 1 && type <= 23;
}

bool NalUnitWellFormed(std::span<const uint8_t> nal) {
  if (nal.empty() || !PlainNalHeader(nal[0])) return false;
  if ((nal[0] & 0x1F) == kSps) {
    uint32_t width = 0, height = 0;
    return H264SpsPictureSize(nal, &width, &height) && PictureFits(width, height);
  }
  return true;
}

// Reads the RBSP bits of a NAL unit, skipping emulation-prevention bytes (00 00 03).
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> rbsp) : data_(rbsp) {}
  bool Bit(uint32_t* out) {
    if (bit_ == 0 && !NextByte()) return false;
    --bit_;
    *out = (byte_ >> bit_) & 1u;
    return true;
  }
  bool Bits(int n, uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      uint32_t b = 0;
      if (!Bit(&b)) return false;
      v = (v << 1) | b;
    }
    *out = v;
    return true;
  }
  // Exp-Golomb ue(v) (§9.1); values above 2^31 - 2 are refused.
  bool Ue(uint32_t* out) {
    int zeros = 0;
    uint32_t b = 0;
    for (;;) {
      if (!Bit(&b)) return false;
      if (b) break;
      if (++zeros > 30) return false;
    }
    uint32_t rest = 0;
    if (!Bits(zeros, &rest)) return false;
    *out = ((1u << zeros) - 1) + rest;
    return true;
  }
  bool Se(int32_t* out) {
    uint32_t k = 0;
    if (!Ue(&k)) return false;
    *out = (k & 1) ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
    return true;
  }

 private:
  bool NextByte() {
    if (pos_ >= data_.size()) return false;
    if (zeros_ >= 2 && data_[pos_] == 0x03) {  // emulation prevention: not data
      zeros_ = 0;
      if (++pos_ >= data_.size()) return false;
    }
    byte_ = data_[pos_++];
    zeros_ = byte_ == 0 ? zeros_ + 1 : 0;
    bit_ = 8;
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  int zeros_ = 0;
  uint8_t byte_ = 0;
  int bit_ = 0;
};

bool SkipScalingList(BitReader& r, int size) {
  int32_t last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) {
      int32_t delta = 0;
      if (!r.Se(&delta) || delta < -128 || delta > 127) return false;
      next = (last + delta + 256) % 256;
    }
    last = next == 0 ? last : next;
  }
  return true;
}

bool HighProfile(uint32_t profile) {
  switch (profile) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135: return true;
    default: return false;
  }
}

}  // namespace

PayloadFormat PayloadFormatOf(std::string_view codec) {
  if (CodecNamed(codec, "opus")) return PayloadFormat::kOpus;
  if (CodecNamed(codec, "vp8")) return PayloadFormat::kVp8;
  if (CodecNamed(codec, "h264")) return PayloadFormat::kH264;
  return PayloadFormat::kUnchecked;
}

bool PayloadWellFormed(PayloadFormat format, std::span<const uint8_t> payload) {
  switch (format) {
    case PayloadFormat::kOpus: return OpusPacketWellFormed(payload);
    case PayloadFormat::kVp8: return payload.empty() || Vp8PayloadWellFormed(payload);
    case PayloadFormat::kH264: return payload.empty() || H264PayloadWellFormed(payload);
    case PayloadFormat::kUnchecked: break;
  }
  return true;
}

bool RedPayloadWellFormed(PayloadFormat format, uint8_t block_pt, std::span<const uint8_t> payload) {
  auto layout = ParseRed(payload);
  if (!layout) return false;
  for (size_t i = 0; i < layout->count; ++i) {
    const RedBlock& b = layout->blocks[i];
    if (b.payload_type != block_pt) return false;
    bool primary = i + 1 == layout->count;
    if ((primary || b.length) && !PayloadWellFormed(format, payload.subspan(b.offset, b.length))) return false;
  }
  return true;
}

bool OpusPacketWellFormed(std::span<const uint8_t> packet) {
  if (packet.empty()) return false;  // R1
  uint8_t toc = packet[0];
  std::span<const uint8_t> rest = packet.subspan(1);
  switch (toc & 0x3) {
    case 0:                                                             // one frame
      return rest.size() <= kMaxOpusFrame;                              // R2
    case 1:                                                             // two frames of equal size
      return rest.size() % 2 == 0 && rest.size() / 2 <= kMaxOpusFrame;  // R3, R2
    case 2: {                                                           // two frames, the first one's length coded
      size_t first = 0;
      if (!ReadOpusLength(rest, &first)) return false;
      return first <= rest.size() && first <= kMaxOpusFrame && rest.size() - first <= kMaxOpusFrame;  // R4, R2
    }
    default: break;
  }
  // Code 3: a frame count byte, optional padding, then CBR or VBR frames.
  if (rest.empty()) return false;
  uint8_t count_byte = rest[0];
  rest = rest.subspan(1);
  unsigned frames = count_byte & 0x3F;
  if (frames == 0 || frames * OpusFrameUnits(toc) > 48) return false;  // R5: 1 frame, <= 120 ms
  size_t padding = 0;
  if (count_byte & 0x40) {
    for (;;) {
      if (rest.empty()) return false;
      uint8_t b = rest[0];
      rest = rest.subspan(1);
      padding += b == 255 ? 254 : b;
      if (b != 255) break;
    }
  }
  if (padding > rest.size()) return false;
  size_t data = rest.size() - padding;
  if (!(count_byte & 0x80)) return data % frames == 0 && data / frames <= kMaxOpusFrame;  // R6
  // R7: VBR, M - 1 lengths coded, the last frame takes what is left.
  std::span<const uint8_t> lengths = rest.first(data);
  size_t coded = 0;
  for (unsigned i = 0; i + 1 < frames; ++i) {
    size_t length = 0;
    if (!ReadOpusLength(lengths, &length) || length > kMaxOpusFrame) return false;
    coded += length;
  }
  return coded <= lengths.size() && lengths.size() - coded <= kMaxOpusFrame;
}

bool Vp8PayloadWellFormed(std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  size_t descriptor = Vp8DescriptorLength(payload);
  if (descriptor == 0 || descriptor >= payload.size()) return false;  // no VP8 data after it
  bool start = payload[0] & 0x10;
  uint8_t partition = payload[0] & 0x07;
  if (!start || partition != 0) return true;  // a continuation: opaque partition data
  std::span<const uint8_t> frame = payload.subspan(descriptor);
  if (frame.size() < 3) return false;  // the frame tag
  uint8_t version = (frame[0] >> 1) & 0x07;
  if (version > 3) return false;
  bool keyframe = !(frame[0] & 0x01);
  if (!keyframe) return true;
  if (frame.size() < 10 || frame[3] != 0x9D || frame[4] != 0x01 || frame[5] != 0x2A) return false;
  uint32_t width = (frame[6] | (frame[7] << 8)) & 0x3FFF;
  uint32_t height = (frame[8] | (frame[9] << 8)) & 0x3FFF;
  return PictureFits(width, height);
}

bool H264PayloadWellFormed(std::span<const uint8_t> payload) {
  if (payload.empty() || (payload[0] & 0x80)) return false;
  uint8_t type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) return NalUnitWellFormed(payload);
  if (type == kStapA) {
    std::span<const uint8_t> rest = payload.subspan(1);
    if (rest.empty()) return false;
    while (!rest.empty()) {
      if (rest.size() < 2) return false;
      size_t size = (size_t{rest[0]} << 8) | rest[1];
      rest = rest.subspan(2);
      if (size == 0 || size > rest.size() || !NalUnitWellFormed(rest.first(size))) return false;
      rest = rest.subspan(size);
    }
    return true;
  }
  if (type == kFuA) {
    if (payload.size() < 3) return false;  // indicator, header, at least one byte
    uint8_t header = payload[1];
    bool first = header & 0x80, last = header & 0x40;
    uint8_t inner = header & 0x1F;
    if ((first && last) || (header & 0x20) || inner == 0 || inner > 23) return false;
    return inner != kSps && inner != kPps;  // parameter sets are small: they come whole
  }
  return false;  // STAP-B, MTAPs, FU-B (interleaved mode) and the reserved types
}

bool H264SpsPictureSize(std::span<const uint8_t> nal, uint32_t* width, uint32_t* height) {
  if (nal.size() < 4 || (nal[0] & 0x1F) != kSps) return false;
  uint32_t profile = nal[1];
  BitReader r(nal.subspan(1));  // after the header byte, which no emulation byte follows
  uint32_t v = 0;
  if (!r.Bits(24, &v)) return false;      // profile, constraint flags, level
  if (!r.Ue(&v) || v > 31) return false;  // seq_parameter_set_id
  if (HighProfile(profile)) {
    uint32_t chroma = 0;
    if (!r.Ue(&chroma) || chroma > 3) return false;
    if (chroma == 3 && !r.Bit(&v)) return false;                 // separate_colour_plane_flag
    if (!r.Ue(&v) || v > 6 || !r.Ue(&v) || v > 6) return false;  // bit depths
    if (!r.Bit(&v)) return false;                                // qpprime_y_zero_transform_bypass_flag
    uint32_t matrices = 0;
    if (!r.Bit(&matrices)) return false;
    if (matrices)
      for (int i = 0; i < (chroma != 3 ? 8 : 12); ++i) {
        uint32_t present = 0;
        if (!r.Bit(&present)) return false;
        if (present && !SkipScalingList(r, i < 6 ? 16 : 64)) return false;
      }
  }
  if (!r.Ue(&v) || v > 12) return false;  // log2_max_frame_num_minus4
  uint32_t poc_type = 0;
  if (!r.Ue(&poc_type) || poc_type > 2) return false;
  if (poc_type == 0) {
    if (!r.Ue(&v) || v > 12) return false;  // log2_max_pic_order_cnt_lsb_minus4
  } else if (poc_type == 1) {
    int32_t s = 0;
    uint32_t cycle = 0;
    if (!r.Bit(&v) || !r.Se(&s) || !r.Se(&s) || !r.Ue(&cycle) || cycle > 255) return false;
    for (uint32_t i = 0; i < cycle; ++i)
      if (!r.Se(&s)) return false;
  }
  if (!r.Ue(&v) || !r.Bit(&v)) return false;  // max_num_ref_frames, gaps flag
  uint32_t width_mbs = 0, height_units = 0, frame_mbs_only = 0;
  if (!r.Ue(&width_mbs) || !r.Ue(&height_units) || !r.Bit(&frame_mbs_only)) return false;
  // Bounded by Ue (< 2^31), so the sums cannot wrap before the limits refuse them.
  uint64_t w = (uint64_t{width_mbs} + 1) * 16;
  uint64_t h = (uint64_t{height_units} + 1) * 16 * (frame_mbs_only ? 1 : 2);
  if (w > 0xFFFFFFFFu || h > 0xFFFFFFFFu) return false;
  *width = static_cast<uint32_t>(w);
  *height = static_cast<uint32_t>(h);
  return true;
}

bool StartsKeyframe(PayloadFormat format, std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  if (format == PayloadFormat::kVp8) {
    size_t descriptor = Vp8DescriptorLength(payload);
    if (descriptor == 0 || descriptor >= payload.size()) return false;
    bool start = payload[0] & 0x10;
    uint8_t partition = payload[0] & 0x07;
    return start && partition == 0 && !(payload[descriptor] & 0x01);  // P = 0: a key frame
  }
  if (format != PayloadFormat::kH264) return false;
  auto key = [](uint8_t nal_header) {
    uint8_t type = nal_header & 0x1F;
    return type == 5 || type == kSps;  // an IDR slice, or the SPS that leads one
  };
  uint8_t type = payload[0] & 0x1F;
  if (type == kStapA) {
    std::span<const uint8_t> rest = payload.subspan(1);
    while (rest.size() >= 3) {
      size_t size = (size_t{rest[0]} << 8) | rest[1];
      if (size == 0 || size > rest.size() - 2) return false;
      if (key(rest[2])) return true;
      rest = rest.subspan(2 + size);
    }
    return false;
  }
  if (type == kFuA) return payload.size() >= 2 && (payload[1] & 0x80) && key(payload[1]);
  return key(payload[0]);
}

}  // namespace parley::sfu
