// libparley: the native RTC engine. Create an engine, join a channel with a token,
// publish and subscribe; media runs on GStreamer (webrtcbin) and reaches parleyd's
// SFU over standard WebRTC.
//
//   parley::EngineConfig cfg;
//   cfg.server_url = "ws://127.0.0.1:7080/v1/signal";
//   auto* engine = parley::RtcEngine::Create(cfg);
//   engine->SetEngineEventListener(&listener);
//   engine->JoinChannel(auth, "Alice");   // result in OnJoinChannelResult
//   ...
//   parley::RtcEngine::Destroy(engine);
//
// Calls return 0 when accepted (the outcome, when asynchronous, arrives as an event)
// or a catalog code from docs/errors.md. Methods are thread-safe and may be called
// from any thread, listener callbacks included.
//
// Threads: each engine runs one engine thread. It runs the engine's work in order and
// calls the EngineEventListener; MediaFrameObserver calls come from media (GStreamer)
// threads. API calls never wait for the engine thread, except Destroy (below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/events.hpp"
#include "parley/types.hpp"

namespace parley {

class RtcEngine {
 public:
  /// Creates an engine; null when the media engine cannot start (the reason is
  /// logged and available from LastCreateError(): 0x01010103 missing plugin,
  /// 0x0101010C media engine failed). The first engine of a process starts making its
  /// DTLS certificate in the background: created ahead of JoinChannel, the first call
  /// does not wait for it.
  static RtcEngine* Create(const EngineConfig& config);
  /// Leaves the channel if needed and frees the engine. Calls on it afterwards are
  /// undefined; use the C ABI for a guarded handle. No listener or observer callback
  /// starts after Destroy returns, so both may be freed then.
  /// - From any thread but the engine's: returns when the engine is gone (it may wait
  ///   up to ~2.5 s for the server to confirm the leave). Listener callbacks may run
  ///   meanwhile on the engine thread (e.g. the status turning disconnected). Not from
  ///   a MediaFrameObserver callback: stopping the media waits for that thread.
  /// - From a listener callback (the engine thread): returns at once; the engine
  ///   finishes on its own thread after the callback returns (queued work, leave,
  ///   pipelines), calls nobody, and frees itself. Until it has, it still counts as
  ///   live for SetH5CompatibleMode; at exit the process waits up to 10 s for it.
  static void Destroy(RtcEngine* engine);
  /// The code of the last failed Create (0 if none), and its message.
  static int32_t LastCreateError(std::string* message = nullptr);
  /// H5-compatible mode (share channels with browsers; on by default, off joins only
  /// native-only channels), for every engine of the process: set it while no engine
  /// exists (before the first Create, or once every engine is destroyed); while one
  /// exists it returns 10501 (0x00002905) and changes nothing.
  static int32_t SetH5CompatibleMode(bool enable);
  static bool IsH5CompatibleMode();
  static std::string SdkVersion();

  virtual ~RtcEngine() = default;

  /// Takes effect from the next callback; one already running on the engine thread
  /// finishes with the listener it started with.
  virtual void SetEngineEventListener(EngineEventListener* listener) = 0;
  /// Returns once frame callbacks already running with the previous observer have
  /// finished (not waited for when called from one of them).
  virtual void SetMediaFrameObserver(MediaFrameObserver* observer) = 0;

