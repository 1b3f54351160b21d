// The media seam: what the engine asks of media, with no GStreamer type in sight.
// The GStreamer implementation lives in impl/ (a media factory over the webrtcbin
// connections of impl/gst/); a test can implement it with fakes.
//
// Threading: every method is called on the engine thread. Every `done` runs once, on
// the engine thread (through the Post the factory was made with, never inline), within
// a bound: SDP operations 5 s, stats 1 s. It may run after the connection that was
// asked is gone, so it carries values, never the connection. Frame callbacks run on
// media threads; error callbacks on media threads too (the engine posts them on).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "impl/track_ids.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::media {

/// Runs a closure on the engine thread, after what is queued there already.
using Post = std::function<void(std::function<void()>)>;
using ErrorFn = std::function<void(int32_t code, const std::string& message)>;

/// Totals from the connection's statistics (the W3C RTCStats it models).
struct RtpTotals {
  uint64_t bytes_sent = 0, packets_sent = 0;
  uint64_t bytes_received = 0, packets_received = 0;
  int64_t packets_lost = 0;  ///< lost after repair: retransmission could not bring them back
  /// Lost on the way and brought back by retransmission (not in packets_received, which
  /// counts first transmissions): with packets_lost, what the network lost.
  int64_t packets_repaired = 0;
  double jitter_s = 0;  ///< largest inbound jitter
  double rtt_s = -1;    ///< from the remote side's reports (-1: unknown yet)
  /// Sent packets the remote side's reports count as lost since the connection
  /// began (-1: no report yet).
  int64_t remote_packets_lost = -1;
  /// Remote audio reaching the decoders since the connection began, at 48 kHz: all of
  /// it, and the part that never arrived (lost after retransmission) and that in-band
  /// FEC did not restore, which the decoder concealed (core/audio_concealment.hpp).
  uint64_t audio_samples = 0, audio_samples_concealed = 0;
  /// The sender's state (publish connections): its bandwidth estimate and the most its
  /// encoders want (0: no feedback yet); how many levels the device's load has
  /// lowered the video (0: none) and the busiest video encoder's share of wall-clock
  /// time (adapt/overuse_detector.hpp).
  int64_t estimate_bps = 0, wanted_bps = 0;
  int cpu_level = 0;
  double encode_usage = 0;
  /// The subscribe connection's jitter buffers' latency in ms (0: none yet).
  int jitter_buffer_ms = 0;
  /// The transport of the ICE pair in use: "udp", "tcp" (ICE-TCP), "relay" or
  /// "relay/<proto>" ("": not connected yet).
  std::string transport;
};

/// The image format of a snapshot file, from its name: PNG for .png, JPEG for .jpg and
/// .jpeg (any case); anything else (no name before the dot, a directory) is none.
enum class ImageType : uint8_t { kNone, kPng, kJpeg };
ImageType ImageTypeOf(const std::string& path);

/// The media did not answer an SDP operation within its bound: the error is
/// kMediaConnectionCreateFailed, and the connection it came from is unusable.
bool TimedOut(const Error& e);

/// Media pushed from outside the publish pipeline (the application's frames). It
/// outlives the publish connections: each new one takes it over once its answer is
/// applied (PublishConnection::AttachInputs). Any thread.
class MediaInput {
 public:
  virtual ~MediaInput() = default;
  /// Interleaved S16 audio. 0, 0x01030304 (the track is not published) or, when
  /// `bounded`, 0x01070101 (queue full).
  virtual int32_t PushAudio(const int16_t* pcm, size_t samples, int rate, int channels, bool bounded) = 0;
  /// A tightly packed I420 frame.
  virtual int32_t PushVideo(const VideoFrame& frame, bool bounded) = 0;
};

/// What a media file does now (media file API).
enum class FileState : uint8_t { kPlaying, kPaused, kEnded };

/// A media file decoded in real time into the factory's inputs. Pausing keeps the
/// tracks alive; seeking flushes only the file.
class FilePlayback {
 public:
  virtual ~FilePlayback() = default;
  virtual Status Play() = 0;
  virtual Status Pause() = 0;
  virtual Status Seek(int64_t position_ms) = 0;
  [[nodiscard]] virtual int64_t PositionMs() const = 0;
  [[nodiscard]] virtual int64_t DurationMs() const = 0;
  [[nodiscard]] virtual FileState state() const = 0;
};

