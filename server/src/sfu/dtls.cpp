#include "sfu/dtls.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

#include "sfu/openssl_lib.hpp"

namespace parley::sfu {
namespace {

constexpr char kSrtpProfiles[] = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr size_t kMtu = 1200;  // loopback-safe, and within any path's MTU with headers

// OpenSSL writes DTLS as a datagram socket would take it: records appended to the
// datagram being filled while they fit in the MTU (it asks how much is pending), and a
// flush when the next one would not fit. A memory BIO would run every datagram of a
// flight together into one, so that one loss costs the whole flight and a stale
// record at its start makes the receiver drop the rest of it. This BIO keeps the
// boundaries: a flush closes the datagram being filled.
using Sink = DtlsTransport::DatagramSink;

int SinkWrite(BIO* bio, const char* data, int len) {
  auto* sink = static_cast<Sink*>(BIO_get_data(bio));
  if (!sink || len < 0) return -1;
  sink->current.insert(sink->current.end(), data, data + len);
  return len;
}

long SinkCtrl(BIO* bio, int cmd, long, void*) {
  auto* sink = static_cast<Sink*>(BIO_get_data(bio));
  if (!sink) return 0;
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      if (!sink->current.empty()) sink->ready.push_back(std::move(sink->current));
      sink->current.clear();
      return 1;
    case BIO_CTRL_WPENDING: return static_cast<long>(sink->current.size());
    case BIO_CTRL_PENDING: return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return static_cast<long>(kMtu);
    default: return 0;  // no peer address, no socket timeouts, no MTU discovery
  }
}

int SinkCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* SinkMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley-dtls-datagrams");
    if (m) {
      BIO_meth_set_write(m, &SinkWrite);
      BIO_meth_set_ctrl(m, &SinkCtrl);
      BIO_meth_set_create(m, &SinkCreate);
    }
    return m;
  }();
  return method;
}

unsigned int FlightTimer(SSL*, unsigned int previous_us) {
  return DtlsTransport::NextFlightTimeoutUs(previous_us);
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

}  // namespace

bool SameFingerprint(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

namespace {

// The certificate is self-signed: trust is the SDP fingerprint, checked after the
// handshake (RFC 8122 §5), so the chain check itself accepts any certificate.
int AcceptAnyCertificate(int, X509_STORE_CTX*) {
  return 1;
}

SSL_CTX* MakeContext(bool server, X509* cert, EVP_PKEY* key) {
  SSL_CTX* ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
  if (!ctx) return nullptr;
  bool ok = SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
            SSL_CTX_check_private_key(ctx) == 1 && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
            SSL_CTX_set_cipher_list(ctx,
                                    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256") == 1 &&
            // Note: SSL_CTX_set_tlsext_use_srtp returns 0 on success.
            SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) == 0;
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
  // No session tickets: a DTLS-SRTP association is never resumed, and a ticket is the
  // biggest message of the last flight (GStreamer's DTLS sends it as three 256-byte
  // fragments, each of which a lossy path must carry before the handshake ends).
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

}  // namespace

Result<std::shared_ptr<DtlsCertificate>> DtlsCertificate::Generate() {
  OpenSsl::Init();  // every transport needs a certificate first, so this is the earliest use
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return MakeError(Errc::kInternalError, "ECDSA key generation failed: " + OpenSsl::TakeErrors());
  X509* cert = X509_new();
  std::shared_ptr<DtlsCertificate> out(new DtlsCertificate());
  unsigned char serial[8];
  bool ok = cert && RAND_bytes(serial, sizeof serial) == 1;
  if (ok) {
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
    BN_free(bn);
  }
  if (ok) {
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 86400);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("parley"), -1, -1, 0);
    ok = X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
         X509_sign(cert, key, EVP_sha256()) > 0;
  }
  if (ok) {
    out->fingerprint_ = Fingerprint(cert);
    out->server_ctx_ = MakeContext(true, cert, key);
    out->client_ctx_ = MakeContext(false, cert, key);
    ok = !out->fingerprint_.empty() && out->server_ctx_ && out->client_ctx_;
  }
  std::string err = ok ? std::string() : OpenSsl::TakeErrors();
  X509_free(cert);  // the contexts hold their own references
  EVP_PKEY_free(key);
  if (!ok) return MakeError(Errc::kInternalError, "DTLS certificate: " + err);
  return out;
}

DtlsCertificate::~DtlsCertificate() {
  SSL_CTX_free(server_ctx_);
  SSL_CTX_free(client_ctx_);
}

DtlsTransport::DtlsTransport(std::shared_ptr<DtlsCertificate> cert, Role role, std::string remote_fingerprint,
                             SendFn send)
    : cert_(std::move(cert)), role_(role), remote_fingerprint_(std::move(remote_fingerprint)), send_(std::move(send)) {
  ssl_ = SSL_new(role_ == Role::kServer ? cert_->server_ctx() : cert_->client_ctx());
  if (!ssl_) {
    Fail("SSL_new: " + OpenSsl::TakeErrors());
    return;
  }
  // Once the handshake is over a media transport's DTLS is idle (SRTP carries the media):
  // OpenSSL frees its record buffers (tens of KiB) when they are empty instead of
  // keeping them for each of thousands of subscribers.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = SinkMethod() ? BIO_new(SinkMethod()) : nullptr;
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    Fail("DTLS BIO: " + OpenSsl::TakeErrors());
    return;
  }
  BIO_set_mem_eof_return(rbio, -1);  // an empty read BIO means "no data yet", not EOF
  BIO_set_data(wbio, &out_);
  SSL_set_bio(ssl_, rbio, wbio);
  // Keep flights within a loopback-safe MTU; DTLS fragments handshake messages to fit.
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl_, kMtu);
  DTLS_set_link_mtu(ssl_, kMtu);
  DTLS_set_timer_cb(ssl_, &FlightTimer);
  if (role_ == Role::kServer)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

