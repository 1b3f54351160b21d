#include "sfu/negotiate.hpp"

#include <algorithm>
#include <cctype>

namespace parley::sfu {
namespace {

bool HasParam(const std::string& fmtp, std::string_view param) {
  size_t pos = 0;
  while (pos <= fmtp.size()) {
    size_t end = fmtp.find(';', pos);
    if (end == std::string::npos) end = fmtp.size();
    std::string_view item = std::string_view(fmtp).substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item == param) return true;
    pos = end + 1;
  }
  return false;
}

// H.264 constrained baseline (profile_idc 0x42, constraint_set1) in packetization-mode 1:
// the one profile every browser decodes (the "H5 compatible" video codec).
bool IsConstrainedBaselineH264(const SdpCodec& c) {
  if (!CodecNamed(c.name, "h264")) return false;
  if (!HasParam(c.fmtp, "packetization-mode=1")) return false;
  auto p = c.fmtp.find("profile-level-id=");
  if (p == std::string::npos) return false;
  std::string id = c.fmtp.substr(p + 17, 4);
  std::transform(id.begin(), id.end(), id.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  return id == "42e0" || id == "4200" || id == "42c0";
}

const SdpCodec* RtxFor(const SdpMedia& m, uint8_t pt) {
  std::string apt = "apt=" + std::to_string(pt);
  for (const auto& c : m.codecs)
    if (CodecNamed(c.name, "rtx") && HasParam(c.fmtp, apt)) return &c;
  return nullptr;
}

// RED for `media_pt` in the section (RFC 2198): its fmtp, when it has one, lists the
// payload type of each block ("111/111"); every block must be the chosen codec.
const SdpCodec* RedFor(const SdpMedia& m, uint8_t media_pt) {
  for (const auto& c : m.codecs) {
    if (!CodecNamed(c.name, "red") || c.clock_rate != 48000) continue;
    bool blocks_ok = true;
    std::string want = std::to_string(media_pt);
    size_t pos = 0;
    while (!c.fmtp.empty() && pos <= c.fmtp.size()) {
      size_t end = c.fmtp.find('/', pos);
      if (end == std::string::npos) end = c.fmtp.size();
      if (c.fmtp.compare(pos, end - pos, want) != 0) blocks_ok = false;
      pos = end + 1;
    }
    if (blocks_ok) return &c;
  }
  return nullptr;
}

// Adds to answer section `r` the RTX the offer's section `m` has for `pt`, if any;
// returns its payload type (0: none offered).
uint8_t AcceptRtx(const SdpMedia& m, uint8_t pt, SdpMedia& r) {
  const SdpCodec* rtx = RtxFor(m, pt);
  if (!rtx) return 0;
  SdpCodec rc = *rtx;
  rc.feedback.clear();
  r.codecs.push_back(rc);
  r.formats.push_back(std::to_string(rc.payload_type));
  return rc.payload_type;
}

std::vector<std::string> KeepFeedback(const SdpCodec& c) {
  std::vector<std::string> out;
  for (const auto& fb : c.feedback)
    if (fb == "nack" || fb == "nack pli" || fb == "ccm fir" || fb == "transport-cc") out.push_back(fb);
  return out;
}

// Our side of the bundled transport, the same in every section we write: ICE-lite
// credentials, the certificate fingerprint, the DTLS role, rtcp-mux, and the host
// candidates (the media worker's port over UDP and, unless turned off, TCP; RFC 8843
// §7.1 — ICE-lite gathers nothing else).
// The offer's transport, from its first section (BUNDLE): ICE credentials, a sha-256
// DTLS fingerprint and a=setup actpass or active, and the DTLS role the answer takes.
// `Answer` is PublishAnswer or DataAnswer.
template <typename Answer>
Status ReadOfferTransport(const SdpMedia& first, PublishAnswerOptions options, Answer& out) {
  auto bad = [](const std::string& why) { return MakeError(Errc::kInvalidSdp, why); };
  out.dtls_client = options.dtls_client && first.setup == "actpass";
  out.remote_ufrag = first.ice_ufrag;
  out.remote_pwd = first.ice_pwd;
  out.remote_fingerprint = first.fingerprint;
  if (out.remote_ufrag.empty() || out.remote_pwd.empty()) return bad("the offer lacks ICE credentials");
  if (first.fingerprint_algorithm != "sha-256" || out.remote_fingerprint.empty())
    return bad("the offer needs a sha-256 DTLS fingerprint");
  if (first.setup != "actpass" && first.setup != "active") return bad("the offer's a=setup must be actpass or active");
  return {};
}

void SetLocalTransport(SdpMedia& m, const LocalTransport& local, const char* setup) {
  m.ice_ufrag = local.ufrag;
  m.ice_pwd = local.pwd;
  m.fingerprint_algorithm = "sha-256";
  m.fingerprint = local.fingerprint;
  m.setup = setup;
  m.rtcp_mux = true;
  m.candidates = {"1 1 udp 2130706431 " + local.address + " " + std::to_string(local.port) + " typ host"};
  // ICE-TCP (RFC 6544): passive, so the client connects; a lower type preference than
  // UDP's, so a client that reaches both prefers UDP.
  if (local.tcp_port)
    m.candidates.push_back("2 1 tcp 1518280447 " + local.address + " " + std::to_string(local.tcp_port) +
                           " typ host tcptype passive");
  // The same port on an IPv6 address (the worker's socket is dual-stack then), each a
  // local preference below its IPv4 twin.
  if (!local.address6.empty()) {
    m.candidates.push_back("3 1 udp 2130706175 " + local.address6 + " " + std::to_string(local.port) + " typ host");
    if (local.tcp_port)
      m.candidates.push_back("4 1 tcp 1518280191 " + local.address6 + " " + std::to_string(local.tcp_port) +
                             " typ host tcptype passive");
  }
  m.end_of_candidates = true;
}

// Simulcast in a video section, when it is offered in a form the SFU can tell apart on
// the wire: RIDs (a=simulcast:send with a=rid send lines, and the RID header extension
// the packets carry; answered with a=rid recv and a=simulcast:recv) or SSRCs (a
// SIM group; nothing to answer). At most kMaxSimulcastLayers, the first ones listed; a
// section offering one layer, or RIDs without the extension, is one stream (a browser
// then sends its first encoding alone).
void AcceptSimulcast(const SdpMedia& m, AcceptedTrack& t, SdpMedia& r) {
  if (!m.simulcast_send.empty() && t.ext_rid) {
    for (const auto& listed : m.simulcast_send) {
      std::string id = !listed.empty() && listed.front() == '~' ? listed.substr(1) : listed;
      bool declared = std::any_of(m.rids.begin(), m.rids.end(),
                                  [&](const SdpRid& rid) { return rid.id == id && rid.direction == "send"; });
      bool repeated =
          std::any_of(t.layers.begin(), t.layers.end(), [&](const AcceptedLayer& l) { return l.rid == id; });
      if (!declared || repeated || t.layers.size() == kMaxSimulcastLayers) continue;
      t.layers.push_back({id, 0, 0});
    }
    if (t.layers.size() < 2) {
      t.layers.clear();
    } else {
      for (const auto& l : t.layers) {
        r.rids.push_back({l.rid, "recv"});
        r.simulcast_recv.push_back(l.rid);
      }
      t.ssrc = t.rtx_ssrc = 0;  // learnt per layer from the RIDs the packets carry
      return;
    }
  }
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics != "SIM" || g.ssrcs.size() < 2) continue;
    for (uint32_t ssrc : g.ssrcs) {
      bool repeated =
          std::any_of(t.layers.begin(), t.layers.end(), [&](const AcceptedLayer& l) { return l.ssrc == ssrc; });
      if (ssrc == 0 || repeated || t.layers.size() == kMaxSimulcastLayers) break;
      AcceptedLayer l{"", ssrc, 0};
      for (const auto& fid : m.ssrc_groups)
        if (fid.semantics == "FID" && fid.ssrcs.size() == 2 && fid.ssrcs[0] == ssrc) l.rtx_ssrc = fid.ssrcs[1];
      t.layers.push_back(l);
    }
    if (t.layers.size() >= 2) {
      t.ssrc = t.layers.front().ssrc;
      t.rtx_ssrc = t.layers.front().rtx_ssrc;
    } else {
      t.layers.clear();
    }
    return;
  }
}

}  // namespace

