#include "sfu/probe_cluster.hpp"

#include <algorithm>
#include <cstring>

#include "sfu/webrtc_transport.hpp"

namespace parley::sfu {

size_t ProbeCluster::PacketsFor(uint64_t rate_bps, size_t packet_bytes) {
  const uint64_t bytes = std::max<uint64_t>(rate_bps, 10'000) * static_cast<uint64_t>(kDurationUs) / 8'000'000;
  return std::clamp<size_t>(static_cast<size_t>(bytes / std::max<size_t>(packet_bytes, 1)), kMinPackets, kMaxPackets);
}

size_t ProbeCluster::Start(uint64_t rate_bps, size_t packet_bytes, uint32_t ssrc, uint16_t id, int64_t now_us) {
  rate_bps = std::max<uint64_t>(rate_bps, 10'000);
  packet_bytes = std::max<size_t>(packet_bytes, 1);
  left_ = PacketsFor(rate_bps, packet_bytes);
  interval_us_ = static_cast<int64_t>(packet_bytes * 8'000'000 / rate_bps);
  next_us_ = planned_us_ = now_us;
  started_ = false;
  ssrc_ = ssrc;
  id_ = id;
  return left_;
}

size_t WriteProbe(uint8_t* slot, Route& r, const OwnExtensions& ext, size_t padding) {
  if (r.spec.rtx_ssrc == 0 || padding == 0 || padding > 255) return 0;
  uint8_t own[kOwnExtensionsMax];
  const size_t own_len = ext.any() ? WriteOwnExtensions(own, ext) : 0;
  const size_t len = 12 + own_len + padding;
  if (len > kMaxDatagram) return 0;
  slot[0] = static_cast<uint8_t>(0x80 | 0x20 | (own_len ? 0x10 : 0));  // V=2, padding, extension
  slot[1] = static_cast<uint8_t>(r.spec.rtx_payload_type & 0x7F);
  const uint16_t seq = r.numbers.NextRtxSeq();
  const uint32_t ts = r.numbers.last_timestamp();
  slot[2] = static_cast<uint8_t>(seq >> 8);
  slot[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    slot[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
    slot[8 + i] = static_cast<uint8_t>(r.spec.rtx_ssrc >> (24 - 8 * i));
  }
  std::memcpy(slot + 12, own, own_len);
  std::memset(slot + 12 + own_len, 0, padding);
  slot[len - 1] = static_cast<uint8_t>(padding);  // the padding's own count, itself included
  return len;
}

}  // namespace parley::sfu