/// An audio file mixed into the published microphone and/or played by the local
/// playout (the accompaniment).
struct AccompanyOptions {
  std::string path;
  std::string playout = "null";  ///< where local play goes (the engine's playout)
  bool local_play = true;
  bool replace_mic = false;  ///< the microphone is left out while the file plays
  int loop_cycles = 1;       ///< -1: for ever
  int64_t start_ms = 0;
  int publish_volume = 100, playout_volume = 100;  ///< 0..100
};

/// A playing accompaniment. Any thread.
class Accompaniment {
 public:
  virtual ~Accompaniment() = default;
  virtual Status Pause() = 0;
  virtual Status Resume() = 0;
  /// Within the current cycle; beyond the end: the end.
  virtual Status Seek(int64_t position_ms) = 0;
  virtual void SetVolumes(int publish, int playout) = 0;
  [[nodiscard]] virtual int64_t PositionMs() const = 0;
  [[nodiscard]] virtual int64_t DurationMs() const = 0;  ///< -1 when the file does not say
};

/// The local camera shown in a window before it is published; stops when destroyed.
class CameraPreview {
 public:
  virtual ~CameraPreview() = default;
};

/// Screen capture for the screen track (X11).
struct ScreenOptions {
  std::string display;     ///< e.g. ":99"; empty: $DISPLAY
  uint64_t window_id = 0;  ///< 0: the whole screen
  VideoEncoderConfig video;
  int region_x = 0, region_y = 0, region_width = 0, region_height = 0;  ///< width 0: all of it
  /// The monitor of what plays ("" the default output's, or "device:<pulse source>")
  /// mixed into the audio track; empty optional: none.
  std::optional<std::string> audio;
};

/// What a media connection is for (its ICE is set up per use: call/ice_fallback.hpp).
enum class IceUse { kPublish = 0, kSubscribe = 1, kData = 2 };

/// A TURN or STUN server as the join answer gives it (WebRTC's RTCIceServer).
struct IceServer {
  std::vector<std::string> urls;  ///< turn:host:port?transport=udp|tcp, turns:..., stun:...
  std::string username, credential;
  bool operator==(const IceServer&) const = default;
};

/// How a connection's ICE gathers: the local addresses it may use, the servers of the
/// join answer (relayed candidates through TURN), and whether only relayed candidates
/// may be used (EngineConfig::relay_only).
struct IceSetup {
  std::vector<std::string> addresses;
  std::vector<IceServer> servers;
  bool relay_only = false;
  /// No UDP candidates (ICE-TCP only): the retry after a connection whose UDP path
  /// never worked, where UDP is dropped silently (call/ice_fallback.hpp).
  bool tcp_only = false;
};

struct PublishOptions {
  bool audio = false, video = false, screen = false;
  std::string audio_source = "test:tone";  ///< "external" and "file:…" read the factory's inputs
  std::string video_source = "test:pattern";
  VideoEncoderConfig video_config;
  AudioEncoderConfig audio_config;
  ScreenOptions screen_options;
  IceSetup ice;
  bool mute_audio = false, mute_video = false;
  /// Dual stream: the camera is also sent as a small layer (`small_video`), in its own
  /// video section before the camera's (PublishConnection::camera_layers).
  bool dual_stream = false;
  VideoEncoderConfig small_video;
  /// A device microphone's processing; its echo canceller listens to `playout`.
  AudioProcessingConfig processing;
  std::string playout = "null";
  /// The playout's echo probe and base time, filled in by the factory (empty: no echo
  /// cancellation): the probe and the canceller compare running times, so the
  /// microphone's pipeline runs on the playout's clock and base time.
  std::string echo_probe;
  uint64_t echo_base_time = 0;
};

/// The publish connection: we offer what we send.
class PublishConnection {
 public:
  virtual ~PublishConnection() = default;
  virtual void CreateOffer(std::function<void(Result<std::string> offer)> done) = 0;
  virtual void SetAnswer(const std::string& sdp, std::function<void(Status)> done) = 0;
  virtual void CollectStats(std::function<void(RtpTotals)> done) = 0;
  /// Points the inputs (external frames, media file) at this connection; called once
  /// its answer is applied, so the previous connection is fed until then.
  virtual void AttachInputs() = 0;
  /// Muted audio sends silence, a muted camera black frames: the tracks stay alive.
  virtual void Mute(TrackKind track, bool muted) = 0;
  /// Renders the local camera into a native window (0: stop); 0x01040201 when the
  /// renderer cannot start.
  virtual Status SetPreviewWindow(uint64_t window) = 0;
  /// The microphone's loudest level since the last call (127 - dBov, 0 for silence or
  /// no microphone), which resets it. Engine thread.
  virtual uint32_t TakeMicPeak() { return 0; }
  /// Replaces the audio or camera track's source while it runs (a device or synthetic
  /// id, never "external", "file:" or "null": those publish again): the encoder, the
  /// connection and the receivers' track stay, with no renegotiation. 0x01010405 for
  /// such an id; a new device that cannot open reports through the error callback
  /// with its device code.
  virtual Status SwapSource(TrackKind track, const std::string& source) = 0;
  /// How many video sections the camera takes in the offer, smallest layer first (1:
  /// one stream; 2 with dual stream).
  [[nodiscard]] virtual int camera_layers() const { return 1; }
  /// Layer `layer` of the camera (0 the smallest) encoded and sent, or not (nobody
  /// watches it: the server's publishLayers); turned back on it starts with a keyframe.
  virtual void SetCameraLayer(size_t layer, bool active) {
    (void)layer;
    (void)active;
  }
};