Result<PublishAnswer> AnswerPublishOffer(const SdpSession& offer, const LocalTransport& local,
                                         PublishAnswerOptions options) {
  auto bad = [](const std::string& why) { return MakeError(Errc::kInvalidSdp, why); };
  if (offer.media.empty()) return bad("the offer has no media sections");
  if (offer.bundle_mids.empty()) return bad("the offer must use BUNDLE (a=group:BUNDLE)");
  PublishAnswer out;
  const SdpMedia& first = offer.media.front();
  if (Status st = ReadOfferTransport(first, options, out); !st) return st.error();

  SdpSession& a = out.sdp;
  a.session_id = offer.session_id ^ 0x5A5A5A5A;
  a.session_version = 1;
  a.ice_lite = true;
  a.msid_semantic = " WMS";
  for (const SdpMedia& m : offer.media) {
    SdpMedia r;
    r.kind = m.kind;
    r.proto = m.proto;
    r.mid = m.mid;
    SetLocalTransport(r, local, out.dtls_client ? "active" : "passive");
    r.rtcp_rsize = m.rtcp_rsize;
    bool bundled = std::find(offer.bundle_mids.begin(), offer.bundle_mids.end(), m.mid) != offer.bundle_mids.end();
    // The first codec of the offer's preference order (its m= line) that we forward:
    // Opus for audio; VP8 or H.264 constrained baseline for video.
    const SdpCodec* chosen = nullptr;
    for (const auto& f : m.formats) {
      int pt = 0;
      for (char ch : f) pt = ch >= '0' && ch <= '9' && pt < 1000 ? pt * 10 + (ch - '0') : 1000;
      if (pt > 127) continue;
      const SdpCodec* c = m.FindCodec(static_cast<uint8_t>(pt));
      if (!c) continue;
      bool ok = m.kind == "audio" ? CodecNamed(c->name, "opus") && c->clock_rate == 48000
                                  : m.kind == "video" && (CodecNamed(c->name, "vp8") || IsConstrainedBaselineH264(*c));
      if (ok) {
        chosen = c;
        break;
      }
    }
    // Port 0 with a=bundle-only is a BUNDLE offer's way of saying "only in the bundle"
    // (RFC 8843 §7.2; GStreamer webrtcbin offers so), not a rejected section.
    if (!chosen || !bundled || m.mid.empty() || !m.rtcp_mux || (m.port == 0 && !m.bundle_only)) {
      r.port = 0;  // rejected (RFC 8829 §5.3.1): no candidate
      r.candidates.clear();
      r.end_of_candidates = false;
      r.direction = "inactive";
      r.formats = m.formats.empty() ? std::vector<std::string>{"0"} : std::vector<std::string>{m.formats.front()};
      a.media.push_back(std::move(r));
      continue;
    }
    r.port = 9;
    r.direction = m.Sends() ? "recvonly" : "inactive";
    SdpCodec codec = *chosen;
    codec.feedback = KeepFeedback(*chosen);
    AcceptedTrack t;
    if (CodecNamed(codec.name, "opus")) {
      // A sender that says it sends stereo (RFC 7587 sprop-stereo, or stereo=1 as
      // browsers' munged offers say it) is told that stereo is welcome: browsers encode
      // stereo only when the remote description asks for it.
      t.stereo = HasParam(chosen->fmtp, "sprop-stereo=1") || HasParam(chosen->fmtp, "stereo=1");
      codec.fmtp = t.stereo ? "minptime=10;useinbandfec=1;usedtx=1;stereo=1" : "minptime=10;useinbandfec=1;usedtx=1";
    }
    r.codecs.push_back(codec);
    r.formats.push_back(std::to_string(codec.payload_type));
    t.mid = m.mid;
    t.kind = m.kind;
    // One spelling from here on, however the offer wrote it (names are case-blind).
    t.codec = CodecNamed(codec.name, "opus") ? "opus" : CodecNamed(codec.name, "vp8") ? "VP8" : "H264";
    t.payload_type = codec.payload_type;
    // RTX when offered: browsers offer it for video only, native clients for audio too.
    t.rtx_payload_type = AcceptRtx(m, codec.payload_type, r);
    // RED for Opus when offered (browsers offer it; libparley too): a lost packet then
    // comes back from the next one (red.hpp). Its RTX with it, when offered.
    if (m.kind == "audio")
      if (const SdpCodec* red = RedFor(m, codec.payload_type)) {
        SdpCodec rc = *red;
        rc.feedback.clear();
        rc.channels = 2;
        rc.fmtp = std::to_string(codec.payload_type) + "/" + std::to_string(codec.payload_type);
        r.codecs.push_back(rc);
        // First on the m= line: libwebrtc sends RED only when the answer prefers it
        // (it sends the answer's first codec); webrtcbin sends it whatever the order.
        r.formats.insert(r.formats.begin(), std::to_string(rc.payload_type));
        t.red_payload_type = rc.payload_type;
        if (t.rtx_payload_type) t.red_rtx_payload_type = AcceptRtx(m, rc.payload_type, r);
      }
    for (const auto& e : m.extmaps) {
      bool video = m.kind == "video";
      uint8_t* slot = e.uri == kExtMid                            ? &t.ext_mid
                      : e.uri == kExtAudioLevel                   ? &t.ext_audio_level
                      : e.uri == kExtAbsSendTime                  ? &t.ext_abs_send_time
                      : e.uri == kExtTransportCc                  ? &t.ext_transport_cc
                      : video && e.uri == kExtRtpStreamId         ? &t.ext_rid
                      : video && e.uri == kExtRepairedRtpStreamId ? &t.ext_repaired_rid
                                                                  : nullptr;
      if (!slot) continue;
      *slot = e.id;
      r.extmaps.push_back({e.id, "", e.uri});
    }
    if (!m.ssrcs.empty()) t.ssrc = m.ssrcs.front();
    for (const auto& g : m.ssrc_groups)
      if (g.semantics == "FID" && g.ssrcs.size() == 2) {
        t.ssrc = g.ssrcs[0];
        t.rtx_ssrc = g.ssrcs[1];
      }
    if (m.kind == "video") AcceptSimulcast(m, t, r);
    out.tracks.push_back(t);
    a.bundle_mids.push_back(m.mid);
    a.media.push_back(std::move(r));
  }
  if (out.tracks.empty()) return bad("the offer has no audio (Opus) or video (VP8, H.264 baseline) to receive");
  return out;
}

