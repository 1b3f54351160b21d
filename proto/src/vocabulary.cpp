#include "parley/proto/vocabulary.hpp"

#include <array>

namespace parley {
namespace {

template <typename E>
struct Alias {
  std::string_view alias;
  E value;
};

// kTrackKindNames etc. (indexed by the enum's value, which the generated static_asserts
// tie to the catalog's row order), their aliases, kRequestTypes, kNotificationTypes.
#include "protocol_table_gen.inc"

// An out-of-range value (a cast from a C caller) reads as the first name rather than
// indexing past the table.
template <typename E, size_t N>
std::string_view NameIn(const std::array<std::string_view, N>& names, E e) {
  auto i = static_cast<size_t>(e);
  return i < N ? names[i] : names[0];
}

// Names first, then (only when the caller accepts them) the aliases.
template <typename E, size_t N, size_t M>
std::optional<E> Find(const std::array<std::string_view, N>& names, const std::array<Alias<E>, M>& alias_table,
                      std::string_view s, Aliases aliases) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  if (aliases == Aliases::kAccept)
    for (const auto& a : alias_table)
      if (a.alias == s) return a.value;
  return std::nullopt;
}

}  // namespace

std::string_view Name(TrackKind t) {
  return NameIn(kTrackKindNames, t);
}
std::string_view Name(ClientRole r) {
  return NameIn(kClientRoleNames, r);
}
std::string_view Name(ChannelProfile p) {
  return NameIn(kChannelProfileNames, p);
}
std::string_view Name(Platform p) {
  return NameIn(kPlatformNames, p);
}

std::string_view Name(VideoStreamType t) {
  return NameIn(kVideoStreamTypeNames, t);
}

std::optional<VideoStreamType> ParseVideoStreamType(std::string_view s) {
  return Find(kVideoStreamTypeNames, kVideoStreamTypeAliases, s, Aliases::kStrict);
}

std::optional<TrackKind> ParseTrackKind(std::string_view s, Aliases aliases) {
  return Find(kTrackKindNames, kTrackKindAliases, s, aliases);
}

std::optional<ClientRole> ParseRole(std::string_view s) {
  // Roles have no aliases in the catalog; a token claim and a request read them alike.
  return Find(kClientRoleNames, kClientRoleAliases, s, Aliases::kStrict);
}

std::optional<ChannelProfile> ParseProfile(std::string_view s, Aliases aliases) {
  return Find(kChannelProfileNames, kChannelProfileAliases, s, aliases);
}

std::optional<Platform> ParsePlatform(std::string_view s, Aliases aliases) {
  return Find(kPlatformNames, kPlatformAliases, s, aliases);
}

std::string TrackId(std::string_view user_id, TrackKind kind) {
  std::string id(user_id);
  id += '-';
  id += Name(kind);
  return id;
}

std::optional<TrackKind> ParseTrackId(std::string_view user_id, std::string_view id) {
  if (id.size() <= user_id.size() + 1 || id.substr(0, user_id.size()) != user_id || id[user_id.size()] != '-')
    return std::nullopt;
  return ParseTrackKind(id.substr(user_id.size() + 1), Aliases::kStrict);
}

namespace proto {

std::span<const RequestType> RequestTypes() {
  return kRequestTypes;
}

std::optional<Errc> TimeoutCode(std::string_view request_type) {
  for (const auto& r : kRequestTypes)
    if (r.name == request_type) return r.timeout;
  return std::nullopt;
}

std::span<const std::string_view> NotificationTypes() {
  return kNotificationTypes;
}

}  // namespace proto
}  // namespace parley