struct SubscribeOptions {
  IceSetup ice;
  /// Each received stream is also written, without re-encoding, to
  /// <record_dir>/<user>-<track>.{ogg,webm,mkv} (empty: no recording).
  std::string record_dir;
  /// Remote audio playout: "null" (none), "auto", "device" or "device:<sink>".
  std::string playout = "null";
};

/// What a subscribe connection reports (each on a media thread).
struct SubscribeCallbacks {
  std::function<void(const RemoteTrackInfo&, const VideoFrame&)> on_video;
  std::function<void(const RemoteTrackInfo&, const AudioFrame&)> on_audio;
  std::function<void(const RemoteTrackInfo&)> on_track;
  std::function<void(const RemoteTrackInfo&, const std::string& path)> on_record;
  ErrorFn on_error;
  /// The connection reached a startup phase (kIceConnected, kDtlsConnected, kFirstRtp,
  /// kFirstFrame), once each, at `at`; from a media thread.
  std::function<void(StartupPhase phase, std::chrono::steady_clock::time_point at)> on_phase;
};

/// The subscribe connection: the server offers, we answer.
class SubscribeConnection {
 public:
  virtual ~SubscribeConnection() = default;
  /// Applies the server's offer; `done` gets our answer.
  virtual void ApplyOffer(const std::string& offer, std::function<void(Result<std::string> answer)> done) = 0;
  virtual void CollectStats(std::function<void(RtpTotals)> done) = 0;
  /// Renders a remote video track into a native window (0: stop), before or after the
  /// track arrives.
  virtual void SetWindow(const std::string& user_id, TrackKind track, uint64_t window) = 0;
  /// How long the jitter buffers wait for a missing packet and its repairs before the
  /// decoders go on without it, in ms (core/playout_delay.hpp decides; 200 to begin).
  virtual void SetPlayoutDelay(int ms) = 0;
};

