// Offer/answer on both sides of the SFU: the publish answer honours the client's codec
// preference and keeps its RTX and extension ids; the subscribe offer carries RTX and
// turns sections of departed tracks inactive without removing them.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sfu/negotiate.hpp"

namespace parley::sfu {
namespace {

std::string Offer(const std::string& video_formats) {
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF " +
         video_formats +
         "\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=fingerprint:sha-256 "
         "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
         "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
         "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 transport-cc\r\n"
         "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
         "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack pli\r\n"
         "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
         "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
         "a=rtpmap:104 H264/90000\r\na=fmtp:104 packetization-mode=1;profile-level-id=640c1f\r\n"
         "a=ssrc-group:FID 2001 2002\r\na=ssrc:2001 cname:x\r\na=ssrc:2002 cname:x\r\n";
}

const LocalTransport kLocal{"srvu", "server-password-0123456789", "AB:CD", "127.0.0.1", 40000, 0, ""};

// A VP8 camera the server offers a subscriber, in section "0".
OfferedTrack Camera() {
  OfferedTrack cam;
  cam.mid = "0";
  cam.video = true;
  cam.codec = {96, "VP8", 90000, 0, "", {}};
  cam.ssrc = 111;
  return cam;
}

// The client's side of a subscribe answer in `m` (from the offer): what it receives,
// its ICE credentials and fingerprint, and its DTLS role.
void Answered(SdpMedia& m, const char* setup = "active") {
  m.direction = "recvonly";
  m.ice_ufrag = "cliu";
  m.ice_pwd = "client-password-0123456789";
  m.fingerprint = "AB:CD";
  m.setup = setup;
}

TEST(Negotiate, PublishAnswerTakesTheOffersFirstSupportedCodec) {
  auto vp8_first = AnswerPublishOffer(*ParseSdp(Offer("96 97 102 103 104")), kLocal);
  ASSERT_TRUE(vp8_first.ok()) << vp8_first.error().What();
  ASSERT_EQ(vp8_first->tracks.size(), 1u);
  EXPECT_EQ(vp8_first->tracks[0].codec, "VP8");
  EXPECT_EQ(vp8_first->tracks[0].rtx_payload_type, 97);

  // H.264 High (640c1f) first: skipped; constrained baseline next: taken, with its RTX.
  auto h264_first = AnswerPublishOffer(*ParseSdp(Offer("104 102 103 96 97")), kLocal, {.dtls_client = true});
  ASSERT_TRUE(h264_first.ok());
  const AcceptedTrack& t = h264_first->tracks[0];
  EXPECT_EQ(t.codec, "H264");
  EXPECT_EQ(t.payload_type, 102);
  EXPECT_EQ(t.rtx_payload_type, 103);
  EXPECT_EQ(t.ssrc, 2001u);
  EXPECT_EQ(t.rtx_ssrc, 2002u);
  EXPECT_EQ(t.ext_transport_cc, 4);
  std::string answer = WriteSdp(h264_first->sdp);
  EXPECT_NE(answer.find("m=video 9 UDP/TLS/RTP/SAVPF 102 103"), std::string::npos) << answer;
  // actpass, for a native client: the server takes the DTLS client role (its flight
  // timer is the short one). For a browser it stays passive.
  EXPECT_NE(answer.find("a=setup:active"), std::string::npos);
  EXPECT_TRUE(h264_first->dtls_client);
  EXPECT_NE(answer.find("a=ice-lite"), std::string::npos);
  EXPECT_NE(answer.find("127.0.0.1 40000 typ host"), std::string::npos);

  auto browser = AnswerPublishOffer(*ParseSdp(Offer("96 97")), kLocal);
  ASSERT_TRUE(browser.ok());
  EXPECT_FALSE(browser->dtls_client);
  EXPECT_NE(WriteSdp(browser->sdp).find("a=setup:passive"), std::string::npos);
  // An offer that insists on active leaves the server passive; passive is refused
  // (RFC 5763 §5: an offerer says actpass or active).
  std::string active = Offer("96 97");
  active.replace(active.find("a=setup:actpass"), 15, "a=setup:active");
  auto as_server = AnswerPublishOffer(*ParseSdp(active), kLocal, {.dtls_client = true});
  ASSERT_TRUE(as_server.ok());
  EXPECT_FALSE(as_server->dtls_client);
  EXPECT_NE(WriteSdp(as_server->sdp).find("a=setup:passive"), std::string::npos);
  std::string passive = Offer("96 97");
  passive.replace(passive.find("a=setup:actpass"), 15, "a=setup:passive");
  EXPECT_FALSE(AnswerPublishOffer(*ParseSdp(passive), kLocal).ok());

  // GStreamer's webrtcbin offers non-first BUNDLE sections with port 0 and
  // a=bundle-only (RFC 8843 §7.2): accepted, not rejected.
  std::string bundle_only = Offer("96 97");
  bundle_only.replace(bundle_only.find("m=video 9"), 9, "m=video 0");
  bundle_only += "a=bundle-only\r\n";
  auto accepted = AnswerPublishOffer(*ParseSdp(bundle_only), kLocal);
  ASSERT_TRUE(accepted.ok());
  ASSERT_EQ(accepted->tracks.size(), 1u);
  EXPECT_NE(WriteSdp(accepted->sdp).find("m=video 9 "), std::string::npos);

  // Nothing we can forward: the offer is refused with the SDP code.
  auto none = AnswerPublishOffer(*ParseSdp(Offer("104")), kLocal);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kInvalidSdp);
}

// Codec names are case-blind (RFC 4855): an offer that writes them in lower case, or
// any mix, is accepted with its RTX, and the track carries one spelling ("H264",
// "VP8"), which is what the subscribe side's codec choices compare with.
TEST(Negotiate, CodecNamesAreAcceptedInAnyCase) {
  std::string lower = Offer("102 103");
  for (auto [from, to] : {std::pair{"H264/90000\r\na=rtcp-fb:102", "h264/90000\r\na=rtcp-fb:102"},
                          std::pair{"103 rtx/90000", "103 RTX/90000"}})
    lower.replace(lower.find(from), std::string(from).size(), to);
  auto h264 = AnswerPublishOffer(*ParseSdp(lower), kLocal);
  ASSERT_TRUE(h264.ok()) << h264.error().What();
  EXPECT_EQ(h264->tracks[0].codec, "H264");
  EXPECT_EQ(h264->tracks[0].rtx_payload_type, 103);
  std::string mixed = Offer("96 97");
  mixed.replace(mixed.find("VP8/90000"), 9, "vP8/90000");
  auto vp8 = AnswerPublishOffer(*ParseSdp(mixed), kLocal);
  ASSERT_TRUE(vp8.ok()) << vp8.error().What();
  EXPECT_EQ(vp8->tracks[0].codec, "VP8");
  EXPECT_EQ(SubscribePayloadTypesFor("Opus").media, 111);
}

TEST(Negotiate, SubscribeOfferCarriesRtxAndKeepsDepartedSectionsInactive) {
  OfferedTrack cam = Camera();
  cam.rtx_ssrc = 112;
  cam.rtx_payload_type = 97;
  cam.stream_id = "alice";
  cam.track_id = "alice-camera";
  OfferedTrack mic;
  mic.mid = "1";
  mic.codec = {111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {}};
  mic.ssrc = 222;
  mic.stream_id = "alice";
  mic.track_id = "alice-audio";
  mic.active = false;
  auto offer = ParseSdp(WriteSdp(BuildSubscribeOffer(kLocal, {cam, mic}, 3)));
  ASSERT_TRUE(offer.ok()) << offer.error().What();
  ASSERT_EQ(offer->media.size(), 2u);
  const SdpMedia& v = offer->media[0];
  EXPECT_EQ(v.direction, "sendonly");
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{111, 112}));
  ASSERT_NE(v.FindCodec(97), nullptr);
  EXPECT_EQ(v.FindCodec(97)->fmtp, "apt=96");
  EXPECT_EQ(v.msid, "alice alice-camera");
  // Video asks for arrival reports (transport-cc) or the subscriber's own estimate
  // (REMB), repair and keyframe requests; audio for nothing.
  ASSERT_NE(v.FindCodec(96), nullptr);
  EXPECT_EQ(v.FindCodec(96)->feedback,
            (std::vector<std::string>{"goog-remb", "transport-cc", "nack", "nack pli", "ccm fir"}));
  const SdpMedia& a = offer->media[1];
  ASSERT_NE(a.FindCodec(111), nullptr);
  EXPECT_TRUE(a.FindCodec(111)->feedback.empty());
  EXPECT_EQ(a.direction, "inactive");
  EXPECT_TRUE(a.ssrcs.empty());
  EXPECT_EQ(a.mid, "1");
  EXPECT_EQ(offer->bundle_mids, (std::vector<std::string>{"0", "1"}));
}

