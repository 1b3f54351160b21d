#include "parley/proto/notifications.hpp"

#include <algorithm>

#include "parley/proto/envelope.hpp"
#include "parley/proto/requests.hpp"

namespace parley::proto {

using nlohmann::json;

namespace {

// The lenient readers: json::value() would throw on a mistyped field, and a client
// must not fail on what a newer (or broken) server sends.
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);  // end() for non-objects too
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

int32_t Code(const json& j, const char* key) {
  return static_cast<int32_t>(Int(j, key));
}

// A quality from 0 to 6; anything else reads as 6 (unknown).
int Quality(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return kQualityUnknown;
  int64_t v = it->get<int64_t>();
  return v >= 0 && v <= kQualityUnknown ? static_cast<int>(v) : kQualityUnknown;
}

bool Bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Names the server wrote, so no aliases; an unknown word is left out.
std::optional<TrackKind> Track(const json& j) {
  return ParseTrackKind(Str(j, "track"), Aliases::kStrict);
}

TrackSet Tracks(const json& j, const char* key) {
  TrackSet out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string())
      if (auto t = ParseTrackKind(v.get_ref<const std::string&>(), Aliases::kStrict)) out.insert(*t);
  return out;
}

json Object(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : json::object();
}

// Optional words are written only when known; the server always knows them.
template <typename E>
void PutName(json& j, const char* key, const std::optional<E>& v) {
  if (v) j[key] = Name(*v);
}

}  // namespace

json UserInfo::ToJson() const {
  json muted_list = json::array();
  for (TrackKind t : muted) muted_list.push_back(Name(t));
  json j = {
      {"userId", user_id},   {"userName", user_name}, {"tracks", TrackList(tracks)},
      {"muted", muted_list}, {"online", online},      {"networkQuality", {{"up", quality_up}, {"down", quality_down}}}};
  PutName(j, "role", role);
  PutName(j, "platform", platform);
  return j;
}

UserInfo UserInfo::FromJson(const json& j) {
  UserInfo u;
  u.user_id = Str(j, "userId");
  u.user_name = Str(j, "userName");
  u.role = ParseRole(Str(j, "role"));
  u.platform = ParsePlatform(Str(j, "platform"), Aliases::kStrict);
  u.tracks = Tracks(j, "tracks");
  u.muted = Tracks(j, "muted");
  u.online = Bool(j, "online", true);
  if (auto q = j.find("networkQuality"); q != j.end() && q->is_object()) {
    u.quality_up = Quality(*q, "up");
    u.quality_down = Quality(*q, "down");
  }
  return u;
}

json ChannelSnapshot::ToJson() const {
  json list = json::array();
  for (const auto& u : users) list.push_back(u.ToJson());
  json j = {{"channelId", channel_id},
            {"userId", user_id},
            {"h5Compatible", h5_compatible},
            {"channelCreatedAt", channel_created_at},
            {"seq", seq},
            {"heartbeatIntervalMs", heartbeat_interval_ms},
            {"activeSpeaker", active_speaker},
            {"users", list}};
  PutName(j, "profile", profile);
  PutName(j, "role", role);
  return j;
}

ChannelSnapshot ChannelSnapshot::FromJson(const json& j) {
  ChannelSnapshot s;
  s.channel_id = Str(j, "channelId");
  s.user_id = Str(j, "userId");
  s.profile = ParseProfile(Str(j, "profile"), Aliases::kStrict);
  s.role = ParseRole(Str(j, "role"));
  s.h5_compatible = Bool(j, "h5Compatible", true);
  s.channel_created_at = Int(j, "channelCreatedAt");
  auto seq = j.find("seq");
  if (seq != j.end() && seq->is_number_unsigned()) s.seq = seq->get<uint64_t>();
  s.heartbeat_interval_ms = Int(j, "heartbeatIntervalMs");
  s.active_speaker = Str(j, "activeSpeaker");
  if (auto it = j.find("users"); it != j.end() && it->is_array())
    for (const auto& u : *it)
      if (u.is_object()) s.users.push_back(UserInfo::FromJson(u));
  return s;
}

json UserOnline::ToJson() const {
  return {{"type", kType}, {"user", user.ToJson()}};
}
UserOnline UserOnline::FromJson(const json& j) {
  return {UserInfo::FromJson(Object(j, "user"))};
}