Result<DataAnswer> AnswerDataOffer(const SdpSession& offer, const LocalTransport& local, PublishAnswerOptions options) {
  auto bad = [](const std::string& why) { return MakeError(Errc::kInvalidSdp, why); };
  if (offer.media.empty()) return bad("the offer has no media sections");
  const SdpMedia& first = offer.media.front();
  bool bundled = std::find(offer.bundle_mids.begin(), offer.bundle_mids.end(), first.mid) != offer.bundle_mids.end();
  if (first.kind != "application" || first.proto != "UDP/DTLS/SCTP" || first.formats.size() != 1 ||
      first.formats.front() != "webrtc-datachannel")
    return bad("a data connection's first section must be m=application ... UDP/DTLS/SCTP webrtc-datachannel");
  if (!bundled || first.mid.empty()) return bad("the data section must be in the BUNDLE group");
  if (first.port == 0 && !first.bundle_only) return bad("the data section is rejected (port 0)");
  DataAnswer out;
  if (Status st = ReadOfferTransport(first, options, out); !st) return st.error();
  out.sctp_port = first.sctp_port ? first.sctp_port : kSctpPort;
  out.max_message_size = first.max_message_size;
  SdpSession& a = out.sdp;
  a.session_id = offer.session_id ^ 0x5A5A5A5A;
  a.session_version = 1;
  a.ice_lite = true;
  a.bundle_mids = {first.mid};
  for (const SdpMedia& m : offer.media) {
    SdpMedia r;
    r.kind = m.kind;
    r.proto = m.proto;
    r.mid = m.mid;
    r.formats = m.formats.empty() ? std::vector<std::string>{"0"} : std::vector<std::string>{m.formats.front()};
    if (&m == &first) {
      SetLocalTransport(r, local, out.dtls_client ? "active" : "passive");
      r.rtcp_mux = false;  // SCTP over DTLS has no RTCP
      r.port = 9;
      r.sctp_port = kSctpPort;
      r.max_message_size = kMaxDataMessageBytes;
    } else {
      r.port = 0;  // only the one data section
      r.direction = "inactive";
    }
    a.media.push_back(std::move(r));
  }
  return out;
}

