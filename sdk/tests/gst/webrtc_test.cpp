// Statistics are never waited for: a request ends once, through the engine's queue,
// with webrtcbin's reply summed or, when none came within the bound, with nothing
// measured; closing the connection ends what it still asked, and a late reply is
// harmless.
#include "impl/gst/webrtc.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "impl/gst/devices.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::gst {
namespace {

using std::chrono::milliseconds;

// The engine's queue, filled from any thread.
class Queue {
 public:
  media::Post Post() {
    return [this](std::function<void()> fn) {
      std::lock_guard<std::mutex> lock(mu_);
      fns_.push_back(std::move(fn));
      cv_.notify_all();
    };
  }
  /// Waits (bounded) until `n` closures are queued.
  bool WaitFor(size_t n, milliseconds bound = milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return fns_.size() >= n; });
  }
  size_t Run() {
    std::deque<std::function<void()>> fns;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fns.swap(fns_);
    }
    for (auto& fn : fns) fn();
    return fns.size();
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return fns_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> fns_;
};

// A get-stats reply as webrtcbin builds it: one structure per RTCStats object.
GstStructure* Reply() {
  GstStructure* out = gst_structure_new_empty("application/x-webrtc-stats");
  auto add = [out](const char* name, GstStructure* s) {
    gst_structure_set(out, name, GST_TYPE_STRUCTURE, s, nullptr);
    gst_structure_free(s);
  };
  add("outbound",
      gst_structure_new("out", "type", GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_OUTBOUND_RTP, "bytes-sent",
                        G_TYPE_UINT64, guint64{1200}, "packets-sent", G_TYPE_UINT64, guint64{10}, nullptr));
  add("inbound-a", gst_structure_new("in", "type", GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_INBOUND_RTP,
                                     "bytes-received", G_TYPE_UINT64, guint64{300}, "packets-received", G_TYPE_UINT64,
                                     guint64{3}, "packets-lost", G_TYPE_INT64, gint64{1}, "packets-repaired",
                                     G_TYPE_UINT64, guint64{4}, "jitter", G_TYPE_DOUBLE, 0.004, nullptr));
  add("inbound-b", gst_structure_new("in", "type", GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_INBOUND_RTP,
                                     "bytes-received", G_TYPE_UINT64, guint64{700}, "packets-received", G_TYPE_UINT, 7u,
                                     "packets-lost", G_TYPE_INT, 2, "jitter", G_TYPE_DOUBLE, 0.002, nullptr));
  add("remote-inbound", gst_structure_new("ri", "type", GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_REMOTE_INBOUND_RTP,
                                          "round-trip-time", G_TYPE_DOUBLE, 0.04, nullptr));
  return out;
}

class GstStats : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitMedia()); }
  Queue queue_;
};