  /// Joins with an AuthInfo. Its token is an access token (parley token, docs/token.md;
  /// then the other fields may be left empty and are taken from it, and those given must
  /// match it) or, for apps that accept them, an ARTC classic token. Invalid AuthInfo:
  /// 0x01030101 at once, before any network I/O. Already in a channel: 0x01010301.
  virtual int32_t JoinChannel(const AuthInfo& auth, const std::string& user_name) = 0;
  /// Joins with one token string: an access token (the default) or an ARTC
  /// single-parameter token; its claims say app, channel and user (channel_id and
  /// user_id may be empty, and must match when given).
  virtual int32_t JoinChannel(const std::string& token, const std::string& channel_id, const std::string& user_id,
                              const std::string& user_name) = 0;
  /// Hands the server a new token for the call in progress (after OnAuthInfoWillExpire,
  /// or any time): the same forms as JoinChannel, for the same channel and user
  /// (another's: 0x02010205 at once; not in a channel: 0x01010304). The server checks it
  /// as at join; a refusal comes through OnOccurError with its code (0x02010205,
  /// 0x05040002), no answer with 0x01020205. A later expiry than the current one keeps
  /// the session past the old one.
  virtual int32_t RefreshAuthInfo(const AuthInfo& auth) = 0;
  virtual int32_t RefreshAuthInfo(const std::string& token) = 0;
  /// Leaves the channel; OnLeaveChannelResult follows. Not in a channel: 0x01010304.
  virtual int32_t LeaveChannel() = 0;
  [[nodiscard]] virtual bool IsInCall() const = 0;
  virtual int32_t SetChannelProfile(ChannelProfile profile) = 0;
  /// Not in a channel: the role the next join asks for. While joining: asked for
  /// once joined (the join request carries the previous one). In a channel: asked for
  /// now; a refusal arrives as OnOccurError 0x01020110 (0x01020214 on timeout).
  virtual int32_t SetClientRole(ClientRole role) = 0;
  [[nodiscard]] virtual std::vector<RemoteUser> GetOnlineRemoteUsers() const = 0;

  /// Capture and playout devices present now (GstDeviceMonitor: PulseAudio sources
  /// and sinks, V4L2 cameras), followed by the synthetic ones ("test:tone",
  /// "test:pattern", "null" …) usable headless.
  static std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind);
  /// Every GStreamer element the engine uses, required or for one feature, and whether
  /// this system has it (GStreamer is initialised for the check; empty if it cannot be).
  static std::vector<MediaPluginInfo> CheckMediaPlugins();
  /// What StartScreenShare can capture on X display `display` ("": $DISPLAY): each
  /// screen, then each shown top-level window with a name (its id is
  /// ScreenShareConfig::window_id), with where it is. None when the display cannot be
  /// opened. Xlib's error handler is swapped for the listing's length (a window that
  /// goes meanwhile is skipped).
  static std::vector<ScreenSourceInfo> EnumerateScreenShareSources(const std::string& display = "");

  /// Where published audio, camera video and remote audio come from and go from now on
  /// (ids as EngineConfig's audio_source, video_source and audio_playout take them),
  /// before or during a call. During a call a published microphone or camera moves to
  /// another device or synthetic source in place: the same connection and encoder, no
  /// renegotiation, the others see one track go on (to or from external frames, a file
  /// or a microphone with its processing, the track is published again; "null"
  /// unpublishes it). The playout changes its speaker in place; with no playout yet
  /// ("null" before), the next subscription opens the new one. An id of the wrong form:
  /// 0x01010405; a "device:<id>" the system lacks: 0x01040409 (microphone), 0x01040104
  /// (camera), 0x01040410 (speaker). A device that then fails to open is raised through
  /// OnOccurError with its device code.
  virtual int32_t SetRecordingDevice(const std::string& source) = 0;
  virtual int32_t SetCameraDevice(const std::string& source) = 0;
  virtual int32_t SetPlayoutDevice(const std::string& playout) = 0;

  /// Device checks, before joining or beside a call (they never touch its media): the
  /// microphone `source` ("" the configured audio_source; a device or synthetic id) is
  /// captured into a level meter that reports through OnAudioCaptureTestLevel every
  /// 200 ms; a 440 Hz tone (-13.5 dBFS RMS) plays to `playout` ("" the configured
  /// audio_playout). Each runs until stopped (or the engine goes); starting one again
  /// replaces it. An id of the wrong form: 0x01010405, a "device:<id>" the system lacks:
  /// 0x01040409 / 0x01040410, at once; one that cannot be checked ("external",
  /// "file:", "null" as a microphone): 0x01010405, and a device that cannot open its
  /// device code, through OnOccurError.
  virtual int32_t StartAudioCaptureTest(const std::string& source) = 0;
  virtual int32_t StopAudioCaptureTest() = 0;
  virtual int32_t StartAudioPlayoutTest(const std::string& playout) = 0;
  virtual int32_t StopAudioPlayoutTest() = 0;

