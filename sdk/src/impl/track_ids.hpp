// Whose track each section of a subscribe offer carries, from its a=mid and
// a=msid:<user> <user>-<audio|camera|screen> lines. No GStreamer: fuzzed on its own
// (tests/fuzz/fuzz_track_ids.cpp).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "parley/types.hpp"

namespace parley::sdk {

struct RemoteTrackInfo {
  std::string user_id;
  TrackKind track = TrackKind::kAudio;
};

/// mid → track; sections without a well-formed msid are left out.
std::map<std::string, RemoteTrackInfo> ParseTrackIds(std::string_view sdp);

}  // namespace parley::sdk
