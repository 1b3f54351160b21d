// Unit tests for the SFU's packet parsers: STUN (with the RFC 5769 test vectors),
// RTP/RTCP, and SDP.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

#include "sfu/rtp.hpp"
#include "sfu/sdp.hpp"
#include "sfu/stun.hpp"

namespace parley::sfu {
namespace {

// RFC 5769 §2.1 sample request; password "VOkJxbRl1RmTxUk/WvJxBt".
const std::vector<uint8_t> kRfc5769Request = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
    0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

// RFC 5769 §2.2 sample IPv4 response (192.0.2.1:32853).
const std::vector<uint8_t> kRfc5769Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

TEST(Stun, Rfc5769RequestParsesAndVerifies) {
  auto m = ParseStun(kRfc5769Request);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kStunBindingRequest);
  EXPECT_EQ(m->username, "evtj:h6vY");
  EXPECT_EQ(LocalUfrag(m->username), "evtj");
  EXPECT_EQ(m->priority, 0x6e0001ffu);
  ASSERT_TRUE(m->ice_controlled);
  EXPECT_EQ(*m->ice_controlled, 0x932ff9b151263b36ull);
  EXPECT_TRUE(VerifyStunIntegrity(*m, kRfc5769Request, kPassword));
  EXPECT_FALSE(VerifyStunIntegrity(*m, kRfc5769Request, "wrong"));
  EXPECT_TRUE(VerifyStunFingerprint(*m, kRfc5769Request));
  auto tampered = kRfc5769Request;
  tampered[47] ^= 1;  // inside PRIORITY
  auto t = ParseStun(tampered);
  ASSERT_TRUE(t);
  EXPECT_FALSE(VerifyStunIntegrity(*t, tampered, kPassword));
  EXPECT_FALSE(VerifyStunFingerprint(*t, tampered));
}

TEST(Stun, Rfc5769ResponseParses) {
  auto m = ParseStun(kRfc5769Response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kStunBindingSuccess);
  ASSERT_TRUE(m->xor_mapped);
  auto* a = reinterpret_cast<const sockaddr_in*>(&*m->xor_mapped);
  EXPECT_EQ(ntohs(a->sin_port), 32853);
  char buf[INET_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf), "192.0.2.1");
  EXPECT_TRUE(VerifyStunIntegrity(*m, kRfc5769Response, kPassword));
  EXPECT_TRUE(VerifyStunFingerprint(*m, kRfc5769Response));
}

TEST(Stun, OurResponseMatchesTheRfcVectorsShape) {
  auto req = ParseStun(kRfc5769Request);
  sockaddr_storage peer{};
  auto* a = reinterpret_cast<sockaddr_in*>(&peer);
  a->sin_family = AF_INET;
  a->sin_port = htons(32853);
  inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
  uint8_t out[128];
  size_t n = WriteStunBindingSuccess(out, req->transaction_id, peer, kPassword);
  ASSERT_GT(n, 0u);
  std::span<const uint8_t> resp(out, n);
  auto m = ParseStun(resp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kStunBindingSuccess);
  EXPECT_EQ(m->transaction_id, req->transaction_id);
  EXPECT_TRUE(VerifyStunIntegrity(*m, resp, kPassword));
  EXPECT_TRUE(VerifyStunFingerprint(*m, resp));
  auto* got = reinterpret_cast<const sockaddr_in*>(&*m->xor_mapped);
  EXPECT_EQ(ntohs(got->sin_port), 32853);
  EXPECT_EQ(got->sin_addr.s_addr, a->sin_addr.s_addr);
  // The XOR-MAPPED-ADDRESS bytes equal the RFC's for the same address.
  EXPECT_TRUE(std::equal(kRfc5769Response.begin() + 40, kRfc5769Response.begin() + 48, out + 24));
  EXPECT_EQ(WriteStunBindingSuccess(std::span<uint8_t>(out, 40), req->transaction_id, peer, kPassword), 0u);
}

TEST(Stun, RequestRoundTripIpv6AndUseCandidate) {
  std::array<uint8_t, 12> tx{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  uint8_t buf[256];
  size_t n = WriteStunBindingRequest(buf, tx, "srv:cli", "pass", 12345, 0x0102030405060708ull, true);
  ASSERT_GT(n, 0u);
  auto m = ParseStun(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->use_candidate);
  EXPECT_EQ(*m->ice_controlling, 0x0102030405060708ull);
  EXPECT_TRUE(VerifyStunIntegrity(*m, std::span<const uint8_t>(buf, n), "pass"));
  sockaddr_storage peer{};
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&peer);
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(5000);
  a6->sin6_addr = in6addr_loopback;
  size_t r = WriteStunBindingSuccess(buf, tx, peer, "pass");
  auto resp = ParseStun(std::span<const uint8_t>(buf, r));
  ASSERT_TRUE(resp && resp->xor_mapped);
  auto* got = reinterpret_cast<const sockaddr_in6*>(&*resp->xor_mapped);
  EXPECT_EQ(0, memcmp(&got->sin6_addr, &in6addr_loopback, 16));
}

