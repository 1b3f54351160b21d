// Fuzzes the STUN parser and its integrity/fingerprint checks, and answers every
// request that parses (the ICE-lite server's whole STUN path).
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "sfu/stun.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> p(data, size);
  auto m = parley::sfu::ParseStun(p);
  if (!m) return 0;
  (void)parley::sfu::VerifyStunIntegrity(*m, p, "password");
  (void)parley::sfu::VerifyStunFingerprint(*m, p);
  (void)parley::sfu::LocalUfrag(m->username);
  sockaddr_storage peer = m->xor_mapped.value_or(sockaddr_storage{});
  if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in*>(&peer);
    a->sin_family = AF_INET;
    a->sin_port = htons(9);
  }
  uint8_t out[128];
  size_t n = parley::sfu::WriteStunBindingSuccess(out, m->transaction_id, peer, "password");
  auto back = parley::sfu::ParseStun(std::span<const uint8_t>(out, n));
  if (!back || !parley::sfu::VerifyStunIntegrity(*back, std::span<const uint8_t>(out, n), "password"))
    __builtin_trap();  // what we write must parse and verify
  return 0;
}
