#include "parley/proto/requests.hpp"

#include "parley/proto/envelope.hpp"

namespace parley::proto {

using nlohmann::json;

Result<TrackKind> ParseTrack(const json& v) {
  if (v.is_string())
    if (auto t = ParseTrackKind(v.get_ref<const std::string&>(), Aliases::kAccept)) return *t;
  return MakeError(Errc::kInvalidField, "track must be \"audio\", \"camera\" or \"screen\"");
}

Result<TrackSet> ParseTracks(const json& body, bool required) {
  TrackSet out;
  // "track" is looked up first and wins even when "tracks" is there too (or it is null).
  if (auto one = body.find("track"); one != body.end()) {
    auto t = ParseTrack(*one);
    if (!t) return t.error();
    out.insert(*t);
    return out;
  }
  auto it = body.find("tracks");
  if (it == body.end() || it->is_null()) {
    if (required) return MakeError(Errc::kInvalidField, "missing field 'tracks'");
    return out;
  }
  // At most one of each kind can be meant; a longer list is refused before its
  // elements are looked at.
  if (!it->is_array() || it->empty() || it->size() > 3)
    return MakeError(Errc::kInvalidField, "tracks must be a non-empty array of \"audio\", \"camera\", \"screen\"");
  for (const auto& v : *it) {
    auto t = ParseTrack(v);
    if (!t) return t.error();
    out.insert(*t);
  }
  return out;
}

json TrackList(const TrackSet& tracks) {
  json a = json::array();
  for (TrackKind t : tracks) a.push_back(Name(t));
  return a;
}

Result<JoinRequest> JoinRequest::Parse(const json& body) {
  JoinRequest r;
  auto user_name = GetString(body, "userName", false, kMaxUserNameBytes);
  if (!user_name) return user_name.error();
  r.user_name = std::move(*user_name);
  auto sdk_version = GetString(body, "sdkVersion", false, kMaxSdkVersionBytes);
  if (!sdk_version) return sdk_version.error();
  r.sdk_version = std::move(*sdk_version);
  // An empty profile, role or platform is the same as none: the default.
  auto profile = GetString(body, "profile", false, kMaxWordBytes);
  if (!profile) return profile.error();
  if (!profile->empty()) {
    auto p = ParseProfile(*profile, Aliases::kAccept);
    if (!p) return MakeError(Errc::kInvalidField, "profile must be \"communication\" or \"interactive-live\"");
    r.profile = *p;
  }
  auto role = GetString(body, "role", false, kMaxWordBytes);
  if (!role) return role.error();
  if (!role->empty()) {
    auto v = ParseRole(*role);
    if (!v) return MakeError(Errc::kInvalidField, "role must be \"broadcaster\" or \"audience\"");
    r.role = *v;
    r.role_given = true;
  }
  if (r.profile == ChannelProfile::kCommunication) r.role = ClientRole::kBroadcaster;  // everyone publishes
  auto platform = GetString(body, "platform", false, kMaxWordBytes);
  if (!platform) return platform.error();
  if (!platform->empty()) {
    auto p = ParsePlatform(*platform, Aliases::kAccept);
    if (!p) return MakeError(Errc::kInvalidField, "platform must be \"native\" or \"h5\"");
    r.platform = *p;
  }
  auto h5 = GetBool(body, "h5Compatible", true);
  if (!h5) return h5.error();
  r.h5_compatible = *h5;
  // A browser is H5 by definition; one that says it is not is misconfigured (10501).
  if (r.platform == Platform::kH5 && !r.h5_compatible)
    return MakeError(Errc::kH5CompatibleModeConfig, "an H5 client cannot turn H5-compatible mode off");
  return r;
}

json JoinRequest::ToJson() const {
  json j = {{"profile", Name(profile)}, {"platform", Name(platform)}, {"h5Compatible", h5_compatible}};
  if (!user_name.empty()) j["userName"] = user_name;
  if (!sdk_version.empty()) j["sdkVersion"] = sdk_version;
  if (role_given) j["role"] = Name(role);
  return j;
}

Result<JoinCredentials> JoinCredentials::Parse(const json& body) {
  auto single = body.find("token");
  auto classic = body.find("auth");
  JoinCredentials c;
  if (single != body.end() && !single->is_null()) {
    // No length limit here: the token verifier bounds what it decodes.
    if (!single->is_string()) return MakeError(Errc::kInvalidField, "field 'token' must be a string");
    c.token = single->get<std::string>();
    return c;
  }
  if (classic == body.end() || !classic->is_object())
    return MakeError(Errc::kInvalidField, "join needs 'token' (an access token) or 'auth' (an AuthInfo object)");
  static constexpr const char* kFields[] = {"appId", "channelId", "userId", "nonce", "token"};
  std::string values[5];
  for (size_t i = 0; i < 5; ++i) {
    auto v = GetString(*classic, kFields[i], false, i == 4 ? kMaxSingleTokenLength : kMaxAuthFieldBytes);
    if (!v) return v.error();
    values[i] = std::move(*v);
  }
  auto ts = GetInt(*classic, "timestamp", false, 0);
  if (!ts) return ts.error();
  c.fields = AuthInfo{values[0], values[1], values[2], values[3], *ts, values[4]};
  c.token = c.fields->token;
  return c;
}

json JoinCredentials::ToJson() const {
  if (!fields) return {{"token", token}};
  return {{"auth",
           {{"appId", fields->app_id},
            {"channelId", fields->channel_id},
            {"userId", fields->user_id},
            {"nonce", fields->nonce},
            {"timestamp", fields->timestamp},
            {"token", fields->token}}}};
}

bool JoinCredentials::operator==(const JoinCredentials& o) const {
  // AuthInfo is a public SDK type without operator==; compare it here.
  auto same = [](const AuthInfo& a, const AuthInfo& b) {
    return a.app_id == b.app_id && a.channel_id == b.channel_id && a.user_id == b.user_id && a.nonce == b.nonce &&
           a.timestamp == b.timestamp && a.token == b.token;
  };
  return token == o.token && fields.has_value() == o.fields.has_value() && (!fields || same(*fields, *o.fields));
}

Result<ResumeRequest> ResumeRequest::Parse(const json& body) {
  auto token = GetString(body, "resumeToken", true, kMaxResumeTokenBytes);
  if (!token) return token.error();
  return ResumeRequest{std::move(*token)};
}

json ResumeRequest::ToJson() const {
  return {{"resumeToken", resume_token}};
}

namespace {
// "cameraLayers": absent is 1; anything but an integer from 1 to kMaxCameraLayers is refused.
Result<int> ParseCameraLayers(const json& body) {
  auto v = GetInt(body, "cameraLayers", false, 1);
  if (!v) return v.error();
  if (*v < 1 || *v > kMaxCameraLayers)
    return MakeError(Errc::kInvalidField, "field 'cameraLayers' must be from 1 to " + std::to_string(kMaxCameraLayers));
  return static_cast<int>(*v);
}
}  // namespace

Result<PublishRequest> PublishRequest::Parse(const json& body) {
  auto tracks = ParseTracks(body, true);
  if (!tracks) return tracks.error();
  auto sdp = GetString(body, "sdp", false, kMaxSdpBytes);
  if (!sdp) return sdp.error();
  auto layers = ParseCameraLayers(body);
  if (!layers) return layers.error();
  return PublishRequest{std::move(*tracks), std::move(*sdp), *layers};
}

json PublishRequest::ToJson() const {
  json j = {{"tracks", TrackList(tracks)}};
  if (!sdp.empty()) j["sdp"] = sdp;
  if (camera_layers != 1) j["cameraLayers"] = camera_layers;
  return j;
}

Result<UpdatePublishRequest> UpdatePublishRequest::Parse(const json& body) {
  auto sdp = GetString(body, "sdp", true, kMaxSdpBytes);
  if (!sdp) return sdp.error();
  auto layers = ParseCameraLayers(body);
  if (!layers) return layers.error();
  return UpdatePublishRequest{std::move(*sdp), *layers};
}

json UpdatePublishRequest::ToJson() const {
  json j = {{"sdp", sdp}};
  if (camera_layers != 1) j["cameraLayers"] = camera_layers;
  return j;
}

Result<OpenDataRequest> OpenDataRequest::Parse(const json& body) {
  auto sdp = GetString(body, "sdp", true, kMaxSdpBytes);
  if (!sdp) return sdp.error();
  return OpenDataRequest{std::move(*sdp)};
}

json OpenDataRequest::ToJson() const {
  return {{"sdp", sdp}};
}

Result<UnpublishRequest> UnpublishRequest::Parse(const json& body) {
  auto tracks = ParseTracks(body, true);
  if (!tracks) return tracks.error();
  return UnpublishRequest{std::move(*tracks)};
}

json UnpublishRequest::ToJson() const {
  return {{"tracks", TrackList(tracks)}};
}

namespace {

// subscribe and unsubscribe read the same fields in the same order.
template <typename T>
Result<T> ParseUserTracks(const json& body) {
  auto user = GetString(body, "userId", true, kMaxIdLength);
  if (!user) return user.error();
  auto tracks = ParseTracks(body, false);
  if (!tracks) return tracks.error();
  return T{std::move(*user), std::move(*tracks)};
}

json UserTracksJson(const std::string& user_id, const TrackSet& tracks) {
  json j = {{"userId", user_id}};
  if (!tracks.empty()) j["tracks"] = TrackList(tracks);
  return j;
}

}  // namespace

Result<SubscribeRequest> SubscribeRequest::Parse(const json& body) {
  return ParseUserTracks<SubscribeRequest>(body);
}

json SubscribeRequest::ToJson() const {
  return UserTracksJson(user_id, tracks);
}

Result<UnsubscribeRequest> UnsubscribeRequest::Parse(const json& body) {
  return ParseUserTracks<UnsubscribeRequest>(body);
}

json UnsubscribeRequest::ToJson() const {
  return UserTracksJson(user_id, tracks);
}

Result<SubscribeAnswerRequest> SubscribeAnswerRequest::Parse(const json& body) {
  auto sdp = GetString(body, "sdp", true, kMaxSdpBytes);
  if (!sdp) return sdp.error();
  return SubscribeAnswerRequest{std::move(*sdp)};
}

json SubscribeAnswerRequest::ToJson() const {
  return {{"sdp", sdp}};
}

Result<SetRoleRequest> SetRoleRequest::Parse(const json& body) {
  auto role = GetString(body, "role", true, kMaxWordBytes);
  if (!role) return role.error();
  auto r = ParseRole(*role);
  if (!r) return MakeError(Errc::kInvalidField, "role must be \"broadcaster\" or \"audience\"");
  return SetRoleRequest{*r};
}

json SetRoleRequest::ToJson() const {
  return {{"role", Name(role)}};
}

Result<MuteRequest> MuteRequest::Parse(const json& body) {
  auto tracks = ParseTracks(body, true);
  if (!tracks) return tracks.error();
  auto muted = GetBool(body, "muted", true);
  if (!muted) return muted.error();
  return MuteRequest{std::move(*tracks), *muted};
}

json MuteRequest::ToJson() const {
  return {{"tracks", TrackList(tracks)}, {"muted", muted}};
}

Result<SendMessageRequest> SendMessageRequest::Parse(const json& body) {
  auto data = GetString(body, "data", true, kMaxMessageDataBytes, Errc::kMessageTooLarge);
  if (!data) return data.error();
  auto to = GetString(body, "toUserId", false, kMaxIdLength);
  if (!to) return to.error();
  return SendMessageRequest{std::move(*data), std::move(*to)};
}

json SendMessageRequest::ToJson() const {
  json j = {{"data", data}};
  if (!to_user_id.empty()) j["toUserId"] = to_user_id;
  return j;
}

Result<UpdateUserInfoRequest> UpdateUserInfoRequest::Parse(const json& body) {
  auto name = GetString(body, "userName", true, kMaxUserNameBytes);
  if (!name) return name.error();
  return UpdateUserInfoRequest{std::move(*name)};
}

json UpdateUserInfoRequest::ToJson() const {
  return {{"userName", user_name}};
}

Result<ReportStatsRequest> ReportStatsRequest::Parse(const json& body) {
  ReportStatsRequest r;
  for (auto [key, out] : {std::pair{"up", &r.up}, std::pair{"down", &r.down}}) {
    auto v = GetInt(body, key, true);
    if (!v) return v.error();
    if (*v < 0 || *v > kMaxQuality)
      return MakeError(Errc::kInvalidField, std::string("field '") + key + "' must be a quality from 0 to 6");
    *out = static_cast<int>(*v);
  }
  return r;
}

Result<SetVolumeIndicationRequest> SetVolumeIndicationRequest::Parse(const json& body) {
  auto v = GetInt(body, "intervalMs", true);
  if (!v) return v.error();
  if (*v != 0 && (*v < kMinIntervalMs || *v > kMaxIntervalMs))
    return MakeError(Errc::kInvalidField, "field 'intervalMs' must be 0 (off) or 100..60000");
  return SetVolumeIndicationRequest{static_cast<int>(*v)};
}

json SetVolumeIndicationRequest::ToJson() const {
  return {{"intervalMs", interval_ms}};
}

Result<SetRemoteVideoStreamTypeRequest> SetRemoteVideoStreamTypeRequest::Parse(const json& body) {
  auto user = GetString(body, "userId", false, kMaxIdLength);
  if (!user) return user.error();
  auto type = GetString(body, "streamType", true, kMaxWordBytes);
  if (!type) return type.error();
  auto parsed = ParseVideoStreamType(*type);
  if (!parsed) return MakeError(Errc::kInvalidField, "field 'streamType' must be big, small or auto");
  return SetRemoteVideoStreamTypeRequest{std::move(*user), *parsed};
}

json SetRemoteVideoStreamTypeRequest::ToJson() const {
  json j = {{"streamType", Name(type)}};
  if (!user_id.empty()) j["userId"] = user_id;
  return j;
}

json ReportStatsRequest::ToJson() const {
  return {{"up", up}, {"down", down}};
}

Result<LastMileProbeRequest> LastMileProbeRequest::Parse(const json& body) {
  LastMileProbeRequest r;
  for (auto [name, out] : {std::pair{"uplinkKbps", &r.uplink_kbps}, std::pair{"downlinkKbps", &r.downlink_kbps}}) {
    auto v = GetInt(body, name, false, *out);
    if (!v) return v.error();
    if (*v != 0 && (*v < kMinKbps || *v > kMaxKbps))
      return MakeError(Errc::kInvalidField, std::string("field '") + name + "' must be 0 (not probed) or 100..10000");
    *out = static_cast<int>(*v);
  }
  if (r.uplink_kbps == 0 && r.downlink_kbps == 0)
    return MakeError(Errc::kInvalidField, "fields 'uplinkKbps' and 'downlinkKbps' are both 0: probe at least one");
  return r;
}

json LastMileProbeRequest::ToJson() const {
  return {{"uplinkKbps", uplink_kbps}, {"downlinkKbps", downlink_kbps}};
}

}  // namespace parley::proto