TEST(Stun, RejectsMalformed) {
  auto bad = kRfc5769Request;
  bad[4] = 0;  // magic cookie
  EXPECT_FALSE(ParseStun(bad));
  bad = kRfc5769Request;
  bad[3] = 0x54;  // length disagrees with size
  EXPECT_FALSE(ParseStun(bad));
  bad = kRfc5769Request;
  bad.resize(30);
  EXPECT_FALSE(ParseStun(bad));
  EXPECT_FALSE(ParseStun(std::vector<uint8_t>(19, 0)));
  bad = kRfc5769Request;
  bad[0] = 0x80;  // top bits must be zero
  EXPECT_FALSE(ParseStun(bad));
}

TEST(Rtp, ClassifiesByFirstByte) {
  EXPECT_EQ(Classify(kRfc5769Request), PacketClass::kStun);
  uint8_t dtls[] = {22, 0xfe, 0xfd};
  EXPECT_EQ(Classify(dtls), PacketClass::kDtls);
  uint8_t rtp[] = {0x80, 111};
  EXPECT_EQ(Classify(rtp), PacketClass::kRtp);
  uint8_t rtcp[] = {0x80, 200};
  EXPECT_EQ(Classify(rtcp), PacketClass::kRtcp);
  uint8_t junk[] = {70};
  EXPECT_EQ(Classify(junk), PacketClass::kUnknown);
}

TEST(Rtp, ParsesHeaderExtensionsAndRewrites) {
  // V=2, X=1, PT=96, seq 0x1234, ts 0xAABBCCDD, ssrc 0x11223344, one-byte extensions:
  // id 1 (len 1: 0x7F), id 3 (len 2: 0x01 0x02), padding to a word; payload "hi".
  std::vector<uint8_t> p = {0x90, 0xE0, 0x12, 0x34, 0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x22, 0x33, 0x44, 0xBE,
                            0xDE, 0x00, 0x02, 0x10, 0x7F, 0x31, 0x01, 0x02, 0x00, 0x00, 0x00, 'h',  'i'};
  auto v = ParseRtp(p);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->marker);
  EXPECT_EQ(v->payload_type, 96);
  EXPECT_EQ(v->sequence, 0x1234);
  EXPECT_EQ(v->ssrc, 0x11223344u);
  EXPECT_EQ(v->payload_length, 2u);
  auto e1 = v->Extension(1);
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)[0], 0x7F);
  auto e3 = v->Extension(3);
  ASSERT_TRUE(e3);
  EXPECT_EQ(e3->size(), 2u);
  EXPECT_FALSE(v->Extension(2));
  v->SetSequence(7);
  v->SetSsrc(0xCAFEBABE);
  v->SetTimestamp(99);
  v->SetPayloadType(100);
  auto again = ParseRtp(p);
  EXPECT_EQ(again->sequence, 7);
  EXPECT_EQ(again->ssrc, 0xCAFEBABEu);
  EXPECT_EQ(again->timestamp, 99u);
  EXPECT_EQ(again->payload_type, 100);
  EXPECT_TRUE(again->marker);
}

TEST(Rtp, RejectsMalformed) {
  std::vector<uint8_t> short_pkt(11, 0x80);
  EXPECT_FALSE(ParseRtp(short_pkt));
  std::vector<uint8_t> v1(12, 0);
  v1[0] = 0x40;
  EXPECT_FALSE(ParseRtp(v1));
  std::vector<uint8_t> csrc(12, 0);
  csrc[0] = 0x8F;  // 15 CSRCs, no room
  EXPECT_FALSE(ParseRtp(csrc));
  std::vector<uint8_t> pad(13, 0);
  pad[0] = 0xA0;
  pad[12] = 5;  // more padding than payload
  EXPECT_FALSE(ParseRtp(pad));
  std::vector<uint8_t> ext = {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0x00, 0x09};
  EXPECT_FALSE(ParseRtp(ext));
}

TEST(Rtcp, IteratesCompoundAndReadsNackPliReports) {
  uint8_t buf[128];
  size_t n = 0;
  // RR with one report block.
  uint8_t rr[] = {0x81, 201, 0x00, 0x07, 0, 0, 0, 1,  0x11, 0x22, 0x33, 0x44, 0x40, 0xFF, 0xFF, 0xFE,
                  0,    0,   0x10, 0x00, 0, 0, 0, 20, 0,    0,    0,    0,    0,    0,    0,    0};
  std::copy(std::begin(rr), std::end(rr), buf);
  n += sizeof rr;
  n += WritePli(buf + n, 1, 0x11223344);
  uint16_t seqs[] = {100, 101, 105, 300};
  n += WriteNack(buf + n, sizeof buf - n, 1, 0x11223344, seqs);
  std::span<const uint8_t> compound(buf, n);
  EXPECT_TRUE(IsValidRtcp(compound));
  RtcpIterator it(compound);
  ASSERT_FALSE(it.done());
  EXPECT_EQ(it->type, kRr);
  auto block = GetReportBlock(*it, 0);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->ssrc, 0x11223344u);
  EXPECT_EQ(block->fraction_lost, 0x40);
  EXPECT_EQ(block->cumulative_lost, -2);
  EXPECT_EQ(block->highest_sequence, 0x1000u);
  EXPECT_FALSE(GetReportBlock(*it, 1));
  it.Next();
  ASSERT_FALSE(it.done());
  EXPECT_TRUE(IsKeyframeRequest(*it));
  EXPECT_EQ(it->media_ssrc(), 0x11223344u);
  it.Next();
  ASSERT_FALSE(it.done());
  std::vector<uint16_t> asked;
  EXPECT_TRUE(ForEachNack(*it, [&](uint16_t s) { asked.push_back(s); }));
  EXPECT_EQ(asked, (std::vector<uint16_t>{100, 101, 105, 300}));
  it.Next();
  EXPECT_TRUE(it.done());
  EXPECT_TRUE(it.valid());
  // Truncated: the last packet claims more words than remain.
  EXPECT_FALSE(IsValidRtcp(std::span<const uint8_t>(buf, n - 2)));
  uint8_t not_rtcp[] = {0x80, 100, 0, 0};
  EXPECT_FALSE(IsValidRtcp(not_rtcp));
}

