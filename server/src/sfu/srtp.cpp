// SHA-1 through its low-level interface: an HMAC's inner and outer states are computed
// once per session and copied per packet (a plain struct copy). EVP_MAC re-initialised
// per packet costs 314 ns for a 100-byte packet here against 109 ns this way, and
// audio packets are small (docs/performance.md). OpenSSL 3 marks SHA1_Init deprecated;
// it is still part of its API.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sfu/srtp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

constexpr size_t kKeyLen = 16, kCmSaltLen = 14, kGcmSaltLen = 12, kAuthKeyLen = 20;
constexpr size_t kCmTag = 10, kGcmTag = 16, kIndexWord = 4;
constexpr uint32_t kEncrypted = 0x80000000u;  // SRTCP's E flag

/// The RTP header's length (fixed part, CSRCs, extension), or 0 when it does not fit.
size_t RtpHeaderLength(const uint8_t* b, size_t len) {
  if (len < 12 || (b[0] >> 6) != 2) return 0;
  size_t h = 12 + 4 * static_cast<size_t>(b[0] & 0x0F);
  if (b[0] & 0x10) {
    if (len < h + 4) return 0;
    h += 4 + 4 * static_cast<size_t>(Load16(b + h + 2));
  }
  return h <= len ? h : 0;
}

}  // namespace

std::string_view Name(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
}

std::vector<uint8_t> SrtpDeriveKey(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                                   uint8_t label, size_t length) {
  // x = (label || r) XOR master_salt with r = 0; the PRF is AES-CM keyed with the
  // master key from IV x * 2^16. A 12-byte salt (GCM) is a 14-byte one ending in 0s.
  if (master_key.size() != kKeyLen || master_salt.size() > kCmSaltLen) return {};
  uint8_t iv[16] = {};
  std::copy(master_salt.begin(), master_salt.end(), iv);
  iv[7] ^= label;
  std::vector<uint8_t> out(length, 0);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, master_key.data(), iv) == 1 &&
            EVP_EncryptUpdate(ctx, out.data(), &n, out.data(), static_cast<int>(length)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return {};
  return out;
}

// ---- replay window ----

template <size_t Bits>
typename ReplayWindow<Bits>::Verdict ReplayWindow<Bits>::Check(int64_t delta) const {
  if (delta > 0) return Verdict::kNew;
  auto back = static_cast<uint64_t>(-delta);
  if (back >= Bits) return Verdict::kTooOld;
  return ((bits_[back / 64] >> (back % 64)) & 1) ? Verdict::kReplayed : Verdict::kNew;
}

template <size_t Bits>
void ReplayWindow<Bits>::Accept(int64_t delta) {
  if (delta <= 0) {
    auto back = static_cast<uint64_t>(-delta);
    if (back < Bits) bits_[back / 64] |= uint64_t{1} << (back % 64);
    return;
  }
  // Bit k (k packets behind the newest) moves to k + delta.
  auto n = static_cast<uint64_t>(delta);
  if (n >= Bits) {
    bits_.fill(0);
  } else {
    size_t words = n / 64, r = n % 64;
    for (size_t i = bits_.size(); i-- > 0;) {
      uint64_t v = i >= words ? bits_[i - words] << r : 0;
      if (r && i >= words + 1) v |= bits_[i - words - 1] >> (64 - r);
      bits_[i] = v;
    }
  }
  bits_[0] |= 1;
}

template class ReplayWindow<SrtpSession::kRtpWindow>;
template class ReplayWindow<SrtpSession::kRtcpWindow>;

// ---- the keyed transform of one of RTP or RTCP ----

struct SrtpSession::Transform {
  EVP_CIPHER_CTX* cipher = nullptr;
  bool gcm = false, encrypt = true;
  uint8_t salt[kCmSaltLen] = {};
  SHA_CTX inner{}, outer{};  // HMAC-SHA1 after the key's pads (CM only)

  ~Transform() {
    EVP_CIPHER_CTX_free(cipher);
    OPENSSL_cleanse(salt, sizeof salt);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }

