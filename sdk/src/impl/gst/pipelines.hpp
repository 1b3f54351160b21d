// The pipeline descriptions (gst-launch syntax) of the media the SDK sends and plays:
// sources by id, encoders and payloaders, raw caps, renderers and speakers. Text
// only: nothing here touches GStreamer, so the descriptions are tested as strings.
// Ids that come from the application (device names, displays, file paths) are always
// quoted, so they cannot add elements or properties to a description.
#pragma once

#include <cstdint>
#include <string>

#include "media/media.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

/// The RTP header extension id of transport-wide-cc in our offers (RFC 8285).
inline constexpr int kTwccId = 3;
/// The header extension id of the audio level (RFC 6464) in what we publish. Not 1:
/// webrtcbin 1.22's RED encoder puts two bytes of its own under id 1 in every packet
/// it wraps (meant as room for transport-cc), which would read as a level.
inline constexpr int kAudioLevelId = 2;
/// The header extension id of the MID (RFC 8843 §15) in published video: webrtcbin
/// writes an offer before a track's first frame without its SSRCs, and the server then
/// tells a camera from a screen share by the section their packets name.
inline constexpr int kMidId = 4;

/// `v` in double quotes, with quotes and backslashes escaped.
std::string Quoted(const std::string& v);

/// The source ids fed from outside the pipeline ("external", "file:<path>"): an appsrc
/// named "feed".
bool Fed(const std::string& id);

/// "test:tone" (440 Hz) or "test:tone:<Hz>", "test:silence", "external", "file:<path>",
/// "device" / "device:<pulse source>"; "" for an unknown id.
std::string AudioSource(const std::string& id);
/// "test:pattern", "test:bars", "external", "file:<path>", "device" / "device:<path>";
/// "" for an unknown id.
std::string VideoSource(const std::string& id);
/// The source a pipeline builds itself for `id` (a device or a synthetic one): "" for
/// the fed ids and unknown ones. What a swap or a device check can start on its own.
std::string CapturedSource(TrackKind track, const std::string& id);
/// What the speakers play, for a screen share: the PulseAudio monitor `source` names
/// ("" the default output's, "device:<pulse source>") into an appsink "systemsink"
/// (48 kHz stereo S16); "" for another id.
std::string SystemAudioCapture(const std::string& source);
/// X11 capture of a display or one window, or a region of either.
std::string ScreenSource(const media::ScreenOptions& o);

/// The caps field that makes webrtcbin offer transport-wide-cc (draft-holmer-rmcat-
/// transport-wide-cc-extensions-01) with id kTwccId.
std::string TwccCapsField();
/// Opus for an audio profile: channels, bitrate and opusenc's audio band.
struct OpusSettings {
  int channels;
  int bitrate_bps;
  const char* bandwidth;
};
OpusSettings OpusFor(const AudioEncoderConfig& c);
/// From raw audio: 48 kHz S16 into the mute volume (element "mute"), Opus (element "aenc", as the profile and scenario
/// say) and its payloader.
std::string AudioEncoder(bool muted, const AudioEncoderConfig& c);
/// Echo cancellation (with o.echo_probe), noise suppression and gain control for a
/// device microphone ("" for other sources or with all three off), ending in " ! ".
std::string AudioProcessing(const media::PublishOptions& o);
/// From raw I420 at the configured size: the encoder (element "encoder") and payloader
/// of a video track.
std::string VideoEncoder(const VideoEncoderConfig& v);
/// Raw I420 at the configured size and rate.
std::string RawVideoCaps(const VideoEncoderConfig& v);
/// From raw I420 at the configured size: scaling and frame dropping to the caps of the
/// capsfilter "vadapt" (the configured ones until congestion control changes them).
std::string AdaptiveVideo(const VideoEncoderConfig& v);

/// A renderer into a native window (element "render").
inline constexpr char kRenderSink[] = "videoconvert ! ximagesink name=render sync=false";
/// Where the mix goes while no speaker plays it ("null" after a real one): paced as a
/// speaker would be, so the mix and the echo probe keep time.
inline constexpr char kSilentSink[] = "fakesink name=speaker sync=true async=false";
/// Remote audio playout: "auto", "device" or "device:<pulse sink>" (element "speaker");
/// "" for none ("null").
std::string PlayoutSink(const std::string& playout);

}  // namespace parley::sdk::gst