// The subscribe offer says actpass; the answer picks the role: active (browsers) keeps
// the server passive, passive (the native SDK) makes it the DTLS client.
TEST(Negotiate, TheSubscribeAnswerPicksTheServersDtlsRole) {
  OfferedTrack cam = Camera();
  SdpSession offer = BuildSubscribeOffer(kLocal, {cam}, 1);
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].setup, "actpass");
  SdpSession answer = offer;
  SdpMedia& m = answer.media[0];
  for (const char* setup : {"active", "passive", "actpass", ""}) {
    Answered(m, setup);
    auto checked = CheckSubscribeAnswer(answer, {cam});
    bool valid = std::string_view(setup) == "active" || std::string_view(setup) == "passive";
    ASSERT_EQ(checked.ok(), valid) << setup;
    if (valid) {
      EXPECT_EQ(checked->dtls_client, std::string_view(setup) == "passive");
    }
  }
}

// Every subscribe section offers abs-send-time (the server's send time, for the
// subscriber's REMB) and the transport-wide sequence number (for the server's own
// estimate), nothing else; the answer takes each under the offered id, or the server
// sends it not.
TEST(Negotiate, TheSubscribeOfferOffersItsTwoExtensionsAndTheAnswerTakesThemOrNot) {
  OfferedTrack cam = Camera();
  OfferedTrack mic = cam;
  mic.mid = "1";
  mic.video = false;
  mic.codec = {111, "opus", 48000, 2, "", {}};
  mic.ssrc = 222;
  auto offer = ParseSdp(WriteSdp(BuildSubscribeOffer(kLocal, {cam, mic}, 1)));
  ASSERT_TRUE(offer.ok());
  for (const SdpMedia& m : offer->media) {
    ASSERT_EQ(m.extmaps.size(), 2u) << m.mid;
    EXPECT_EQ(m.extmaps[0].id, kSubscribeAbsSendTimeId);
    EXPECT_EQ(m.extmaps[0].uri, kExtAbsSendTime);
    EXPECT_EQ(m.extmaps[1].id, kSubscribeTransportCcId);
    EXPECT_EQ(m.extmaps[1].uri, kExtTransportCc);
  }
  SdpSession answer = *offer;
  for (SdpMedia& m : answer.media) Answered(m);
  auto took = CheckSubscribeAnswer(answer, {cam, mic});
  ASSERT_TRUE(took.ok());
  EXPECT_EQ(took->abs_send_time_id, kSubscribeAbsSendTimeId);
  EXPECT_EQ(took->transport_cc_id, kSubscribeTransportCcId);
  answer.media[0].extmaps.erase(answer.media[0].extmaps.begin());
  took = CheckSubscribeAnswer(answer, {cam, mic});
  EXPECT_EQ(took->abs_send_time_id, 0) << "not taken";
  EXPECT_EQ(took->transport_cc_id, kSubscribeTransportCcId) << "one without the other";
  answer.media[0].extmaps.clear();
  answer.media[0].extmaps.push_back({9, "", std::string(kExtAbsSendTime)});
  answer.media[0].extmaps.push_back({3, "", std::string(kExtTransportCc)});
  took = CheckSubscribeAnswer(answer, {cam, mic});
  EXPECT_EQ(took->abs_send_time_id, 0) << "not under the offered id";
  EXPECT_EQ(took->transport_cc_id, 0) << "not under the offered id";
}