SubscribePayloadTypes SubscribePayloadTypesFor(std::string_view codec, bool stereo) {
  auto is = [codec](std::string_view name) { return CodecNamed(codec, name); };
  if (is("opus")) return stereo ? SubscribePayloadTypes{110, 109, 62} : SubscribePayloadTypes{111, 112, 63};
  if (is("vp8")) return {96, 97};
  if (is("h264")) return {102, 103};
  return {};
}

SdpSession BuildSubscribeOffer(const LocalTransport& local, const std::vector<OfferedTrack>& tracks,
                               uint64_t session_version) {
  SdpSession s;
  s.session_id = 0x7061726C6579;  // stable per connection: only the version moves
  s.session_version = session_version;
  s.ice_lite = true;
  s.msid_semantic = " WMS";
  for (const auto& t : tracks) {
    SdpMedia m;
    m.kind = t.video ? "video" : "audio";
    m.port = 9;
    m.proto = "UDP/TLS/RTP/SAVPF";
    m.mid = t.mid;
    SetLocalTransport(m, local, "actpass");
    m.direction = t.active ? "sendonly" : "inactive";
    m.rtcp_rsize = true;
    m.extmaps.push_back({kSubscribeAbsSendTimeId, "", std::string(kExtAbsSendTime)});
    m.extmaps.push_back({kSubscribeTransportCcId, "", std::string(kExtTransportCc)});
    SdpCodec c = t.codec;
    c.feedback.clear();
    // transport-cc: the client reports each packet's arrival, from which the server
    // estimates what it can take (send_side_bwe.hpp); goog-remb for a client that takes
    // abs-send-time only: it reports its own estimate (REMB). Either decides the layers
    // and whether video to it pauses (downstream_estimate.hpp).
    // Only video is numbered (send_side_bwe.hpp says why).
    if (t.video)
      c.feedback = {"goog-remb", "transport-cc", "nack", "nack pli", "ccm fir"};
    else if (t.rtx_payload_type)
      c.feedback = {"nack"};  // repaired audio (native subscribers only)
    m.codecs.push_back(c);
    m.formats.push_back(std::to_string(c.payload_type));
    if (t.red_payload_type) {  // RED after the codec, as browsers order them
      SdpCodec red;
      red.payload_type = t.red_payload_type;
      red.name = "red";
      red.clock_rate = c.clock_rate;
      red.channels = c.channels;
      red.fmtp = std::to_string(c.payload_type) + "/" + std::to_string(c.payload_type);
      m.codecs.push_back(red);
      m.formats.push_back(std::to_string(red.payload_type));
    }
    if (t.rtx_payload_type) {
      SdpCodec rtx;
      rtx.payload_type = t.rtx_payload_type;
      rtx.name = "rtx";
      rtx.clock_rate = c.clock_rate;  // RFC 4588 §8.6: the original stream's rate
      rtx.fmtp = "apt=" + std::to_string(c.payload_type);
      m.codecs.push_back(rtx);
      m.formats.push_back(std::to_string(rtx.payload_type));
    }
    if (t.active) {
      m.ssrcs.push_back(t.ssrc);
      if (t.rtx_payload_type && t.rtx_ssrc) {
        m.ssrcs.push_back(t.rtx_ssrc);
        m.ssrc_groups.push_back({"FID", {t.ssrc, t.rtx_ssrc}});
      }
      m.cname = t.stream_id;
      m.msid = t.stream_id + " " + t.track_id;
    }
    s.bundle_mids.push_back(t.mid);
    s.media.push_back(std::move(m));
  }
  return s;
}

