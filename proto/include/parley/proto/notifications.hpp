// What the server sends without being asked (docs/protocol.md "Notifications"), and
// the channel snapshot of the join, resume and listUsers replies: one struct each.
//
// ToJson is the server's side and writes exactly the hub's fields; the bytes on the
// wire come from DumpSafe (envelope.hpp) or, for channel-wide notifications,
// BroadcastText, which adds channelId and the channel's seq. FromJson is the client's
// side and is lenient: a client must keep working when a newer server sends a word it
// does not know, so a missing or mistyped field reads as empty ("", 0, false, an
// empty std::optional, list elements skipped) and never rejects the message.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/proto/vocabulary.hpp"

namespace parley::proto {

/// A member of a channel as others see it.
/// Network quality on the wire, ARTC's scale: 0 excellent, 1 good, 2 poor, 3 bad,
/// 4 very bad, 5 down (disconnected), 6 unknown (nothing measured yet).
inline constexpr int kQualityUnknown = 6;

struct UserInfo {
  std::string user_id;
  std::string user_name;
  std::optional<ClientRole> role;
  std::optional<Platform> platform;
  TrackSet tracks;  ///< published
  TrackSet muted;
  bool online = true;  ///< false while the user's connection is in its resume grace period
  /// The network quality the user last reported (kQualityUnknown until it does).
  int quality_up = kQualityUnknown, quality_down = kQualityUnknown;

  [[nodiscard]] nlohmann::json ToJson() const;
  static UserInfo FromJson(const nlohmann::json& j);
  bool operator==(const UserInfo&) const = default;
};

/// The channel as the joining (or resuming) user finds it: the data of the join,
/// resume and listUsers replies (join adds its own fields next to these).
struct ChannelSnapshot {
  std::string channel_id;
  std::string user_id;  ///< the user the snapshot is for
  std::optional<ChannelProfile> profile;
  std::optional<ClientRole> role;
  bool h5_compatible = true;
  int64_t channel_created_at = 0;  ///< Unix seconds
  uint64_t seq = 0;                ///< the last notification seq sent to the channel
  int64_t heartbeat_interval_ms = 0;
  std::string active_speaker;   ///< user id, "" when none yet
  std::vector<UserInfo> users;  ///< everyone else