TEST_F(GstStats, AReplyIsSummedAndPostedNeverRunInline) {
  StatsRequests requests(queue_.Post(), milliseconds(5000));
  std::vector<media::RtpTotals> got;
  requests.Ask([](GstPromise* p) { gst_promise_reply(p, Reply()); },  // at once, on this thread
               [&](media::RtpTotals t) { got.push_back(t); });
  EXPECT_TRUE(got.empty());
  ASSERT_EQ(queue_.Run(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes_sent, 1200u);
  EXPECT_EQ(got[0].packets_sent, 10u);
  EXPECT_EQ(got[0].bytes_received, 1000u);
  EXPECT_EQ(got[0].packets_received, 10u);
  EXPECT_EQ(got[0].packets_lost, 3);
  EXPECT_EQ(got[0].packets_repaired, 4) << "the retransmissions that filled a gap";
  EXPECT_DOUBLE_EQ(got[0].jitter_s, 0.004);
  EXPECT_DOUBLE_EQ(got[0].rtt_s, 0.04);
}

TEST_F(GstStats, NoReplyEndsWithNothingMeasuredAtTheBoundAndALateReplyIsHarmless) {
  StatsRequests requests(queue_.Post(), milliseconds(50));
  GstPromise* kept = nullptr;
  std::vector<media::RtpTotals> got;
  requests.Ask([&](GstPromise* p) { kept = gst_promise_ref(p); }, [&](media::RtpTotals t) { got.push_back(t); });
  ASSERT_TRUE(kept);
  ASSERT_TRUE(queue_.WaitFor(1)) << "the bound did not end the request";
  ASSERT_EQ(queue_.Run(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes_sent, 0u);
  EXPECT_EQ(got[0].packets_received, 0u);
  EXPECT_EQ(got[0].rtt_s, -1);
  gst_promise_reply(kept, Reply());  // too late: nothing more
  gst_promise_unref(kept);
  EXPECT_EQ(queue_.size(), 0u);
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(GstStats, ClosingEndsWhatIsStillAskedOnceAndPostsNothingAfter) {
  GstPromise* kept = nullptr;
  std::vector<media::RtpTotals> got;
  {
    StatsRequests requests(queue_.Post(), milliseconds(100));
    requests.Ask([&](GstPromise* p) { kept = gst_promise_ref(p); }, [&](media::RtpTotals t) { got.push_back(t); });
    EXPECT_EQ(queue_.size(), 0u);
  }
  EXPECT_EQ(queue_.size(), 1u);  // ended by the close, not run inline
  EXPECT_TRUE(got.empty());
  gst_promise_reply(kept, Reply());
  gst_promise_unref(kept);
  // Neither the reply nor the bound posts anything once closed. The bound's moment is
  // waited for (it ends on the clock's thread) without being asked to come.
  EXPECT_FALSE(queue_.WaitFor(2, milliseconds(300)));
  ASSERT_EQ(queue_.Run(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes_sent, 0u);
}

// A subscribe offer as the server writes it for a native client: video with NACK and
// RTX, audio with NACK only when the server repairs it (here the section says so or
// not, as the test needs).
std::string Offer(bool audio_nack, bool audio_red = false, bool twcc = false) {
  const std::string extmap = twcc ? std::string("a=extmap:4 ") + proto::kExtTransportCc + "\r\n" : "";
  std::string s =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "a=fingerprint:sha-256 "
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111";
  s += audio_red ? " 63" : "";
  s += "\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
       "a=rtpmap:111 OPUS/48000/2\r\n";
  s += extmap;
  if (audio_nack) s += "a=rtcp-fb:111 nack\r\n";
  if (audio_red) s += "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n";
  s += "a=ssrc:1111 msid:alice alice-audio\r\n"
       "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n"
       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
       "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
       "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
       extmap +
       "a=ssrc-group:FID 2222 3333\r\na=ssrc:2222 msid:alice alice-camera\r\na=ssrc:3333 msid:alice alice-camera\r\n";
  return s;
}

TEST(GstRepair, TheSectionsThatOfferGenericNackAreFound) {
  EXPECT_EQ(SectionsWithNack(Offer(false)), (std::set<unsigned>{1}));
  EXPECT_EQ(SectionsWithNack(Offer(true)), (std::set<unsigned>{0, 1}));
  // "nack pli" alone is a keyframe request, not a retransmission; a session-level line
  // names no section; bare newlines read as well as CRLF.
  EXPECT_TRUE(SectionsWithNack("m=video 9 X 96\na=rtcp-fb:96 nack pli\n").empty());
  EXPECT_TRUE(SectionsWithNack("a=rtcp-fb:96 nack\nm=video 9 X 96\n").empty());
  EXPECT_EQ(SectionsWithNack("m=audio 9 X 1\na=rtcp-fb:1 nack\nm=video 9 X 2\nm=video 9 X 3\na=rtcp-fb:3 nack\n"),
            (std::set<unsigned>{0, 2}));
  EXPECT_TRUE(SectionsWithNack("").empty());
  EXPECT_TRUE(SectionsWithNack("m=\na=rtcp-fb:\na=rtcp-fb:96\na=rtcp-fb:96 nack \n").empty());
}

TEST(GstRepair, TheSectionsThatOfferRedAreFound) {
  EXPECT_TRUE(SectionsWithRed(Offer(true)).empty());
  EXPECT_EQ(SectionsWithRed(Offer(false, true)), (std::set<unsigned>{0}));
  EXPECT_EQ(SectionsWithRed("m=audio 9 X 1\nm=audio 9 X 2 3\na=rtpmap:3 RED/48000\n"), (std::set<unsigned>{1}));
  EXPECT_TRUE(SectionsWithRed("a=rtpmap:63 red/48000\nm=audio 9 X 63\n").empty());  // session level
  EXPECT_TRUE(SectionsWithRed("m=\na=rtpmap:\na=rtpmap:63\na=rtpmap:63 re\na=rtpmap:63 redx\n").empty());
}

// webrtcbin answers with NACK (and RTX when offered) exactly for the sections that
// offered it, the transceivers it makes while answering included; and with RED where
// the offer has it.
TEST(GstRepair, TheAnswerAsksForRetransmissionOnlyWhereTheOfferRepairs) {
  ASSERT_TRUE(InitMedia());
  for (bool audio_nack : {false, true}) {
    bool audio_red = audio_nack;
    GstElement* pipeline = gst_pipeline_new(nullptr);
    GstElement* webrtc = MakeWebrtc({{"127.0.0.1"}, {}, false, false});
    ASSERT_TRUE(webrtc);
    gst_bin_add(GST_BIN(pipeline), webrtc);
    ReceiveRepair* repair = ReceiveRepair::Watch(webrtc);
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    std::string offer = Offer(audio_nack, audio_red);
    ASSERT_TRUE(SetDescription(webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_OFFER, offer));
    repair->Offer(webrtc, offer);
    Result<std::string> answer = CreateLocal(webrtc, false);
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ(repair->nack_on(), audio_nack ? 2 : 1);
    EXPECT_EQ(repair->red_on(), audio_red ? 1 : 0);
    EXPECT_EQ(SectionsWithNack(*answer), SectionsWithNack(offer)) << *answer;
    EXPECT_EQ(SectionsWithRed(*answer), SectionsWithRed(offer)) << *answer;
    EXPECT_NE(answer->find("rtx/90000"), std::string::npos) << *answer;
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }
}

// webrtcbin's answers leave header extensions out; ours take the transport-wide
// sequence number where the server offers it (and nowhere else), so that the server
// numbers its packets and webrtcbin reports their arrival.
TEST(GstRepair, TheAnswerTakesTheTransportWideSequenceNumberWhereOffered) {
  ASSERT_TRUE(InitMedia());
  for (bool twcc : {false, true}) {
    GstElement* pipeline = gst_pipeline_new(nullptr);
    GstElement* webrtc = MakeWebrtc({{"127.0.0.1"}, {}, false, false});
    ASSERT_TRUE(webrtc);
    gst_bin_add(GST_BIN(pipeline), webrtc);
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_TRUE(SetDescription(webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_OFFER, Offer(false, false, twcc)));
    Result<std::string> answer = CreateLocal(webrtc, false);
    ASSERT_TRUE(answer) << answer.error().message;
    const std::string line = std::string("a=extmap:4 ") + proto::kExtTransportCc;
    size_t first = answer->find(line);
    size_t second = first == std::string::npos ? first : answer->find(line, first + 1);
    if (twcc) {
      EXPECT_NE(first, std::string::npos) << *answer;
      EXPECT_NE(second, std::string::npos) << "in both sections: " << *answer;
    } else {
      EXPECT_EQ(answer->find("extmap"), std::string::npos) << *answer;
    }
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }
  // Taken once, and not in a rejected section.
  GstSDPMessage* offer = nullptr;
  GstSDPMessage* answer = nullptr;
  ASSERT_EQ(gst_sdp_message_new_from_text(Offer(false, false, true).c_str(), &offer), GST_SDP_OK);
  std::string rejected = Offer(false, false, false);
  rejected.replace(rejected.find("m=video 9"), 9, "m=video 0");
  ASSERT_EQ(gst_sdp_message_new_from_text(rejected.c_str(), &answer), GST_SDP_OK);
  EXPECT_EQ(AcceptTransportCc(answer, offer), 1);
  EXPECT_EQ(AcceptTransportCc(answer, offer), 0);
  // Nor where the answer uses the id for another extension.
  gst_sdp_message_free(answer);
  answer = nullptr;
  std::string other = Offer(false, false, false);
  other.replace(other.find("a=rtpmap:111"), 0, "a=extmap:4 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n");
  ASSERT_EQ(gst_sdp_message_new_from_text(other.c_str(), &answer), GST_SDP_OK);
  EXPECT_EQ(AcceptTransportCc(answer, offer), 1) << "the video section only";
  gst_sdp_message_free(offer);
  gst_sdp_message_free(answer);
}

}  // namespace
}  // namespace parley::sdk::gst

namespace parley::sdk::gst {
namespace {

TEST(WebrtcIce, JoinAnswerUrlsBecomeWebrtcbinUris) {
  // The credential is base64 ('+', '/', '=') and the username has a ':': both escaped,
  // so that webrtcbin splits user from password at the one ':' left.
  EXPECT_EQ(WebrtcbinIceUri("turn:10.77.0.1:3478?transport=tcp", "1800003600:alice", "jv+P/q=="),
            "turn://1800003600%3Aalice:jv%2BP%2Fq%3D%3D@10.77.0.1:3478?transport=tcp");
  EXPECT_EQ(WebrtcbinIceUri("turn:turn.example.com", "u", "p"), "turn://u:p@turn.example.com:3478");
  EXPECT_EQ(WebrtcbinIceUri("turns:turn.example.com?transport=tcp", "u", "p"), "turns://u:p@turn.example.com:5349");
  EXPECT_EQ(WebrtcbinIceUri("turn:[::1]:3478?transport=udp", "u", "p"), "turn://u:p@[::1]:3478?transport=udp");
  EXPECT_EQ(WebrtcbinIceUri("stun:stun.example.com:19302", "u", "p"), "stun://stun.example.com:19302");
  // What a hostile or broken answer could carry is dropped, never passed on.
  for (const char* bad :
       {"", "turn:", "http://x", "turn:evil@host:3478", "turn:host/path", "turn:host:99999", "turn:host:3a",
        "turn:host?transport=sctp", "turn:host?", "stun:host?transport=udp", "turn:[::1"})
    EXPECT_EQ(WebrtcbinIceUri(bad, "u", "p"), "") << bad;
}

TEST(WebrtcIce, RelayOnlyAndTurnServersReachWebrtcbin) {
  ASSERT_TRUE(InitMedia());
  media::IceSetup ice;
  ice.addresses = {"127.0.0.1"};
  ice.servers = {{{"turn:127.0.0.1:3478?transport=udp", "stun:127.0.0.1:3478"}, "1:alice", "secret"}};
  ice.relay_only = true;
  GstElement* webrtc = MakeWebrtc(ice);
  ASSERT_TRUE(webrtc);
  gst_object_ref_sink(webrtc);
  GstWebRTCICETransportPolicy policy = GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL;
  gchar* stun = nullptr;
  g_object_get(webrtc, "ice-transport-policy", &policy, "stun-server", &stun, nullptr);
  EXPECT_EQ(policy, GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY);
  ASSERT_NE(stun, nullptr);
  EXPECT_EQ(std::string(stun), "stun://127.0.0.1:3478");
  g_free(stun);
  gst_object_unref(webrtc);
}

}  // namespace
}  // namespace parley::sdk::gst