/// What the data connection reports, on GStreamer threads (the engine posts them on).
struct DataCallbacks {
  /// A message on Parley data channel `channel` (0..3): the envelope as it came.
  std::function<void(int channel, bool text, std::vector<uint8_t> bytes)> message;
  /// All four channels open (true), or one of them closed or failed (false).
  std::function<void(bool open)> state;
};
/// The data connection (data messages): webrtcbin with Parley's four negotiated data
/// channels and no media; we offer, the server answers (openData).
class DataConnection {
 public:
  virtual ~DataConnection() = default;
  virtual void CreateOffer(std::function<void(Result<std::string> offer)> done) = 0;
  virtual void SetAnswer(const std::string& sdp, std::function<void(Status)> done) = 0;
  /// Sends one message (an envelope) on channel `channel`; false when it is not open.
  /// Any thread.
  virtual bool Send(int channel, bool text, const std::vector<uint8_t>& bytes) = 0;
};
/// One engine's media: its inputs, files and connections.
class MediaFactory {
 public:
  virtual ~MediaFactory() = default;
  virtual Result<std::unique_ptr<PublishConnection>> CreatePublisher(const PublishOptions& options,
                                                                     ErrorFn on_error) = 0;
  virtual Result<std::unique_ptr<SubscribeConnection>> CreateSubscriber(const SubscribeOptions& options,
                                                                        SubscribeCallbacks callbacks) = 0;
  /// The data connection, its ICE set up as `ice` says; 0x01050201 where the media
  /// has none (the default).
  virtual Result<std::unique_ptr<DataConnection>> CreateDataConnection(const IceSetup& /*ice*/,
                                                                       DataCallbacks /*callbacks*/) {
    return MakeError(Errc::kMediaConnectionCreateFailed, "this media has no data connections");
  }
  /// Opens and prerolls a media file that feeds the audio and/or the video input;
  /// 0x01090003 when it is missing or not media.
  virtual Result<std::unique_ptr<FilePlayback>> OpenFile(const std::string& path, bool feeds_audio, bool feeds_video,
                                                         std::function<void()> on_end, ErrorFn on_error) = 0;
  /// Opens, prerolls and plays an accompaniment; 0x01090003 when the file is missing
  /// or has no audio. `on_end` runs (on another thread) after the last cycle.
  virtual Result<std::unique_ptr<Accompaniment>> StartAccompaniment(const AccompanyOptions& options,
                                                                    std::function<void()> on_end, ErrorFn on_error) = 0;
  /// The camera `source` (a device or a test pattern: 0x01010405 for the others)
  /// rendered into `window`; 0x01040201 when the renderer cannot start, a camera that
  /// cannot open its code. Later failures go to `on_error`.
  virtual Result<std::unique_ptr<CameraPreview>> StartCameraPreview(const std::string& source, uint64_t window,
                                                                    ErrorFn on_error) = 0;
  virtual std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind) = 0;
  virtual MediaInput& AudioInput() = 0;
  virtual MediaInput& VideoInput() = 0;
  /// Remote audio playout volume, 0..400 (100: as received): the whole playout, and
  /// each remote user's (with its mute); kept for users who do not play yet.
  virtual void SetPlayoutVolume(int volume) = 0;
  virtual void SetUserVolume(const std::string& user_id, int volume) = 0;
  virtual void SetUserMuted(const std::string& user_id, bool muted) = 0;
  /// The next frame of a video track written to `path` as `type` (not kNone): a
  /// remote user's, or the local camera's for an empty `user_id`. `done` (0, or
  /// 0x0F060001 with what failed) runs on another thread, within about 3 s.
  virtual void Snapshot(const std::string& user_id, TrackKind track, const std::string& path, ImageType type,
                        std::function<void(int32_t code, const std::string& message)> done) = 0;
  /// Where remote audio plays from now on ("null", "auto", "device", "device:<sink>"):
  /// a playout that exists changes its speaker in place ("null": the mix goes
  /// nowhere); with none yet, the next subscribe connection opens one as its options
  /// say. A speaker that cannot open reports through the playout's error callback.
  virtual Status SetPlayout(const std::string& playout) = 0;
  /// Calls `changed` (on another thread) for each device added to or removed from the
  /// system from now on; an empty `changed` stops that (no call runs after it returns).
  virtual void WatchDevices(std::function<void(const DeviceInfo& device, bool added)> changed) = 0;
  /// Device checks beside the call's media: the microphone `source` (an audio_source
  /// id, not "external", "file:" or "null") measured every 200 ms (`level`: 0..255, on
  /// another thread), and a 440 Hz tone played to `playout`. Starting one again
  /// replaces it. 0x01010405 for an id that cannot be checked; a device that cannot
  /// open: its device code.
  virtual Status StartMicrophoneCheck(const std::string& source, std::function<void(int volume)> level,
                                      ErrorFn on_error) = 0;
  virtual void StopMicrophoneCheck() = 0;
  virtual Status StartSpeakerCheck(const std::string& playout, ErrorFn on_error) = 0;
  virtual void StopSpeakerCheck() = 0;
  /// Stops answering snapshots (those waiting are dropped): before the engine's thread
  /// stops, so that no answer is posted to it afterwards.
  virtual void CloseSnapshots() = 0;
};

/// Initializes the media library once for the process and checks that everything the
/// engine needs exists (0x01010103 naming what is missing).
Status InitMedia();
/// The screens and top-level windows of X display `display` ("": $DISPLAY); none
/// when it cannot be opened.
std::vector<ScreenSourceInfo> ListScreenSources(const std::string& display);
/// Every element the engine uses and whether it is present (after InitMedia's init).
std::vector<MediaPluginInfo> ListMediaPlugins();
/// The devices the system has now, then the synthetic sources and sinks.
std::vector<DeviceInfo> ListDevices(DeviceKind kind);
/// The GStreamer implementation; `post` runs closures on the engine thread. The first
/// in a process also starts, in the background, what the first connection would
/// otherwise wait for on the engine's thread: the DTLS certificate every WebRTC
/// connection of the process shares (an RSA key, 100–250 ms of CPU), made while the app
/// is still setting up or signalling.
std::unique_ptr<MediaFactory> MakeMediaFactory(Post post);

}  // namespace parley::sdk::media
