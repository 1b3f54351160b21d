// Redundant audio (RFC 2198): the parser's layout and bounds, the payload check of each
// block, and RED in both directions of negotiation (the publish answer takes it with
// its RTX; the subscribe offer offers it and the answer says whether it was taken).
#include <gtest/gtest.h>

#include <vector>

#include "sfu/negotiate.hpp"
#include "sfu/payload_check.hpp"
#include "sfu/red.hpp"

namespace parley::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(Red, ParsesRedundantBlocksThenThePrimary) {
  // Two redundant blocks (offsets 1920 and 960, 3 and 2 bytes), then a 4-byte primary.
  Bytes p = {0x80 | 111,
             1920 >> 6,
             ((1920 & 0x3F) << 2) | 0,
             3,
             0x80 | 111,
             960 >> 6,
             ((960 & 0x3F) << 2) | 0,
             2,
             111,
             1,
             1,
             1,
             2,
             2,
             9,
             9,
             9,
             9};
  auto r = ParseRed(p);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->count, 3u);
  EXPECT_EQ(r->headers_length, 9u);
  EXPECT_EQ(r->blocks[0].timestamp_offset, 1920);
  EXPECT_EQ(r->blocks[0].offset, 9u);
  EXPECT_EQ(r->blocks[0].length, 3u);
  EXPECT_EQ(r->blocks[1].timestamp_offset, 960);
  EXPECT_EQ(r->blocks[1].offset, 12u);
  EXPECT_EQ(r->primary().offset, 14u);
  EXPECT_EQ(r->primary().length, 4u);
  EXPECT_EQ(r->primary().payload_type, 111);

  SetRedBlockPayloadTypes(p, *r, 109);
  EXPECT_EQ(p[0], 0x80 | 109);
  EXPECT_EQ(p[4], 0x80 | 109);
  EXPECT_EQ(p[8], 109);
  EXPECT_EQ(p[3], 3);  // lengths untouched

  // Primary only: one header byte.
  auto only = ParseRed(Bytes{111, 7, 7});
  ASSERT_TRUE(only);
  EXPECT_EQ(only->count, 1u);
  EXPECT_EQ(only->primary().offset, 1u);
  EXPECT_EQ(only->primary().length, 2u);
}

TEST(Red, RefusesWhatRunsPastThePayloadOrHasTooManyBlocks) {
  EXPECT_FALSE(ParseRed(Bytes{}));
  EXPECT_FALSE(ParseRed(Bytes{0x80 | 111, 0, 0}));                // a redundant header cut short
  EXPECT_FALSE(ParseRed(Bytes{0x80 | 111, 0, 0, 4}));             // no primary header
  EXPECT_FALSE(ParseRed(Bytes{0x80 | 111, 0, 0, 4, 111, 1, 2}));  // 4 bytes claimed, 2 there
  EXPECT_TRUE(ParseRed(Bytes{0x80 | 111, 0, 0, 2, 111, 1, 2}));   // the primary may be empty here
  Bytes many;
  for (size_t i = 0; i < RedLayout::kMaxBlocks; ++i) many.insert(many.end(), {0x80 | 111, 0, 0, 0});
  many.push_back(111);
  EXPECT_FALSE(ParseRed(many));
}

TEST(Red, EveryBlockMustBeTheTracksCodecAndWellFormed) {
  Bytes opus = {0xF8, 1, 2, 3};  // one 20 ms CELT frame
  Bytes good = {0x80 | 111, 0x0F, 0x00, 4, 111};
  good.insert(good.end(), opus.begin(), opus.end());
  good.insert(good.end(), opus.begin(), opus.end());
  EXPECT_TRUE(RedPayloadWellFormed(PayloadFormat::kOpus, 111, good));
  EXPECT_FALSE(RedPayloadWellFormed(PayloadFormat::kOpus, 96, good));  // another codec's number
  Bytes other_block = good;
  other_block[0] = 0x80 | 96;
  EXPECT_FALSE(RedPayloadWellFormed(PayloadFormat::kOpus, 111, other_block));
  EXPECT_FALSE(RedPayloadWellFormed(PayloadFormat::kOpus, 111, Bytes{111}));  // an empty primary
  Bytes empty_redundant = {0x80 | 111, 0x0F, 0x00, 0, 111, 0xF8, 1};
  EXPECT_TRUE(RedPayloadWellFormed(PayloadFormat::kOpus, 111, empty_redundant));
  Bytes bad_opus = {0x80 | 111, 0x0F, 0x00, 1, 111, 0x03, 0xF8, 1};  // code 3 with no frame count
  EXPECT_FALSE(RedPayloadWellFormed(PayloadFormat::kOpus, 111, bad_opus));
}

