#include "parley/proto/probe_wire.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::proto::probe {
namespace {

Header MakeHeader(Kind kind) {
  Header h;
  h.kind = kind;
  for (size_t i = 0; i < h.cookie.size(); ++i) h.cookie[i] = static_cast<uint8_t>(0xA0 + i);
  h.seq = 0x01020304;
  h.time_us = 0x1122334455667788ULL;
  return h;
}

TEST(ProbeWire, AnEchoReplyReadsBackFieldByField) {
  EchoReply r;
  r.echoed_time_us = 123456789;
  for (size_t i = 0; i < r.nonce.size(); ++i) r.nonce[i] = static_cast<uint8_t>(i * 7);
  r.up = {42, 41, 42000, 1000, 2001000, 1500};
  std::vector<uint8_t> buf(kEchoReplyBytes);
  ASSERT_EQ(WriteEchoReply(buf, MakeHeader(Kind::kEcho), r), kEchoReplyBytes);
  EXPECT_EQ(buf[0], 0x50);  // RFC 7983's unassigned range: not STUN, DTLS, TURN or RTP
  auto d = Parse(buf);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->header.kind, Kind::kEchoReply);  // the writer sets the kind
  EXPECT_EQ(d->header.cookie, MakeHeader(Kind::kEcho).cookie);
  EXPECT_EQ(d->header.seq, 0x01020304u);
  EXPECT_EQ(d->header.time_us, 0x1122334455667788ULL);
  EXPECT_EQ(d->reply.echoed_time_us, 123456789u);
  EXPECT_EQ(d->reply.nonce, r.nonce);
  EXPECT_EQ(d->reply.up.packets, 42u);
  EXPECT_EQ(d->reply.up.highest_seq, 41u);
  EXPECT_EQ(d->reply.up.bytes, 42000u);
  EXPECT_EQ(d->reply.up.first_us, 1000u);
  EXPECT_EQ(d->reply.up.last_us, 2001000u);
  EXPECT_EQ(d->reply.up.jitter_us, 1500u);
}

TEST(ProbeWire, ADownStartReadsBack) {
  DownStart s{{}, 2500, 2000, 1000};
  s.nonce.fill(9);
  std::vector<uint8_t> buf(kDownStartBytes);
  ASSERT_EQ(WriteDownStart(buf, MakeHeader(Kind::kEcho), s), kDownStartBytes);
  auto d = Parse(buf);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->header.kind, Kind::kDownStart);
  EXPECT_EQ(d->start.nonce, s.nonce);
  EXPECT_EQ(d->start.kbps, 2500u);
  EXPECT_EQ(d->start.duration_ms, 2000u);
  EXPECT_EQ(d->start.packet_bytes, 1000u);
}

TEST(ProbeWire, PaddedKindsKeepTheirSizeWithinBounds) {
  std::vector<uint8_t> buf(1500);
  EXPECT_EQ(WritePadded(buf, MakeHeader(Kind::kUp), 1000), 1000u);
  EXPECT_EQ(WritePadded(buf, MakeHeader(Kind::kUp), 5000), kMaxDataBytes);
  EXPECT_EQ(WritePadded(buf, MakeHeader(Kind::kUp), 1), kHeaderBytes);
  // An echo is never smaller than its reply: the server answers no more than it got.
  EXPECT_EQ(WritePadded(buf, MakeHeader(Kind::kEcho), 1), kMinEchoBytes);
  std::vector<uint8_t> small(10);
  EXPECT_EQ(WritePadded(small, MakeHeader(Kind::kUp), 100), 0u);
  EXPECT_EQ(WriteEchoReply(small, MakeHeader(Kind::kEcho), {}), 0u);
  EXPECT_EQ(WriteDownStart(small, MakeHeader(Kind::kEcho), {}), 0u);
}

TEST(ProbeWire, RefusesWhatIsNotAWellFormedProbeDatagram) {
  std::vector<uint8_t> echo(kMinEchoBytes);
  ASSERT_EQ(WritePadded(echo, MakeHeader(Kind::kEcho), kMinEchoBytes), kMinEchoBytes);
  ASSERT_TRUE(Parse(echo));
  auto broken = [&](auto change) {
    std::vector<uint8_t> b = echo;
    change(b);
    return !Parse(b).has_value();
  };
  EXPECT_TRUE(broken([](auto& b) { b.resize(kMinEchoBytes - 1); }));  // an echo smaller than its reply
  EXPECT_TRUE(broken([](auto& b) { b.resize(kHeaderBytes - 1); }));
  EXPECT_TRUE(broken([](auto& b) { b.resize(kMaxDataBytes + 1); }));
  EXPECT_TRUE(broken([](auto& b) { b[1] = 'X'; }));  // magic
  EXPECT_TRUE(broken([](auto& b) { b[4] = 2; }));    // version
  EXPECT_TRUE(broken([](auto& b) { b[5] = 0; }));    // kind
  EXPECT_TRUE(broken([](auto& b) { b[5] = 6; }));
  EXPECT_TRUE(broken([](auto& b) {  // a reply one byte short of its fields
    b[5] = 2;
    b.resize(kEchoReplyBytes - 1);
  }));
  std::vector<uint8_t> start(kDownStartBytes);
  DownStart s{{}, 1000, 2000, 20};  // a packet size below the header's
  ASSERT_EQ(WriteDownStart(start, MakeHeader(Kind::kEcho), s), kDownStartBytes);
  EXPECT_FALSE(Parse(start));
  s.packet_bytes = kMaxDataBytes + 1;
  WriteDownStart(start, MakeHeader(Kind::kEcho), s);
  EXPECT_FALSE(Parse(start));
  start.resize(kDownStartBytes - 1);
  EXPECT_FALSE(Parse(start));
  EXPECT_FALSE(Parse({}));
  EXPECT_FALSE(LooksLikeProbe({}));
}

}  // namespace
}  // namespace parley::proto::probe
