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
// or a catalog code from docs/errors.md. Methods are thread-safe.
#pragma once

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
  /// 0x0101010C media engine failed).
  static RtcEngine* Create(const EngineConfig& config);
  /// Leaves the channel if needed and frees the engine. Calls on it afterwards are
  /// undefined; use the C ABI for a guarded handle.
  static void Destroy(RtcEngine* engine);
  /// The code of the last failed Create (0 if none), and its message.
  static int32_t LastCreateError(std::string* message = nullptr);
  /// H5-compatible mode (share channels with browsers): must be set before Create;
  /// later it returns 10501 (0x00002905) and changes nothing.
  static int32_t SetH5CompatibleMode(bool enable);
  static bool IsH5CompatibleMode();
  static std::string SdkVersion();

  virtual ~RtcEngine() = default;

  virtual void SetEngineEventListener(EngineEventListener* listener) = 0;
  virtual void SetMediaFrameObserver(MediaFrameObserver* observer) = 0;

  /// Joins with a classic AuthInfo. Invalid AuthInfo: 0x01030101 at once, before any
  /// network I/O. Already in a channel: 0x01010301.
  virtual int32_t JoinChannel(const AuthInfo& auth, const std::string& user_name) = 0;
  /// Joins with a single-parameter token (its fields say app, channel and user).
  virtual int32_t JoinChannel(const std::string& token, const std::string& channel_id, const std::string& user_id,
                              const std::string& user_name) = 0;
  /// Leaves the channel; OnLeaveChannelResult follows. Not in a channel: 0x01010304.
  virtual int32_t LeaveChannel() = 0;
  [[nodiscard]] virtual bool IsInCall() const = 0;
  virtual int32_t SetChannelProfile(ChannelProfile profile) = 0;
  virtual int32_t SetClientRole(ClientRole role) = 0;
  [[nodiscard]] virtual std::vector<RemoteUser> GetOnlineRemoteUsers() const = 0;

  virtual int32_t PublishLocalAudioStream(bool enable) = 0;
  virtual int32_t PublishLocalVideoStream(bool enable) = 0;
  /// Validated: 16..3840 x 16..2160, 1..60 fps, 50..20000 kbps, else 0x01010405.
  virtual int32_t SetVideoEncoderConfiguration(const VideoEncoderConfig& config) = 0;
  virtual int32_t SubscribeRemoteUser(const std::string& user_id) = 0;
  virtual int32_t UnsubscribeRemoteUser(const std::string& user_id) = 0;
};

}  // namespace parley
