#include "sfu/stun.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>

#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

constexpr size_t kHeader = 20;
constexpr uint32_t kFingerprintXor = 0x5354554E;

size_t Pad4(size_t n) {
  return (n + 3) & ~size_t{3};
}

uint32_t Crc32(const uint8_t* p, size_t n) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), p, static_cast<uInt>(n)));
}

// HMAC-SHA1 over the message up to `end`, with the header's length field set to
// `length_field` (RFC 5389 §15.4: the length as if MESSAGE-INTEGRITY were last).
bool HmacSha1(std::span<const uint8_t> packet, size_t end, uint16_t length_field, std::string_view key,
              uint8_t out[20]) {
  uint8_t header[kHeader];
  std::memcpy(header, packet.data(), kHeader);
  Store16(header + 2, length_field);
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // fetched once
  if (!kHmac) return false;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(kHmac);
  if (!ctx) return false;
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  size_t len = 0;
  bool ok = EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1 &&
            EVP_MAC_update(ctx, header, kHeader) == 1 &&
            EVP_MAC_update(ctx, packet.data() + kHeader, end - kHeader) == 1 &&
            EVP_MAC_final(ctx, out, &len, 20) == 1 && len == 20;
  EVP_MAC_CTX_free(ctx);
  return ok;
}

class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  bool Header(uint16_t type, const std::array<uint8_t, 12>& txid) {
    if (out_.size() < kHeader) return false;
    Store16(out_.data(), type);
    Store16(out_.data() + 2, 0);
    Store32(out_.data() + 4, kStunMagicCookie);
    std::memcpy(out_.data() + 8, txid.data(), 12);
    len_ = kHeader;
    return true;
  }
  // Reserves an attribute of `n` value bytes; returns where the value goes, or null.
  uint8_t* Attr(uint16_t type, size_t n) {
    size_t total = 4 + Pad4(n);
    if (len_ + total > out_.size()) return nullptr;
    uint8_t* p = out_.data() + len_;
    Store16(p, type);
    Store16(p + 2, static_cast<uint16_t>(n));
    std::memset(p + 4, 0, Pad4(n));
    len_ += total;
    SetLength();
    return p + 4;
  }
  bool Integrity(std::string_view key) {
    size_t start = len_;
    uint8_t* v = Attr(kAttrMessageIntegrity, 20);
    if (!v) return false;
    return HmacSha1(out_.first(len_), start, static_cast<uint16_t>(len_ - kHeader), key, v);
  }
  bool Fingerprint() {
    size_t start = len_;
    uint8_t* v = Attr(kAttrFingerprint, 4);
    if (!v) return false;
    Store32(v, Crc32(out_.data(), start) ^ kFingerprintXor);
    return true;
  }
  [[nodiscard]] size_t size() const { return len_; }

 private:
  void SetLength() { Store16(out_.data() + 2, static_cast<uint16_t>(len_ - kHeader)); }
  std::span<uint8_t> out_;
  size_t len_ = 0;
};

}  // namespace

std::optional<StunMessage> ParseStun(std::span<const uint8_t> p) {
  if (p.size() < kHeader || (p[0] & 0xC0) != 0) return std::nullopt;
  size_t length = Load16(&p[2]);
  if (length % 4 != 0 || kHeader + length != p.size() || Load32(&p[4]) != kStunMagicCookie) return std::nullopt;
  StunMessage m;
  m.type = Load16(&p[0]);
  std::memcpy(m.transaction_id.data(), &p[8], 12);
  size_t off = kHeader;
  while (off < p.size()) {
    if (off + 4 > p.size()) return std::nullopt;
    uint16_t type = Load16(&p[off]);
    size_t n = Load16(&p[off + 2]);
    size_t value = off + 4;
    if (value + n > p.size()) return std::nullopt;
    // Only FINGERPRINT may follow MESSAGE-INTEGRITY; nothing may follow FINGERPRINT (RFC 5389 §15.4-15.5).
    if (m.fingerprint_offset) return std::nullopt;
    if (m.integrity_offset && type != kAttrFingerprint) return std::nullopt;
    const uint8_t* v = &p[value];
    switch (type) {
      case kAttrUsername:
        if (n > 513) return std::nullopt;
        m.username = std::string_view(reinterpret_cast<const char*>(v), n);
        break;
      case kAttrMessageIntegrity:
        if (n != 20) return std::nullopt;
        m.integrity_offset = off;
        break;
      case kAttrFingerprint:
        if (n != 4) return std::nullopt;
        m.fingerprint_offset = off;
        break;
      case kAttrPriority:
        if (n != 4) return std::nullopt;
        m.priority = Load32(v);
        break;
      case kAttrUseCandidate:
        if (n != 0) return std::nullopt;
        m.use_candidate = true;
        break;
      case kAttrIceControlling:
      case kAttrIceControlled: {
        if (n != 8) return std::nullopt;
        uint64_t tb = (static_cast<uint64_t>(Load32(v)) << 32) | Load32(v + 4);
        (type == kAttrIceControlling ? m.ice_controlling : m.ice_controlled) = tb;
        break;
      }
      case kAttrErrorCode:
        if (n < 4) return std::nullopt;
        m.error_code = static_cast<uint16_t>((v[2] & 0x7) * 100 + v[3]);
        break;
      case kAttrXorMappedAddress: {
        if (n < 8) return std::nullopt;
        sockaddr_storage ss{};
        uint16_t port = static_cast<uint16_t>(Load16(v + 2) ^ (kStunMagicCookie >> 16));
        if (v[1] == 0x01 && n == 8) {
          auto* a = reinterpret_cast<sockaddr_in*>(&ss);
          a->sin_family = AF_INET;
          a->sin_port = htons(port);
          a->sin_addr.s_addr = htonl(Load32(v + 4) ^ kStunMagicCookie);
        } else if (v[1] == 0x02 && n == 20) {
          auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
          a->sin6_family = AF_INET6;
          a->sin6_port = htons(port);
          uint8_t mask[16];
          Store32(mask, kStunMagicCookie);
          std::memcpy(mask + 4, m.transaction_id.data(), 12);
          for (int i = 0; i < 16; ++i) a->sin6_addr.s6_addr[i] = v[4 + i] ^ mask[i];
        } else {
          return std::nullopt;
        }
        m.xor_mapped = ss;
        break;
      }
      default: break;  // comprehension-optional or unknown: ignored (RFC 5389 §7.3)
    }
    off = value + Pad4(n);
  }
  if (off != p.size()) return std::nullopt;
  return m;
}

