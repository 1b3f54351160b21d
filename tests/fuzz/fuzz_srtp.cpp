// Fuzzes the server's SRTP/SRTCP: hostile bytes unprotected as SRTP and SRTCP under
// both profiles (they must be refused without reading out of bounds, and never keep
// state), and the input taken as a plain RTP/RTCP packet: whatever protects must
// unprotect to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "sfu/srtp.hpp"

namespace {

using parley::sfu::SrtpProfile;
using parley::sfu::SrtpSession;

struct Sessions {
  std::unique_ptr<SrtpSession> out, in, hostile;
};

Sessions Make(SrtpProfile profile) {
  std::vector<uint8_t> master(profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30), other(master.size());
  for (size_t i = 0; i < master.size(); ++i) {
    master[i] = static_cast<uint8_t>(i * 7 + 1);
    other[i] = static_cast<uint8_t>(i * 13 + 5);  // hostile input never has the key
  }
  return {*SrtpSession::Create(profile, master, SrtpSession::Direction::kOutbound),
          *SrtpSession::Create(profile, master, SrtpSession::Direction::kInbound),
          *SrtpSession::Create(profile, other, SrtpSession::Direction::kInbound)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Sessions gcm = Make(SrtpProfile::kAeadAes128Gcm);
  static Sessions cm = Make(SrtpProfile::kAes128CmSha1_80);
  for (Sessions* s : {&gcm, &cm}) {
    std::vector<uint8_t> buf(data, data + size);
    (void)s->hostile->UnprotectRtp(buf.data(), buf.size());
    buf.assign(data, data + size);
    (void)s->hostile->UnprotectRtcp(buf.data(), buf.size());
    if (s->hostile->streams() != 0) __builtin_trap();  // nothing unkeyed authenticates

    for (bool rtcp : {false, true}) {
      std::vector<uint8_t> pkt(size + parley::sfu::kSrtpMaxOverhead);
      if (size) std::memcpy(pkt.data(), data, size);
      size_t n =
          rtcp ? s->out->ProtectRtcp(pkt.data(), size, pkt.size()) : s->out->ProtectRtp(pkt.data(), size, pkt.size());
      if (!n) continue;
      size_t m = rtcp ? s->in->UnprotectRtcp(pkt.data(), n) : s->in->UnprotectRtp(pkt.data(), n);
      // A replayed number is refused (the fuzzer repeats inputs); anything else must
      // come back whole.
      if (m && (m != size || std::memcmp(pkt.data(), data, size) != 0)) __builtin_trap();
    }
  }
  return 0;
}