// Audio repaired for a native subscriber: NACK feedback, an RTX codec at Opus's clock
// rate and the FID group; the same track offered to a browser has neither.
TEST(Negotiate, SubscribeOfferRepairsAudioOnlyWithAnRtxPayloadType) {
  OfferedTrack mic;
  mic.mid = "0";
  mic.codec = {111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {}};
  mic.ssrc = 222;
  mic.stream_id = "alice";
  mic.track_id = "alice-audio";
  OfferedTrack plain = mic;
  mic.rtx_payload_type = 112;
  mic.rtx_ssrc = 223;
  auto repaired = ParseSdp(WriteSdp(BuildSubscribeOffer(kLocal, {mic}, 1)));
  ASSERT_TRUE(repaired.ok()) << repaired.error().What();
  const SdpMedia& a = repaired->media[0];
  ASSERT_NE(a.FindCodec(111), nullptr);
  EXPECT_EQ(a.FindCodec(111)->feedback, (std::vector<std::string>{"nack"}));
  ASSERT_NE(a.FindCodec(112), nullptr);
  EXPECT_EQ(a.FindCodec(112)->name, "rtx");
  EXPECT_EQ(a.FindCodec(112)->clock_rate, 48000u);
  EXPECT_EQ(a.FindCodec(112)->fmtp, "apt=111");
  ASSERT_EQ(a.ssrc_groups.size(), 1u);
  EXPECT_EQ(a.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{222, 223}));

  std::string browser = WriteSdp(BuildSubscribeOffer(kLocal, {plain}, 1));
  auto b = ParseSdp(browser);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->media[0].FindCodec(111)->feedback.empty());
  EXPECT_EQ(b->media[0].codecs.size(), 1u);
  EXPECT_TRUE(b->media[0].ssrc_groups.empty());
  EXPECT_EQ(browser.find("rtx"), std::string::npos);
}

