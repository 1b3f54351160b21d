// Value types of the libparley engine API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley {

// AuthInfo (app, channel, user, nonce, timestamp = the token's expiry, token) is the
// one of parley/proto/token.hpp: what the app server minted is what JoinChannel takes.
// Required: app_id, channel_id, user_id, token and timestamp > 0 (else 0x01030101);
// the nonce may be empty.

// ChannelProfile, ClientRole and TrackKind are the protocol's words, declared once in
// parley/proto/vocabulary.hpp so the server and the SDK cannot drift apart.
enum class VideoCodec : uint8_t { kVp8, kH264 };

/// What gives way when the network cannot carry the configured video. The encoder's
/// bitrate always follows the sender's bandwidth estimate; when the bits per pixel get
/// too few, the resolution or the frame rate is lowered as well, and restored once the
/// estimate allows it again.
enum class DegradationPreference : uint8_t {
  kMaintainFramerate,   ///< keep fluency: lower the resolution first (calls; the default)
  kMaintainResolution,  ///< keep clarity: lower the frame rate first (slides, documents)
  kBalanced,            ///< some of each, in turn
};

/// How local video is encoded. Validated by the engine (0x01010405).
struct VideoEncoderConfig {
  int width = 640;
  int height = 360;
  int fps = 30;
  int bitrate_kbps = 800;  ///< the ceiling: the sender goes below it when the network asks
  VideoCodec codec = VideoCodec::kVp8;
  DegradationPreference degradation_preference = DegradationPreference::kMaintainFramerate;
};

/// Audio processing ("3A") on a device microphone, by the WebRTC audio processing
/// library (GStreamer's webrtcdsp). Echo cancellation subtracts what the speaker
/// played, so it works while remote audio plays through the engine (audio_playout not
/// "null"); test, file and external sources are never processed.
struct AudioProcessingConfig {
  bool echo_cancellation = true;
  bool noise_suppression = true;
  bool auto_gain_control = true;
};

/// What the published audio is for: the Opus encoder's channels, audio band and
/// bitrate. The numbers are ARTC's, so a ported app's values carry over.
enum class AudioProfile : uint8_t {
  kLowQuality = 0,              ///< mono, narrowband (up to 4 kHz), 12 kbps
  kBasicQuality = 1,            ///< mono, wideband (up to 8 kHz), 24 kbps
  kHighQuality = 2,             ///< mono, fullband (up to 20 kHz), 32 kbps (the default)
  kStereoHighQuality = 3,       ///< stereo, fullband, 64 kbps
  kSuperHighQuality = 4,        ///< mono, fullband, 96 kbps
  kStereoSuperHighQuality = 5,  ///< stereo, fullband, 128 kbps
};

/// What the microphone mostly carries.
enum class AudioScenario : uint8_t {
  /// Speech: Opus in its voice mode, silence sent as comfort noise (DTX), noise
  /// suppression and gain control as AudioProcessingConfig says.
  kSpeech = 0,
  /// Music: Opus in its general-audio mode, no DTX, no noise suppression and no gain
  /// control (they take music for noise and pump its dynamics); echo cancellation
  /// stays as configured.
  kMusic = 1,
};

/// Published audio's encoding (Engine::SetAudioProfile changes it during a call: the
/// audio is published again on a new connection, as with a new video configuration).
/// A stereo profile carries two channels from a stereo source (an external or file
/// source, or a device microphone without echo cancellation, which works in mono);
/// subscribers receive, and the engine plays, what was sent.
struct AudioEncoderConfig {
  AudioProfile profile = AudioProfile::kHighQuality;
  AudioScenario scenario = AudioScenario::kSpeech;
};

