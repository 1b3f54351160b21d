// Fuzzes the SDK's reading of a subscribe offer's a=mid / a=msid lines: no crash, and
// what it finds, written back as SDP lines, reads back the same. Also the rewriting of
// retired sections: none stays inactive for webrtcbin, and the answer marks them again.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "impl/track_ids.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto found = parley::sdk::ParseTrackIds(text);
  std::string sdp;
  for (const auto& [mid, info] : found) {
    if (mid.empty() || info.user_id.empty()) __builtin_trap();
    const char* kind = info.track == parley::TrackKind::kAudio    ? "audio"
                       : info.track == parley::TrackKind::kCamera ? "camera"
                                                                  : "screen";
    sdp += "m=x\r\na=mid:" + mid + "\r\na=msid:" + info.user_id + " " + info.user_id + "-" + kind + "\r\n";
  }
  auto again = parley::sdk::ParseTrackIds(sdp);
  if (again.size() != found.size()) __builtin_trap();
  for (const auto& [mid, info] : found) {
    auto it = again.find(mid);
    if (it == again.end() || it->second.user_id != info.user_id || it->second.track != info.track) __builtin_trap();
  }
  std::set<std::string> inactive;
  std::string applied = parley::sdk::KeepSectionsReceiving(text, &inactive);
  // Media sections only: a session-level direction (which our server never writes)
  // is left as it is.
  bool in_media = false;
  for (size_t pos = 0; pos < applied.size();) {  // every line ends with CRLF
    size_t end = applied.find("\r\n", pos);
    if (end == std::string::npos) __builtin_trap();
    std::string_view line = std::string_view(applied).substr(pos, end - pos);
    in_media = in_media || line.rfind("m=", 0) == 0;
    if (in_media && line == "a=inactive") __builtin_trap();
    pos = end + 2;
  }
  (void)parley::sdk::MarkSectionsInactive(applied, inactive);
  return 0;
}
