// Fuzzes the RTP parser, header-extension lookup and in-place rewriting, and which
// publisher track a packet is taken for (by SSRC, RID, MID or payload type).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfu/publisher_tracks.hpp"
#include "sfu/rtp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  (void)parley::sfu::Classify(buf);
  auto v = parley::sfu::ParseRtp(buf);
  if (!v) return 0;
  if (v->payload_offset + v->payload_length > buf.size()) __builtin_trap();
  {
    using parley::sfu::InboundTrack;
    InboundTrack known{false, 0x1111, 111};
    InboundTrack by_mid{false, 0, 96, 97};
    by_mid.mid = "a1";
    InboundTrack other_mid = by_mid;
    other_mid.mid = "b2";
    InboundTrack by_rid{false, 0, 98, 99};
    by_rid.rid = "f";
    InboundTrack by_type{false, 0, 100};
    parley::sfu::PublisherTracks tracks;
    tracks.Set({known, by_mid, other_mid, by_rid, by_type}, 10, 11, 4);
    bool rtx = false;
    for (int i = 0; i < 2; ++i) {  // the second time by what the first one learnt
      int t = tracks.Match(*v, &rtx);
      if (t < -1 || t >= static_cast<int>(tracks.size())) __builtin_trap();
      if (t >= 0 && !rtx) (void)parley::sfu::PublisherTracks::Received(tracks[static_cast<size_t>(t)], *v, 1000);
    }
  }
  for (uint8_t id = 0; id < 16; ++id) {
    auto e = v->Extension(id);
    if (e && (e->data() < buf.data() || e->data() + e->size() > buf.data() + buf.size())) __builtin_trap();
  }
  v->SetSequence(static_cast<uint16_t>(v->sequence + 1));
  v->SetSsrc(0x12345678);
  v->SetTimestamp(v->timestamp + 960);
  auto again = parley::sfu::ParseRtp(buf);
  if (!again || again->ssrc != 0x12345678 || again->payload_length != v->payload_length) __builtin_trap();
  return 0;
}
