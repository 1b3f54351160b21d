// Fuzzes compound RTCP iteration and the readers of SR/RR, NACK, PLI/FIR and
// transport-wide-cc feedback (whose packet-status count can claim far more symbols
// than the packet holds; read whole, and into a short buffer as the SFU's send-side
// estimate reads it), and REMB (whose SSRC count and exponent are the sender's word).
#include <cstddef>
#include <cstdint>
#include <span>

#include "sfu/rtp.hpp"
#include "sfu/twcc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::sfu;
  std::span<const uint8_t> p(data, size);
  (void)IsValidRtcp(p);
  for (RtcpIterator it(p); !it.done(); it.Next()) {
    const RtcpView& v = *it;
    if (v.data.data() < data || v.data.data() + v.data.size() > data + size) __builtin_trap();
    (void)v.sender_ssrc();
    (void)v.media_ssrc();
    (void)ParseSenderInfo(v);
    for (size_t i = 0; i < 32; ++i) (void)GetReportBlock(v, i);
    size_t nacks = 0;
    (void)ForEachNack(v, [&](uint16_t) { ++nacks; });
    (void)IsKeyframeRequest(v);
    if (auto f = ParseTwccFeedback(v); f && f->arrivals_us.size() != f->status_count) __builtin_trap();
    // The allocation-free reader the SFU's send-side estimate uses, into a short buffer.
    int64_t arrivals[16];
    TwccHeader h;
    if (auto n = ParseTwccResults(v, h, arrivals); n && (*n > 16 || *n > h.status_count)) __builtin_trap();
    (void)ParseRemb(v);
  }
  return 0;
}