  bool Init(SrtpProfile profile, const SrtpSessionKeys& keys, bool enc) {
    gcm = profile == SrtpProfile::kAeadAes128Gcm;
    encrypt = enc;
    size_t salt_len = gcm ? kGcmSaltLen : kCmSaltLen;
    if (keys.cipher.size() != kKeyLen || keys.salt.size() != salt_len) return false;
    if (!gcm && keys.auth.size() != kAuthKeyLen) return false;
    std::copy(keys.salt.begin(), keys.salt.end(), salt);
    cipher = EVP_CIPHER_CTX_new();
    if (!cipher) return false;
    // CTR is its own inverse: inbound CM decrypts by encrypting.
    if (EVP_CipherInit_ex(cipher, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), nullptr, keys.cipher.data(), nullptr,
                          gcm ? enc : 1) != 1)
      return false;
    if (!gcm) {
      uint8_t pad[64];
      for (uint8_t fill : {uint8_t{0x36}, uint8_t{0x5C}}) {
        std::memset(pad, fill, sizeof pad);
        for (size_t i = 0; i < kAuthKeyLen; ++i) pad[i] ^= keys.auth[i];
        SHA_CTX& c = fill == 0x36 ? inner : outer;
        SHA1_Init(&c);
        SHA1_Update(&c, pad, sizeof pad);
      }
      OPENSSL_cleanse(pad, sizeof pad);
    }
    return true;
  }

  /// HMAC-SHA1 of a || b, the full 20 bytes.
  void Hmac(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t out[20]) const {
    SHA_CTX c = inner;
    SHA1_Update(&c, a, a_len);
    if (b_len) SHA1_Update(&c, b, b_len);
    uint8_t h[20];
    SHA1_Final(h, &c);
    c = outer;
    SHA1_Update(&c, h, sizeof h);
    SHA1_Final(out, &c);
  }

  /// AES-CM over `data` with IV (salt || 0x0000) ^ (ssrc << 64) ^ (index << 16).
  bool Ctr(uint32_t ssrc, uint64_t index, uint8_t* data, size_t len) const {
    uint8_t iv[16] = {};
    std::memcpy(iv, salt, kCmSaltLen);
    for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
    int n = 0;
    return EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv) == 1 &&
           (len == 0 || EVP_EncryptUpdate(cipher, data, &n, data, static_cast<int>(len)) == 1);
  }

  /// AES-GCM with a 12-byte IV (`nonce` XOR the salt), AAD a || b, `data` in place.
  /// Sealing writes the tag; opening checks it.
  bool Gcm(const uint8_t nonce[12], const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* data,
           size_t len, uint8_t* tag) const {
    uint8_t iv[12];
    for (size_t i = 0; i < 12; ++i) iv[i] = nonce[i] ^ salt[i];
    int n = 0;
    if (EVP_CipherInit_ex(cipher, nullptr, nullptr, nullptr, iv, -1) != 1) return false;
    if (EVP_CipherUpdate(cipher, nullptr, &n, a, static_cast<int>(a_len)) != 1) return false;
    if (b_len && EVP_CipherUpdate(cipher, nullptr, &n, b, static_cast<int>(b_len)) != 1) return false;
    if (len && EVP_CipherUpdate(cipher, data, &n, data, static_cast<int>(len)) != 1) return false;
    uint8_t scratch[16];
    if (encrypt) {
      return EVP_CipherFinal_ex(cipher, scratch, &n) == 1 &&
             EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, kGcmTag, tag) == 1;
    }
    return EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_TAG, kGcmTag, tag) == 1 &&
           EVP_CipherFinal_ex(cipher, scratch, &n) == 1;
  }
};

// ---- the session ----