struct EngineConfig {
  /// Signalling URL of parleyd, e.g. "ws://127.0.0.1:7080/v1/signal" (http:// works too).
  std::string server_url;
  /// Local addresses ICE may use (default: 127.0.0.1 only when the server is on loopback,
  /// else every address libnice finds). UPnP is never used.
  std::vector<std::string> ice_addresses;
  /// Media only through the TURN relays the server hands out with the join (WebRTC's
  /// iceTransportPolicy "relay"): for networks where nothing but the relay gets
  /// through, or to keep the client's addresses from the server. Without relays in the
  /// join answer no media connection can work (0x01050201).
  bool relay_only = false;
  /// Where published audio and camera video come from (ids as EnumerateDevices lists):
  ///  - "device" (the default microphone / camera) or "device:<id>" (a PulseAudio
  ///    source name, a V4L2 device path such as /dev/video0);
  ///  - "test:tone" (440 Hz), "test:tone:<Hz>", "test:silence", "test:pattern"
  ///    (moving ball), "test:bars" — synthetic, for headless use;
  ///  - "file:<path>": a media file (see PauseMediaFile and friends); audio and video
  ///    from a file must be the same file;
  ///  - "external": the application pushes frames (PushExternalAudioFrame/VideoFrame);
  ///  - "null": publish nothing of that kind.
  std::string audio_source = "test:tone";
  std::string video_source = "test:pattern";
  /// Where remote audio plays: "null" (nowhere; frames still reach the observer),
  /// "auto" (the system default), "device" or "device:<PulseAudio sink name>".
  std::string audio_playout = "null";
  /// Echo cancellation, noise suppression and gain control of a device microphone.
  AudioProcessingConfig audio_processing;
  /// Channels, band, bitrate and scenario of published audio.
  AudioEncoderConfig audio;
  /// When set, every received stream is also written, as received (no re-encoding),
  /// to <record_dir>/<user>-<audio|camera|screen>.<ogg|webm|mkv> (Opus in Ogg, VP8 in
  /// WebM, H.264 in Matroska); a second stream of the same name gets "-2" and so on.
  /// Files are finished (durations, indexes) when the call ends.
  std::string record_dir;
  VideoEncoderConfig video;
  /// Dual stream (ARTC's publishLocalDualStream), on by default: the camera is also
  /// published as a small layer, for subscribers on a thin link or showing it small
  /// (SetRemoteVideoStreamType). The server pauses a layer nobody watches, and the
  /// engine stops encoding it until someone does: in a call where every subscriber
  /// receives the big layer (as in ARTC, the default) the small one costs its first two
  /// seconds, and in a multi-party channel it serves whoever needs it. A camera no
  /// wider than small_video goes as one stream. Engine::EnableDualStreamMode switches
  /// it during a call (the camera is published again).
  bool dual_stream = true;
  /// The small layer: its width (the height follows the camera's aspect ratio), frame
  /// rate and bitrate ceiling, never above the camera's; with a camera no wider, the
  /// camera goes as one stream.
  VideoEncoderConfig small_video{320, 180, 15, 200};
  /// Publish audio and camera right after joining (as broadcaster).
  bool auto_publish = true;
  /// Subscribe to every remote user's tracks as they appear.
  bool auto_subscribe = true;
  ChannelProfile profile = ChannelProfile::kCommunication;
  ClientRole role = ClientRole::kBroadcaster;
  /// Request timeout for signalling (ms).
  int request_timeout_ms = 10000;
  /// How long to keep reconnecting and resuming the session after the signalling
  /// link drops (media keeps flowing meanwhile); 0 ends the call at once. The server
  /// keeps a dropped session for its grace period (default 10 s).
  int reconnect_timeout_ms = 10000;
  /// Log level: "trace", "debug", "info", "warn" (default), "error", "off". The
  /// environment variable PARLEY_LOG_LEVEL overrides it.
  std::string log_level = "warn";
  /// When set, the log also goes to <log_dir>/parley.log (created if needed).
  std::string log_dir;
};

/// A decoded video frame in I420 (three planes, tightly packed: Y w*h, U and V
/// (w/2)*(h/2)). Valid only during the callback.
struct VideoFrame {
  int width = 0;
  int height = 0;
  int64_t timestamp_us = 0;  ///< presentation time, microseconds
  const uint8_t* data = nullptr;
  size_t size = 0;
};

/// Decoded audio: interleaved signed 16-bit PCM. Valid only during the callback.
struct AudioFrame {
  int sample_rate = 48000;
  int channels = 1;
  size_t samples = 0;  ///< per channel
  const int16_t* data = nullptr;
};

