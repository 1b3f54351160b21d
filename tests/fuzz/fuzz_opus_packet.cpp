// Fuzzes the SDK's Opus packet readers (a remote publisher's payload, as it reaches
// the decoder): the duration from the TOC byte, the in-band FEC flag, and the
// concealment counter fed packets and gaps. Nothing may read past the packet.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/audio_concealment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy, so that ASan sees any read past the packet.
  std::vector<uint8_t> packet(data, data + size);
  const uint32_t n = parley::sdk::OpusPacketSamples48k(packet.data(), packet.size());
  if (n > 5760) __builtin_trap();  // never more than 120 ms
  (void)parley::sdk::OpusPacketHasFec(packet.data(), packet.size());
  // A stream under way (one 20 ms hybrid packet), a lost packet, then this one.
  const uint8_t first[] = {0x78, 0x82, 1, 2};
  parley::sdk::ConcealmentCounter c;
  c.Packet(first, sizeof first);
  c.Gap(20'000'000);
  c.Packet(packet.data(), packet.size());
  if (c.concealed() + c.restored() != 960 || c.samples() != 1920u + n) __builtin_trap();
  // Before a stream's first packet a gap counts nothing.
  parley::sdk::ConcealmentCounter e;
  e.Gap(20'000'000);
  if (e.samples() || e.concealed()) __builtin_trap();
  // A sender's pause, then a loss the jitter buffer spreads over any length: one packet.
  parley::sdk::ConcealmentCounter d;
  d.Packet(packet.data(), packet.size(), 0);
  d.Packet(packet.data(), packet.size(), 500'000'000);
  d.Gap(~uint64_t{0});
  if (n && d.concealed() > n) __builtin_trap();
  return 0;
}
