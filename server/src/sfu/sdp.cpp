#include "sfu/sdp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace parley::sfu {

bool CodecNamed(std::string_view name, std::string_view lower) {
  return name.size() == lower.size() && std::equal(name.begin(), name.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}
namespace {

Error Bad(size_t line_no, std::string_view why) {
  return MakeError(Errc::kInvalidSdp, "SDP line " + std::to_string(line_no) + ": " + std::string(why));
}

template <typename T>
bool ParseNum(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits at the first occurrence of `sep`; `rest` is empty when absent.
std::string_view Cut(std::string_view s, char sep, std::string_view* rest) {
  auto i = s.find(sep);
  if (i == std::string_view::npos) {
    *rest = {};
    return s;
  }
  *rest = s.substr(i + 1);
  return s.substr(0, i);
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ValidToken(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_"); at most 16 (the RID header
// extension's practical bound: libwebrtc writes no longer ones).
bool ValidRid(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

// One direction's stream list of a=simulcast (RFC 8853 §5.1): streams separated by
// ';', alternatives by ','; each kept as its first alternative, "~" (paused) included.
bool ParseSimulcastList(std::string_view list, std::vector<std::string>* out) {
  out->clear();
  while (!list.empty()) {
    std::string_view rest;
    std::string_view stream = Cut(list, ';', &rest);
    std::string_view ignored;
    std::string_view first = Cut(stream, ',', &ignored);
    std::string_view id = !first.empty() && first.front() == '~' ? first.substr(1) : first;
    if (!ValidRid(id) || out->size() >= 8) return false;
    out->emplace_back(first);
    list = rest;
  }
  return !out->empty();
}

SdpCodec* CodecFor(SdpMedia& m, uint8_t pt) {
  for (auto& c : m.codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

}  // namespace

const SdpCodec* SdpMedia::FindCodec(uint8_t pt) const {
  for (const auto& c : codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

const SdpExtmap* SdpMedia::FindExtmap(std::string_view uri) const {
  for (const auto& e : extmaps)
    if (e.uri == uri) return &e;
  return nullptr;
}

Result<SdpSession> ParseSdp(std::string_view text) {
  if (text.size() > kMaxSdpBytes) return MakeError(Errc::kInvalidSdp, "SDP is larger than 64 KiB");
  SdpSession s;
  SdpMedia session_defaults;  // session-level attributes that media sections inherit
  SdpMedia* m = nullptr;
  size_t line_no = 0;
  bool saw_version = false, saw_origin = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return Bad(line_no, "not <type>=<value>");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (value.find('\0') != std::string_view::npos) return Bad(line_no, "NUL byte");
    switch (type) {
      case 'v':
        if (value != "0") return Bad(line_no, "version must be 0");
        saw_version = true;
        break;
      case 'o': {
        auto w = Words(value);
        if (w.size() != 6 || !ParseNum(w[1], &s.session_id) || !ParseNum(w[2], &s.session_version))
          return Bad(line_no, "malformed o= line");
        saw_origin = true;
        break;
      }
      case 'm': {
        if (s.media.size() >= kMaxSdpMedia) return Bad(line_no, "more than 64 media sections");
        auto w = Words(value);
        if (w.size() < 3) return Bad(line_no, "malformed m= line");
        SdpMedia media = session_defaults;
        media.kind = std::string(w[0]);
        std::string_view port = w[1];
        std::string_view count;
        port = Cut(port, '/', &count);
        if (!ParseNum(port, &media.port)) return Bad(line_no, "bad port");
        media.proto = std::string(w[2]);
        for (size_t i = 3; i < w.size(); ++i) {
          if (!ValidToken(w[i], 32)) return Bad(line_no, "bad format");
          media.formats.emplace_back(w[i]);
        }
        s.media.push_back(std::move(media));
        m = &s.media.back();
        break;
      }
      case 'a': {
        std::string_view rest;
        std::string_view name = Cut(value, ':', &rest);
        SdpMedia& t = m ? *m : session_defaults;
        if (name == "group") {
          auto w = Words(rest);
          if (!w.empty() && w[0] == "BUNDLE") {
            s.bundle_mids.clear();
            for (size_t i = 1; i < w.size(); ++i) s.bundle_mids.emplace_back(w[i]);
          }
        } else if (name == "ice-lite") {
          s.ice_lite = true;
        } else if (name == "msid-semantic") {
          s.msid_semantic = std::string(rest);
        } else if (name == "mid") {
          if (!m || !ValidToken(rest, 32)) return Bad(line_no, "bad mid");
          m->mid = std::string(rest);
        } else if (name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive") {
          t.direction = std::string(name);
        } else if (name == "ice-ufrag") {
          if (!ValidToken(rest, 256)) return Bad(line_no, "bad ice-ufrag");
          t.ice_ufrag = std::string(rest);
        } else if (name == "ice-pwd") {
          if (!ValidToken(rest, 256)) return Bad(line_no, "bad ice-pwd");
          t.ice_pwd = std::string(rest);
        } else if (name == "fingerprint") {
          auto w = Words(rest);
          if (w.size() != 2 || !ValidToken(w[1], 256)) return Bad(line_no, "bad fingerprint");
          t.fingerprint_algorithm = std::string(w[0]);
          std::transform(t.fingerprint_algorithm.begin(), t.fingerprint_algorithm.end(),
                         t.fingerprint_algorithm.begin(),
                         [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
          t.fingerprint = std::string(w[1]);
        } else if (name == "setup") {
          if (rest != "actpass" && rest != "active" && rest != "passive" && rest != "holdconn")
            return Bad(line_no, "bad setup");
          t.setup = std::string(rest);
        } else if (name == "rtcp-mux") {
          t.rtcp_mux = true;
        } else if (name == "rtcp-rsize") {
          t.rtcp_rsize = true;
        } else if (name == "bundle-only") {
          t.bundle_only = true;
        } else if (name == "end-of-candidates") {
          t.end_of_candidates = true;
        } else if (name == "sctp-port") {
          if (!m || !ParseNum(rest, &m->sctp_port) || m->sctp_port == 0) return Bad(line_no, "bad sctp-port");
        } else if (name == "max-message-size") {
          if (!m || !ParseNum(rest, &m->max_message_size)) return Bad(line_no, "bad max-message-size");
        } else if (name == "candidate") {
          if (!m) return Bad(line_no, "candidate outside a media section");
          if (m->candidates.size() >= 64 || rest.size() > 512) return Bad(line_no, "too many or too long candidates");
          m->candidates.emplace_back(rest);
        } else if (name == "msid") {
          if (m) m->msid = std::string(rest);
        } else if (name == "rtpmap") {
          if (!m) return Bad(line_no, "rtpmap outside a media section");
          std::string_view enc;
          std::string_view pt_s = Cut(rest, ' ', &enc);
          uint8_t pt = 0;
          if (!ParseNum(pt_s, &pt) || pt > 127) return Bad(line_no, "bad rtpmap payload type");
          std::string_view clock_s, ch_s;
          std::string_view codec_name = Cut(enc, '/', &clock_s);
          clock_s = Cut(clock_s, '/', &ch_s);
          SdpCodec c;
          c.payload_type = pt;
          c.name = std::string(codec_name);
          if (!ValidToken(codec_name, 32) || !ParseNum(clock_s, &c.clock_rate)) return Bad(line_no, "bad rtpmap");
          if (!ch_s.empty() && !ParseNum(ch_s, &c.channels)) return Bad(line_no, "bad channel count");
          if (CodecFor(*m, pt)) return Bad(line_no, "duplicate rtpmap");
          if (m->codecs.size() >= 128) return Bad(line_no, "too many codecs");
          m->codecs.push_back(std::move(c));
        } else if (name == "fmtp" || name == "rtcp-fb") {
          if (!m) return Bad(line_no, "fmtp/rtcp-fb outside a media section");
          std::string_view params;
          std::string_view pt_s = Cut(rest, ' ', &params);
          if (pt_s == "*" && name == "rtcp-fb") {
            for (auto& c : m->codecs) c.feedback.emplace_back(params);
            break;
          }
          uint8_t pt = 0;
          if (!ParseNum(pt_s, &pt) || pt > 127) return Bad(line_no, "bad payload type");
          SdpCodec* c = CodecFor(*m, pt);
          if (!c) break;  // for a format without rtpmap (static payload type): ignored
          if (params.size() > 1024) return Bad(line_no, "parameters too long");
          if (name == "fmtp")
            c->fmtp = std::string(params);
          else if (c->feedback.size() < 16)
            c->feedback.emplace_back(params);
        } else if (name == "extmap") {
          if (!m) return Bad(line_no, "extmap outside a media section");
          auto w = Words(rest);
          if (w.size() < 2) return Bad(line_no, "bad extmap");
          std::string_view dir;
          std::string_view id_s = Cut(w[0], '/', &dir);
          SdpExtmap e;
          if (!ParseNum(id_s, &e.id) || e.id == 0) return Bad(line_no, "bad extmap id");  // 1-255 (RFC 8285 §5)
          e.direction = std::string(dir);
          e.uri = std::string(w[1]);
          if (m->extmaps.size() >= 32) return Bad(line_no, "too many extmaps");
          m->extmaps.push_back(std::move(e));
        } else if (name == "ssrc") {
          if (!m) return Bad(line_no, "ssrc outside a media section");
          std::string_view attr;
          std::string_view ssrc_s = Cut(rest, ' ', &attr);
          uint32_t ssrc = 0;
          if (!ParseNum(ssrc_s, &ssrc)) return Bad(line_no, "bad ssrc");
          if (std::find(m->ssrcs.begin(), m->ssrcs.end(), ssrc) == m->ssrcs.end()) {
            if (m->ssrcs.size() >= 16) return Bad(line_no, "too many ssrcs");
            m->ssrcs.push_back(ssrc);
          }
          if (attr.rfind("cname:", 0) == 0) m->cname = std::string(attr.substr(6));
        } else if (name == "ssrc-group") {
          if (!m) return Bad(line_no, "ssrc-group outside a media section");
          auto w = Words(rest);
          if (w.size() < 2) return Bad(line_no, "bad ssrc-group");
          SdpSsrcGroup g;
          g.semantics = std::string(w[0]);
          for (size_t i = 1; i < w.size(); ++i) {
            uint32_t ssrc = 0;
            if (!ParseNum(w[i], &ssrc)) return Bad(line_no, "bad ssrc in group");
            g.ssrcs.push_back(ssrc);
          }
          if (m->ssrc_groups.size() >= 8) return Bad(line_no, "too many ssrc groups");
          m->ssrc_groups.push_back(std::move(g));
        } else if (name == "rid") {
          if (!m) return Bad(line_no, "rid outside a media section");
          auto w = Words(rest);
          if (w.size() < 2 || !ValidRid(w[0]) || (w[1] != "send" && w[1] != "recv")) return Bad(line_no, "bad rid");
          if (m->rids.size() >= 8) return Bad(line_no, "too many rids");
          for (const auto& r : m->rids)
            if (r.id == w[0]) return Bad(line_no, "repeated rid");
          m->rids.push_back({std::string(w[0]), std::string(w[1])});  // restrictions (max-width, ...) are not used
        } else if (name == "simulcast") {
          if (!m) return Bad(line_no, "simulcast outside a media section");
          auto w = Words(rest);
          if (w.empty() || w.size() % 2 != 0 || w.size() > 4) return Bad(line_no, "bad simulcast");
          for (size_t i = 0; i < w.size(); i += 2) {
            std::vector<std::string>* list = w[i] == "send"   ? &m->simulcast_send
                                             : w[i] == "recv" ? &m->simulcast_recv
                                                              : nullptr;
            if (i == 2 && w[0] == w[2]) list = nullptr;  // one list per direction (RFC 8853 §5.1)
            if (!list || !ParseSimulcastList(w[i + 1], list)) return Bad(line_no, "bad simulcast");
          }
        }
        // Other attributes (rtcp, extmap-allow-mixed, ...) are not needed and ignored.
        break;
      }
      default: break;  // s=, t=, c=, b=, i=, ... carry nothing WebRTC needs here
    }
  }
  if (!saw_version || !saw_origin) return MakeError(Errc::kInvalidSdp, "SDP lacks v= or o=");
  return s;
}

std::string WriteSdp(const SdpSession& s) {
  std::string o;
  auto line = [&](std::string_view a, std::string_view b = {}, std::string_view c = {}, std::string_view d = {}) {
    o.append(a).append(b).append(c).append(d).append("\r\n");
  };
  line("v=0");
  line("o=- ", std::to_string(s.session_id) + " " + std::to_string(s.session_version), " IN IP4 127.0.0.1");
  line("s=-");
  line("t=0 0");
  if (s.ice_lite) line("a=ice-lite");
  if (!s.bundle_mids.empty()) {
    std::string g = "a=group:BUNDLE";
    for (const auto& mid : s.bundle_mids) g += " " + mid;
    line(g);
  }
  if (!s.msid_semantic.empty()) line("a=msid-semantic:", s.msid_semantic);
  for (const auto& m : s.media) {
    std::string ml = "m=" + m.kind + " " + std::to_string(m.port) + " " + m.proto;
    for (const auto& f : m.formats) ml += " " + f;
    line(ml);
    line("c=IN IP4 0.0.0.0");
    if (!m.mid.empty()) line("a=mid:", m.mid);
    if (!m.ice_ufrag.empty()) line("a=ice-ufrag:", m.ice_ufrag);
    if (!m.ice_pwd.empty()) line("a=ice-pwd:", m.ice_pwd);
    if (!m.fingerprint.empty()) line("a=fingerprint:", m.fingerprint_algorithm, " ", m.fingerprint);
    if (!m.setup.empty()) line("a=setup:", m.setup);
    if (!m.direction.empty()) line("a=", m.direction);
    if (m.rtcp_mux) line("a=rtcp-mux");
    if (m.rtcp_rsize) line("a=rtcp-rsize");
    if (m.bundle_only) line("a=bundle-only");
    if (!m.msid.empty()) line("a=msid:", m.msid);
    for (const auto& e : m.extmaps)
      line("a=extmap:", std::to_string(e.id) + (e.direction.empty() ? "" : "/" + e.direction), " ", e.uri);
    for (const auto& c : m.codecs) {
      std::string enc = c.name + "/" + std::to_string(c.clock_rate);
      if (c.channels) enc += "/" + std::to_string(c.channels);
      line("a=rtpmap:", std::to_string(c.payload_type), " ", enc);
      for (const auto& fb : c.feedback) line("a=rtcp-fb:", std::to_string(c.payload_type), " ", fb);
      if (!c.fmtp.empty()) line("a=fmtp:", std::to_string(c.payload_type), " ", c.fmtp);
    }
    for (const auto& g : m.ssrc_groups) {
      std::string l = "a=ssrc-group:" + g.semantics;
      for (uint32_t x : g.ssrcs) l += " " + std::to_string(x);
      line(l);
    }
    for (uint32_t x : m.ssrcs) line("a=ssrc:", std::to_string(x), " cname:", m.cname.empty() ? "parley" : m.cname);
    for (const auto& r : m.rids) line("a=rid:", r.id, " ", r.direction);
    auto simulcast = [&](std::string_view dir, const std::vector<std::string>& list) {
      if (list.empty()) return;
      std::string l = "a=simulcast:" + std::string(dir) + " ";
      for (size_t i = 0; i < list.size(); ++i) l += (i ? ";" : "") + list[i];
      line(l);
    };
    simulcast("send", m.simulcast_send);
    simulcast("recv", m.simulcast_recv);
    if (m.sctp_port) line("a=sctp-port:", std::to_string(m.sctp_port));
    if (m.max_message_size) line("a=max-message-size:", std::to_string(m.max_message_size));
    for (const auto& c : m.candidates) line("a=candidate:", c);
    if (m.end_of_candidates) line("a=end-of-candidates");
  }
  return o;
}

}  // namespace parley::sfu