  /// The accompaniment: an audio file (anything GStreamer decodes: wav, mp3, ogg,
  /// m4a, the audio of a video file) mixed into the published microphone, before its
  /// mute, and played through the local playout (config.local_play; the echo
  /// canceller hears it there and keeps it out of the microphone, which carries the
  /// clean file once). Independent of calls: it may start before joining and goes on
  /// through publishing again; what plays while no audio is published is not sent.
  /// Starting again replaces the one playing. Bad config (volumes outside 0..100,
  /// loop_cycles 0 or below -1, a negative start): 0x01010405; a file that cannot be
  /// read: 0x01090003 at once; one that is not audio: OnAudioAccompanyStateChanged
  /// (kFailed, 0x01090003). The other calls with no accompaniment: 0x01030204.
  virtual int32_t StartAudioAccompany(const std::string& path, const AudioAccompanyConfig& config) = 0;
  virtual int32_t StopAudioAccompany() = 0;
  virtual int32_t PauseAudioAccompany() = 0;
  virtual int32_t ResumeAudioAccompany() = 0;
  /// 0..100 (else 0x01010405): both volumes, or what is published, or what plays here.
  virtual int32_t SetAudioAccompanyVolume(int volume) = 0;
  virtual int32_t SetAudioAccompanyPublishVolume(int volume) = 0;
  virtual int32_t SetAudioAccompanyPlayoutVolume(int volume) = 0;
  /// Within the current cycle (a negative position: 0x01010405).
  virtual int32_t SetAudioAccompanyPosition(int64_t position_ms) = 0;
  /// Milliseconds; -1 with no accompaniment (or a duration the file does not say).
  [[nodiscard]] virtual int64_t GetAudioAccompanyDuration() const = 0;
  [[nodiscard]] virtual int64_t GetAudioAccompanyCurrentPosition() const = 0;

  /// A last-mile probe before joining: round trip, and per direction loss, jitter and
  /// the bandwidth that got through, measured against the server's media port over UDP
  /// (what the call's media will cross) with the credentials a join would use (the same
  /// forms as JoinChannel; the server checks them and grants one probe per connection).
  /// It takes about 6 s; the outcome comes through OnLastMileDetectResult and
  /// OnLastMileProbeResult. A bad config: 0x01010405, bad credentials 0x01030101 at
  /// once; in a channel or probing already: 0x01030204.
  virtual int32_t StartLastMileDetect(const AuthInfo& auth, const LastMileProbeConfig& config = {}) = 0;
  virtual int32_t StartLastMileDetect(const std::string& token, const LastMileProbeConfig& config = {}) = 0;
  /// Ends a probe early, without a result. None running: 0x01030204.
  virtual int32_t StopLastMileDetect() = 0;

  virtual int32_t PublishLocalAudioStream(bool enable) = 0;
  virtual int32_t PublishLocalVideoStream(bool enable) = 0;
  /// Mutes the published microphone (silence is sent) or camera (black frames are
  /// sent): the tracks stay up and the others see `trackMuted`. Also before publishing.
  virtual int32_t MuteLocalMic(bool mute) = 0;
  virtual int32_t MuteLocalCamera(bool mute) = 0;
  /// Publishes the screen (or one window, or a region of either) as the screen track;
  /// with share_audio, what the speakers play (a PulseAudio monitor) is mixed into
  /// the published audio track while sharing (not sent when no audio is published; a
  /// monitor that cannot open raises 0x01040406 and the share goes on without it).
  /// Already sharing: 0x01010404; invalid config: 0x01010405; not in a channel:
  /// 0x01010304; audience: 0x0103030d. A capture that cannot start raises 0x01030305
  /// through OnOccurError.
  virtual int32_t StartScreenShare(const ScreenShareConfig& config) = 0;
  /// Not sharing: 0x01010402.
  virtual int32_t StopScreenShare() = 0;

