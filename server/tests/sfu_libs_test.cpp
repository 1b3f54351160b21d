// The wrapper that owns a C library's global state: OpenSSL's per-thread error queue.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sfu/dtls.hpp"
#include "sfu/openssl_lib.hpp"

namespace parley::sfu {
namespace {

TEST(OpenSsl, TakeErrorsDrainsTheQueueIntoOneMessage) {
  OpenSsl::Init();
  ERR_clear_error();
  ERR_raise_data(ERR_LIB_SSL, SSL_R_BAD_LENGTH, "first");
  ERR_raise_data(ERR_LIB_SSL, SSL_R_BAD_PACKET, "second");
  std::string message = OpenSsl::TakeErrors();
  auto first = message.find("bad length");
  auto second = message.find("bad packet");
  ASSERT_NE(first, std::string::npos) << message;
  ASSERT_NE(second, std::string::npos) << message;
  EXPECT_LT(first, second) << "oldest first: " << message;
  EXPECT_NE(message.find("; "), std::string::npos) << message;
  EXPECT_EQ(ERR_peek_error(), 0u) << "the queue is empty afterwards";
  // Nothing queued: a message that still says what failed.
  EXPECT_EQ(OpenSsl::TakeErrors(), "unknown OpenSSL error");
}

}  // namespace
}  // namespace parley::sfu