DtlsTransport::~DtlsTransport() {
  SSL_free(ssl_);
}

void DtlsTransport::Start() {
  if (state_ != State::kNew) return;
  state_ = State::kConnecting;
  if (role_ == Role::kClient) Progress();
}

void DtlsTransport::Feed(std::span<const uint8_t> datagram) {
  if (state_ == State::kFailed || state_ == State::kClosed || !ssl_) return;
  if (state_ == State::kNew) state_ = State::kConnecting;
  BIO_write(SSL_get_rbio(ssl_), datagram.data(), static_cast<int>(datagram.size()));
  Progress();
}

void DtlsTransport::Progress() {
  if (state_ == State::kConnecting) {
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      if (OnConnected()) state_ = State::kConnected;
      if (state_ == State::kConnected) ReadApplicationData();  // data may follow the last flight
    } else {
      int err = SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) Fail("DTLS handshake: " + OpenSsl::TakeErrors());
    }
  } else if (state_ == State::kConnected) {
    ReadApplicationData();
  }
  Flush();
}

void DtlsTransport::ReadApplicationData() {
  // Application data (SCTP packets, at most one datagram each) goes to its handler;
  // without one it is drained. Alerts and close_notify are handled by SSL_read.
  uint8_t buf[kMaxRecord];
  int r;
  while ((r = SSL_read(ssl_, buf, sizeof buf)) > 0)
    if (on_data_) on_data_(std::span<const uint8_t>(buf, static_cast<size_t>(r)));
  if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) state_ = State::kClosed;
}

bool DtlsTransport::SendApplicationData(std::span<const uint8_t> data) {
  if (state_ != State::kConnected || !ssl_ || data.empty() || data.size() > kMaxRecord) return false;
  int r = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  Flush();
  return r == static_cast<int>(data.size());
}

unsigned int DtlsTransport::NextFlightTimeoutUs(unsigned int previous_us) {
  constexpr unsigned int kFirstUs = 200'000, kMostUs = 2'000'000;
  return previous_us == 0 ? kFirstUs : std::min(previous_us * 2, kMostUs);
}

// Each datagram OpenSSL closed, then the one it was filling, in order.
void DtlsTransport::Flush() {
  if (!out_.current.empty()) out_.ready.push_back(std::move(out_.current));
  out_.current.clear();
  std::vector<std::vector<uint8_t>> datagrams;
  datagrams.swap(out_.ready);
  for (const auto& d : datagrams) send_(std::span<const uint8_t>(d.data(), d.size()));
}

std::optional<std::chrono::milliseconds> DtlsTransport::HandleTimeout() {
  if (state_ != State::kConnecting || !ssl_) return std::nullopt;
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    Fail("DTLS handshake timed out");
    return std::nullopt;
  }
  Flush();
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
  return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

void DtlsTransport::Fail(std::string why) {
  state_ = State::kFailed;
  failure_ = std::move(why);
}

bool DtlsTransport::OnConnected() {
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (!peer) {
    Fail("peer sent no certificate");
    return false;
  }
  peer_fingerprint_ = Fingerprint(peer);
  X509_free(peer);
  if (!remote_fingerprint_.empty() && !SameFingerprint(peer_fingerprint_, remote_fingerprint_)) {
    Fail("peer certificate does not match the SDP fingerprint");
    return false;
  }
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  if (!profile && !require_srtp_) return true;  // data only: no SRTP keys
  if (!profile) {
    Fail("no SRTP profile negotiated");
    return false;
  }
  has_srtp_ = true;
  size_t key_len = 16, salt_len;
  if (profile->id == SRTP_AEAD_AES_128_GCM) {
    keys_.profile = SrtpProfile::kAeadAes128Gcm;
    salt_len = 12;
  } else if (profile->id == SRTP_AES128_CM_SHA1_80) {
    keys_.profile = SrtpProfile::kAes128CmSha1_80;
    salt_len = 14;
  } else {
    Fail("unsupported SRTP profile");
    return false;
  }
  // RFC 5764 §4.2: client key | server key | client salt | server salt.
  std::vector<uint8_t> material(2 * (key_len + salt_len));
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kLabel, sizeof kLabel - 1, nullptr, 0, 0) !=
      1) {
    Fail("SRTP key export failed: " + OpenSsl::TakeErrors());
    return false;
  }
  auto master = [&](bool client) {
    std::vector<uint8_t> m;
    size_t key_off = client ? 0 : key_len;
    size_t salt_off = 2 * key_len + (client ? 0 : salt_len);
    m.insert(m.end(), material.begin() + static_cast<long>(key_off),
             material.begin() + static_cast<long>(key_off + key_len));
    m.insert(m.end(), material.begin() + static_cast<long>(salt_off),
             material.begin() + static_cast<long>(salt_off + salt_len));
    return m;
  };
  bool we_are_client = role_ == Role::kClient;
  keys_.local_master = master(we_are_client);
  keys_.remote_master = master(!we_are_client);
  return true;
}

}  // namespace parley::sfu