  [[nodiscard]] nlohmann::json ToJson() const;
  static ChannelSnapshot FromJson(const nlohmann::json& j);
  bool operator==(const ChannelSnapshot&) const = default;
};

// Each notification: kType is its "type", which ToJson writes too.

struct UserOnline {
  UserInfo user;
  static constexpr std::string_view kType = "userOnline";
  [[nodiscard]] nlohmann::json ToJson() const;
  static UserOnline FromJson(const nlohmann::json& j);
  bool operator==(const UserOnline&) const = default;
};
struct UserOffline {
  std::string user_id;
  std::string reason;  ///< "leave", "timeout", "kicked", ...
  static constexpr std::string_view kType = "userOffline";
  [[nodiscard]] nlohmann::json ToJson() const;
  static UserOffline FromJson(const nlohmann::json& j);
  bool operator==(const UserOffline&) const = default;
};
/// A member's connection dropped ("disconnected", the resume grace starts) or came back ("connected").
struct UserNetwork {
  std::string user_id;
  std::string state;
  int32_t code = 0;
  static constexpr std::string_view kType = "userNetwork";
  [[nodiscard]] nlohmann::json ToJson() const;
  static UserNetwork FromJson(const nlohmann::json& j);
  bool operator==(const UserNetwork&) const = default;
};
struct UserUpdated {
  UserInfo user;
  static constexpr std::string_view kType = "userUpdated";
  [[nodiscard]] nlohmann::json ToJson() const;
  static UserUpdated FromJson(const nlohmann::json& j);
  bool operator==(const UserUpdated&) const = default;
};
struct RoleUpdated {
  std::string user_id;
  std::optional<ClientRole> role;
  static constexpr std::string_view kType = "roleUpdated";
  [[nodiscard]] nlohmann::json ToJson() const;
  static RoleUpdated FromJson(const nlohmann::json& j);
  bool operator==(const RoleUpdated&) const = default;
};
struct TrackPublished {
  std::string user_id;
  std::optional<TrackKind> track;
  static constexpr std::string_view kType = "trackPublished";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TrackPublished FromJson(const nlohmann::json& j);
  bool operator==(const TrackPublished&) const = default;
};
struct TrackUnpublished {
  std::string user_id;
  std::optional<TrackKind> track;
  static constexpr std::string_view kType = "trackUnpublished";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TrackUnpublished FromJson(const nlohmann::json& j);
  bool operator==(const TrackUnpublished&) const = default;
};
struct TrackMuted {
  std::string user_id;
  std::optional<TrackKind> track;
  bool muted = false;
  static constexpr std::string_view kType = "trackMuted";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TrackMuted FromJson(const nlohmann::json& j);
  bool operator==(const TrackMuted&) const = default;
};
/// A new subscribe offer for the subscriber connection (the server offers there).
struct SubscribeOffer {
  std::string sdp;
  static constexpr std::string_view kType = "subscribeOffer";
  [[nodiscard]] nlohmann::json ToJson() const;
  static SubscribeOffer FromJson(const nlohmann::json& j);
  bool operator==(const SubscribeOffer&) const = default;
};
/// The server's media transport to this subscriber failed; `users` are to be subscribed again.
struct SubscribeAborted {
  std::string reason;
  int32_t code = 0;
  std::vector<std::string> users;
  std::string message;
  static constexpr std::string_view kType = "subscribeAborted";
  [[nodiscard]] nlohmann::json ToJson() const;
  static SubscribeAborted FromJson(const nlohmann::json& j);
  bool operator==(const SubscribeAborted&) const = default;
};
/// To the publisher: no media arrived for the abort interval.
struct PublishAborted {
  int32_t code = 0;
  std::string message;
  static constexpr std::string_view kType = "publishAborted";
  [[nodiscard]] nlohmann::json ToJson() const;
  static PublishAborted FromJson(const nlohmann::json& j);
  bool operator==(const PublishAborted&) const = default;
};
/// To the others: the same, about `user_id`.
struct StreamAborted {
  std::string user_id;
  int32_t code = 0;
  std::string message;
  static constexpr std::string_view kType = "streamAborted";
  [[nodiscard]] nlohmann::json ToJson() const;
  static StreamAborted FromJson(const nlohmann::json& j);
  bool operator==(const StreamAborted&) const = default;
};
struct StreamResumed {
  std::string user_id;
  static constexpr std::string_view kType = "streamResumed";
  [[nodiscard]] nlohmann::json ToJson() const;
  static StreamResumed FromJson(const nlohmann::json& j);
  bool operator==(const StreamResumed&) const = default;
};
struct TransportFailed {
  std::string transport;  ///< "publish"
  std::string reason;
  int32_t code = 0;
  std::string message;
  static constexpr std::string_view kType = "transportFailed";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TransportFailed FromJson(const nlohmann::json& j);
  bool operator==(const TransportFailed&) const = default;
};
struct ActiveSpeaker {
  std::string user_id;
  int32_t level_dbov = 0;  ///< RFC 6464 level as dBov (<= 0)
  static constexpr std::string_view kType = "activeSpeaker";
  [[nodiscard]] nlohmann::json ToJson() const;
  static ActiveSpeaker FromJson(const nlohmann::json& j);
  bool operator==(const ActiveSpeaker&) const = default;
};
/// A member's own network quality changed (its reportStats), 0 excellent .. 5 down, 6 unknown.
struct NetworkQuality {
  std::string user_id;
  int up = kQualityUnknown, down = kQualityUnknown;
  static constexpr std::string_view kType = "networkQuality";
  [[nodiscard]] nlohmann::json ToJson() const;
  static NetworkQuality FromJson(const nlohmann::json& j);
  bool operator==(const NetworkQuality&) const = default;
};
/// To this session alone, no `seq`: its token expires at `expires_at` (Unix seconds),
/// 30 s or less from now; a refreshToken with a later one keeps the session.
struct TokenWillExpire {
  int64_t expires_at = 0;
  static constexpr std::string_view kType = "tokenWillExpire";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TokenWillExpire FromJson(const nlohmann::json& j);
  bool operator==(const TokenWillExpire&) const = default;
};
/// To this session alone: its token expired; the server removes the session
/// (sessionRemoved, 0x05040002) in `remove_in_ms` unless a refreshToken comes first.
struct TokenExpired {
  int64_t expires_at = 0;
  int64_t remove_in_ms = 0;
  static constexpr std::string_view kType = "tokenExpired";
  [[nodiscard]] nlohmann::json ToJson() const;
  static TokenExpired FromJson(const nlohmann::json& j);
  bool operator==(const TokenExpired&) const = default;
};
/// An RFC 6464 audio level (127 - dBov, 0..127) as a volume: 0 at -60 dBov or quieter,
/// 255 at 0 dBov, linear in dB between. The server's volumeIndication and the native
/// SDK's own microphone use it alike.
constexpr int VolumeOfLevel(uint32_t level) {
  constexpr uint32_t kFloor = 127 - 60;
  if (level <= kFloor) return 0;
  const uint32_t v = (level - kFloor) * 255 / (127 - kFloor);
  return static_cast<int>(v < 255 ? v : 255);
}
/// To a session that asked (setVolumeIndication), every interval: the audio volume of
/// each member publishing audio, 0..255 (0 at -60 dBov or quieter or muted, 255 at
/// 0 dBov), the loudest first; no `seq`.
struct VolumeIndication {
  struct Entry {
    std::string user_id;
    int volume = 0;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> speakers;
  static constexpr std::string_view kType = "volumeIndication";
  [[nodiscard]] nlohmann::json ToJson() const;
  static VolumeIndication FromJson(const nlohmann::json& j);
  bool operator==(const VolumeIndication&) const = default;
};
/// To a publisher: which layers of its simulcast video the server wants sent. A layer
/// nobody watches is inactive (the SDK stops encoding it) until someone wants it again.
struct PublishLayers {
  struct Layer {
    std::string rid;  ///< "" for a layer told apart by SSRC
    bool active = true;
    bool operator==(const Layer&) const = default;
  };
  std::optional<TrackKind> track;
  std::vector<Layer> layers;  ///< smallest first
  static constexpr std::string_view kType = "publishLayers";
  [[nodiscard]] nlohmann::json ToJson() const;
  static PublishLayers FromJson(const nlohmann::json& j);
  bool operator==(const PublishLayers&) const = default;
};
/// A sendMessage from another member; a direct one also carries channelId, added by the sender.
struct Message {
  std::string from_user_id;
  std::string data;
  bool direct = false;  ///< sent to this member alone (no `seq`), not to the whole channel
  static constexpr std::string_view kType = "message";
  [[nodiscard]] nlohmann::json ToJson() const;
  static Message FromJson(const nlohmann::json& j);
  bool operator==(const Message&) const = default;
};
/// The server ended this session and closes the link next.
struct SessionRemoved {
  int32_t code = 0;
  std::string reason;
  std::string message;
  static constexpr std::string_view kType = "sessionRemoved";
  [[nodiscard]] nlohmann::json ToJson() const;
  static SessionRemoved FromJson(const nlohmann::json& j);
  bool operator==(const SessionRemoved&) const = default;
};

/// std::monostate: a type this client does not know (or not a notification at all).
using Notification =
    std::variant<std::monostate, UserOnline, UserOffline, UserNetwork, UserUpdated, RoleUpdated, TrackPublished,
                 TrackUnpublished, TrackMuted, SubscribeOffer, SubscribeAborted, PublishAborted, StreamAborted,
                 StreamResumed, TransportFailed, ActiveSpeaker, Message, SessionRemoved, NetworkQuality,
                 TokenWillExpire, TokenExpired, VolumeIndication, PublishLayers>;

/// Dispatches on "type" and reads leniently; never throws, whatever `j` is.
Notification ParseNotification(const nlohmann::json& j);

/// A channel-wide notification as the server broadcasts it: `note` plus channelId and
/// seq (which lets clients notice a gap), serialised with DumpSafe.
std::string BroadcastText(nlohmann::json note, std::string_view channel_id, uint64_t seq);

}  // namespace parley::proto
