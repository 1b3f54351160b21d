// SDP for WebRTC (RFC 8866 syntax, RFC 8829 JSEP usage, RFC 8843 BUNDLE, RFC 8285
// extmap, RFC 5576 ssrc attributes): a parsed model of a unified-plan offer or answer
// and a writer. Only the signalling path uses it, so it may allocate; it must not
// crash or accept nonsense (fuzzed by tests/fuzz/fuzz_sdp.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sfu {

struct SdpCodec {
  uint8_t payload_type = 0;
  std::string name;  ///< "opus", "VP8", "H264", "rtx", ...
  uint32_t clock_rate = 0;
  uint8_t channels = 0;               ///< audio only; 0 = unspecified
  std::string fmtp;                   ///< parameters after "a=fmtp:<pt> "
  std::vector<std::string> feedback;  ///< "nack", "nack pli", "transport-cc", ...
};

/// A codec name as SDP may write it (any case, RFC 4855) against its lower-case
/// spelling ("opus", "vp8", "h264", "rtx", "red").
bool CodecNamed(std::string_view name, std::string_view lower);

struct SdpExtmap {
  uint8_t id = 0;
  std::string direction;  ///< optional "/sendonly" etc., without the slash
  std::string uri;
};

struct SdpSsrcGroup {
  std::string semantics;  ///< "FID" (RTX), "SIM", ...
  std::vector<uint32_t> ssrcs;
};

/// One RTP stream of a simulcast section (RFC 8851 a=rid): its id and direction.
struct SdpRid {
  std::string id;         ///< 1-16 of [A-Za-z0-9_-] (RFC 8851 §10 rid-id, bounded as RFC 8852's RID is in practice)
  std::string direction;  ///< "send" or "recv"
};

struct SdpMedia {
  std::string kind;  ///< "audio", "video", "application"
  uint16_t port = 9;
  std::string proto;                 ///< "UDP/TLS/RTP/SAVPF"
  std::vector<std::string> formats;  ///< payload types as written on the m= line
  std::string mid;
  std::string direction;  ///< sendrecv, sendonly, recvonly, inactive ("" = sendrecv)
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm, fingerprint;  ///< e.g. "sha-256", "AB:CD:..."
  std::string setup;                               ///< actpass, active, passive
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  bool bundle_only = false;
  std::vector<SdpCodec> codecs;
  std::vector<SdpExtmap> extmaps;
  std::vector<uint32_t> ssrcs;  ///< distinct ssrcs from a=ssrc lines, in order
  std::string cname;            ///< from a=ssrc:<ssrc> cname:
  std::vector<SdpSsrcGroup> ssrc_groups;
  std::string msid;                                         ///< "stream-id track-id"
  std::vector<SdpRid> rids;                                 ///< a=rid lines, in order (at most 8)
  std::vector<std::string> simulcast_send, simulcast_recv;  ///< a=simulcast (RFC 8853): per stream, its first
                                                            ///< alternative ("~" leads a paused one)
  uint16_t sctp_port = 0;                                   ///< a=sctp-port (RFC 8841; data channels), 0 = none
  uint32_t max_message_size = 0;                            ///< a=max-message-size (RFC 8841 §6), 0 = none given
  std::vector<std::string> candidates;                      ///< values of a=candidate
  bool end_of_candidates = false;

  [[nodiscard]] const SdpCodec* FindCodec(uint8_t pt) const;
  [[nodiscard]] const SdpExtmap* FindExtmap(std::string_view uri) const;
  [[nodiscard]] bool Sends() const { return direction.empty() || direction == "sendrecv" || direction == "sendonly"; }
  [[nodiscard]] bool Receives() const {
    return direction.empty() || direction == "sendrecv" || direction == "recvonly";
  }
};

struct SdpSession {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::vector<std::string> bundle_mids;  ///< a=group:BUNDLE
  bool ice_lite = false;
  std::string msid_semantic;
  std::vector<SdpMedia> media;
};

/// Longest SDP accepted: the protocol's bound on a request's SDP (proto/vocabulary.hpp).
using proto::kMaxSdpBytes;
inline constexpr size_t kMaxSdpMedia = 64;

/// Parses an SDP. Session-level ICE credentials, fingerprint and setup are copied
/// into each media section that lacks its own. Errors are kInvalidSdp with the line.
Result<SdpSession> ParseSdp(std::string_view text);

/// Writes an SDP (CRLF line ends) that ParseSdp reads back to the same model.
std::string WriteSdp(const SdpSession& session);

}  // namespace parley::sfu
