// DTLS-SRTP (RFC 5764) on OpenSSL; the SRTP sessions its keys set up are in srtp.hpp.
//
// The server is DTLS passive (RFC 8842 §5: the offerer says actpass, we answer
// passive). DtlsTransport runs the handshake over datagrams the caller moves (no
// sockets here): Feed() takes one received datagram, and everything to send comes
// out through the send callback, one datagram per call. After the handshake it
// checks the peer certificate against the fingerprint from the remote SDP and exports
// the SRTP keys, preferring AEAD_AES_128_GCM (for video-sized packets about 2.4x
// cheaper here than AES_CM_128_HMAC_SHA1_80, see docs/performance.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parley/proto/result.hpp"
#include "sfu/srtp.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace parley::sfu {

/// A self-signed ECDSA P-256 certificate and its SHA-256 fingerprint ("AB:CD:...").
/// One per server process; every transport presents it.
class DtlsCertificate {
 public:
  static Result<std::shared_ptr<DtlsCertificate>> Generate();
  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;
  [[nodiscard]] const std::string& fingerprint() const { return fingerprint_; }
  [[nodiscard]] SSL_CTX* server_ctx() const { return server_ctx_; }
  [[nodiscard]] SSL_CTX* client_ctx() const { return client_ctx_; }

 private:
  DtlsCertificate() = default;
  SSL_CTX* server_ctx_ = nullptr;
  SSL_CTX* client_ctx_ = nullptr;  ///< for tests and the load generator (active side)
  std::string fingerprint_;
};

/// Keys exported from a finished DTLS handshake (RFC 5764 §4.2).
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  std::vector<uint8_t> local_master;   ///< key || salt we protect with
  std::vector<uint8_t> remote_master;  ///< key || salt the peer protects with
};

class DtlsTransport {
 public:
  enum class Role : uint8_t { kServer, kClient };
  enum class State : uint8_t { kNew, kConnecting, kConnected, kFailed, kClosed };
  using SendFn = std::function<void(std::span<const uint8_t>)>;

  /// `remote_fingerprint` is the peer's from SDP ("sha-256" only), e.g. "AB:CD:...".
  /// Empty means "not known yet" (the server offered and the answer is in flight): the
  /// handshake then completes and the caller must check peer_fingerprint() itself.
  DtlsTransport(std::shared_ptr<DtlsCertificate> cert, Role role, std::string remote_fingerprint, SendFn send);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  /// Client role: sends the ClientHello. Server role: waits for one.
  void Start();
  /// A data-only transport (SCTP, no media): the handshake may end without an SRTP
  /// profile (keys() then stays empty). Call before Start.
  void AllowNoSrtp() { require_srtp_ = false; }
  /// Where application data (SCTP packets, RFC 8261) goes once connected.
  void OnApplicationData(std::function<void(std::span<const uint8_t>)> fn) { on_data_ = std::move(fn); }
  /// Sends application data in one record; false when not connected or refused.
  bool SendApplicationData(std::span<const uint8_t> data);
  /// Whether the handshake negotiated DTLS-SRTP.
  [[nodiscard]] bool has_srtp() const { return has_srtp_; }
  /// One received DTLS datagram.
  void Feed(std::span<const uint8_t> datagram);
  /// Retransmits a lost flight when its timer expired; returns when to call again.
  std::optional<std::chrono::milliseconds> HandleTimeout();

  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] const std::string& failure() const { return failure_; }
  /// Valid once state() is kConnected.
  [[nodiscard]] const SrtpKeys& keys() const { return keys_; }
  /// The peer certificate's sha-256 fingerprint, once connected.
  [[nodiscard]] const std::string& peer_fingerprint() const { return peer_fingerprint_; }

  /// The retransmission timer of a flight (OpenSSL's timer callback): 200 ms for the
  /// first, doubling to at most 2 s. OpenSSL's own starts at 1 s and doubles to 60 s,
  /// which on a lossy path leaves a call without media for many seconds; twelve
  /// retransmissions still end a handshake that cannot complete, now within ~20 s.
  static unsigned int NextFlightTimeoutUs(unsigned int previous_us);

  // The write side of OpenSSL's I/O, one datagram at a time (dtls.cpp).
  struct DatagramSink {
    std::vector<uint8_t> current;             ///< the datagram being filled
    std::vector<std::vector<uint8_t>> ready;  ///< closed datagrams, not yet sent
  };

 private:
  /// The largest application data record read or written (an SCTP packet fits).
  static constexpr size_t kMaxRecord = 2048;
  void Flush();
  void Progress();
  void ReadApplicationData();
  void Fail(std::string why);
  bool OnConnected();

  std::shared_ptr<DtlsCertificate> cert_;
  Role role_;
  std::string remote_fingerprint_;
  SendFn send_;
  SSL* ssl_ = nullptr;
  State state_ = State::kNew;
  std::string failure_;
  SrtpKeys keys_;
  std::string peer_fingerprint_;
  DatagramSink out_;
  bool require_srtp_ = true, has_srtp_ = false;
  std::function<void(std::span<const uint8_t>)> on_data_;
};

/// Case-insensitive comparison of "AB:CD:..." fingerprints.
bool SameFingerprint(std::string_view a, std::string_view b);

}  // namespace parley::sfu
