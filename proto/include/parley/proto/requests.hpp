// The bodies of the client's requests (docs/protocol.md), one struct each: Parse reads a
// request as the server accepts it (defaults, aliases, limits, and the catalog code
// and exact message of the first thing wrong), ToJson writes one as a client sends it.
// Parse(ToJson(r)) == r for every r that Parse returned.
//
// A Parse checks the message alone. Whatever depends on the session or the channel
// (joined?, published?, rate limits, credentials against the app's key) stays with the
// caller, which must keep the order in which those checks and Parse run: that order
// decides which error a client sees first.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "parley/proto/result.hpp"
#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::proto {

/// Field limits in bytes. User ids use kMaxIdLength (token.hpp).
inline constexpr size_t kMaxUserNameBytes = 256;
inline constexpr size_t kMaxSdkVersionBytes = 64;
inline constexpr size_t kMaxWordBytes = 32;  ///< profile, role, platform
inline constexpr size_t kMaxResumeTokenBytes = 128;
inline constexpr size_t kMaxMessageDataBytes = 4096;
inline constexpr size_t kMaxAuthFieldBytes = 256;  ///< appId, channelId, userId, nonce of an AuthInfo

/// One track name ("video" accepted for camera).
Result<TrackKind> ParseTrack(const nlohmann::json& v);
/// "track": "audio" (wins when present) or "tracks": ["audio","camera"] (non-empty,
/// at most 3, duplicates collapse). Missing is an error only when `required`; an
/// optional missing list is the empty set, which callers read as "all".
Result<TrackSet> ParseTracks(const nlohmann::json& body, bool required);
/// ["audio","camera"]: canonical names in TrackSet order.
nlohmann::json TrackList(const TrackSet& tracks);

struct JoinRequest {
  std::string user_name;
  std::string sdk_version;
  ChannelProfile profile = ChannelProfile::kCommunication;
  /// Always kBroadcaster in the communication profile, whatever was asked.
  ClientRole role = ClientRole::kBroadcaster;
  bool role_given = false;  ///< the request named a role
  Platform platform = Platform::kNative;
  /// Defaults to true so browsers and native clients meet in any channel.
  bool h5_compatible = true;

  static Result<JoinRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const JoinRequest&) const = default;
};

/// The credentials of join and refreshToken: an access token, or the classic AuthInfo
/// fields (whose token is then `token` too).
struct JoinCredentials {
  std::string token;
  std::optional<AuthInfo> fields;

  static Result<JoinCredentials> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const JoinCredentials& o) const;
};

struct ResumeRequest {
  std::string resume_token;

  static Result<ResumeRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const ResumeRequest&) const = default;
};

/// How many video sections of an offer carry the camera as layers of one source
/// (smallest first): the native SDK's dual stream. 1 = one section, one stream.
inline constexpr int kMaxCameraLayers = 3;

struct PublishRequest {
  TrackSet tracks;
  std::string sdp;        ///< the publish offer; may be empty (tracks added to an open transport)
  int camera_layers = 1;  ///< "cameraLayers": the camera's sections in the offer (1..3)

  static Result<PublishRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const PublishRequest&) const = default;
};

struct UpdatePublishRequest {
  std::string sdp;
  int camera_layers = 1;  ///< as in PublishRequest

  static Result<UpdatePublishRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const UpdatePublishRequest&) const = default;
};

/// openData: the client's offer for its data connection (one SCTP data channel section).
struct OpenDataRequest {
  std::string sdp;

  static Result<OpenDataRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const OpenDataRequest&) const = default;
};

struct UnpublishRequest {
  TrackSet tracks;

  static Result<UnpublishRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const UnpublishRequest&) const = default;
};

struct SubscribeRequest {
  std::string user_id;
  TrackSet tracks;  ///< empty = all of the user's tracks

  static Result<SubscribeRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SubscribeRequest&) const = default;
};

struct UnsubscribeRequest {
  std::string user_id;
  TrackSet tracks;  ///< empty = all of the user's tracks

  static Result<UnsubscribeRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const UnsubscribeRequest&) const = default;
};

struct SubscribeAnswerRequest {
  std::string sdp;

  static Result<SubscribeAnswerRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SubscribeAnswerRequest&) const = default;
};

struct SetRoleRequest {
  ClientRole role = ClientRole::kBroadcaster;

  static Result<SetRoleRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SetRoleRequest&) const = default;
};

struct MuteRequest {
  TrackSet tracks;
  bool muted = true;  ///< a request without "muted" mutes

  static Result<MuteRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const MuteRequest&) const = default;
};

struct SendMessageRequest {
  std::string data;
  std::string to_user_id;  ///< empty = everyone else in the channel

  static Result<SendMessageRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SendMessageRequest&) const = default;
};

struct UpdateUserInfoRequest {
  std::string user_name;

  static Result<UpdateUserInfoRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const UpdateUserInfoRequest&) const = default;
};

/// A client's own network quality (0 excellent .. 4 very bad, 5 down, 6 unknown) for
/// what it sends (`up`) and what it receives (`down`); the server relays it to the
/// channel as `networkQuality`.
struct ReportStatsRequest {
  static constexpr int64_t kMaxQuality = 6;
  int up = 6;
  int down = 6;

  static Result<ReportStatsRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const ReportStatsRequest&) const = default;
};

/// Asks for `volumeIndication` notifications every `interval_ms` (0 stops them; else
/// kMinIntervalMs..kMaxIntervalMs, rounded up by the server to its level tick).
struct SetVolumeIndicationRequest {
  static constexpr int64_t kMinIntervalMs = 100;
  static constexpr int64_t kMaxIntervalMs = 60000;
  int interval_ms = 0;

  static Result<SetVolumeIndicationRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SetVolumeIndicationRequest&) const = default;
};

/// Which layer of a remote user's simulcast video to receive: for `user_id`, or with no
/// `user_id` the default for every remote user without one of their own.
struct SetRemoteVideoStreamTypeRequest {
  std::string user_id;  ///< "" = the default
  VideoStreamType type = VideoStreamType::kAuto;

  static Result<SetRemoteVideoStreamTypeRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const SetRemoteVideoStreamTypeRequest&) const = default;
};

/// A last-mile probe before joining: the credentials of a join (JoinCredentials, in the
/// same body) and what the client means to send and receive. Each direction's rate is
/// 0 (that direction is not probed) or kMinKbps..kMaxKbps; at least one is probed.
struct LastMileProbeRequest {
  static constexpr int64_t kMinKbps = 100;
  static constexpr int64_t kMaxKbps = 10000;
  int uplink_kbps = 1000;
  int downlink_kbps = 1000;

  static Result<LastMileProbeRequest> Parse(const nlohmann::json& body);
  [[nodiscard]] nlohmann::json ToJson() const;
  bool operator==(const LastMileProbeRequest&) const = default;
};

}  // namespace parley::proto