/// The engine's media statistics, reported every few seconds (OnStats).
struct EngineStats {
  int send_kbps = 0;          ///< publish connection, all tracks, over the last interval
  int receive_kbps = 0;       ///< subscribe connection, all tracks
  double loss_rate = 0;       ///< received packets lost / expected, over the interval (0..1)
  int rtt_ms = -1;            ///< publish round-trip time from the server's reports (-1: unknown)
  int jitter_ms = 0;          ///< largest inbound jitter
  int video_fps = 0;          ///< remote video frames decoded per second, all streams
  int width = 0, height = 0;  ///< size of the last remote video frame
  /// The worse of the local user's up and down NetworkQuality (0 excellent .. 4 very
  /// bad, 5 down; 6 while neither direction is measured).
  int quality = 6;
  /// Remote audio since the call began, in 48 kHz samples (all remote users together):
  /// what reached the decoders, and the part they concealed for packets that never
  /// arrived, even after retransmission, and that the next packet's in-band FEC could
  /// not restore. Their ratio is the W3C concealedSamples / totalSamplesReceived.
  uint64_t audio_samples_received = 0;
  uint64_t audio_samples_concealed = 0;
  /// The sender's bandwidth estimate from the server's feedback (0: none yet, or
  /// nothing published).
  int send_estimate_kbps = 0;
  /// The busiest video encoder's share of wall-clock time, last second (0..100+).
  /// Sustained above 85 the device cannot keep up: 0x01060101, and the video is
  /// lowered until it can (0x01060102 once it is back).
  int encoder_usage_percent = 0;
  /// How long the jitter buffers hold remote media back, waiting for missing packets
  /// and their retransmissions, in ms: 200, and 400 while the downlink is lossy
  /// (0: nothing received yet).
  int jitter_buffer_ms = 0;
  /// How media reaches the server (the publish connection's ICE pair, else the
  /// subscribe connection's): "udp"; "tcp" where UDP is blocked (ICE-TCP, RFC 6544);
  /// "relay" through a TURN server (webrtcbin 1.22 does not say over what it reaches
  /// the relay; parley.js says "relay/udp", "relay/tcp" or "relay/tls"); "" before
  /// either is connected.
  std::string transport;
};

/// What the screen track captures (X11, through ximagesrc).
/// What can be shared (RtcEngine::EnumerateScreenShareSources).
enum class ScreenSourceKind : uint8_t { kScreen, kWindow };
struct ScreenSourceInfo {
  ScreenSourceKind kind = ScreenSourceKind::kScreen;
  uint64_t id = 0;    ///< the X screen's number, or the window's id (ScreenShareConfig::window_id)
  std::string title;  ///< the window's name ("Screen <n>" for a screen)
  int x = 0, y = 0, width = 0, height = 0;  ///< on its screen
};

struct ScreenShareConfig {
  std::string display;     ///< X display, e.g. ":0"; empty: $DISPLAY
  uint64_t window_id = 0;  ///< an X window id to capture; 0: the whole screen
  /// A region of the screen or window (its top-left corner and size); width 0: all
  /// of it. Even sizes of 16 or more, inside what is shared.
  int region_x = 0, region_y = 0, region_width = 0, region_height = 0;
  /// What the speakers play (the PulseAudio monitor of `audio_source`, "": the
  /// default output's; or "device:<pulse source>") mixed into the published audio
  /// track while sharing. The call's own playout is part of what a monitor hears.
  bool share_audio = false;
  std::string audio_source;
  int width = 1280;
  int height = 720;
  int fps = 15;
  int bitrate_kbps = 1500;
  VideoCodec codec = VideoCodec::kVp8;
  /// Text on a screen must stay legible: by default the frame rate gives way first.
  DegradationPreference degradation_preference = DegradationPreference::kMaintainResolution;
};

/// The engine's link to the server (OnConnectionStatusChanged).
enum class ConnectionStatus : uint8_t { kDisconnected, kConnecting, kConnected, kReconnecting, kFailed };

/// Network quality of one direction (OnNetworkQualityChanged), on ARTC's
/// AliEngineNetworkQuality scale so a ported application reads the same numbers; the
/// C ABI's PARLEY_QUALITY_* have the same values. 0..5 grow worse; 6 is not a grade.
enum class NetworkQuality : uint8_t {
  kExcellent = 0,
  kGood = 1,
  kPoor = 2,
  kBad = 3,
  kVeryBad = 4,
  kDown = 5,     ///< disconnected
  kUnknown = 6,  ///< nothing measured yet
};

/// What StartLastMileDetect measures: each direction at the rate the application means
/// to use (kbit/s, 100..10000; the probe sends that much for 2 s and reports what got
/// through).
struct LastMileProbeConfig {
  bool probe_uplink = true;
  bool probe_downlink = true;
  int expected_uplink_kbps = 1000;
  int expected_downlink_kbps = 1000;
};

enum class LastMileProbeState : uint8_t {
  kComplete = 1,     ///< every direction asked for was measured
  kIncomplete = 2,   ///< the round trip was measured, a direction's data never arrived
  kUnavailable = 3,  ///< nothing was measured (the result's code says why)
};