TEST(Rtp, SequenceNumberWraparound) {
  EXPECT_TRUE(SeqNewer(1, 65535));
  EXPECT_FALSE(SeqNewer(65535, 1));
  EXPECT_TRUE(SeqNewer(200, 100));
  EXPECT_FALSE(SeqNewer(100, 100));
}

constexpr const char* kChromeOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS stream\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:SHA-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=sendonly\r\n"
    "a=msid:stream track-a\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=ssrc:1001 cname:xyz\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=fingerprint:sha-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=ssrc-group:FID 2001 2002\r\n"
    "a=ssrc:2001 cname:xyz\r\n"
    "a=ssrc:2002 cname:xyz\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";

TEST(Sdp, ParsesABrowserOffer) {
  auto s = ParseSdp(kChromeOffer);
  ASSERT_TRUE(s.ok()) << s.error().What();
  EXPECT_EQ(s->bundle_mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(s->media.size(), 2u);
  const auto& audio = s->media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.ice_ufrag, "abcd");
  EXPECT_EQ(audio.fingerprint_algorithm, "sha-256");
  EXPECT_EQ(audio.setup, "actpass");
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.Sends());
  EXPECT_FALSE(audio.Receives());
  ASSERT_NE(audio.FindCodec(111), nullptr);
  EXPECT_EQ(audio.FindCodec(111)->name, "opus");
  EXPECT_EQ(audio.FindCodec(111)->channels, 2);
  EXPECT_EQ(audio.FindCodec(111)->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(audio.FindCodec(111)->feedback, (std::vector<std::string>{"transport-cc"}));
  ASSERT_NE(audio.FindExtmap("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), nullptr);
  EXPECT_EQ(audio.FindExtmap("urn:ietf:params:rtp-hdrext:ssrc-audio-level")->id, 1);
  EXPECT_EQ(audio.ssrcs, (std::vector<uint32_t>{1001}));
  EXPECT_EQ(audio.cname, "xyz");
  const auto& video = s->media[1];
  EXPECT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.FindCodec(97)->fmtp, "apt=96");
  EXPECT_EQ(video.FindCodec(96)->feedback.size(), 2u);
  EXPECT_EQ(video.candidates.size(), 1u);
}

TEST(Sdp, WriteThenParseIsStable) {
  auto s = ParseSdp(kChromeOffer);
  ASSERT_TRUE(s.ok());
  s->ice_lite = true;
  std::string text = WriteSdp(*s);
  auto back = ParseSdp(text);
  ASSERT_TRUE(back.ok()) << back.error().What();
  EXPECT_TRUE(back->ice_lite);
  EXPECT_EQ(WriteSdp(*back), text);
  EXPECT_EQ(back->media[1].FindCodec(96)->feedback, s->media[1].FindCodec(96)->feedback);
}

TEST(Sdp, SessionLevelAttributesAreInherited) {
  auto s = ParseSdp(
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:sess\r\na=ice-pwd:sesspwd\r\n"
      "a=fingerprint:sha-256 AB\r\na=setup:passive\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:a\r\n");
  ASSERT_TRUE(s.ok()) << s.error().What();
  EXPECT_EQ(s->media[0].ice_ufrag, "sess");
  EXPECT_EQ(s->media[0].setup, "passive");
}

TEST(Sdp, RejectsMalformedWithTheSdpCode) {
  for (const char* bad : {"", "garbage", "v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "v=0\r\n",
                          "v=0\r\no=- x 1 IN IP4 0.0.0.0\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio\r\n",
                          "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:300 x/1\r\n",
                          "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 0\r\na=setup:sideways\r\n",
                          "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 70000 RTP/AVP 0\r\n",
                          "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 0\r\na=extmap:0 urn:x\r\n"}) {
    auto s = ParseSdp(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.error().code, Errc::kInvalidSdp);
    }
  }
  std::string many = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n";
  for (int i = 0; i < 70; ++i) many += "m=audio 9 RTP/AVP 0\r\n";
  EXPECT_FALSE(ParseSdp(many).ok());
}

}  // namespace
}  // namespace parley::sfu
