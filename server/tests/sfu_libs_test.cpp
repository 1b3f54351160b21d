// The wrappers that own the C libraries' global state: libsrtp's one-time init and
// OpenSSL's per-thread error queue.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <srtp2/srtp.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sfu/dtls.hpp"
#include "sfu/openssl_lib.hpp"
#include "sfu/srtp_lib.hpp"

namespace parley::sfu {
namespace {

TEST(LibSrtp, InitIsIdempotentFromManyThreads) {
  // Workers create their first sessions concurrently; srtp_init must still run once.
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&failed] {
      if (!LibSrtp::Init()) failed.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(LibSrtp::Init().ok());
  // The library is usable afterwards: a session can be made.
  std::vector<uint8_t> master(28, 0x42);
  EXPECT_TRUE(SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, master, SrtpSession::Direction::kOutbound).ok());
}

TEST(LibSrtp, AnotherUserInitialisingFirstIsNotAFailure) {
  // GStreamer's srtp plugin initialises libsrtp when libparley and an embedded server
  // share a process (parley demo); our init must not then refuse to make sessions.
  // Run alone (CTest) this is the first init; after the test above in one process the
  // library is initialised already and a second srtp_init says bad_param, as it does
  // to whoever comes second.
  const srtp_err_status_t first = srtp_init();
  ASSERT_TRUE(first == srtp_err_status_ok || first == srtp_err_status_bad_param) << static_cast<int>(first);
  EXPECT_TRUE(LibSrtp::Init().ok());
  std::vector<uint8_t> master(30, 0x24);
  EXPECT_TRUE(SrtpSession::Create(SrtpProfile::kAes128CmSha1_80, master, SrtpSession::Direction::kInbound).ok());
}

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
