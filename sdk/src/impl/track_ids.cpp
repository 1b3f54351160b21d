#include "impl/track_ids.hpp"

#include <optional>
#include <vector>

#include "parley/proto/vocabulary.hpp"

namespace parley::sdk {
namespace {

// An SDP split into the session part and its m= sections, each a list of lines
// without their line ends (every line is written back with CRLF, RFC 4566 §5).
struct Sections {
  std::vector<std::string_view> session;
  std::vector<std::vector<std::string_view>> media;
};

Sections Split(std::string_view sdp) {
  Sections out;
  while (!sdp.empty()) {
    size_t end = sdp.find('\n');
    std::string_view line = sdp.substr(0, end);
    sdp = end == std::string_view::npos ? std::string_view() : sdp.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 2) == "m=") out.media.emplace_back();
    (out.media.empty() ? out.session : out.media.back()).push_back(line);
  }
  return out;
}

std::string MidOf(const std::vector<std::string_view>& section) {
  for (std::string_view line : section)
    if (line.substr(0, 6) == "a=mid:") return std::string(line.substr(6));
  return {};
}

bool IsDirection(std::string_view line) {
  return line == "a=sendrecv" || line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive";
}

void Append(std::string& out, std::string_view line) {
  out.append(line);
  out.append("\r\n");
}

}  // namespace

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
    // The track id is "<user>-<kind>", as the server writes it: read strictly.
    std::optional<TrackKind> kind = ParseTrackId(user, id);
    if (!kind) continue;
    out[mid] = RemoteTrackInfo{std::string(user), *kind};
  }
  return out;
}

std::string KeepSectionsReceiving(std::string_view offer, std::set<std::string>* inactive) {
  Sections sdp = Split(offer);
  std::string out;
  for (std::string_view line : sdp.session) Append(out, line);
  for (const auto& section : sdp.media) {
    bool was_inactive = false;
    for (std::string_view line : section) {
      was_inactive = was_inactive || line == "a=inactive";
      Append(out, line == "a=inactive" ? std::string_view("a=sendonly") : line);
    }
    if (was_inactive) inactive->insert(MidOf(section));
  }
  return out;
}

std::string MarkSectionsInactive(std::string_view answer, const std::set<std::string>& inactive) {
  Sections sdp = Split(answer);
  std::string out;
  for (std::string_view line : sdp.session) Append(out, line);
  for (const auto& section : sdp.media) {
    bool retired = inactive.count(MidOf(section)) > 0;
    for (std::string_view line : section) Append(out, retired && IsDirection(line) ? "a=inactive" : line);
  }
  return out;
}

}  // namespace parley::sdk
