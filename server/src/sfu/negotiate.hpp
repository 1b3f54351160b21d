// Offer/answer for the publish side (RFC 8829 JSEP, RFC 8843 BUNDLE): the client
// offers what it sends; the server answers as an ICE-lite, DTLS-passive peer that
// receives it, choosing Opus for audio (in RED, RFC 2198, when offered) and VP8 (or
// H.264 constrained baseline) for video, with RTX, NACK/PLI/FIR, transport-wide
// congestion control and the header extensions the SFU uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/proto/vocabulary.hpp"
#include "sfu/sctp.hpp"
#include "sfu/sdp.hpp"

namespace parley::sfu {

// The header extensions are protocol words (proto/protocol.tsv), spelled once in proto.
using proto::kExtAbsSendTime;
using proto::kExtAudioLevel;
using proto::kExtMid;
using proto::kExtRepairedRtpStreamId;
using proto::kExtRtpStreamId;
using proto::kExtTransportCc;

/// Most layers a simulcast section may have (big, medium, small).
inline constexpr size_t kMaxSimulcastLayers = 3;

/// Our side of the transport, as it goes into the answer.
struct LocalTransport {
  std::string ufrag, pwd;
  std::string fingerprint;  ///< sha-256, "AB:CD:..."
  std::string address;      ///< the media worker's address (host candidate)
  uint16_t port = 0;
  uint16_t tcp_port = 0;  ///< ICE-TCP's passive candidate (0: none)
  std::string address6;   ///< an IPv6 address with host candidates of its own ("": none)
};

/// One layer of a simulcast video section: by RID (RFC 8851/8853, browsers) or by SSRC
/// (a=ssrc-group:SIM, with its RTX from a FID group).
struct AcceptedLayer {
  std::string rid;  ///< "" for an SSRC-based layer
  uint32_t ssrc = 0, rtx_ssrc = 0;
};

/// What the answer accepted for one received m-section.
struct AcceptedTrack {
  std::string mid;
  std::string kind;   ///< "audio" or "video"
  std::string codec;  ///< "opus", "VP8", "H264"
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;  ///< 0 = no RTX
  uint32_t ssrc = 0;             ///< from the offer's a=ssrc, 0 if it gave none
  uint32_t rtx_ssrc = 0;
  bool stereo = false;  ///< Opus: the sender said it sends two channels
  /// Audio: RED carrying the codec (red.hpp), when the offer had it; 0 = none. Its RTX
  /// (retransmissions of RED packets), when offered too.
  uint8_t red_payload_type = 0;
  uint8_t red_rtx_payload_type = 0;
  uint8_t ext_mid = 0, ext_audio_level = 0, ext_abs_send_time = 0, ext_transport_cc = 0;
  uint8_t ext_rid = 0, ext_repaired_rid = 0;
  /// Simulcast video: its layers, lowest first (the order of the offer's a=simulcast
  /// list, or of its SIM group, which is how libwebrtc writes them); empty: one stream.
  std::vector<AcceptedLayer> layers;
};

struct PublishAnswer {
  SdpSession sdp;
  std::vector<AcceptedTrack> tracks;
  std::string remote_ufrag, remote_pwd, remote_fingerprint;
  /// The server is the DTLS client (it answered a=setup:active to an actpass offer):
  /// its own short flight timer then drives the handshake (dtls.hpp). An offer that
  /// insists on active keeps the server passive.
  bool dtls_client = false;
};

struct PublishAnswerOptions {
  /// Take the DTLS client role when the offer says actpass. For native clients:
  /// GStreamer's DTLS retransmits on OpenSSL's 1 s doubling timer in 256-byte
  /// fragments, so the server's 200 ms timer sets up a lossy path much sooner.
  /// Browsers retransmit quickly themselves, and as DTLS servers they pick SRTP
  /// AES-CM over the AES-GCM the SFU prefers (about 5x cheaper per packet), so they
  /// keep the client role.
  bool dtls_client = false;
};

/// Checks that the offer is something we can terminate (BUNDLE, rtcp-mux, ICE
/// credentials, a sha-256 fingerprint, setup actpass or active) and builds the answer
/// (a=setup:active to actpass when `options` asks for the client role, else passive).
/// Media sections we cannot receive are rejected with port 0, as JSEP prescribes.
/// Errors are kInvalidSdp.
Result<PublishAnswer> AnswerPublishOffer(const SdpSession& offer, const LocalTransport& local,
                                         PublishAnswerOptions options = {});

/// The largest data channel message the server takes and sends (a=max-message-size of
/// its answers): a Parley message's payload (kMaxDataPayload) and its envelope.
inline constexpr uint32_t kMaxDataMessageBytes = 64 * 1024 + 128;

/// What the answer to a data connection's offer accepted.
struct DataAnswer {
  SdpSession sdp;
  std::string remote_ufrag, remote_pwd, remote_fingerprint;
  uint16_t sctp_port = kSctpPort;  ///< the client's SCTP port (a=sctp-port)
  uint32_t max_message_size = 0;   ///< the client's a=max-message-size (0: not given, 64 KiB by RFC 8841 §6.1)
  bool dtls_client = false;        ///< as in PublishAnswer
};

/// Answers a data connection's offer: its first section must be an SCTP data channel
/// section (m=application … UDP/DTLS/SCTP webrtc-datachannel, RFC 8841) in the BUNDLE
/// group, with ICE credentials, a sha-256 fingerprint and setup actpass or active; any
/// other section is rejected (port 0). Errors are kInvalidSdp.
Result<DataAnswer> AnswerDataOffer(const SdpSession& offer, const LocalTransport& local,
                                   PublishAnswerOptions options = {});

/// One track the server sends on a subscribe connection.
struct OfferedTrack {
  std::string mid;
  bool video = false;
  SdpCodec codec;         ///< the publisher's negotiated codec (same payload type)
  uint32_t ssrc = 0;      ///< chosen by the server for this subscriber
  std::string stream_id;  ///< msid stream: the publishing user's id
  std::string track_id;   ///< msid track: "<user>-<audio|camera|screen>"
  uint32_t rtx_ssrc = 0;  ///< video with RTX: retransmissions come on this SSRC
  uint8_t rtx_payload_type = 0;
  /// Audio: RED offered besides the codec (red.hpp); 0 = not offered. Whether the
  /// client's answer took it decides what the SFU sends it (SubscribeAnswer::red).
  uint8_t red_payload_type = 0;
  bool red_accepted = false;
  bool active = true;  ///< false: the track went away; the section stays, inactive, until reused
};

/// The payload types a subscribe connection uses for a codec and for its RTX stream.
struct SubscribePayloadTypes {
  uint8_t media = 0, rtx = 0;
  uint8_t red = 0;  ///< RED carrying the codec (audio: 63, as browsers number it); 0 = none
};
/// Fixed per codec (Opus 111/112 and RED 63, stereo Opus 110/109 and RED 62, VP8 96/97,
/// H.264 102/103), whoever published the
/// track: in the connection's one BUNDLE group a number must name one codec
/// configuration (RFC 8843 §9.1), and publishers choose their own numbers (a native
/// H.264 publisher's RTX takes 96, the first free one, which is a VP8 publisher's
/// media type). Forwarded as published, one number meant two things, and the
/// subscriber's RTX receiver took VP8 media for H.264 retransmissions. {0, 0} for a
/// codec the SFU does not forward. Stereo Opus has numbers of its own: its sections
/// announce two channels (sprop-stereo=1) and mono ones one, and a receiver that maps
/// payload types per connection (GStreamer) would otherwise decode every Opus stream
/// with whichever section's channels it read first.
SubscribePayloadTypes SubscribePayloadTypesFor(std::string_view codec, bool stereo = false);

/// The server's offer on a subscribe connection: sendonly sections (inactive for
/// tracks that went away), ICE-lite, a=setup:actpass: the client picks the DTLS role
/// in its answer (passive makes the server the client, see CheckSubscribeAnswer). A section with an RTX payload type
/// and SSRC carries RTX and generic NACK: every video section, and audio ones for native subscribers of a native
/// publisher (ChannelMedia decides); other audio sections have no feedback. Every
/// section offers abs-send-time (kSubscribeAbsSendTimeId) and the transport-wide
/// sequence number (kSubscribeTransportCcId, with rtcp-fb transport-cc), no other
/// extension.
SdpSession BuildSubscribeOffer(const LocalTransport& local, const std::vector<OfferedTrack>& tracks,
                               uint64_t session_version);

/// The extension id the server offers subscribers abs-send-time under. The server writes
/// its own send time in every packet it forwards to a subscriber that took it, so the
/// receiver's delay-based estimate (its REMB) measures the path from the server, not
/// the publisher's capture and encoding jitter that RTP timestamps carry.
inline constexpr uint8_t kSubscribeAbsSendTimeId = 3;
/// ... and the transport-wide sequence number under: the server numbers every packet it
/// sends a subscriber that took it, and estimates the subscriber's downstream from its
/// transport-cc feedback (send_side_bwe.hpp), whatever the receiver.
inline constexpr uint8_t kSubscribeTransportCcId = 4;

struct SubscribeAnswer {
  std::string remote_ufrag, remote_pwd, remote_fingerprint;
  bool dtls_client = false;  ///< the answer said a=setup:passive: the server is the DTLS client
  /// Per answered section: whether it accepted the RED the offer had there.
  std::vector<bool> red;
  /// kSubscribeAbsSendTimeId when the answer took abs-send-time, else 0.
  uint8_t abs_send_time_id = 0;
  /// kSubscribeTransportCcId when the answer took the transport-wide sequence, else 0.
  uint8_t transport_cc_id = 0;
};
/// Checks the client's answer to a subscribe offer (the latest, or an earlier one: its
/// sections are a prefix of the latest): same mids, ICE credentials, a sha-256
/// fingerprint and a=setup active or passive. Errors are kInvalidSdp.
Result<SubscribeAnswer> CheckSubscribeAnswer(const SdpSession& answer, const std::vector<OfferedTrack>& offered);

}  // namespace parley::sfu
