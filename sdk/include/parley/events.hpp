// Events of the libparley engine. Every callback runs on the engine's event thread
// (one thread per engine, never the caller's and never a media thread), in the
// order things happened; a callback may call back into the engine, including
// RtcEngine::Destroy (the engine then finishes after the callback returns and calls
// nothing more).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parley/types.hpp"

namespace parley {

class EngineEventListener {
 public:
  virtual ~EngineEventListener() = default;
  /// JoinChannel finished: `result` 0 or a catalog code (e.g. 0x02010202 app
  /// disabled, 0x01020204 join timeout), with the time it took.
  virtual void OnJoinChannelResult([[maybe_unused]] int32_t result, [[maybe_unused]] const std::string& channel_id,
                                   [[maybe_unused]] const std::string& user_id, [[maybe_unused]] int elapsed_ms) {}
  /// Why a join failed, just before OnJoinChannelResult(result != 0): the result code,
  /// a Parley detail code naming the cause where the contract's code covers several (0
  /// if none; e.g. 0x0F050001 token expired or 0x0F050002 quota exhausted under
  /// 0x05040002), and the server's or the SDK's message.
  virtual void OnJoinChannelError([[maybe_unused]] int32_t result, [[maybe_unused]] int32_t detail,
                                  [[maybe_unused]] const std::string& message) {}
  virtual void OnLeaveChannelResult([[maybe_unused]] int32_t result) {}
  virtual void OnRemoteUserOnline([[maybe_unused]] const std::string& user_id) {}
  /// `reason`: left, kicked, replaced, heartbeat-lost, connection-lost, becameAudience
  /// (a broadcaster of a live channel turned audience, which is not listed), ...
  virtual void OnRemoteUserOffline([[maybe_unused]] const std::string& user_id,
                                   [[maybe_unused]] const std::string& reason) {}
  /// A remote track started to arrive on the subscribe connection.
  virtual void OnRemoteTrackAvailable([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track) {}
  virtual void OnRemoteTrackUnavailable([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track) {
  }
  /// A remote user muted or unmuted a track (MuteLocalMic / MuteLocalCamera there).
  virtual void OnRemoteTrackMuted([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track,
                                  [[maybe_unused]] bool muted) {}
  /// Local publishing changed (after PublishLocal…/role changes succeed).
  virtual void OnPublishStateChanged([[maybe_unused]] TrackKind track, [[maybe_unused]] bool published) {}
  /// A failure with its catalog code (see docs/errors.md) and a message.
  virtual void OnOccurError([[maybe_unused]] int32_t code, [[maybe_unused]] const std::string& message) {}
  virtual void OnOccurWarning([[maybe_unused]] int32_t code, [[maybe_unused]] const std::string& message) {}
  /// The link to the server changed: connecting → connected on join; reconnecting
  /// (with warning 0x00000103) when the signalling link drops, then connected again
  /// (warning 0x00000105) once the session is resumed, or disconnected with an error
  /// when it cannot be; failed when a join fails; disconnected after a leave.
  virtual void OnConnectionStatusChanged([[maybe_unused]] ConnectionStatus status) {}
  /// The server removed this session (0x02010105): kicked, replaced, channel closed.
  virtual void OnBye([[maybe_unused]] const std::string& reason) {}
  /// Media statistics, every 2 s while in a call.
  virtual void OnStats([[maybe_unused]] const EngineStats& stats) {}
  /// A user's network quality changed: what it sends (`up`) and what it receives
  /// (`down`). `user_id` is empty for the local user, measured every stats interval and filtered
  /// so one noisy interval does not flip it (docs/network-lab.md, "Network quality");
  /// a remote user's is what its own SDK measured, relayed by the server, and kDown
  /// while the server has lost that user's connection.
  virtual void OnNetworkQualityChanged([[maybe_unused]] const std::string& user_id, [[maybe_unused]] NetworkQuality up,
                                       [[maybe_unused]] NetworkQuality down) {}
  /// A remote user changed its display name (`updateUserInfo` on its side).
  virtual void OnRemoteUserUpdated([[maybe_unused]] const std::string& user_id,
                                   [[maybe_unused]] const std::string& user_name) {}
  /// A remote user's role changed (SetClientRole on its side, interactive-live).
  virtual void OnRemoteUserRoleChanged([[maybe_unused]] const std::string& user_id, [[maybe_unused]] ClientRole role) {}
  /// A remote publisher whose media had stopped reaching the server (warning
  /// 0x02010401 through OnOccurWarning) sends again.
  virtual void OnRemoteStreamResumed([[maybe_unused]] const std::string& user_id) {}
  /// A message from another member (SendMessage there): to the whole channel, or to
  /// this user alone when `direct`.
  virtual void OnMessage([[maybe_unused]] const std::string& from_user_id, [[maybe_unused]] const std::string& data,
                         [[maybe_unused]] bool direct) {}
  /// A data message from another member (SendDataMessage there), as it was sent.
  virtual void OnDataMessage([[maybe_unused]] const std::string& from_user_id,
                             [[maybe_unused]] const std::vector<uint8_t>& data,
                             [[maybe_unused]] const DataMessageOptions& options) {}
  /// The data connection opened, closed or failed (EnableDataMessages).
  virtual void OnDataChannelStateChanged([[maybe_unused]] DataChannelState state) {}
  /// The call's token expires in 30 s or less (`expires_at`, Unix seconds): hand the
  /// engine a new one with RefreshAuthInfo.
  virtual void OnAuthInfoWillExpire([[maybe_unused]] int64_t expires_at) {}
  /// The call's token has expired: unless RefreshAuthInfo brings a new one within
  /// `remove_in_ms`, the server removes the session (OnOccurError 0x05040002, OnBye
  /// "token-expired").
  virtual void OnAuthInfoExpired([[maybe_unused]] int64_t remove_in_ms) {}
  /// Every interval set with EnableAudioVolumeIndication while in a call: the volume of
  /// the local microphone (user_id "", while publishing audio) and of each remote user
  /// publishing audio, loudest remote first.
  virtual void OnAudioVolumeIndication([[maybe_unused]] const std::vector<AudioVolumeInfo>& volumes) {}
  /// The loudest publisher in the channel changed.
  virtual void OnActiveSpeaker([[maybe_unused]] const std::string& user_id) {}
  /// A published media file's position, twice a second while publishing it
  /// (duration -1 when the file does not say).
  virtual void OnMediaFileProgress([[maybe_unused]] int64_t position_ms, [[maybe_unused]] int64_t duration_ms) {}
  /// A published media file started, paused, resumed or reached its end. At the end
  /// the tracks stay published (silence and the last picture) until unpublished or
  /// sought back.
  virtual void OnMediaFileStateChanged([[maybe_unused]] MediaFileState state) {}
  /// A received stream is being recorded (EngineConfig::record_dir) into `path`.
  virtual void OnRecordingStarted([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track,
                                  [[maybe_unused]] const std::string& path) {}
  /// What TakeSnapshot did: `result` 0 when the image is at `path`, else 0x0F060001
  /// (no frame within 3 s, or the file could not be written; OnOccurWarning is not
  /// raised, the result is the answer).
  virtual void OnSnapshotComplete([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track,
                                  [[maybe_unused]] const std::string& path, [[maybe_unused]] int32_t result) {}
  /// A microphone, speaker or camera was added to or removed from the system (once the
  /// engine uses a device: a "device" source or playout, at creation or since). When
  /// the one in use goes, OnOccurError follows (0x01040409 microphone, 0x01040410
  /// speaker, 0x01040106 camera) and the engine goes on with the system's default.
  virtual void OnDeviceStateChanged([[maybe_unused]] const DeviceInfo& device, [[maybe_unused]] DeviceState state) {}
  /// Every 200 ms while StartAudioCaptureTest runs: the tested microphone's volume,
  /// 0..255 as OnAudioVolumeIndication's.
  virtual void OnAudioCaptureTestLevel([[maybe_unused]] int volume) {}
  /// The accompaniment started, was stopped, paused or resumed, played its last cycle
  /// (kEnded), or could not play (kFailed with `code`: 0x01090003 for a file that is
  /// not audio or stopped decoding; 0 otherwise).
  virtual void OnAudioAccompanyStateChanged([[maybe_unused]] AudioAccompanyState state, [[maybe_unused]] int32_t code) {
  }
  /// A last-mile probe's verdict on the network (both directions, the worse one), just
  /// before its OnLastMileProbeResult.
  virtual void OnLastMileDetectResult([[maybe_unused]] NetworkQuality quality) {}
  /// A last-mile probe ended: `code` 0 with the measurement, or why there is none (the
  /// server's refusal, e.g. 0x02010205 for a bad token or 0x0F040003 when the server is
  /// busy; 0x0F060002 when UDP to the server got no answer; a signalling code when the
  /// server could not be reached).
  virtual void OnLastMileProbeResult([[maybe_unused]] int32_t code,
                                     [[maybe_unused]] const LastMileProbeResult& result) {}
  /// The call reached `phase` `elapsed_ms` after JoinChannel (types.hpp StartupPhase):
  /// once per phase and JoinChannel, so an application sees where the time to the first
  /// remote picture goes.
  virtual void OnStartupPhase([[maybe_unused]] StartupPhase phase, [[maybe_unused]] int elapsed_ms) {}
};

/// Receives decoded remote media. Runs on a media (GStreamer streaming) thread:
/// copy what you need and return quickly.
class MediaFrameObserver {
 public:
  virtual ~MediaFrameObserver() = default;
  virtual void OnRemoteVideoFrame([[maybe_unused]] const std::string& user_id, [[maybe_unused]] TrackKind track,
                                  [[maybe_unused]] const VideoFrame& frame) {}
  virtual void OnRemoteAudioFrame([[maybe_unused]] const std::string& user_id,
                                  [[maybe_unused]] const AudioFrame& frame) {}
};

}  // namespace parley
