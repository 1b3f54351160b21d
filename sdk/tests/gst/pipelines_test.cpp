// The descriptions of what the SDK sends: ids from the application cannot add
// elements or properties (they are quoted, and GStreamer reads them back whole), and
// every encoder's caps carry the transport-wide-cc extension the server negotiates.
#include "impl/gst/pipelines.hpp"

#include <gtest/gtest.h>

#include <gst/rtp/gstrtpbuffer.h>

#include <string>

#include "impl/gst/devices.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::gst {
namespace {

// The value of string property `prop` of element `name` once `desc` is parsed.
std::string PropertyAfterParse(const std::string& desc, const char* name, const char* prop) {
  GError* raw_err = nullptr;
  GstPtr<GstElement> bin = Sink(gst_parse_bin_from_description(desc.c_str(), FALSE, &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  EXPECT_FALSE(err) << desc << ": " << ErrorText(err.get());
  if (!bin) return "<no bin>";
  GstPtr<GstElement> e = Adopt(gst_bin_get_by_name(GST_BIN(bin.get()), name));
  if (!e) return "<no element>";
  gchar* raw = nullptr;
  g_object_get(e.get(), prop, &raw, nullptr);
  GstPtr<gchar> value = Adopt(raw);
  return value ? value.get() : "<unset>";
}

TEST(Pipelines, SourcesQuoteDeviceIdsAndRejectUnknownIds) {
  ASSERT_TRUE(InitMedia());
  // A hostile id stays one property value: no extra element, no extra property.
  const std::string hostile = "alsa_input.x\" ! fakesink name=injected \\ device=\"y";
  std::string mic = AudioSource("device:" + hostile);
  EXPECT_EQ(mic.rfind("pulsesrc name=microphone device=\"", 0), 0u) << mic;
  EXPECT_EQ(PropertyAfterParse(mic, "microphone", "device"), hostile);
  EXPECT_EQ(PropertyAfterParse(mic + " ! fakesink name=out", "injected", "name"), "<no element>");
  std::string cam = VideoSource("device:/dev/video9 name=other");
  EXPECT_EQ(PropertyAfterParse(cam, "camera", "device"), "/dev/video9 name=other");
  media::ScreenOptions screen;
  screen.display = ":99\" ! fakesink";
  screen.window_id = 42;
  std::string x = ScreenSource(screen);
  EXPECT_EQ(PropertyAfterParse(x, "screen", "display-name"), screen.display);
  EXPECT_NE(x.find(" xid=42 "), std::string::npos) << x;

  // The known ids, and the frequency of a test tone (digits and '.' only).
  EXPECT_EQ(AudioSource("test:tone"), "audiotestsrc is-live=true wave=sine volume=0.3 freq=440");
  EXPECT_EQ(AudioSource("test:tone:880.5"), "audiotestsrc is-live=true wave=sine volume=0.3 freq=880.5");
  EXPECT_EQ(AudioSource("test:silence"), "audiotestsrc is-live=true wave=silence");
  EXPECT_EQ(AudioSource("device"), "pulsesrc name=microphone");
  EXPECT_EQ(VideoSource("device"), "v4l2src name=camera ! videoconvert");
  EXPECT_NE(AudioSource("external").find("appsrc name=feed"), std::string::npos);
  EXPECT_NE(VideoSource("file:/tmp/a b.mp4").find("appsrc name=feed"), std::string::npos);
  EXPECT_TRUE(Fed("file:x") && Fed("external") && !Fed("device") && !Fed("files:x"));

  // Anything else is refused (empty), never passed on.
  for (const char* id : {"", "mic", "test:tone:440 ! fakesink", "test:tone:-1", "Device", "test:pattern2"}) {
    EXPECT_EQ(AudioSource(id), "") << id;
    EXPECT_EQ(VideoSource(id), "") << id;
  }
  EXPECT_EQ(PlayoutSink("null"), "");
  EXPECT_EQ(PlayoutSink("speakers"), "");
  EXPECT_EQ(PropertyAfterParse(PlayoutSink("device:out\" x=1"), "speaker", "device"), "out\" x=1");
}

// The caps of the payloader's capsfilter in `desc`, as GStreamer reads them.
std::string TwccOf(const std::string& desc) {
  GError* raw_err = nullptr;
  GstPtr<GstElement> bin = Sink(gst_parse_bin_from_description(desc.c_str(), FALSE, &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  EXPECT_FALSE(err) << desc << ": " << ErrorText(err.get());
  if (!bin) return "<no bin>";
  std::string found = "<no extmap-3>";  // H.264's profile caps are a capsfilter too
  GstIterator* it = gst_bin_iterate_elements(GST_BIN(bin.get()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::string(GST_OBJECT_NAME(f)) == "capsfilter") {
      GstCaps* raw_caps = nullptr;
      g_object_get(e, "caps", &raw_caps, nullptr);
      GstPtr<GstCaps> caps = Adopt(raw_caps);
      const gchar* v = caps ? gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "extmap-3") : nullptr;
      if (v) found = v;
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

TEST(Pipelines, EncodersCarryTheTwccExtmap) {
  ASSERT_TRUE(InitMedia());
  EXPECT_EQ(kTwccId, 3);
  VideoEncoderConfig vp8;
  vp8.codec = VideoCodec::kVp8;
  VideoEncoderConfig h264 = vp8;
  h264.codec = VideoCodec::kH264;
  EXPECT_EQ(TwccOf(VideoEncoder(vp8)), proto::kExtTransportCc);
  // Video names its section (MID), which the server tells a camera from a screen by.
  EXPECT_NE(VideoEncoder(vp8).find("extmap-4=(string)\"" + std::string(proto::kExtMid) + "\""), std::string::npos);
  EXPECT_EQ(TwccOf(AudioEncoder(false, {})), proto::kExtTransportCc);
  EXPECT_EQ(TwccOf(AudioEncoder(true, {})), proto::kExtTransportCc);
  if (GstPtr<GstElementFactory> x264 = Adopt(gst_element_factory_find("x264enc"))) {
    EXPECT_EQ(TwccOf(VideoEncoder(h264)), proto::kExtTransportCc);
  }
  // The encoders follow the configuration.
  vp8.bitrate_kbps = 700;
  vp8.fps = 12;
  EXPECT_NE(VideoEncoder(vp8).find("target-bitrate=700000 keyframe-max-dist=24"), std::string::npos);
  EXPECT_NE(AudioEncoder(true, {}).find("volume name=mute mute=true !"), std::string::npos);
  EXPECT_EQ(AudioEncoder(false, {}).find("mute=true"), std::string::npos);
  vp8.width = 320;
  vp8.height = 240;
  EXPECT_EQ(RawVideoCaps(vp8), "video/x-raw,format=I420,width=320,height=240,framerate=12/1");
}

// What AudioEncoder sends for 2 s of audiotestsrc's `wave` (in `channels`), encoded
// as fast as GStreamer can: RTP packets, their payload bytes and the payloader's caps
// (packets -1: the pipeline failed).
struct Encoded {
  int packets = 0;
  size_t bytes = 0;
  std::string caps;
};

Encoded AudioEncodedFor(const char* wave, const AudioEncoderConfig& config = {}, int channels = 1) {
  const std::string desc = std::string("audiotestsrc num-buffers=100 samplesperbuffer=960 wave=") + wave +
                           " ! audio/x-raw,rate=48000,channels=" + std::to_string(channels) + " ! " +
                           AudioEncoder(false, config) + " ! fakesink name=out signal-handoffs=true sync=false";
  GError* raw_err = nullptr;
  GstPtr<GstElement> pipeline = Sink(gst_parse_launch(desc.c_str(), &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  Encoded e;
  if (!pipeline || err) {
    ADD_FAILURE() << desc << ": " << ErrorText(err.get());
    e.packets = -1;
    return e;
  }
  GstPtr<GstElement> out = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  g_signal_connect(out.get(), "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad*, gpointer p) {
                     auto* enc = static_cast<Encoded*>(p);
                     ++enc->packets;
                     GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
                     if (gst_rtp_buffer_map(b, GST_MAP_READ, &rtp)) {
                       enc->bytes += gst_rtp_buffer_get_payload_len(&rtp);
                       gst_rtp_buffer_unmap(&rtp);
                     }
                   }),
                   &e);
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  GstPtr<GstBus> bus = Adopt(gst_element_get_bus(pipeline.get()));
  GstMessage* msg = gst_bus_timed_pop_filtered(bus.get(), 10 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const bool eos = msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
  if (msg) gst_message_unref(msg);
  GstPtr<GstElement> pay = Adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "apay"));
  GstPtr<GstPad> src = Adopt(gst_element_get_static_pad(pay.get(), "src"));
  if (GstPtr<GstCaps> caps = Adopt(gst_pad_get_current_caps(src.get()))) {
    gchar* text = gst_caps_to_string(caps.get());
    e.caps = text;
    g_free(text);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_TRUE(eos) << wave << ": the encoder did not finish";
  if (!eos) e.packets = -1;
  return e;
}

// Discontinuous transmission (the server's answer asks for usedtx=1): in silence the
// sender pauses, after 200 ms, to one comfort-noise packet per 400 ms; sound is sent
// every 20 ms. Music is never paused.
TEST(Pipelines, TheAudioEncoderPausesInSilence) {
  ASSERT_TRUE(InitMedia());
  EXPECT_GE(AudioEncodedFor("sine").packets, 99);
  const int silent = AudioEncodedFor("silence").packets;
  EXPECT_GE(silent, 1);
  EXPECT_LE(silent, 20);
  EXPECT_GE(AudioEncodedFor("silence", {AudioProfile::kHighQuality, AudioScenario::kMusic}).packets, 99);
}

// Each audio profile encodes at its bitrate (noise keeps the encoder at its target),
// in its channels: a stereo profile's payloader says sprop-stereo=1, which the server
// reads, a mono one sprop-stereo=0.
TEST(Pipelines, AudioProfilesSetTheBitrateAndTheChannels) {
  ASSERT_TRUE(InitMedia());
  struct Expect {
    AudioProfile profile;
    int kbps;
    bool stereo;
  };
  for (const Expect& x :
       {Expect{AudioProfile::kLowQuality, 12, false}, Expect{AudioProfile::kBasicQuality, 24, false},
        Expect{AudioProfile::kHighQuality, 32, false}, Expect{AudioProfile::kStereoHighQuality, 64, true},
        Expect{AudioProfile::kSuperHighQuality, 96, false}, Expect{AudioProfile::kStereoSuperHighQuality, 128, true}}) {
    SCOPED_TRACE(static_cast<int>(x.profile));
    Encoded e = AudioEncodedFor("white-noise", {x.profile, AudioScenario::kMusic}, 2);
    ASSERT_GE(e.packets, 99);
    const double kbps = static_cast<double>(e.bytes) * 8 / 2.0 / 1000.0;
    // Constrained VBR: at or somewhat under the target (narrowband noise takes less).
    EXPECT_GT(kbps, x.kbps * 0.7) << e.caps;
    EXPECT_LT(kbps, x.kbps * 1.15) << e.caps;
    EXPECT_NE(e.caps.find(x.stereo ? "sprop-stereo=(string)1" : "sprop-stereo=(string)0"), std::string::npos) << e.caps;
    EXPECT_EQ(OpusFor({x.profile, AudioScenario::kSpeech}).channels, x.stereo ? 2 : 1);
  }
  // Speech is coded as voice, music as general audio.
  EXPECT_NE(AudioEncoder(false, {}).find("audio-type=voice"), std::string::npos);
  EXPECT_NE(AudioEncoder(false, {AudioProfile::kLowQuality, AudioScenario::kMusic}).find("audio-type=generic"),
            std::string::npos);
}

}  // namespace
}  // namespace parley::sdk::gst
