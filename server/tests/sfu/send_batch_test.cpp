// The worker's send batch over a real UDP socket on 127.0.0.1: queued datagrams go out
// together, each to its own address, and what the socket does not take is reported as
// unsent rather than retried.
#include "sfu/send_batch.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace parley::sfu {
namespace {

struct Socket {
  Socket() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  }
  ~Socket() { close(fd); }
  std::string Recv() const {
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  int fd = -1;
  sockaddr_storage address{};
};

void Put(SendBatch& b, const std::string& text, const sockaddr_storage& to) {
  std::memcpy(b.Slot(), text.data(), text.size());
  b.Queue(text.size(), to);
}

TEST(SendBatch, QueuedDatagramsGoOutInOrderEachToItsAddress) {
  Socket out, a, b;
  SendBatch batch(64);
  Put(batch, "one", a.address);
  Put(batch, "two", b.address);
  Put(batch, "three", a.address);
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.Flush(out.fd), 0u);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(a.Recv(), "one");
  EXPECT_EQ(a.Recv(), "three");
  EXPECT_EQ(b.Recv(), "two");
  EXPECT_EQ(a.Recv(), "");  // nothing more
}

TEST(SendBatch, FullAfterEverySlotAndUnsentDatagramsAreReported) {
  Socket a;
  SendBatch batch(64);
  for (size_t i = 0; i < SendBatch::kSlots; ++i) {
    EXPECT_FALSE(batch.full());
    Put(batch, "x", a.address);
  }
  EXPECT_TRUE(batch.full());
  // A socket that takes nothing: every queued datagram is reported unsent, and the
  // batch is empty again (no retry: media tolerates loss).
  EXPECT_EQ(batch.Flush(-1), SendBatch::kSlots);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_FALSE(batch.full());
}

}  // namespace
}  // namespace parley::sfu
