#include "sfu/openssl_lib.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace parley::sfu {

void OpenSsl::Init() {
  // Thread-safe and idempotent by OpenSSL's own contract (it runs its own once-guard).
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
}

std::string OpenSsl::TakeErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

}  // namespace parley::sfu