const LocalTransport kLocal{"srvu", "server-password-0123456789", "AB:CD", "127.0.0.1", 40000, 0, ""};

std::string AudioOffer(const std::string& formats, const std::string& extra) {
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF " +
         formats +
         "\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=fingerprint:sha-256 "
         "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
         "a=rtpmap:111 OPUS/48000/2\r\na=rtcp-fb:111 nack\r\n" +
         extra + "a=ssrc:3001 cname:x\r\n";
}

// A browser's offer (red with fmtp 111/111) and webrtcbin's (red without fmtp, its RTX
// too, and ulpfec, which the SFU does not take).
TEST(Red, ThePublishAnswerTakesRedForOpusAndItsRtx) {
  auto browser =
      AnswerPublishOffer(*ParseSdp(AudioOffer("111 63", "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n")), kLocal);
  ASSERT_TRUE(browser.ok()) << browser.error().What();
  EXPECT_EQ(browser->tracks[0].red_payload_type, 63);
  EXPECT_EQ(browser->tracks[0].red_rtx_payload_type, 0);
  std::string a = WriteSdp(browser->sdp);
  EXPECT_NE(a.find("m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"), std::string::npos) << a;  // RED preferred
  EXPECT_NE(a.find("a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111"), std::string::npos) << a;

  auto native = AnswerPublishOffer(*ParseSdp(AudioOffer("111 96 97 98 99",
                                                        "a=rtpmap:96 red/48000\r\na=rtpmap:97 ulpfec/48000\r\n"
                                                        "a=rtpmap:98 rtx/48000\r\na=fmtp:98 apt=111\r\n"
                                                        "a=rtpmap:99 rtx/48000\r\na=fmtp:99 apt=96\r\n")),
                                   kLocal);
  ASSERT_TRUE(native.ok()) << native.error().What();
  EXPECT_EQ(native->tracks[0].rtx_payload_type, 98);
  EXPECT_EQ(native->tracks[0].red_payload_type, 96);
  EXPECT_EQ(native->tracks[0].red_rtx_payload_type, 99);
  EXPECT_NE(WriteSdp(native->sdp).find("UDP/TLS/RTP/SAVPF 96 111 98 99\r\n"), std::string::npos);

  // RED whose blocks would be another codec is not taken.
  auto other = AnswerPublishOffer(
      *ParseSdp(AudioOffer("111 63 0", "a=rtpmap:63 red/48000/2\r\na=fmtp:63 0/111\r\na=rtpmap:0 PCMU/8000\r\n")),
      kLocal);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->tracks[0].red_payload_type, 0);
  EXPECT_EQ(WriteSdp(other->sdp).find("red"), std::string::npos);
}

TEST(Red, TheSubscribeOfferOffersRedAndTheAnswerSaysWhetherItWasTaken) {
  OfferedTrack mic;
  mic.mid = "0";
  mic.codec = {111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {}};
  mic.ssrc = 222;
  mic.red_payload_type = SubscribePayloadTypesFor("opus").red;
  ASSERT_EQ(mic.red_payload_type, 63);
  OfferedTrack cam;
  cam.mid = "1";
  cam.video = true;
  cam.codec = {96, "VP8", 90000, 0, "", {}};
  cam.ssrc = 333;
  SdpSession offer = BuildSubscribeOffer(kLocal, {mic, cam}, 1);
  std::string text = WriteSdp(offer);
  EXPECT_NE(text.find("m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111"), std::string::npos) << text;

  SdpSession answer = offer;
  for (SdpMedia& m : answer.media) {
    m.direction = "recvonly";
    m.ice_ufrag = "cliu";
    m.ice_pwd = "client-password-0123456789";
    m.setup = "active";
  }
  auto took = CheckSubscribeAnswer(answer, {mic, cam});
  ASSERT_TRUE(took.ok()) << took.error().What();
  EXPECT_EQ(took->red, (std::vector<bool>{true, false}));
  // An answer that kept only Opus (a client without RED) did not take it.
  answer.media[0].formats = {"111"};
  answer.media[0].codecs.resize(1);
  auto plain = CheckSubscribeAnswer(answer, {mic, cam});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->red, (std::vector<bool>{false, false}));
}

}  // namespace
}  // namespace parley::sfu
