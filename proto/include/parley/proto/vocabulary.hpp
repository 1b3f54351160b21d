// The words of the signalling protocol (docs/protocol.md): track kinds, roles, channel
// profiles and platforms, their wire names, the message types, and the RTP header
// extensions the server negotiates. Server, native SDK, CLI and (through the generated
// web/sdk/protocol.js) the browser SDK all spell them from here, so a rename cannot
// reach only one of them. The words themselves are in proto/protocol.tsv.
//
// The enums live in namespace parley because they are also the native SDK's public
// types (parley/types.hpp): their names and values are part of its API and its C ABI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "parley/proto/errc.hpp"

namespace parley {

/// Values equal the C ABI's PARLEY_TRACK_* (parley/parley.h).
enum class TrackKind : uint8_t { kAudio, kCamera, kScreen };
enum class ClientRole : uint8_t { kBroadcaster, kAudience };
enum class ChannelProfile : uint8_t { kCommunication, kInteractiveLive };
enum class Platform : uint8_t { kNative, kH5 };
/// Which layer of a remote user's simulcast video a subscriber gets: the big one, the
/// small one, or the one its downstream can carry (the SFU decides). Values equal the
/// C ABI's PARLEY_VIDEO_STREAM_*.
enum class VideoStreamType : uint8_t { kBig, kSmall, kAuto };

/// Whether a parser also takes the older or looser spellings clients send ("video" for
/// camera, "interactive_live", "web"). Requests from clients accept them; names we
/// wrote ourselves (msid track ids, token claims, replies) never contain them, so
/// reading those stays strict and a forged or corrupted value is not silently mapped.
enum class Aliases : uint8_t { kStrict, kAccept };

/// The canonical wire name: "audio", "broadcaster", "interactive-live", "h5", ...
std::string_view Name(TrackKind t);
std::string_view Name(ClientRole r);
std::string_view Name(ChannelProfile p);
std::string_view Name(Platform p);
std::string_view Name(VideoStreamType t);

/// nullopt for anything but a name (or, with Aliases::kAccept, an alias); "" included,
/// because whether a missing value has a default is the caller's rule, not the word's.
std::optional<TrackKind> ParseTrackKind(std::string_view s, Aliases aliases);
std::optional<ClientRole> ParseRole(std::string_view s);
std::optional<ChannelProfile> ParseProfile(std::string_view s, Aliases aliases);
std::optional<Platform> ParsePlatform(std::string_view s, Aliases aliases);
std::optional<VideoStreamType> ParseVideoStreamType(std::string_view s);

/// A set of tracks as requests carry them: ordered, so lists built from it are
/// always written audio, camera, screen, and duplicates in a request collapse.
using TrackSet = std::set<TrackKind>;

/// The msid track id of a user's track on subscribe connections: "<user>-<kind>".
std::string TrackId(std::string_view user_id, TrackKind kind);
/// The kind of `user_id`'s track id `id`; strict (no aliases) and nullopt when `id`
/// names another user, even one whose id starts with `user_id` ("ab-audio" for "a").
std::optional<TrackKind> ParseTrackId(std::string_view user_id, std::string_view id);

namespace proto {

/// A request type and the catalog code a client raises when no reply comes in time.
struct RequestType {
  std::string_view name;
  Errc timeout;
};
/// Every request type of protocol.tsv, in its order.
std::span<const RequestType> RequestTypes();
/// The timeout code of a request type; nullopt for a type that is not a request.
std::optional<Errc> TimeoutCode(std::string_view request_type);
/// Every notification type the server sends, in protocol.tsv's order.
std::span<const std::string_view> NotificationTypes();

/// RTP header extensions the server negotiates (a=extmap, RFC 8285).
inline constexpr char kExtMid[] = "urn:ietf:params:rtp-hdrext:sdes:mid";                 // RFC 8843 §15
inline constexpr char kExtAudioLevel[] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";  // RFC 6464
inline constexpr char kExtAbsSendTime[] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr char kExtTransportCc[] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// Simulcast (RFC 8852 §3): which layer of a section a packet is (its RID), and which
/// layer an RTX packet repairs.
inline constexpr char kExtRtpStreamId[] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr char kExtRepairedRtpStreamId[] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";

/// Longest SDP a request may carry: a unified-plan offer for three tracks is a few KiB,
/// so this leaves room for many codecs and candidates while bounding what one
/// message can make the server parse.
inline constexpr size_t kMaxSdpBytes = 64 * 1024;

}  // namespace proto
}  // namespace parley
