#include "impl/gst/pipelines.hpp"

#include <sstream>

#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::gst {
namespace {

// Media from outside the pipeline (the application's frames, a FilePlayer) enters
// through an appsrc the InputFeed stamps; audio is then played out in real time.
// Video sources have no videorate: one that makes a stream's rate regular holds each
// frame until the next arrives (a frame of delay: 33 ms at 30 fps). Sources name the
// track's rate in their caps (the feed as it is attached, the screen by negotiation)
// and AdaptiveVideo thins faster input as it arrives (rate_thinner.hpp).
constexpr char kAudioFeed[] = "appsrc name=feed format=time is-live=true ! clocksync";
constexpr char kVideoFeed[] = "appsrc name=feed format=time is-live=true ! videoconvert ! videoscale";

}  // namespace

bool Fed(const std::string& id) {
  return id == "external" || id.rfind("file:", 0) == 0;
}

std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string AudioSource(const std::string& id) {
  if (id.rfind("test:tone", 0) == 0) {
    std::string freq = id.size() > 10 ? id.substr(10) : "440";
    if (freq.find_first_not_of("0123456789.") != std::string::npos) return "";
    return "audiotestsrc is-live=true wave=sine volume=0.3 freq=" + freq;
  }
  if (id == "test:silence") return "audiotestsrc is-live=true wave=silence";
  if (Fed(id)) return kAudioFeed;
  if (id == "device") return "pulsesrc name=microphone";
  if (id.rfind("device:", 0) == 0) return "pulsesrc name=microphone device=" + Quoted(id.substr(7));
  return "";
}

std::string VideoSource(const std::string& id) {
  if (id == "test:pattern") return "videotestsrc is-live=true pattern=ball";
  if (id == "test:bars") return "videotestsrc is-live=true pattern=smpte";
  if (Fed(id)) return kVideoFeed;
  if (id == "device") return "v4l2src name=camera ! videoconvert";
  if (id.rfind("device:", 0) == 0) return "v4l2src name=camera device=" + Quoted(id.substr(7)) + " ! videoconvert";
  return "";
}

std::string CapturedSource(TrackKind track, const std::string& id) {
  if (Fed(id)) return "";
  return track == TrackKind::kAudio ? AudioSource(id) : VideoSource(id);
}

std::string ScreenSource(const media::ScreenOptions& o) {
  std::string d = "ximagesrc name=screen use-damage=false show-pointer=true";
  if (!o.display.empty()) d += " display-name=" + Quoted(o.display);
  if (o.window_id) d += " xid=" + std::to_string(o.window_id);
  if (o.region_width > 0 && o.region_height > 0)  // ximagesrc's end coordinates are the last pixel's
    d += " startx=" + std::to_string(o.region_x) + " starty=" + std::to_string(o.region_y) +
         " endx=" + std::to_string(o.region_x + o.region_width - 1) +
         " endy=" + std::to_string(o.region_y + o.region_height - 1);
  return d + " ! videoconvert ! videoscale";
}

std::string SystemAudioCapture(const std::string& source) {
  std::string device = "@DEFAULT_MONITOR@";
  if (source.rfind("device:", 0) == 0 && source.size() > 7) {
    device = source.substr(7);
  } else if (!source.empty()) {
    return "";
  }
  return "pulsesrc name=systemaudio device=" + Quoted(device) +
         " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2 ! "
         "appsink name=systemsink sync=false emit-signals=true max-buffers=50 drop=true";
}

std::string TwccCapsField() {
  return std::string(",extmap-") + std::to_string(kTwccId) + "=(string)\"" + proto::kExtTransportCc + "\"";
}

std::string MidCapsField() {
  return std::string(",extmap-") + std::to_string(kMidId) + "=(string)\"" + proto::kExtMid + "\"";
}

std::string AudioProcessing(const media::PublishOptions& o) {
  AudioProcessingConfig p = o.processing;
  if (o.audio_config.scenario == AudioScenario::kMusic) p.noise_suppression = p.auto_gain_control = false;
  const bool echo = p.echo_cancellation && !o.echo_probe.empty();
  if (o.audio_source.rfind("device", 0) != 0 || !(echo || p.noise_suppression || p.auto_gain_control)) return "";
  auto on = [](bool b) { return b ? "true" : "false"; };
  // The library works on 10 ms frames of 48 kHz mono here, as the probe hears the
  // playout. The echo's delay comes from the two pipelines' timestamps and latencies
  // (one clock): the library's own delay estimate (delay-agnostic) lost track of a
  // steady tone, taking out 7 dB of it where the timestamps take out 35.
  std::string d = std::string("audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! ") +
                  "webrtcdsp name=dsp delay-agnostic=false echo-cancel=" + on(echo) +
                  " noise-suppression=" + on(p.noise_suppression) + " gain-control=" + on(p.auto_gain_control);
  if (echo) d += " probe=" + Quoted(o.echo_probe);
  return d + " ! ";
}

