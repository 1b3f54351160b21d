#include "parley/proto/vocabulary.hpp"

#include <array>

namespace parley {
namespace {

// Indexed by the enum's value; the order is the C ABI's, so it must not change.
constexpr std::array<std::string_view, 3> kTrackNames = {"audio", "camera", "screen"};
constexpr std::array<std::string_view, 2> kRoleNames = {"broadcaster", "audience"};
constexpr std::array<std::string_view, 2> kProfileNames = {"communication", "interactive-live"};
constexpr std::array<std::string_view, 2> kPlatformNames = {"native", "h5"};

// An out-of-range value (a cast from a C caller) reads as the first name rather than
// indexing past the table.
template <typename E, size_t N>
std::string_view NameIn(const std::array<std::string_view, N>& names, E e) {
  auto i = static_cast<size_t>(e);
  return i < N ? names[i] : names[0];
}

template <typename E, size_t N>
std::optional<E> Find(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view Name(TrackKind t) {
  return NameIn(kTrackNames, t);
}
std::string_view Name(ClientRole r) {
  return NameIn(kRoleNames, r);
}
std::string_view Name(ChannelProfile p) {
  return NameIn(kProfileNames, p);
}
std::string_view Name(Platform p) {
  return NameIn(kPlatformNames, p);
}

std::optional<TrackKind> ParseTrackKind(std::string_view s, Aliases aliases) {
  if (aliases == Aliases::kAccept && s == "video") return TrackKind::kCamera;
  return Find<TrackKind>(kTrackNames, s);
}

std::optional<ClientRole> ParseRole(std::string_view s) {
  return Find<ClientRole>(kRoleNames, s);
}

std::optional<ChannelProfile> ParseProfile(std::string_view s, Aliases aliases) {
  if (aliases == Aliases::kAccept && s == "interactive_live") return ChannelProfile::kInteractiveLive;
  return Find<ChannelProfile>(kProfileNames, s);
}

std::optional<Platform> ParsePlatform(std::string_view s, Aliases aliases) {
  if (aliases == Aliases::kAccept && s == "web") return Platform::kH5;
  return Find<Platform>(kPlatformNames, s);
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

}  // namespace parley