  /// With audio_source "external": queues interleaved S16 PCM (8–48 kHz, 1–2
  /// channels) for the audio track. At most 200 ms may wait: pushing faster than real
  /// time returns 0x01070101 (nothing queued) — push ≤ 40 ms at a time, about every
  /// 20 ms, and on 0x01070101 wait ~20 ms and push the same frame again. Not
  /// publishing external audio: 0x01030304; bad arguments: 0x01010405.
  virtual int32_t PushExternalAudioFrame(const int16_t* pcm, size_t samples, int sample_rate, int channels) = 0;
  /// With video_source "external": one I420 frame (tightly packed, as VideoFrame),
  /// stamped on arrival and scaled / rate-adapted to the encoder configuration. More
  /// than 4 frames waiting for the encoder: 0x01070101.
  virtual int32_t PushExternalVideoFrame(const VideoFrame& frame) = 0;

  /// A "file:" source: pause (silence and a still picture are sent), resume, seek.
  /// No file being published: 0x01030304.
  virtual int32_t PauseMediaFile() = 0;
  virtual int32_t ResumeMediaFile() = 0;
  virtual int32_t SeekMediaFile(int64_t position_ms) = 0;

  /// Renders a remote user's camera or screen into a native window (an X11 window id;
  /// 0 stops). May be called before the track arrives. Failures: OnOccurError with
  /// 0x01040201 (the renderer could not start) or 0x01040202 (it failed later).
  virtual int32_t SetRemoteVideoCanvas(const std::string& user_id, TrackKind track, uint64_t window) = 0;
  /// Renders the local camera (what is published, before encoding) into a window.
  virtual int32_t SetLocalVideoCanvas(uint64_t window) = 0;
  /// Shows the configured camera in the SetLocalVideoCanvas window before it is
  /// published, before joining or in a call without publishing video (ARTC's
  /// StartPreview); once the camera is published the window shows what is sent, and
  /// the preview comes back when it is no longer. A device or a test pattern only
  /// (external frames and files show once published). Failures through OnOccurError:
  /// 0x01040104 (the camera cannot open), 0x01040201 (the renderer), 0x01010405 (a
  /// source that cannot be previewed).
  virtual int32_t StartPreview() = 0;
  virtual int32_t StopPreview() = 0;
  /// Validated: 16..3840 x 16..2160, 1..60 fps, 50..20000 kbps, else 0x01010405.
  virtual int32_t SetVideoEncoderConfiguration(const VideoEncoderConfig& config) = 0;
  /// Published audio's channels, band, bitrate and scenario (AudioEncoderConfig); a
  /// value outside the enums: 0x01010405. During a call, published audio is
  /// published again with it.
  virtual int32_t SetAudioProfile(AudioProfile profile, AudioScenario scenario) = 0;
  /// Writes the next frame of a video track to an image file: a remote user's camera
  /// or screen as received and decoded, or (`user_id` empty) the local camera as
  /// published (black while muted). PNG, or JPEG when `path` ends in .jpg / .jpeg (any
  /// case); the file appears whole (written beside it, then renamed). The answer is
  /// OnSnapshotComplete, within about 3 s. At once: 0x0F010005 for the audio track, an
  /// empty path or another extension; 0x01010304 not in a channel.
  virtual int32_t TakeSnapshot(const std::string& user_id, TrackKind track, const std::string& path) = 0;
  /// Everything the user publishes (also what auto_subscribe does for everyone).
  /// Empty id or oneself: 0x01010501; the user is not there or publishes nothing:
  /// 0x02010403 through OnOccurError.
  virtual int32_t SubscribeRemoteUser(const std::string& user_id) = 0;
  virtual int32_t UnsubscribeRemoteUser(const std::string& user_id) = 0;
  /// Only some of a user's tracks (audio, camera, screen). An empty or repeated list:
  /// 0x01010501; a track the user does not publish: 0x02010403 through OnOccurError.
  virtual int32_t SubscribeRemoteTracks(const std::string& user_id, const std::vector<TrackKind>& tracks) = 0;
  virtual int32_t UnsubscribeRemoteTracks(const std::string& user_id, const std::vector<TrackKind>& tracks) = 0;