bool VerifyStunIntegrity(const StunMessage& m, std::span<const uint8_t> p, std::string_view key) {
  if (!m.integrity_offset || m.integrity_offset + 24 > p.size()) return false;
  uint8_t mac[20];
  auto length_field = static_cast<uint16_t>(m.integrity_offset + 24 - kHeader);
  if (!HmacSha1(p, m.integrity_offset, length_field, key, mac)) return false;
  return CRYPTO_memcmp(mac, p.data() + m.integrity_offset + 4, 20) == 0;
}

bool VerifyStunFingerprint(const StunMessage& m, std::span<const uint8_t> p) {
  if (!m.fingerprint_offset || m.fingerprint_offset + 8 != p.size()) return false;
  uint32_t want = Crc32(p.data(), m.fingerprint_offset) ^ kFingerprintXor;
  return Load32(p.data() + m.fingerprint_offset + 4) == want;
}

size_t WriteStunBindingSuccess(std::span<uint8_t> out, const std::array<uint8_t, 12>& txid,
                               const sockaddr_storage& peer, std::string_view key) {
  Writer w(out);
  if (!w.Header(kStunBindingSuccess, txid)) return 0;
  if (peer.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);
    uint8_t* v = w.Attr(kAttrXorMappedAddress, 8);
    if (!v) return 0;
    v[1] = 0x01;
    Store16(v + 2, static_cast<uint16_t>(ntohs(a->sin_port) ^ (kStunMagicCookie >> 16)));
    Store32(v + 4, ntohl(a->sin_addr.s_addr) ^ kStunMagicCookie);
  } else if (peer.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&peer);
    uint8_t* v = w.Attr(kAttrXorMappedAddress, 20);
    if (!v) return 0;
    v[1] = 0x02;
    Store16(v + 2, static_cast<uint16_t>(ntohs(a->sin6_port) ^ (kStunMagicCookie >> 16)));
    uint8_t mask[16];
    Store32(mask, kStunMagicCookie);
    std::memcpy(mask + 4, txid.data(), 12);
    for (int i = 0; i < 16; ++i) v[4 + i] = a->sin6_addr.s6_addr[i] ^ mask[i];
  } else {
    return 0;
  }
  if (!w.Integrity(key) || !w.Fingerprint()) return 0;
  return w.size();
}

size_t WriteStunBindingRequest(std::span<uint8_t> out, const std::array<uint8_t, 12>& txid, std::string_view username,
                               std::string_view key, uint32_t priority, uint64_t tie_breaker, bool use_candidate) {
  Writer w(out);
  if (!w.Header(kStunBindingRequest, txid)) return 0;
  uint8_t* u = w.Attr(kAttrUsername, username.size());
  if (!u) return 0;
  std::memcpy(u, username.data(), username.size());
  uint8_t* pr = w.Attr(kAttrPriority, 4);
  if (!pr) return 0;
  Store32(pr, priority);
  uint8_t* tb = w.Attr(kAttrIceControlling, 8);
  if (!tb) return 0;
  Store32(tb, static_cast<uint32_t>(tie_breaker >> 32));
  Store32(tb + 4, static_cast<uint32_t>(tie_breaker));
  if (use_candidate && !w.Attr(kAttrUseCandidate, 0)) return 0;
  if (!w.Integrity(key) || !w.Fingerprint()) return 0;
  return w.size();
}

std::string_view LocalUfrag(std::string_view username) {
  auto colon = username.find(':');
  return colon == std::string_view::npos ? std::string_view() : username.substr(0, colon);
}

}  // namespace parley::sfu