SrtpSession::SrtpSession(SrtpProfile profile, Direction direction) : profile_(profile), direction_(direction) {}
SrtpSession::~SrtpSession() = default;

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(SrtpProfile profile, std::span<const uint8_t> master,
                                                         Direction direction) {
  size_t salt_len = profile == SrtpProfile::kAeadAes128Gcm ? kGcmSaltLen : kCmSaltLen;
  if (master.size() != kKeyLen + salt_len)
    return MakeError(Errc::kInternalError, "SRTP master key has the wrong length");
  auto key = master.first(kKeyLen);
  auto salt = master.subspan(kKeyLen);
  size_t auth_len = profile == SrtpProfile::kAeadAes128Gcm ? 0 : kAuthKeyLen;
  SrtpSessionKeys rtp{SrtpDeriveKey(key, salt, 0, kKeyLen), SrtpDeriveKey(key, salt, 2, salt_len),
                      SrtpDeriveKey(key, salt, 1, auth_len)};
  SrtpSessionKeys rtcp{SrtpDeriveKey(key, salt, 3, kKeyLen), SrtpDeriveKey(key, salt, 5, salt_len),
                       SrtpDeriveKey(key, salt, 4, auth_len)};
  auto session = Create(profile, rtp, rtcp, direction);
  for (auto* k : {&rtp, &rtcp})
    for (auto* v : {&k->cipher, &k->salt, &k->auth}) OPENSSL_cleanse(v->data(), v->size());
  return session;
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(SrtpProfile profile, const SrtpSessionKeys& rtp,
                                                         const SrtpSessionKeys& rtcp, Direction direction) {
  std::unique_ptr<SrtpSession> s(new SrtpSession(profile, direction));
  s->rtp_ = std::make_unique<Transform>();
  s->rtcp_ = std::make_unique<Transform>();
  bool enc = direction == Direction::kOutbound;
  if (!s->rtp_->Init(profile, rtp, enc) || !s->rtcp_->Init(profile, rtcp, enc))
    return MakeError(Errc::kInternalError, "SRTP session keys are malformed or the cipher is unavailable");
  return s;
}

SrtpSession::Stream* SrtpSession::Find(uint32_t ssrc) {
  Stream* s = nullptr;
  size_t at = kRecent - 1;
  for (size_t i = 0; i < kRecent; ++i)
    if (recent_[i] && recent_ssrc_[i] == ssrc) {
      s = recent_[i];
      at = i;
      break;
    }
  if (!s) {
    auto it = streams_.find(ssrc);
    if (it == streams_.end()) return nullptr;
    s = &it->second;
  }
  // Move to the front (the last entry falls out when it was a miss).
  for (size_t i = at; i > 0; --i) {
    recent_[i] = recent_[i - 1];
    recent_ssrc_[i] = recent_ssrc_[i - 1];
  }
  recent_[0] = s;
  recent_ssrc_[0] = ssrc;
  s->last_used = ++tick_;
  return s;
}

SrtpSession::Stream* SrtpSession::Insert(uint32_t ssrc) {
  if (direction_ == Direction::kOutbound && streams_.size() >= kMaxOutboundStreams) return nullptr;
  if (streams_.size() >= kMaxInboundStreams && direction_ == Direction::kInbound) {
    auto oldest = std::min_element(streams_.begin(), streams_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    for (size_t i = 0; i < kRecent; ++i)
      if (recent_[i] == &oldest->second) recent_[i] = nullptr;
    streams_.erase(oldest);
  }
  Stream& s = streams_[ssrc];
  s.last_used = ++tick_;
  for (size_t i = kRecent - 1; i > 0; --i) {
    recent_[i] = recent_[i - 1];
    recent_ssrc_[i] = recent_ssrc_[i - 1];
  }
  recent_[0] = &s;
  recent_ssrc_[0] = ssrc;
  return &s;
}

SrtpSession::Guess SrtpSession::Estimate(const Stream& s, uint16_t seq) {
  // RFC 3711 Appendix A: the rollover counter that puts `seq` nearest to s_l. Below
  // the first rollover there is no ROC - 1: the packet is ahead (as libsrtp reads it).
  int32_t d = static_cast<int32_t>(seq) - static_cast<int32_t>(s.s_l);
  uint32_t roc = s.roc;
  if (s.s_l < 32768) {
    if (d > 32768 && s.roc > 0) {
      roc = s.roc - 1;
      d -= 65536;
    }
  } else if (d < -32768) {
    roc = s.roc + 1;
    d += 65536;
  }
  return {roc, d};
}

size_t SrtpSession::ProtectRtp(uint8_t* buffer, size_t length, size_t capacity) {
  if (direction_ != Direction::kOutbound) return 0;
  size_t header = RtpHeaderLength(buffer, length);
  bool gcm = profile_ == SrtpProfile::kAeadAes128Gcm;
  size_t tag = gcm ? kGcmTag : kCmTag;
  if (!header || length + tag > capacity) return 0;
  uint32_t ssrc = Load32(buffer + 8);
  uint16_t seq = Load16(buffer + 2);
  Stream* s = Find(ssrc);
  if (!s) s = Insert(ssrc);
  if (!s) return 0;
  uint32_t roc = 0;
  if (!s->rtp_started) {
    s->rtp_started = true;
    s->s_l = seq;
    s->rtp_window.Accept(1);
  } else {
    // An index is used once: a repeat, or one too old to know, is refused.
    Guess g = Estimate(*s, seq);
    if (s->rtp_window.Check(g.delta) != ReplayWindow<kRtpWindow>::Verdict::kNew) return 0;
    s->rtp_window.Accept(g.delta);
    roc = g.roc;
    if (g.delta > 0) {
      s->s_l = seq;
      s->roc = g.roc;
    }
  }
  uint8_t* payload = buffer + header;
  size_t payload_len = length - header;
  if (gcm) {
    uint8_t nonce[12] = {};
    Store32(nonce + 2, ssrc);
    Store32(nonce + 6, roc);
    Store16(nonce + 10, seq);
    if (!rtp_->Gcm(nonce, buffer, header, nullptr, 0, payload, payload_len, buffer + length)) return 0;
  } else {
    if (!rtp_->Ctr(ssrc, (uint64_t{roc} << 16) | seq, payload, payload_len)) return 0;
    uint8_t roc_bytes[4], mac[20];
    Store32(roc_bytes, roc);
    rtp_->Hmac(buffer, length, roc_bytes, sizeof roc_bytes, mac);
    std::memcpy(buffer + length, mac, kCmTag);
  }
  return length + tag;
}

size_t SrtpSession::UnprotectRtp(uint8_t* buffer, size_t length) {
  if (direction_ != Direction::kInbound) return 0;
  bool gcm = profile_ == SrtpProfile::kAeadAes128Gcm;
  size_t tag = gcm ? kGcmTag : kCmTag;
  if (length < 12 + tag) return 0;
  size_t header = RtpHeaderLength(buffer, length - tag);
  if (!header) return 0;
  uint32_t ssrc = Load32(buffer + 8);
  uint16_t seq = Load16(buffer + 2);
  Stream* s = Find(ssrc);
  Guess g{0, 1};
  if (s && s->rtp_started) {
    g = Estimate(*s, seq);
    if (s->rtp_window.Check(g.delta) != ReplayWindow<kRtpWindow>::Verdict::kNew) return 0;
  }
  size_t body = length - tag;
  uint8_t* payload = buffer + header;
  size_t payload_len = body - header;
  if (gcm) {
    uint8_t nonce[12] = {};
    Store32(nonce + 2, ssrc);
    Store32(nonce + 6, g.roc);
    Store16(nonce + 10, seq);
    if (!rtp_->Gcm(nonce, buffer, header, nullptr, 0, payload, payload_len, buffer + body)) {
      OPENSSL_cleanse(payload, payload_len);  // decrypted before the tag failed: never hand it on
      return 0;
    }
  } else {
    uint8_t roc_bytes[4], mac[20];
    Store32(roc_bytes, g.roc);
    rtp_->Hmac(buffer, body, roc_bytes, sizeof roc_bytes, mac);
    if (CRYPTO_memcmp(mac, buffer + body, kCmTag) != 0) return 0;
    if (!rtp_->Ctr(ssrc, (uint64_t{g.roc} << 16) | seq, payload, payload_len)) return 0;
  }
  // Authentic: only now may the packet create or move the stream's state.
  if (!s) s = Insert(ssrc);
  if (!s->rtp_started) {
    s->rtp_started = true;
    s->s_l = seq;
    s->roc = 0;
    s->rtp_window.Accept(1);
  } else {
    s->rtp_window.Accept(g.delta);
    if (g.delta > 0) {
      s->s_l = seq;
      s->roc = g.roc;
    }
  }
  return body;
}

size_t SrtpSession::ProtectRtcp(uint8_t* buffer, size_t length, size_t capacity) {
  if (direction_ != Direction::kOutbound || length < 8 || (buffer[0] >> 6) != 2) return 0;
  bool gcm = profile_ == SrtpProfile::kAeadAes128Gcm;
  size_t tag = gcm ? kGcmTag : kCmTag;
  if (length + tag + kIndexWord > capacity) return 0;
  uint32_t ssrc = Load32(buffer + 4);
  Stream* s = Find(ssrc);
  if (!s) s = Insert(ssrc);
  if (!s || s->rtcp_next > 0x7FFFFFFFu) return 0;  // 2^31 SRTCP packets: the index would repeat
  uint32_t index = s->rtcp_next++;
  uint8_t word[4];
  Store32(word, kEncrypted | index);
  if (gcm) {
    uint8_t nonce[12] = {};
    Store32(nonce + 2, ssrc);
    Store32(nonce + 8, index);
    // header || ciphertext || tag || E|index; the AAD is the header and the index word.
    if (!rtcp_->Gcm(nonce, buffer, 8, word, sizeof word, buffer + 8, length - 8, buffer + length)) return 0;
    std::memcpy(buffer + length + kGcmTag, word, sizeof word);
  } else {
    // header || ciphertext || E|index || tag; the tag covers all before it.
    if (!rtcp_->Ctr(ssrc, index, buffer + 8, length - 8)) return 0;
    std::memcpy(buffer + length, word, sizeof word);
    uint8_t mac[20];
    rtcp_->Hmac(buffer, length + kIndexWord, nullptr, 0, mac);
    std::memcpy(buffer + length + kIndexWord, mac, kCmTag);
  }
  return length + tag + kIndexWord;
}

size_t SrtpSession::UnprotectRtcp(uint8_t* buffer, size_t length) {
  if (direction_ != Direction::kInbound) return 0;
  bool gcm = profile_ == SrtpProfile::kAeadAes128Gcm;
  size_t tag = gcm ? kGcmTag : kCmTag;
  if (length < 8 + tag + kIndexWord || (buffer[0] >> 6) != 2) return 0;
  uint32_t ssrc = Load32(buffer + 4);
  size_t body = length - tag - kIndexWord;
  const uint8_t* word = gcm ? buffer + body + kGcmTag : buffer + body;
  uint32_t e_index = Load32(word);
  uint32_t index = e_index & 0x7FFFFFFFu;
  bool encrypted = (e_index & kEncrypted) != 0;
  Stream* s = Find(ssrc);
  int64_t delta = 1;
  if (s && s->rtcp_window_started) {
    delta = static_cast<int64_t>(index) - static_cast<int64_t>(s->rtcp_highest);
    if (s->rtcp_window.Check(delta) != ReplayWindow<kRtcpWindow>::Verdict::kNew) return 0;
  }
  if (gcm) {
    uint8_t nonce[12] = {};
    Store32(nonce + 2, ssrc);
    Store32(nonce + 8, index);
    uint8_t* sealed_tag = buffer + body;  // after the ciphertext, which is decrypted in place
    bool ok = encrypted ? rtcp_->Gcm(nonce, buffer, 8, word, kIndexWord, buffer + 8, body - 8, sealed_tag)
                        : rtcp_->Gcm(nonce, buffer, body, word, kIndexWord, nullptr, 0, sealed_tag);
    if (!ok) {
      if (encrypted) OPENSSL_cleanse(buffer + 8, body - 8);
      return 0;
    }
  } else {
    uint8_t mac[20];
    rtcp_->Hmac(buffer, body + kIndexWord, nullptr, 0, mac);
    if (CRYPTO_memcmp(mac, buffer + body + kIndexWord, kCmTag) != 0) return 0;
    if (encrypted && !rtcp_->Ctr(ssrc, index, buffer + 8, body - 8)) return 0;
  }
  if (!s) s = Insert(ssrc);
  if (!s->rtcp_window_started) {
    s->rtcp_window_started = true;
    s->rtcp_highest = index;
    s->rtcp_window.Accept(1);
  } else {
    s->rtcp_window.Accept(delta);
    if (delta > 0) s->rtcp_highest = index;
  }
  return body;
}

}  // namespace parley::sfu
