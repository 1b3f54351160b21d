// webrtcbin as both connections use it: made per ../shared/notes/webrtc-on-loopback.md
// (max-bundle, no UPnP, ICE restricted to the configured local addresses), and its
// SDP operations and statistics, each wait bounded (promise.hpp).
#pragma once

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <string>
#include <vector>

#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

/// A new (floating) webrtcbin, bundled, with ICE restricted to `ice_addresses`;
/// nullptr when the element is missing.
GstElement* MakeWebrtc(const std::vector<std::string>& ice_addresses);

/// set-remote-description (or -local) with SDP text. kInvalidSdp when the text does
/// not parse or webrtcbin refuses it; kMediaConnectionCreateFailed after 5 s without
/// an answer, which leaves the connection unusable (the caller drops it).
Status SetDescription(GstElement* webrtc, const char* signal, GstWebRTCSDPType type, const std::string& text);

/// create-offer / create-answer, then set-local-description; the SDP text.
Result<std::string> CreateLocal(GstElement* webrtc, bool offer);

/// Sums webrtcbin's get-stats reply; no reply within 1 s: nothing measured.
media::RtpTotals CollectStats(GstElement* webrtc);

}  // namespace parley::sdk::gst
