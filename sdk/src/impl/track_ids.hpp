// Whose track each section of a subscribe offer carries, from its a=mid and
// a=msid:<user> <user>-<audio|camera|screen> lines, and the subscribe-side rewriting
// of sections the server turned inactive. No GStreamer: fuzzed on its own
// (tests/fuzz/fuzz_track_ids.cpp).
#pragma once

#include <map>
#include <set>
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

/// The server's subscribe offer as the subscriber's webrtcbin is given it: sections
/// the server turned inactive (a track went away) say a=sendonly instead, and their
/// mids are put in `inactive`. GStreamer 1.22's webrtcbin cannot turn a transceiver
/// that went inactive back on (its answer fails: "transceiver direction changes are
/// not implemented"), and with every section inactive it stops receiving on the
/// bundle; the server reuses such a section for the next track of its kind with new
/// SSRCs (docs/protocol.md), so the transceiver must stay receiving. Nothing arrives
/// on it meanwhile (the section has no SSRC and the server forwards nothing); the new
/// stream gets its own webrtcbin pad, which is how the track is announced again.
std::string KeepSectionsReceiving(std::string_view offer, std::set<std::string>* inactive);

/// webrtcbin's answer as sent to the server: the sections in `inactive` say
/// a=inactive again (RFC 3264 §6: a stream offered inactive is answered inactive).
std::string MarkSectionsInactive(std::string_view answer, const std::set<std::string>& inactive);

}  // namespace parley::sdk