json UserOffline::ToJson() const {
  return {{"type", kType}, {"userId", user_id}, {"reason", reason}};
}
UserOffline UserOffline::FromJson(const json& j) {
  return {Str(j, "userId"), Str(j, "reason")};
}

json UserNetwork::ToJson() const {
  return {{"type", kType}, {"userId", user_id}, {"state", state}, {"code", code}};
}
UserNetwork UserNetwork::FromJson(const json& j) {
  return {Str(j, "userId"), Str(j, "state"), Code(j, "code")};
}

json TokenWillExpire::ToJson() const {
  return {{"type", kType}, {"expiresAt", expires_at}};
}
TokenWillExpire TokenWillExpire::FromJson(const json& j) {
  return {Int(j, "expiresAt")};
}

json VolumeIndication::ToJson() const {
  json list = json::array();
  for (const auto& e : speakers) list.push_back({{"userId", e.user_id}, {"volume", e.volume}});
  return {{"type", kType}, {"speakers", list}};
}
VolumeIndication VolumeIndication::FromJson(const json& j) {
  VolumeIndication v;
  auto it = j.find("speakers");
  if (it == j.end() || !it->is_array()) return v;
  // At most one entry per member of the biggest channel a client could be in; what is
  // malformed is left out.
  for (const auto& e : *it) {
    if (v.speakers.size() >= 1024) break;
    if (!e.is_object()) continue;
    std::string id = Str(e, "userId");
    int64_t volume = Int(e, "volume");
    if (id.empty() || volume < 0 || volume > 255) continue;
    v.speakers.push_back({std::move(id), static_cast<int>(volume)});
  }
  return v;
}

json TokenExpired::ToJson() const {
  return {{"type", kType}, {"expiresAt", expires_at}, {"removeInMs", remove_in_ms}};
}
TokenExpired TokenExpired::FromJson(const json& j) {
  return {Int(j, "expiresAt"), std::max<int64_t>(0, Int(j, "removeInMs"))};
}

json NetworkQuality::ToJson() const {
  return {{"type", kType}, {"userId", user_id}, {"up", up}, {"down", down}};
}
NetworkQuality NetworkQuality::FromJson(const json& j) {
  return {Str(j, "userId"), Quality(j, "up"), Quality(j, "down")};
}

json UserUpdated::ToJson() const {
  return {{"type", kType}, {"user", user.ToJson()}};
}
UserUpdated UserUpdated::FromJson(const json& j) {
  return {UserInfo::FromJson(Object(j, "user"))};
}

json RoleUpdated::ToJson() const {
  json j = {{"type", kType}, {"userId", user_id}};
  PutName(j, "role", role);
  return j;
}
RoleUpdated RoleUpdated::FromJson(const json& j) {
  return {Str(j, "userId"), ParseRole(Str(j, "role"))};
}

json TrackPublished::ToJson() const {
  json j = {{"type", kType}, {"userId", user_id}};
  PutName(j, "track", track);
  return j;
}
TrackPublished TrackPublished::FromJson(const json& j) {
  return {Str(j, "userId"), Track(j)};
}

json TrackUnpublished::ToJson() const {
  json j = {{"type", kType}, {"userId", user_id}};
  PutName(j, "track", track);
  return j;
}
TrackUnpublished TrackUnpublished::FromJson(const json& j) {
  return {Str(j, "userId"), Track(j)};
}

json TrackMuted::ToJson() const {
  json j = {{"type", kType}, {"userId", user_id}, {"muted", muted}};
  PutName(j, "track", track);
  return j;
}
TrackMuted TrackMuted::FromJson(const json& j) {
  return {Str(j, "userId"), Track(j), Bool(j, "muted", false)};
}

json SubscribeOffer::ToJson() const {
  return {{"type", kType}, {"sdp", sdp}};
}
SubscribeOffer SubscribeOffer::FromJson(const json& j) {
  return {Str(j, "sdp")};
}

