// The worker's send batch over a real UDP socket on 127.0.0.1: queued datagrams go out
// together, each to its own address, and what the socket does not take is reported as
// unsent rather than retried. Consecutive datagrams to one address leave as one
// segmented send (UDP_SEGMENT) and still arrive as the datagrams they were.
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
    char buf[2048];
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

TEST(SendBatch, ARunToOneAddressLeavesAsOneSegmentedSendAndArrivesAsItsDatagrams) {
  Socket out, a, b;
  SendBatch batch(1300);
  auto put = [&](char c, size_t n, const sockaddr_storage& to) { Put(batch, std::string(n, c), to); };
  put('a', 1200, a.address);  // a run: all of one size but the last, which is shorter
  put('b', 1200, a.address);
  put('c', 500, a.address);
  put('d', 1200, b.address);  // another address ends it
  put('e', 1200, a.address);
  put('f', 1200, a.address);
  put('g', 400, a.address);   // a short one ends a run...
  put('h', 1200, a.address);  // ...and one longer than the run's size starts the next
  ASSERT_TRUE(SendBatch::KernelSegments(out.fd)) << "a kernel without UDP_SEGMENT (before 4.18)";
  EXPECT_EQ(batch.Flush(out.fd), 0u);
  EXPECT_EQ(batch.segment_refusals(), 0u);
  EXPECT_EQ(batch.datagrams_sent(), 8u);
  EXPECT_EQ(batch.messages_sent(), 4u);  // a-c, d, e-g, h
  for (auto [c, n] : {std::pair{'a', 1200}, {'b', 1200}, {'c', 500}, {'e', 1200}, {'f', 1200}, {'g', 400}, {'h', 1200}})
    EXPECT_EQ(a.Recv(), std::string(static_cast<size_t>(n), c));
  EXPECT_EQ(a.Recv(), "");
  EXPECT_EQ(b.Recv(), std::string(1200, 'd'));
}

TEST(SendBatch, WithoutSegmentationEveryDatagramIsItsOwnMessage) {
  Socket out, a;
  SendBatch batch(1300);
  batch.set_segmenting(false);
  for (char c : {'x', 'y', 'z'}) Put(batch, std::string(1000, c), a.address);
  EXPECT_EQ(batch.Flush(out.fd), 0u);
  EXPECT_EQ(batch.messages_sent(), 3u);
  for (char c : {'x', 'y', 'z'}) EXPECT_EQ(a.Recv(), std::string(1000, c));
}

TEST(SendBatch, SameAddressComparesFamilyAddressAndPort) {
  Socket a, b;
  EXPECT_TRUE(SameAddress(a.address, a.address));
  EXPECT_FALSE(SameAddress(a.address, b.address));  // another port
  sockaddr_storage v6{};
  v6.ss_family = AF_INET6;
  EXPECT_FALSE(SameAddress(a.address, v6));
  EXPECT_TRUE(SameAddress(v6, v6));
}

}  // namespace
}  // namespace parley::sfu