OpusSettings OpusFor(const AudioEncoderConfig& c) {
  switch (c.profile) {
    case AudioProfile::kLowQuality: return {1, 12000, "narrowband"};
    case AudioProfile::kBasicQuality: return {1, 24000, "wideband"};
    case AudioProfile::kHighQuality: return {1, 32000, "fullband"};
    case AudioProfile::kStereoHighQuality: return {2, 64000, "fullband"};
    case AudioProfile::kSuperHighQuality: return {1, 96000, "fullband"};
    case AudioProfile::kStereoSuperHighQuality: return {2, 128000, "fullband"};
  }
  return {1, 32000, "fullband"};
}

std::string AudioEncoder(bool muted, const AudioEncoderConfig& c) {
  const OpusSettings opus = OpusFor(c);
  const bool speech = c.scenario == AudioScenario::kSpeech;
  const char* dtx = speech ? "true" : "false";
  // level measures each buffer after the mute (a muted microphone is silent) and
  // attaches the level for the payloader's RFC 6464 header extension (Publisher adds it).
  // The payloader's caps say how many channels are sent (sprop-stereo, RFC 7587), and
  // so does the offer, which webrtcbin may write before any audio went through: the
  // filter names them. The server's subscribe offers pass a stereo stream on as such.
  // The mute's input is 48 kHz S16 (any channels): the accompaniment is added there
  // (Publisher's probe), so the mute, the level and the encoder see the mix.
  return std::string(
             "audioconvert ! audioresample ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000 ! "
             "volume name=mute") +
         (muted ? " mute=true" : "") +
         " ! level name=alevel audio-level-meta=true post-messages=false ! audioconvert ! audio/x-raw,channels=" +
         std::to_string(opus.channels) + " ! opusenc name=aenc inband-fec=true dtx=" + dtx +
         " bitrate=" + std::to_string(opus.bitrate_bps) + " bandwidth=" + opus.bandwidth +
         " audio-type=" + (speech ? "voice" : "generic") + " ! rtpopuspay name=apay pt=111 dtx=" + dtx +
         " ! capsfilter name=acaps "
         "caps=\"application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
         "encoding-params=(string)2,sprop-stereo=(string)" +
         (opus.channels == 2 ? "1" : "0") + TwccCapsField() + "\"";
}

// Media payload types stay out of 96-101: webrtcbin gives each RTX, RED and ULPFEC
// stream the lowest number no pad uses when it writes an offer, and a track published
// later (video after audio, the screen after the camera) must not find its number
// taken by an earlier track's, or the server, which matches packets by payload type
// until it learns their SSRCs, takes one stream for the other. Audio's RED, ULPFEC and
// two RTX streams take 96-99, the camera's and the screen's RTX 100 and 101.
std::string VideoEncoder(const VideoEncoderConfig& v) {
  std::ostringstream d;
  if (v.codec == VideoCodec::kH264) {
    d << "x264enc name=encoder tune=zerolatency speed-preset=ultrafast bitrate=" << v.bitrate_kbps
      << " key-int-max=" << v.fps * 2
      << " ! video/x-h264,profile=constrained-baseline,level=(string)3.1 ! h264parse ! rtph264pay name=vpay pt=102 "
         "config-interval=-1 "
         "aggregate-mode=zero-latency ! capsfilter caps=\"application/x-rtp,media=video,encoding-name=H264,"
         "payload=102,clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42c01f"
      << TwccCapsField() << MidCapsField() << "\"";
  } else {
    d << "vp8enc name=encoder deadline=1 cpu-used=16 end-usage=cbr target-bitrate=" << v.bitrate_kbps * 1000
      << " keyframe-max-dist=" << v.fps * 2
      << " error-resilient=partitions ! rtpvp8pay name=vpay pt=104 picture-id-mode=15-bit ! capsfilter caps=\""
         "application/x-rtp,media=video,encoding-name=VP8,payload=104,clock-rate=90000"
      << TwccCapsField() << MidCapsField() << "\"";
  }
  return d.str();
}

std::string RawVideoCaps(const VideoEncoderConfig& v) {
  return "video/x-raw,format=I420,width=" + std::to_string(v.width) + ",height=" + std::to_string(v.height) +
         ",framerate=" + std::to_string(v.fps) + "/1";
}

std::string AdaptiveVideo(const VideoEncoderConfig& v) {
  // Frames are thinned before `thin` (rate_thinner.hpp); videorate converts the caps.
  return "videoscale ! videorate name=thin drop-only=true ! capsfilter name=vadapt caps=\"" + RawVideoCaps(v) + "\"";
}

std::string PlayoutSink(const std::string& p) {
  const std::string play = "audioconvert ! audioresample ! ";
  // Played in time with the mix (Playout), so that the echo probe before the speaker
  // knows when each sample leaves it.
  if (p == "auto") return play + "autoaudiosink name=speaker";
  if (p == "device") return play + "pulsesink name=speaker";
  if (p.rfind("device:", 0) == 0) return play + "pulsesink name=speaker device=" + Quoted(p.substr(7));
  return "";
}

}  // namespace parley::sdk::gst