// The publish answer keeps audio RTX when the offer has it (native publishers); a
// browser's audio offer has none and its answer is unchanged.
TEST(Negotiate, PublishAnswerKeepsAudioRtxWhenOffered) {
  auto offer = [](bool rtx) {
    std::string s =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111";
    s += rtx ? " 97" : "";
    s += "\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=fingerprint:sha-256 "
         "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
         "a=rtpmap:111 OPUS/48000/2\r\n";
    if (rtx)
      s += "a=rtcp-fb:111 nack\r\na=rtpmap:97 rtx/48000\r\na=fmtp:97 apt=111\r\n"
           "a=ssrc-group:FID 3001 3002\r\na=ssrc:3001 cname:x\r\na=ssrc:3002 cname:x\r\n";
    else
      s += "a=ssrc:3001 cname:x\r\n";
    return s;
  };
  auto native = AnswerPublishOffer(*ParseSdp(offer(true)), kLocal);
  ASSERT_TRUE(native.ok()) << native.error().What();
  EXPECT_EQ(native->tracks[0].rtx_payload_type, 97);
  EXPECT_EQ(native->tracks[0].rtx_ssrc, 3002u);
  ASSERT_NE(native->sdp.media[0].FindCodec(97), nullptr);
  EXPECT_EQ(native->sdp.media[0].FindCodec(111)->feedback, (std::vector<std::string>{"nack"}));
  auto browser = AnswerPublishOffer(*ParseSdp(offer(false)), kLocal);
  ASSERT_TRUE(browser.ok()) << browser.error().What();
  EXPECT_EQ(browser->tracks[0].rtx_payload_type, 0);
  EXPECT_EQ(browser->sdp.media[0].codecs.size(), 1u);
}

// A stereo Opus offer (RFC 7587 sprop-stereo=1 from GStreamer, stereo=1 as a browser's
// munged offer says it) is answered stereo=1, so that a browser encodes two channels;
// a mono one is not, and the accepted track says which.
TEST(Negotiate, AStereoOpusOfferIsAnsweredStereo) {
  auto offer = [](const std::string& fmtp) {
    return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n"
           "a=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 "
           "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
           "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 OPUS/48000/2\r\n"
           "a=fmtp:111 " +
           fmtp + "\r\na=ssrc:3001 cname:x\r\n";
  };
  for (const auto& [fmtp, stereo] : std::vector<std::pair<std::string, bool>>{{"sprop-stereo=1", true},
                                                                              {"minptime=10;stereo=1", true},
                                                                              {"sprop-stereo=0", false},
                                                                              {"minptime=10;useinbandfec=1", false},
                                                                              {"x-stereo=1", false}}) {
    auto a = AnswerPublishOffer(*ParseSdp(offer(fmtp)), kLocal);
    ASSERT_TRUE(a.ok()) << a.error().What();
    EXPECT_EQ(a->tracks[0].stereo, stereo) << fmtp;
    const std::string answered = a->sdp.media[0].FindCodec(111)->fmtp;
    EXPECT_EQ(answered.find("stereo=1") != std::string::npos, stereo) << fmtp << " -> " << answered;
  }
}