json SubscribeAborted::ToJson() const {
  return {{"type", kType}, {"reason", reason}, {"code", code}, {"users", users}, {"message", message}};
}
SubscribeAborted SubscribeAborted::FromJson(const json& j) {
  SubscribeAborted a{Str(j, "reason"), Code(j, "code"), {}, Str(j, "message")};
  if (auto it = j.find("users"); it != j.end() && it->is_array())
    for (const auto& u : *it)
      if (u.is_string()) a.users.push_back(u.get<std::string>());
  return a;
}

json PublishAborted::ToJson() const {
  return {{"type", kType}, {"code", code}, {"message", message}};
}
PublishAborted PublishAborted::FromJson(const json& j) {
  return {Code(j, "code"), Str(j, "message")};
}

json StreamAborted::ToJson() const {
  return {{"type", kType}, {"userId", user_id}, {"code", code}, {"message", message}};
}
StreamAborted StreamAborted::FromJson(const json& j) {
  return {Str(j, "userId"), Code(j, "code"), Str(j, "message")};
}

json StreamResumed::ToJson() const {
  return {{"type", kType}, {"userId", user_id}};
}
StreamResumed StreamResumed::FromJson(const json& j) {
  return {Str(j, "userId")};
}

json TransportFailed::ToJson() const {
  return {{"type", kType}, {"transport", transport}, {"reason", reason}, {"code", code}, {"message", message}};
}
TransportFailed TransportFailed::FromJson(const json& j) {
  return {Str(j, "transport"), Str(j, "reason"), Code(j, "code"), Str(j, "message")};
}

json ActiveSpeaker::ToJson() const {
  return {{"type", kType}, {"userId", user_id}, {"levelDbov", level_dbov}};
}
ActiveSpeaker ActiveSpeaker::FromJson(const json& j) {
  return {Str(j, "userId"), Code(j, "levelDbov")};
}

json Message::ToJson() const {
  return {{"type", kType}, {"fromUserId", from_user_id}, {"data", data}};
}
Message Message::FromJson(const json& j) {
  // A direct message is not part of the channel's sequence: it has no `seq`.
  return {Str(j, "fromUserId"), Str(j, "data"), !j.contains("seq")};
}

json PublishLayers::ToJson() const {
  json list = json::array();
  for (const auto& l : layers) list.push_back({{"rid", l.rid}, {"active", l.active}});
  json j = {{"type", kType}, {"layers", list}};
  PutName(j, "track", track);
  return j;
}
PublishLayers PublishLayers::FromJson(const json& j) {
  PublishLayers p{Track(j), {}};
  auto it = j.find("layers");
  if (it == j.end() || !it->is_array()) return p;
  // A source has a few layers (three at most from today's encoders): more is not read.
  for (const auto& e : *it) {
    if (p.layers.size() >= 8) break;
    if (!e.is_object()) continue;
    auto active = e.find("active");
    p.layers.push_back({Str(e, "rid"), active == e.end() || !active->is_boolean() || active->get<bool>()});
  }
  return p;
}

json SessionRemoved::ToJson() const {
  return {{"type", kType}, {"code", code}, {"reason", reason}, {"message", message}};
}
SessionRemoved SessionRemoved::FromJson(const json& j) {
  return {Code(j, "code"), Str(j, "reason"), Str(j, "message")};
}

namespace {

template <typename T>
bool TryParse(std::string_view type, const json& j, Notification* out) {
  if (type != T::kType) return false;
  *out = T::FromJson(j);
  return true;
}

template <typename... T>
Notification ParseAny(std::string_view type, const json& j) {
  Notification out;
  (TryParse<T>(type, j, &out) || ...);
  return out;
}

}  // namespace

Notification ParseNotification(const json& j) {
  return ParseAny<UserOnline, UserOffline, UserNetwork, UserUpdated, RoleUpdated, TrackPublished, TrackUnpublished,
                  TrackMuted, SubscribeOffer, SubscribeAborted, PublishAborted, StreamAborted, StreamResumed,
                  TransportFailed, ActiveSpeaker, Message, SessionRemoved, NetworkQuality, TokenWillExpire,
                  TokenExpired, VolumeIndication, PublishLayers>(Str(j, "type"), j);
}

std::string BroadcastText(json note, std::string_view channel_id, uint64_t seq) {
  note["channelId"] = channel_id;
  note["seq"] = seq;
  return DumpSafe(note);
}

}  // namespace parley::proto
