#include "libsrtp_session.hpp"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>

namespace parley::sfu {

Result<std::unique_ptr<LibSrtpSession>> LibSrtpSession::Create(SrtpProfile profile, std::span<const uint8_t> master,
                                                               SrtpSession::Direction direction) {
  static std::once_flag once;
  static srtp_err_status_t init = srtp_err_status_ok;
  std::call_once(once, [] { init = srtp_init(); });
  if (init != srtp_err_status_ok) return MakeError(Errc::kInternalError, "srtp_init failed");
  size_t want = profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30;
  if (master.size() != want) return MakeError(Errc::kInternalError, "SRTP master key has the wrong length");
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (profile == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction == SrtpSession::Direction::kOutbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = const_cast<unsigned char*>(master.data());
  policy.window_size = 1024;
  policy.allow_repeat_tx = 1;
  policy.next = nullptr;
  std::unique_ptr<LibSrtpSession> s(new LibSrtpSession());
  if (srtp_create(&s->ctx_, &policy) != srtp_err_status_ok)
    return MakeError(Errc::kInternalError, "srtp_create failed");
  return s;
}

LibSrtpSession::~LibSrtpSession() {
  if (ctx_) srtp_dealloc(ctx_);
}

size_t LibSrtpSession::ProtectRtp(uint8_t* buffer, size_t length, size_t capacity) {
  if (length + kSrtpMaxOverhead > capacity) return 0;
  int len = static_cast<int>(length);
  return srtp_protect(ctx_, buffer, &len) == srtp_err_status_ok ? static_cast<size_t>(len) : 0;
}

size_t LibSrtpSession::UnprotectRtp(uint8_t* buffer, size_t length) {
  int len = static_cast<int>(length);
  return srtp_unprotect(ctx_, buffer, &len) == srtp_err_status_ok ? static_cast<size_t>(len) : 0;
}

size_t LibSrtpSession::ProtectRtcp(uint8_t* buffer, size_t length, size_t capacity) {
  if (length + kSrtpMaxOverhead > capacity) return 0;
  int len = static_cast<int>(length);
  return srtp_protect_rtcp(ctx_, buffer, &len) == srtp_err_status_ok ? static_cast<size_t>(len) : 0;
}

size_t LibSrtpSession::UnprotectRtcp(uint8_t* buffer, size_t length) {
  int len = static_cast<int>(length);
  return srtp_unprotect_rtcp(ctx_, buffer, &len) == srtp_err_status_ok ? static_cast<size_t>(len) : 0;
}

}  // namespace parley::sfu
