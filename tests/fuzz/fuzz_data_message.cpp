// Fuzzes what a data connection's client controls: the envelope of a data message
// (DataRelay::SplitEnvelope) and the SCTP packets its association reads. Each input is
// also made into a packet an open association accepts as its own (its ports and
// verification tag, a correct CRC32c), so usrsctp's chunk parsing is reached rather
// than its checksum check; an association the input closed is opened again.
#include <usrsctp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "sfu/data_relay.hpp"
#include "sfu/sctp.hpp"

namespace {

using parley::sfu::SctpAssociation;
using Bytes = std::vector<uint8_t>;

struct Pair {
  std::deque<Bytes> to_a, to_b;
  SctpAssociation a{5000, 5000, [this](std::span<const uint8_t> p) { to_b.emplace_back(p.begin(), p.end()); }};
  SctpAssociation b{5000, 5000, [this](std::span<const uint8_t> p) { to_a.emplace_back(p.begin(), p.end()); }};
  Bytes tag;           ///< the verification tag of packets for b
  bool invert = true;  ///< how this usrsctp finalises a CRC32c (learnt from a real packet)

  bool Open() {
    if (!a.Start() || !b.Start()) return false;
    for (int i = 0;
         i < 200 && (a.state() != SctpAssociation::State::kOpen || b.state() != SctpAssociation::State::kOpen); ++i) {
      while (!to_b.empty()) {
        Bytes p = std::move(to_b.front());
        to_b.pop_front();
        if (p.size() >= 12) Learn(p);
        b.Input(p);
      }
      while (!to_a.empty()) {
        Bytes p = std::move(to_a.front());
        to_a.pop_front();
        a.Input(p);
      }
    }
    return b.state() == SctpAssociation::State::kOpen;
  }
  void Learn(const Bytes& p) {
    uint32_t vtag = 0;
    std::memcpy(&vtag, p.data() + 4, 4);
    if (vtag == 0) return;  // an INIT
    tag.assign(p.begin() + 4, p.begin() + 8);
    Bytes z = p;
    uint32_t sum = 0, got = 0;
    std::memcpy(&got, p.data() + 8, 4);
    std::memset(z.data() + 8, 0, 4);
    sum = usrsctp_crc32c(z.data(), z.size());
    invert = got == ~sum;
  }
};

std::unique_ptr<Pair> g_pair;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes message(data, data + size);  // exact size: ASan sees any overread
  std::string_view id;
  std::span<const uint8_t> payload;
  if (parley::sfu::DataRelay::SplitEnvelope(message, &id, &payload)) {
    if (id.size() > 64 || payload.data() + payload.size() != message.data() + message.size()) __builtin_trap();
    if (!id.empty() && static_cast<const void*>(id.data()) != static_cast<const void*>(message.data()))
      __builtin_trap();
  }
  if (!g_pair || g_pair->b.state() != SctpAssociation::State::kOpen) {
    g_pair = std::make_unique<Pair>();
    if (!g_pair->Open()) return 0;
  }
  if (size < 12 || g_pair->tag.size() != 4) return 0;
  Bytes p(data, data + size);
  const uint8_t ports[4] = {0x13, 0x88, 0x13, 0x88};  // 5000 -> 5000
  std::memcpy(p.data(), ports, 4);
  std::memcpy(p.data() + 4, g_pair->tag.data(), 4);
  std::memset(p.data() + 8, 0, 4);
  uint32_t sum = usrsctp_crc32c(p.data(), p.size());
  if (g_pair->invert) sum = ~sum;
  std::memcpy(p.data() + 8, &sum, 4);
  g_pair->b.Input(p);
  (void)g_pair->b.TakeMessages();
  g_pair->to_a.clear();
  return 0;
}