/// One direction of a last-mile probe.
struct LastMileProbeOneWay {
  int packet_loss_percent = 0;       ///< of the probe's packets, lost (0..100)
  int jitter_ms = 0;                 ///< RFC 3550 interarrival jitter
  int available_bandwidth_kbps = 0;  ///< what arrived per second, at most about what was sent
};

struct LastMileProbeResult {
  LastMileProbeState state = LastMileProbeState::kUnavailable;
  LastMileProbeOneWay uplink, downlink;  ///< zeros for a direction not probed
  int rtt_ms = 0;                        ///< median round trip of the probe's echoes on an idle path
};

/// One GStreamer element the engine uses (RtcEngine::CheckMediaPlugins).
struct MediaPluginInfo {
  std::string element;    ///< the element factory, e.g. "webrtcbin"
  std::string package;    ///< the Debian package that ships it
  std::string purpose;    ///< what it does for the engine
  bool required = false;  ///< without it the engine does not start (0x01010103)
  bool present = false;
};

enum class DeviceKind : uint8_t { kMicrophone, kSpeaker, kCamera };

/// A capture or playout device; `id` is what audio_source / video_source /
/// audio_playout take after "device:".
struct DeviceInfo {
  DeviceKind kind = DeviceKind::kMicrophone;
  std::string id;
  std::string name;
  bool is_default = false;
};

/// What happened to a device (OnDeviceStateChanged).
enum class DeviceState : uint8_t { kAdded, kRemoved };

/// Where a media file being published is.
enum class MediaFileState : uint8_t { kPlaying, kPaused, kEnded };

/// Where the accompaniment is (OnAudioAccompanyStateChanged).
enum class AudioAccompanyState : uint8_t { kStarted, kStopped, kPaused, kResumed, kEnded, kFailed };

/// StartAudioAccompany's choices.
struct AudioAccompanyConfig {
  bool local_play = true;    ///< heard through the local playout too
  bool replace_mic = false;  ///< the microphone is not sent while the file plays
  int loop_cycles = 1;       ///< how many times the file plays (1..); -1 for ever
  int64_t start_position_ms = 0;
  int publish_volume = 100;  ///< 0..100, in what is published
  int playout_volume = 100;  ///< 0..100, in the local playout
};

/// One user's audio volume in OnAudioVolumeIndication: 0..255, 0 at -60 dBov or
/// quieter (or muted), 255 at 0 dBov, linear in dB between. `user_id` is empty for the
/// local microphone.
struct AudioVolumeInfo {
  std::string user_id;
  int volume = 0;
};

/// The data connection's state (OnDataChannelStateChanged): EnableDataMessages(true)
/// in a call opens it; a failure is reported (0x0F070005) and it opens again.
enum class DataChannelState : uint8_t { kClosed = 0, kConnecting = 1, kOpen = 2, kFailed = 3 };

/// Where the time from JoinChannel to the first remote picture goes
/// (OnStartupPhase): each phase is reported once per JoinChannel, when it is reached.
enum class StartupPhase : uint8_t {
  kJoined = 0,             ///< the server accepted the join
  kPublishAnswered = 1,    ///< the server answered the first publish offer
  kSubscribeOffered = 2,   ///< the server's first subscribe offer arrived
  kSubscribeAnswered = 3,  ///< ... and its answer was sent
  kIceConnected = 4,       ///< the subscribe connection's ICE found a path
  kDtlsConnected = 5,      ///< ... and its DTLS handshake finished: media can flow
  kFirstRtp = 6,           ///< the first remote video's first packets arrived
  kFirstFrame = 7,         ///< the first remote video frame was decoded
};
/// The phase's name as `parley join --json` and the browser SDK spell it:
/// "joined", "publishAnswered", "subscribeOffered", "subscribeAnswered",
/// "iceConnected", "dtlsConnected", "firstRtp", "firstFrame".
std::string_view Name(StartupPhase phase);

/// How one data message is sent (SendDataMessage) or was sent (OnDataMessage).
struct DataMessageOptions {
  bool text = false;     ///< UTF-8 text (without U+0000) rather than bytes
  bool reliable = true;  ///< false: never retransmitted (a late message is worth nothing)
  bool ordered = true;   ///< false: delivered as it arrives
};

struct RemoteUser {
  std::string user_id;
  std::string user_name;
  std::vector<TrackKind> tracks;  ///< what the user publishes
  ClientRole role = ClientRole::kBroadcaster;
};

}  // namespace parley