Result<SubscribeAnswer> CheckSubscribeAnswer(const SdpSession& answer, const std::vector<OfferedTrack>& offered) {
  auto bad = [](const std::string& why) { return MakeError(Errc::kInvalidSdp, why); };
  if (offered.empty()) return bad("nothing was offered");
  // Offers only ever append sections, so an answer to an earlier offer (sent while a
  // newer one was on its way) is a prefix of the current list and is accepted.
  if (answer.media.empty() || answer.media.size() > offered.size())
    return bad("the answer must have one section per offered track");
  for (size_t i = 0; i < answer.media.size(); ++i)
    if (answer.media[i].mid != offered[i].mid) return bad("answer section " + std::to_string(i) + " has the wrong mid");
  const SdpMedia& first = answer.media.front();
  if (first.ice_ufrag.empty() || first.ice_pwd.empty()) return bad("the answer lacks ICE credentials");
  if (first.fingerprint_algorithm != "sha-256" || first.fingerprint.empty())
    return bad("the answer needs a sha-256 DTLS fingerprint");
  if (first.setup != "active" && first.setup != "passive") return bad("the answer's a=setup must be active or passive");
  SubscribeAnswer out{first.ice_ufrag, first.ice_pwd, first.fingerprint, first.setup == "passive", {}};
  for (size_t i = 0; i < answer.media.size(); ++i) {
    const SdpMedia& m = answer.media[i];
    uint8_t pt = offered[i].red_payload_type;
    const SdpCodec* c = pt ? m.FindCodec(pt) : nullptr;
    bool listed = std::find(m.formats.begin(), m.formats.end(), std::to_string(pt)) != m.formats.end();
    out.red.push_back(c && listed && CodecNamed(c->name, "red"));
  }
  // One transport (BUNDLE): the first section's word holds for all. An answer may only
  // take an offered extension under its offered id (RFC 8285 §6).
  for (const auto& e : first.extmaps) {
    if (e.uri == kExtAbsSendTime && e.id == kSubscribeAbsSendTimeId) out.abs_send_time_id = e.id;
    if (e.uri == kExtTransportCc && e.id == kSubscribeTransportCcId) out.transport_cc_id = e.id;
  }
  return out;
}

}  // namespace parley::sfu