  /// Which layer of `user_id`'s simulcast (dual stream) camera to receive: kSmall, kBig
  /// (the default, as in ARTC) or kAuto (the server picks the largest layer this
  /// connection's estimate can carry).
  /// SetRemoteDefaultVideoStreamType sets it for every user without a type of their own.
  /// Kept for the engine's life (before joining it takes effect at the join). A type out
  /// of range, or an empty user id: 0x01010501. Video that is not simulcast is received
  /// as it is sent.
  virtual int32_t SetRemoteVideoStreamType(const std::string& user_id, VideoStreamType type) = 0;
  virtual int32_t SetRemoteDefaultVideoStreamType(VideoStreamType type) = 0;
  /// Publishes the camera as two layers, its own size and a small one (EngineConfig::
  /// dual_stream, small_video), or as one stream; a published camera is published
  /// again.
  virtual int32_t EnableDualStreamMode(bool enabled) = 0;

  /// OnAudioVolumeIndication every `interval_ms` (0 stops it; else 100..60000, rounded
  /// up by the server to its level tick, 500 ms by default), each volume smoothed over
  /// the ones before by `smooth` (0 none .. 9 most: the new value weighs (10 - smooth) /
  /// 10). Outside those ranges: 0x0F010005. Before joining it takes effect at the join.
  virtual int32_t EnableAudioVolumeIndication(int interval_ms, int smooth) = 0;
  /// How loud remote audio plays here (audio_playout), 0..400 (100: as received, 0:
  /// silent): the whole playout, or one remote user's, set before or while that user
  /// plays and kept for the engine's life. Outside 0..400: 0x0F010005. What
  /// OnRemoteAudioFrame gets is what was received.
  virtual int32_t SetPlayoutVolume(int volume) = 0;
  virtual int32_t SetRemoteAudioVolume(const std::string& user_id, int volume) = 0;
  /// Stops (true) or resumes playing one remote user's audio here; it is still
  /// received, and the others still hear it.
  virtual int32_t MuteRemoteAudioPlaying(const std::string& user_id, bool mute) = 0;
  /// Sends `data` (UTF-8 text, at most 4096 bytes) over the signalling link to the
  /// whole channel (`to_user_id` empty) or to one member, who get OnMessage. Returns 0
  /// once queued; at once: 0x01010304 not in a channel, 0x0F010003 too long,
  /// 0x0F010005 not UTF-8. What the server refuses comes through OnOccurError:
  /// 0x0F010006 faster than 10 messages a second (bursts of 20), 0x0F010005 no such
  /// member, 0x01020209 no answer. For a high message rate use the data channel.
  virtual int32_t SendMessage(const std::string& to_user_id, const std::string& data) = 0;
  /// Data messages between members, through the SFU on a data connection of their own
  /// (docs/protocol.md, "Data messages"; parley.js's enableDataMessages): true opens it
  /// now when in a call, else at every join, and reopens it after a failure;
  /// OnDataChannelStateChanged tells where it is. False closes it.
  virtual int32_t EnableDataMessages(bool enable) = 0;
  /// Sends `size` bytes to the whole channel (`to_user_id` empty: every other member
  /// whose data messages are on) or to one member, who get OnDataMessage with `options`.
  /// Any thread; 0 once handed to the connection, else at once: 0x0F070001 over 64 KiB,
  /// 0x0F070002 over 256 messages or 4 MiB a second, 0x0F070003 the data connection is
  /// not open, 0x0F070004 `to_user_id` is not in the channel, 0x0F010005 text that is
  /// not UTF-8 or holds U+0000.
  virtual int32_t SendDataMessage(const std::string& to_user_id, const void* data, size_t size,
                                  const DataMessageOptions& options) = 0;
};

}  // namespace parley
