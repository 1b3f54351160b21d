// Checks of a publisher's media payloads before the SFU forwards them. The SFU does not
// decode media, but every subscriber does: a payload its depacketizer or decoder was
// not written for (a hostile or broken publisher's) reaches each of them, browsers
// and GStreamer alike. So each forwarded packet must be well-formed for its codec's
// RTP payload format, and a keyframe may not declare a picture larger than the limits
// below (a decoder allocates for the size a keyframe declares before it sees whether
// the rest is real). A packet that fails is dropped like a lost one: subscribers see a
// gap, NACK it in vain and ask for a keyframe.
//
// Pure functions over the payload; no allocation, no throw, bounded work (linear in
// the payload). Worker thread (packet path), fuzzed (fuzz_payload_check).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace parley::sfu {

/// The payload formats the SFU forwards and checks.
enum class PayloadFormat : uint8_t { kUnchecked, kOpus, kVp8, kH264 };

/// The format of a negotiated codec name ("opus", "VP8", "H264"; any case);
/// kUnchecked for others.
PayloadFormat PayloadFormatOf(std::string_view codec);

/// The largest picture a keyframe may declare: 4096 pixels a side and the area of
/// 4096 x 2304 (DCI 4K and UHD fit; a decoder's buffers stay under ~15 MB a frame).
inline constexpr uint32_t kMaxPictureSide = 4096;
inline constexpr uint32_t kMaxPicturePixels = 4096u * 2304u;

/// Whether `payload` (the RTP payload, padding removed) is well-formed for `format`.
/// An empty video payload passes (padding-only packets carry nothing to decode); an
/// empty Opus payload does not (RFC 6716 §3.4, R1).
bool PayloadWellFormed(PayloadFormat format, std::span<const uint8_t> payload);

/// Whether a RED payload (RFC 2198, red.hpp) is well-formed: its headers parse, every
/// block names `block_pt` (the track's codec: a subscriber decodes each block as that)
/// and is well-formed for `format`. A redundant block may be empty (nothing to repeat).
bool RedPayloadWellFormed(PayloadFormat format, uint8_t block_pt, std::span<const uint8_t> payload);

/// Opus packet framing (RFC 6716 §3.4, requirements R1–R7, and at most 120 ms).
bool OpusPacketWellFormed(std::span<const uint8_t> packet);
/// VP8 payload descriptor (RFC 7741 §4.2), and at the start of a frame its payload
/// header; a keyframe's start code and picture size (RFC 6386 §9.1).
bool Vp8PayloadWellFormed(std::span<const uint8_t> payload);
/// H.264 in packetization mode 0 or 1 (RFC 6184 §5): single NAL units, STAP-A and
/// FU-A, each NAL header with the forbidden bit clear and a type the mode allows;
/// parameter sets whole (not fragmented) and a sequence parameter set's picture size
/// within the limits (ITU-T H.264 §7.3.2.1.1).
bool H264PayloadWellFormed(std::span<const uint8_t> payload);

/// Whether `payload` (an RTP payload of `format`, well-formed) begins a keyframe: VP8's
/// first packet of a key frame (RFC 7741 §4.3: S=1, partition 0, P=0), or H.264's IDR
/// slice or sequence parameter set (RFC 6184: single NAL, STAP-A, first FU-A fragment).
/// Where a simulcast switch may happen (layer_switch.hpp).
bool StartsKeyframe(PayloadFormat format, std::span<const uint8_t> payload);

/// A sequence parameter set's coded picture size (the NAL unit, header byte first),
/// or false when it does not parse. Exposed for tests.
bool H264SpsPictureSize(std::span<const uint8_t> nal, uint32_t* width, uint32_t* height);

}  // namespace parley::sfu
