#include "impl/track_ids.hpp"

namespace parley::sdk {

std::map<std::string, RemoteTrackInfo> ParseTrackIds(std::string_view sdp) {
  std::map<std::string, RemoteTrackInfo> out;
  std::string mid;
  while (!sdp.empty()) {
    size_t end = sdp.find('\n');
    std::string_view line = sdp.substr(0, end);
    sdp = end == std::string_view::npos ? std::string_view() : sdp.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 2) == "m=") mid.clear();
    if (line.substr(0, 6) == "a=mid:") mid = std::string(line.substr(6));
    if (line.substr(0, 7) != "a=msid:" || mid.empty()) continue;
    std::string_view v = line.substr(7);
    size_t sp = v.find(' ');
    if (sp == std::string_view::npos || sp == 0) continue;
    std::string_view user = v.substr(0, sp), id = v.substr(sp + 1);
    // The track id is "<user>-<kind>".
    if (id.size() <= user.size() + 1 || id.substr(0, user.size()) != user || id[user.size()] != '-') continue;
    std::string_view kind = id.substr(user.size() + 1);
    RemoteTrackInfo info;
    info.user_id = std::string(user);
    if (kind == "audio")
      info.track = TrackKind::kAudio;
    else if (kind == "camera")
      info.track = TrackKind::kCamera;
    else if (kind == "screen")
      info.track = TrackKind::kScreen;
    else
      continue;
    out[mid] = info;
  }
  return out;
}

}  // namespace parley::sdk
