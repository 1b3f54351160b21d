// SDP a client would send, for the tests of ChannelMedia: browser-like publish offers
// and answers to our subscribe offers.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sfu/sdp.hpp"

namespace parley::sfu::sdp_fixtures {

inline constexpr char kFingerprint[] =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

struct Section {
  bool video = false;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  ///< video only; with it the section offers RTX
};

// A browser-like publish offer with one sendonly section per entry, in order.
inline std::string PublishOffer(const std::vector<Section>& sections) {
  std::string bundle;
  for (size_t i = 0; i < sections.size(); ++i) bundle += " " + std::to_string(i);
  std::string sdp = "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE" + bundle + "\r\n";
  for (size_t i = 0; i < sections.size(); ++i) {
    const Section& s = sections[i];
    sdp += s.video ? "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" : "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    sdp += "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n";
    sdp += std::string("a=fingerprint:sha-256 ") + kFingerprint + "\r\n";
    sdp += "a=setup:actpass\r\na=mid:" + std::to_string(i) + "\r\na=sendonly\r\na=rtcp-mux\r\n";
    sdp += "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n";
    if (s.video) {
      sdp += "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n";
      sdp += "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
      if (s.rtx_ssrc) sdp += "a=ssrc-group:FID " + std::to_string(s.ssrc) + " " + std::to_string(s.rtx_ssrc) + "\r\n";
    } else {
      sdp += "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n";
      sdp += "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
    }
    sdp += "a=ssrc:" + std::to_string(s.ssrc) + " cname:x\r\n";
    if (s.rtx_ssrc) sdp += "a=ssrc:" + std::to_string(s.rtx_ssrc) + " cname:x\r\n";
  }
  return sdp;
}

inline const std::string kAudioVideo = PublishOffer({{false, 1001}, {true, 2001, 2002}});

// The client's answer to one of our subscribe offers.
inline std::string SubscribeAnswerTo(const std::string& offer_text) {
  auto offer = ParseSdp(offer_text);
  EXPECT_TRUE(offer.ok());
  SdpSession answer = *offer;
  answer.ice_lite = false;
  for (SdpMedia& m : answer.media) {
    if (m.direction == "sendonly") m.direction = "recvonly";
    m.ice_ufrag = "cliu";
    m.ice_pwd = "client-password-0123456789";
    m.fingerprint_algorithm = "sha-256";
    m.fingerprint = kFingerprint;
    m.setup = "active";
    m.candidates.clear();
  }
  return WriteSdp(answer);
}

}  // namespace parley::sfu::sdp_fixtures
