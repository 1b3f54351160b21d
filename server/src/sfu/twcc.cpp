#include "sfu/twcc.hpp"

#include <algorithm>

namespace parley::sfu {
namespace {

constexpr int64_t kTickUs = 250;         // receive delta unit
constexpr int64_t kReferenceUs = 64000;  // reference time unit
constexpr uint8_t kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2;

}  // namespace

int64_t TwccRecorder::Unwrap(uint16_t seq) {
  if (last_ < 0) return last_ = seq;
  int64_t u = UnwrapNear(seq, last_);
  if (u > last_) last_ = u;
  return u;
}

bool TwccRecorder::Record(uint16_t seq, int64_t arrival_us) {
  int64_t u = Unwrap(seq);
  if (base_ < 0) base_ = u;
  if (u < base_) return true;  // already reported (or very late): nothing to add
  if (u - base_ >= static_cast<int64_t>(kWindow)) return false;
  arrival_us_[static_cast<size_t>(u) % kWindow] = arrival_us;
  max_ = std::max(max_, u);
  return true;
}

size_t TwccRecorder::WriteFeedback(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (!pending() || capacity < 1200) return 0;
  size_t count = static_cast<size_t>(std::min<int64_t>(max_ - base_ + 1, kMaxPerFeedback));
  std::array<uint8_t, kMaxPerFeedback> symbols{};
  std::array<int32_t, kMaxPerFeedback> deltas{};
  // The reference time is taken from the first packet of the range that arrived (lost
  // packets before it are reported as such).
  int64_t first = -1;
  for (size_t i = 0; i < count && first < 0; ++i)
    first = arrival_us_[static_cast<size_t>(base_ + static_cast<int64_t>(i)) % kWindow];
  int64_t reference = first >= 0 ? first / kReferenceUs : 0;
  int64_t previous = reference * kReferenceUs;
  for (size_t i = 0; i < count; ++i) {
    int64_t at = arrival_us_[static_cast<size_t>(base_ + static_cast<int64_t>(i)) % kWindow];
    if (at < 0) {
      symbols[i] = kNotReceived;
      continue;
    }
    int64_t ticks = (at - previous) / kTickUs;
    if (ticks < -32768 || ticks > 32767) {  // cannot be expressed: end this packet here
      count = i;
      break;
    }
    symbols[i] = ticks >= 0 && ticks <= 255 ? kSmallDelta : kLargeDelta;
    deltas[i] = static_cast<int32_t>(ticks);
    previous += ticks * kTickUs;  // accumulate what the receiver will reconstruct
  }
  out[0] = 0x80 | 15;
  out[1] = kRtpfb;
  Store32(out + 4, sender_ssrc);
  Store32(out + 8, media_ssrc);
  Store16(out + 12, static_cast<uint16_t>(base_));
  Store16(out + 14, static_cast<uint16_t>(count));
  uint32_t ref24 = static_cast<uint32_t>(reference) & 0xFFFFFF;
  Store32(out + 16, (ref24 << 8) | feedback_count_++);
  size_t off = 20;
  // Packet chunks: a run-length chunk for runs of 7 or more equal symbols, otherwise a
  // two-bit status vector chunk of the next 7 symbols.
  for (size_t i = 0; i < count;) {
    size_t run = 1;
    while (i + run < count && symbols[i + run] == symbols[i] && run < 0x1FFF) ++run;
    uint16_t chunk;
    if (run >= 7) {
      chunk = static_cast<uint16_t>((symbols[i] << 13) | run);
      i += run;
    } else {
      chunk = 0xC000;  // status vector, two-bit symbols
      for (size_t k = 0; k < 7; ++k)
        if (i + k < count) chunk = static_cast<uint16_t>(chunk | (symbols[i + k] << (2 * (6 - k))));
      i += 7;
    }
    Store16(out + off, chunk);
    off += 2;
  }
  for (size_t i = 0; i < count; ++i) {
    if (symbols[i] == kSmallDelta) {
      out[off++] = static_cast<uint8_t>(deltas[i]);
    } else if (symbols[i] == kLargeDelta) {
      Store16(out + off, static_cast<uint16_t>(static_cast<int16_t>(deltas[i])));
      off += 2;
    }
  }
  size_t pad = (4 - off % 4) % 4;
  if (pad) {
    for (size_t k = 0; k < pad; ++k) out[off + k] = 0;
    off += pad;
    out[off - 1] = static_cast<uint8_t>(pad);
    out[0] |= 0x20;
  }
  Store16(out + 2, static_cast<uint16_t>(off / 4 - 1));
  for (size_t i = 0; i < count; ++i) arrival_us_[static_cast<size_t>(base_ + static_cast<int64_t>(i)) % kWindow] = -1;
  base_ += static_cast<int64_t>(count);
  return off;
}

namespace {

// Calls `symbol(s)` for each of the first `count` packet status symbols of the chunks at
// `off` (advanced past the chunks read), stopping early when it returns false. False
// when the chunks run out or hold a reserved symbol.
template <typename F>
bool ForEachSymbol(const uint8_t* p, size_t end, size_t& off, size_t count, F&& symbol) {
  size_t seen = 0;
  while (seen < count) {
    if (off + 2 > end) return false;
    uint16_t chunk = Load16(p + off);
    off += 2;
    if (!(chunk & 0x8000)) {  // run length
      auto s = static_cast<uint8_t>((chunk >> 13) & 3);
      size_t run = chunk & 0x1FFF;
      if (s == 3) return false;
      for (size_t k = 0; k < run && seen < count; ++k, ++seen)
        if (!symbol(s)) return true;
    } else if (!(chunk & 0x4000)) {  // 14 one-bit symbols
      for (int k = 13; k >= 0 && seen < count; --k, ++seen)
        if (!symbol(static_cast<uint8_t>((chunk >> k) & 1))) return true;
    } else {  // 7 two-bit symbols
      for (int k = 6; k >= 0 && seen < count; --k, ++seen) {
        auto s = static_cast<uint8_t>((chunk >> (2 * k)) & 3);
        if (s == 3) return false;
        if (!symbol(s)) return true;
      }
    }
  }
  return true;
}

}  // namespace

std::optional<size_t> ParseTwccResults(const RtcpView& fb, TwccHeader& header, std::span<int64_t> arrivals_us) {
  if (fb.type != kRtpfb || fb.count != 15 || fb.data.size() < 20) return std::nullopt;
  const uint8_t* p = fb.data.data();
  size_t end = fb.data.size();
  if (fb.padding) {
    uint8_t pad = p[end - 1];
    if (pad == 0 || pad > end - 20) return std::nullopt;
    end -= pad;
  }
  header.sender_ssrc = Load32(p + 4);
  header.media_ssrc = Load32(p + 8);
  header.base_sequence = Load16(p + 12);
  header.status_count = Load16(p + 14);
  uint32_t ref = Load24(p + 16);
  header.reference_time = static_cast<int32_t>(ref & 0x800000 ? ref | 0xFF000000u : ref);
  header.feedback_count = p[19];
  // Two passes over the chunks, nothing allocated: the first finds where the receive
  // deltas begin, the second pairs each symbol with its delta.
  size_t deltas = 20;
  if (!ForEachSymbol(p, end, deltas, header.status_count, [](uint8_t) { return true; })) return std::nullopt;
  const size_t n = std::min<size_t>(header.status_count, arrivals_us.size());
  size_t chunks = 20, i = 0;
  int64_t at = 0;
  bool complete = true;
  ForEachSymbol(p, end, chunks, n, [&](uint8_t s) {
    if (s == kNotReceived) {
      arrivals_us[i++] = kTwccNotReceived;
      return true;
    }
    int64_t ticks;
    if (s == kSmallDelta) {
      if (deltas + 1 > end) return complete = false;
      ticks = p[deltas++];
    } else {
      if (deltas + 2 > end) return complete = false;
      ticks = static_cast<int16_t>(Load16(p + deltas));
      deltas += 2;
    }
    at += ticks * kTickUs;
    arrivals_us[i++] = at;
    return true;
  });
  if (!complete) return std::nullopt;
  return n;
}

std::optional<TwccFeedback> ParseTwccFeedback(const RtcpView& fb) {
  TwccHeader h;
  std::vector<int64_t> arrivals(fb.data.size() >= 16 ? Load16(fb.data.data() + 14) : 0);
  auto n = ParseTwccResults(fb, h, arrivals);
  if (!n) return std::nullopt;
  TwccFeedback f;
  static_cast<TwccHeader&>(f) = h;
  f.arrivals_us.reserve(*n);
  for (size_t i = 0; i < *n; ++i)
    f.arrivals_us.emplace_back(arrivals[i] == kTwccNotReceived ? std::nullopt : std::optional<int64_t>(arrivals[i]));
  return f;
}

}  // namespace parley::sfu