// Each codec has its own numbers on a subscribe connection, none shared with another
// codec or RTX stream, whatever the spelling.
TEST(Negotiate, SubscribePayloadTypesNameOneCodecEach) {
  std::set<int> seen;
  for (const char* c : {"opus", "VP8", "H264"})
    for (bool stereo : {false, true}) {
      SubscribePayloadTypes p = SubscribePayloadTypesFor(c, stereo);
      if (stereo && std::string(c) != "opus") {
        EXPECT_EQ(p.media, SubscribePayloadTypesFor(c).media) << c << ": only Opus has stereo numbers";
        continue;
      }
      EXPECT_GE(p.media, 96);
      EXPECT_GE(p.rtx, 96);
      EXPECT_TRUE(seen.insert(p.media).second) << c;
      EXPECT_TRUE(seen.insert(p.rtx).second) << c;
      if (p.red) {
        EXPECT_TRUE(seen.insert(p.red).second) << c;
      }
    }
  EXPECT_EQ(SubscribePayloadTypesFor("OPUS").media, SubscribePayloadTypesFor("opus").media);
  EXPECT_EQ(SubscribePayloadTypesFor("vp8").rtx, SubscribePayloadTypesFor("VP8").rtx);
  EXPECT_EQ(SubscribePayloadTypesFor("h264").media, SubscribePayloadTypesFor("H264").media);
  EXPECT_EQ(SubscribePayloadTypesFor("VP9").media, 0);
  EXPECT_EQ(SubscribePayloadTypesFor("").rtx, 0);
}

// A browser's data-only offer (RTCPeerConnection with one data channel): answered with
// one SCTP section, the server's port and message size; anything else is refused.
std::string DataOffer(const std::string& m_line, const std::string& extra = "") {
  return "v=0\r\no=- 5 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" + m_line +
         "\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
         "a=fingerprint:sha-256 "
         "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
         "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n" +
         extra;
}

TEST(Negotiate, ADataOfferIsAnsweredWithOneSctpSection) {
  auto offer = ParseSdp(DataOffer("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
  ASSERT_TRUE(offer.ok()) << offer.error().What();
  EXPECT_EQ(offer->media[0].sctp_port, 5000);
  EXPECT_EQ(offer->media[0].max_message_size, 262144u);
  auto answer = AnswerDataOffer(*offer, kLocal);
  ASSERT_TRUE(answer.ok()) << answer.error().What();
  EXPECT_EQ(answer->sctp_port, 5000);
  EXPECT_EQ(answer->max_message_size, 262144u);
  EXPECT_EQ(answer->remote_ufrag, "abcd");
  EXPECT_FALSE(answer->dtls_client);
  std::string text = WriteSdp(answer->sdp);
  EXPECT_NE(text.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=sctp-port:5000\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=max-message-size:" + std::to_string(kMaxDataMessageBytes)), std::string::npos);
  EXPECT_NE(text.find("a=setup:passive"), std::string::npos);
  EXPECT_EQ(text.find("a=rtcp-mux"), std::string::npos);
  auto back = ParseSdp(text);  // the answer reads back as written
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->media[0].sctp_port, 5000);
  // A native client (webrtcbin) gets the server as DTLS client.
  EXPECT_TRUE(AnswerDataOffer(*offer, kLocal, {true})->dtls_client);
}

TEST(Negotiate, ADataOfferThatIsNotOneIsRefused) {
  for (const std::string& m :
       {std::string("m=application 9 DTLS/SCTP 5000"), std::string("m=application 9 UDP/DTLS/SCTP something-else"),
        std::string("m=audio 9 UDP/TLS/RTP/SAVPF 111")}) {
    auto offer = ParseSdp(DataOffer(m));
    ASSERT_TRUE(offer.ok()) << m;
    auto answer = AnswerDataOffer(*offer, kLocal);
    ASSERT_FALSE(answer.ok()) << m;
    EXPECT_EQ(answer.error().code, Errc::kInvalidSdp);
  }
  EXPECT_FALSE(ParseSdp(DataOffer("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:0\r\n")).ok());
  EXPECT_FALSE(ParseSdp(DataOffer("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:x\r\n")).ok());
  EXPECT_FALSE(
      ParseSdp(DataOffer("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=max-message-size:99999999999\r\n"))
          .ok());
}

}  // namespace
}  // namespace parley::sfu
