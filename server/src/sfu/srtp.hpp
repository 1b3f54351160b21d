// SRTP and SRTCP (RFC 3711) of our own on OpenSSL: AEAD_AES_128_GCM (RFC 7714) and
// AES_CM_128_HMAC_SHA1_80, the two profiles DTLS-SRTP negotiates here.
//
// Why not libsrtp2: Debian builds it on NSS, and the forward path's profile showed
// more time around the cipher than in it (a crypto context set up per packet, locks,
// malloc/free). Here the session keys are derived once, the cipher contexts keyed
// once, the HMAC's inner and outer states computed once, and a packet costs one IV,
// one pass of the cipher and (CM) one pass of SHA-1. docs/performance.md has the
// numbers; tests check the RFCs' vectors and cross-check libsrtp2 both ways.
//
// One session serves one direction and every SSRC in it, as libsrtp's ssrc_any
// policies do: per-SSRC state (rollover counter, highest sequence number, replay
// windows, SRTCP index) is created by the first packet of an SSRC that protects or
// authenticates, and the number of SSRCs is bounded: inbound, the least recently used
// one is forgotten; outbound, a new SSRC is refused (forgetting one would restart its
// counters and use its packet indices again).
//
// Outbound, an index is never used twice: protecting a packet under an (SSRC, index)
// already used is refused (RFC 3711 §9.1: two packets under one keystream reveal
// their XOR, and with GCM one nonce twice reveals the authentication key). A
// retransmission therefore goes on an RTX stream with a number of its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/proto/result.hpp"

namespace parley::sfu {

enum class SrtpProfile : uint8_t { kAeadAes128Gcm, kAes128CmSha1_80 };
std::string_view Name(SrtpProfile p);

/// Maximum bytes SRTP/SRTCP adds to a packet with either profile (GCM's tag and the
/// SRTCP index word).
inline constexpr size_t kSrtpMaxOverhead = 16 + 4;

/// One direction's keys for RTP or RTCP after key derivation (RFC 3711 §4.3).
struct SrtpSessionKeys {
  std::vector<uint8_t> cipher;  ///< 16 bytes
  std::vector<uint8_t> salt;    ///< 14 bytes (CM) or 12 (GCM)
  std::vector<uint8_t> auth;    ///< 20 bytes (CM); empty for GCM
};

/// RFC 3711 §4.3.1 with a key derivation rate of 0 (the only one DTLS-SRTP uses):
/// `length` bytes of the AES-CM PRF keyed with the master key, for one label
/// (0..2 SRTP encryption, authentication, salt; 3..5 the same for SRTCP).
std::vector<uint8_t> SrtpDeriveKey(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt,
                                   uint8_t label, size_t length);

/// A sliding replay window: which of the last `Bits` packet indices arrived, addressed
/// by their distance from the highest one (delta > 0: newer than any so far).
template <size_t Bits>
class ReplayWindow {
 public:
  enum class Verdict : uint8_t { kNew, kReplayed, kTooOld };
  [[nodiscard]] Verdict Check(int64_t delta) const;
  /// Marks the packet `delta` from the highest as received (after it authenticated);
  /// delta > 0 makes it the highest.
  void Accept(int64_t delta);

 private:
  std::array<uint64_t, Bits / 64> bits_{};  // bit k: the packet k behind the highest
};

/// One direction of SRTP: protect (outbound) or unprotect (inbound), any SSRC.
/// Protect/unprotect work in place; `buffer` must have room for the trailer
/// (kSrtpMaxOverhead beyond the packet).
class SrtpSession {
 public:
  enum class Direction : uint8_t { kOutbound, kInbound };
  /// Replay window of inbound SRTP, in packets (libsrtp's window as we configured it).
  static constexpr size_t kRtpWindow = 1024;
  static constexpr size_t kRtcpWindow = 128;
  /// SSRCs remembered per session. Inbound, a new one beyond it forgets the least
  /// recently used (only the keyed peer can create them); outbound, a new one is refused.
  static constexpr size_t kMaxInboundStreams = 4096;
  static constexpr size_t kMaxOutboundStreams = 16384;

  /// From the master key || master salt that DTLS-SRTP exports (30 bytes for CM,
  /// 28 for GCM).
  static Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile, std::span<const uint8_t> master,
                                                     Direction direction);
  /// From session keys directly (the RFCs' packet test vectors give those).
  static Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile, const SrtpSessionKeys& rtp,
                                                     const SrtpSessionKeys& rtcp, Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  /// In place; returns the new length, or 0 on failure (counted by the caller).
  size_t ProtectRtp(uint8_t* buffer, size_t length, size_t capacity);
  size_t UnprotectRtp(uint8_t* buffer, size_t length);
  size_t ProtectRtcp(uint8_t* buffer, size_t length, size_t capacity);
  size_t UnprotectRtcp(uint8_t* buffer, size_t length);

  [[nodiscard]] size_t streams() const { return streams_.size(); }

 private:
  struct Transform;
  struct Stream {
    // SRTP: the highest sequence number seen and its rollover counter (RFC 3711 §3.3.1).
    uint16_t s_l = 0;
    uint32_t roc = 0;
    bool rtp_started = false;
    bool rtcp_window_started = false;
    ReplayWindow<kRtpWindow> rtp_window;  // inbound: received; outbound: indices used
    uint32_t rtcp_next = 0;               // outbound: the next SRTCP index
    uint32_t rtcp_highest = 0;            // inbound: the highest SRTCP index
    ReplayWindow<kRtcpWindow> rtcp_window;
    uint64_t last_used = 0;
  };
  /// A sequence number's rollover counter and its distance from s_l.
  struct Guess {
    uint32_t roc;
    int32_t delta;
  };
  SrtpSession(SrtpProfile profile, Direction direction);
  /// The stream of `ssrc`, or null.
  Stream* Find(uint32_t ssrc);
  /// A new stream for `ssrc`: inbound forgetting the least recently used one when
  /// full; outbound null when full.
  Stream* Insert(uint32_t ssrc);
  /// RFC 3711 Appendix A: the index a sequence number stands for, given the stream.
  static Guess Estimate(const Stream& s, uint16_t seq);

  SrtpProfile profile_;
  Direction direction_;
  std::unique_ptr<Transform> rtp_, rtcp_;
  std::unordered_map<uint32_t, Stream> streams_;
  // The streams used last, newest first: a subscriber's audio and video (and their
  // RTCP) alternate, so one entry would miss on most packets.
  static constexpr size_t kRecent = 4;
  std::array<uint32_t, kRecent> recent_ssrc_{};
  std::array<Stream*, kRecent> recent_{};
  uint64_t tick_ = 0;
};

}  // namespace parley::sfu
