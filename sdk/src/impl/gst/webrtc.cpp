#include "impl/gst/webrtc.hpp"

#include <gst/audio/audio.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/sdp/sdp.h>
#include <nice/agent.h>
#include <atomic>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/promise.hpp"
#include "parley/proto/ice_url.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk {
namespace {

// How long webrtcbin gets to answer: an SDP operation is local work of a few ms, so a
// silent webrtcbin is stuck and the connection is given up.
constexpr std::chrono::milliseconds kSdpTimeout{5000};

constexpr char kNoAnswer[] = "webrtcbin did not answer ";

// How many times libnice sends each ICE check (see RestrictIce).
constexpr guint kStunTries = 7;
// The pace of ICE checks (RFC 8445's Ta): its floor, 5 ms, instead of libnice's 20 ms.
// The SFU is one candidate and answers at once, so a connection waits for the pace, not
// the network: a check, then the nominating one, each a tick apart.
constexpr guint kStunPacingMs = 5;

Error WebrtcbinTimeout(const char* what) {
  return {Errc::kMediaConnectionCreateFailed, kNoAnswer + std::string(what) + " within 5 s"};
}

// ICE per the notes: never UPnP, only the allowed addresses.
void RestrictIce(GstElement* webrtc, const std::vector<std::string>& addresses, bool udp) {
  GObject* raw_ice = nullptr;
  g_object_get(webrtc, "ice-agent", &raw_ice, nullptr);
  gst::GstPtr<GObject> ice = gst::Adopt(raw_ice);
  if (!ice) return;
  GObject* raw_agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent"))
    g_object_get(ice.get(), "agent", &raw_agent, nullptr);
  gst::GstPtr<GObject> agent = gst::Adopt(raw_agent);
  if (!agent) return;
  // Consent freshness with Binding requests (RFC 7675), not indications. Each check
  // sent up to 7 times (RFC 8489's Rc) instead of libnice's 3: through 30 % loss each
  // way a check and its response both arrive half the time, so 3 tries lose one
  // check in eight, and a lost nominating check leaves the connection without ICE
  // (one in three calls lost a direction's media that way); 7 tries lose one in 110.
  // ICE-TCP on: the server offers a passive TCP candidate beside UDP (lower priority),
  // which is the way through a network that blocks UDP.
  // Without UDP (IceSetup::tcp_only) the only pairs are ICE-TCP ones.
  g_object_set(agent.get(), "upnp", FALSE, "ice-tcp", TRUE, "ice-udp", udp ? TRUE : FALSE, "keepalive-conncheck", TRUE,
               "stun-max-retransmissions", kStunTries, "stun-pacing-timer", kStunPacingMs, nullptr);
  for (const auto& a : addresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (nice_address_set_from_string(&addr, a.c_str())) nice_agent_add_local_address(NICE_AGENT(agent.get()), &addr);
  }
}

}  // namespace

bool media::TimedOut(const Error& e) {
  return e.code == Errc::kMediaConnectionCreateFailed && e.message.rfind(kNoAnswer, 0) == 0;
}

namespace gst {

std::string WebrtcbinIceUri(std::string_view url, std::string_view username, std::string_view credential) {
  auto u = ParseIceUrl(url);  // the parser parleyd checks its --turn-url with
  if (!u) return {};
  std::string out = u->scheme + "://";
  if (u->scheme != "stun") {
    GstPtr<gchar> user = Adopt(g_uri_escape_string(std::string(username).c_str(), nullptr, FALSE));
    GstPtr<gchar> pass = Adopt(g_uri_escape_string(std::string(credential).c_str(), nullptr, FALSE));
    out += std::string(user.get()) + ":" + pass.get() + "@";
  }
  IceUrl with_port = *u;
  with_port.port = u->port_or_default();
  out += with_port.authority();
  if (!u->transport.empty() && u->scheme == "turn") out += "?transport=" + u->transport;
  return out;
}

GstElement* MakeWebrtc(const media::IceSetup& ice) {
  GstElement* w = gst_element_factory_make("webrtcbin", nullptr);
  if (!w) return nullptr;
  g_object_set(w, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  RestrictIce(w, ice.addresses, !ice.tcp_only);
  bool stun_set = false;
  for (const auto& server : ice.servers)
    for (const auto& url : server.urls) {
      std::string uri = WebrtcbinIceUri(url, server.username, server.credential);
      if (uri.empty()) continue;
      if (uri.rfind("stun://", 0) == 0) {
        if (!std::exchange(stun_set, true)) g_object_set(w, "stun-server", uri.c_str(), nullptr);  // one at most
        continue;
      }
      gboolean added = FALSE;
      g_signal_emit_by_name(w, "add-turn-server", uri.c_str(), &added);
    }
  if (ice.relay_only) g_object_set(w, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
  return w;
}

Status SetDescription(GstElement* webrtc, const char* signal, GstWebRTCSDPType type, const std::string& text) {
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(text.c_str(), &sdp) != GST_SDP_OK)
    return MakeError(Errc::kInvalidSdp, "the server's SDP does not parse");
  // The description owns the message from here on.
  GstPtr<GstWebRTCSessionDescription> desc = Adopt(gst_webrtc_session_description_new(type, sdp));
  BoundedPromise p;
  g_signal_emit_by_name(webrtc, signal, desc.get(), p.get());
  const GstStructure* reply = p.Wait(kSdpTimeout);
  GError* raw_err = nullptr;
  if (reply && gst_structure_has_field(reply, "error"))
    gst_structure_get(reply, "error", G_TYPE_ERROR, &raw_err, nullptr);
  GstPtr<GError> err = Adopt(raw_err);
  if (p.timed_out()) return WebrtcbinTimeout(signal);
  if (err && err->message && *err->message)
    return MakeError(Errc::kInvalidSdp, std::string(signal) + ": " + err->message);
  return {};
}

namespace {

// Calls `fn(section, line)` for each media-level line of `sdp` (sections from 0; CRLF
// or bare newlines).
template <typename Fn>
void ForEachMediaLine(std::string_view sdp, Fn&& fn) {
  int section = -1;  // before the first m= line: session level
  while (!sdp.empty()) {
    size_t end = sdp.find('\n');
    std::string_view line = sdp.substr(0, end);
    sdp = end == std::string_view::npos ? std::string_view() : sdp.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("m=", 0) == 0)
      ++section;
    else if (section >= 0)
      fn(static_cast<unsigned>(section), line);
  }
}

}  // namespace

std::set<unsigned> SectionsWithNack(std::string_view sdp) {
  std::set<unsigned> out;
  ForEachMediaLine(sdp, [&](unsigned section, std::string_view line) {
    if (line.rfind("a=rtcp-fb:", 0) != 0) return;
    std::string_view fb = line.substr(10);
    size_t space = fb.find(' ');
    if (space != std::string_view::npos && fb.substr(space + 1) == "nack") out.insert(section);
  });
  return out;
}

std::set<unsigned> SectionsWithRed(std::string_view sdp) {
  std::set<unsigned> out;
  ForEachMediaLine(sdp, [&](unsigned section, std::string_view line) {
    if (line.rfind("a=rtpmap:", 0) != 0) return;
    std::string_view map = line.substr(9);
    size_t space = map.find(' ');
    if (space == std::string_view::npos) return;
    std::string_view name = map.substr(space + 1, 4);
    if (name.size() == 4 && (name == "red/" || name == "RED/")) out.insert(section);
  });
  return out;
}

ReceiveRepair* ReceiveRepair::Watch(GstElement* webrtc) {
  auto* self = new ReceiveRepair();
  g_signal_connect_data(
      webrtc, "on-new-transceiver", G_CALLBACK(&ReceiveRepair::OnNewTransceiver), self,
      [](gpointer data, GClosure*) { delete static_cast<ReceiveRepair*>(data); }, GConnectFlags(0));
  return self;
}

void ReceiveRepair::Offer(GstElement* webrtc, std::string_view sdp) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nack_ = SectionsWithNack(sdp);
    red_ = SectionsWithRed(sdp);
  }
  GArray* raw = nullptr;
  g_signal_emit_by_name(webrtc, "get-transceivers", &raw);
  if (!raw) return;
  for (guint i = 0; i < raw->len; ++i) TurnOn(g_array_index(raw, GstWebRTCRTPTransceiver*, i));  // the array's
  g_array_unref(raw);
}

void ReceiveRepair::OnNewTransceiver(GstElement*, GstWebRTCRTPTransceiver* trans, gpointer self) {
  static_cast<ReceiveRepair*>(self)->TurnOn(trans);
}

void ReceiveRepair::TurnOn(GstWebRTCRTPTransceiver* trans) {
  guint mline = 0;
  g_object_get(trans, "mlineindex", &mline, nullptr);
  gboolean nack = FALSE;
  GstWebRTCFECType fec = GST_WEBRTC_FEC_TYPE_NONE;
  g_object_get(trans, "do-nack", &nack, "fec-type", &fec, nullptr);
  bool want_nack = false, want_red = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    want_nack = !nack && nack_.count(mline);
    want_red = fec == GST_WEBRTC_FEC_TYPE_NONE && red_.count(mline);
  }
  if (want_nack) {
    g_object_set(trans, "do-nack", TRUE, nullptr);
    nack_on_.fetch_add(1, std::memory_order_relaxed);
  }
  if (want_red) {
    g_object_set(trans, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED, nullptr);
    red_on_.fetch_add(1, std::memory_order_relaxed);
  }
}

namespace {

// Calls `fn(element)` for each rtpredenc inside `webrtc` (webrtcbin makes one for every
// stream it sends).
template <typename Fn>
void ForEachRedEncoder(GstElement* webrtc, Fn&& fn) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(it, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* factory = gst_element_get_factory(element);
        if (factory && g_strcmp0(GST_OBJECT_NAME(factory), "rtpredenc") == 0) fn(element);
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC: gst_iterator_resync(it); break;
      default: done = true; break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

}  // namespace

// The streaming thread learns of the control through the pad's lock, which the race
// detector cannot see (GStreamer is not instrumented): the pointer goes over as an
// atomic, stored with release after everything it points to was written.
struct RedControl::Hold {
  std::atomic<RedControl*> control{nullptr};
  std::shared_ptr<RedControl> keep;
  static RedControl& Of(gpointer data) { return *static_cast<Hold*>(data)->control.load(std::memory_order_acquire); }
};

std::shared_ptr<RedControl> RedControl::Attach(GstElement* webrtc, int audio_level_id) {
  auto control = std::make_shared<RedControl>();
  control->level_id_ = audio_level_id;
  ForEachRedEncoder(webrtc, [&](GstElement* enc) {
    auto hold = [&](GstPad* pad, GstPadProbeCallback fn) {
      auto* h = new Hold();
      h->keep = control;
      h->control.store(control.get(), std::memory_order_release);
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, fn, h, [](gpointer d) {
        auto* held = static_cast<Hold*>(d);
        (void)held->control.load(std::memory_order_acquire);
        delete held;
      });
    };
    if (GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(enc, "sink"))) hold(in.get(), &RedControl::OnInput);
    if (GstPtr<GstPad> out = Adopt(gst_element_get_static_pad(enc, "src"))) hold(out.get(), &RedControl::OnOutput);
  });
  return control;
}

GstPadProbeReturn RedControl::OnInput(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  const RedControl& self = Hold::Of(data);
  GstPtr<GstElement> enc = Adopt(gst_pad_get_parent_element(pad));
  if (!enc) return GST_PAD_PROBE_OK;
  gint pt = 0;
  guint distance = 0;
  g_object_get(enc.get(), "pt", &pt, "distance", &distance, nullptr);
  guint want = pt > 0 ? self.distance_.load(std::memory_order_relaxed) : 0;
  if (distance != want) g_object_set(enc.get(), "distance", want, nullptr);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn RedControl::OnOutput(GstPad*, GstPadProbeInfo* info, gpointer data) {
  const RedControl& self = Hold::Of(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstAudioLevelMeta* meta = gst_buffer_get_audio_level_meta(buf);
  if (!meta || self.level_id_ <= 0) return GST_PAD_PROBE_OK;
  auto ext_id = static_cast<guint8>(self.level_id_);
  auto level = static_cast<guint8>((meta->voice_activity ? 0x80 : 0) | std::min<guint8>(meta->level, 127));
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) return GST_PAD_PROBE_OK;
  gpointer present = nullptr;
  guint size = 0;
  bool has = gst_rtp_buffer_get_extension_onebyte_header(&rtp, ext_id, 0, &present, &size);
  gst_rtp_buffer_unmap(&rtp);
  if (has) return GST_PAD_PROBE_OK;  // a packet passed through: the payloader wrote it
  buf = gst_buffer_make_writable(buf);
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (gst_rtp_buffer_map(buf, GST_MAP_READWRITE, &rtp)) {
    gst_rtp_buffer_add_extension_onebyte_header(&rtp, ext_id, &level, 1);
    gst_rtp_buffer_unmap(&rtp);
  }
  return GST_PAD_PROBE_OK;
}

int MakeDtlsPassive(GstSDPMessage* sdp) {
  int rewritten = 0;
  for (guint m = 0; m < gst_sdp_message_medias_len(sdp); ++m) {
    auto* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
    for (guint a = 0; a < gst_sdp_media_attributes_len(media); ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
      if (g_strcmp0(attr->key, "setup") != 0 || g_strcmp0(attr->value, "active") != 0) continue;
      GstSDPAttribute passive{};
      gst_sdp_attribute_set(&passive, "setup", "passive");
      gst_sdp_media_replace_attribute(media, a, &passive);
      ++rewritten;
    }
  }
  return rewritten;
}

int AcceptTransportCc(GstSDPMessage* answer, const GstSDPMessage* offer) {
  int added = 0;
  const guint n = std::min(gst_sdp_message_medias_len(answer), gst_sdp_message_medias_len(offer));
  for (guint m = 0; m < n; ++m) {
    const GstSDPMedia* offered = gst_sdp_message_get_media(offer, m);
    auto* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(answer, m));
    std::string extmap;  // "<id> <uri>" as offered
    for (guint a = 0; a < gst_sdp_media_attributes_len(offered) && extmap.empty(); ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(offered, a);
      if (g_strcmp0(attr->key, "extmap") != 0 || !attr->value) continue;
      std::string_view v(attr->value);
      if (v.find(proto::kExtTransportCc) != std::string_view::npos) extmap = attr->value;
    }
    if (extmap.empty() || gst_sdp_media_get_port(media) == 0) continue;
    // Not when the answer has it already, or uses its id for something else.
    const std::string id = extmap.substr(0, extmap.find_first_of(" /"));
    bool taken = false;
    for (guint a = 0; a < gst_sdp_media_attributes_len(media) && !taken; ++a) {
      const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
      if (g_strcmp0(attr->key, "extmap") != 0 || !attr->value) continue;
      std::string_view v(attr->value);
      taken = v.find(proto::kExtTransportCc) != std::string_view::npos || v.substr(0, v.find_first_of(" /")) == id;
    }
    if (taken) continue;
    gst_sdp_media_add_attribute(media, "extmap", extmap.c_str());
    ++added;
  }
  return added;
}

Result<std::string> CreateLocal(GstElement* webrtc, bool offer) {
  const char* create = offer ? "create-offer" : "create-answer";
  GstPtr<GstWebRTCSessionDescription> desc;
  {
    BoundedPromise p;
    g_signal_emit_by_name(webrtc, create, nullptr, p.get());
    const GstStructure* reply = p.Wait(kSdpTimeout);
    if (p.timed_out()) return WebrtcbinTimeout(create);
    GstWebRTCSessionDescription* raw = nullptr;
    if (reply) gst_structure_get(reply, offer ? "offer" : "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
    desc = Adopt(raw);
  }
  if (!desc)
    return MakeError(Errc::kMediaConnectionCreateFailed,
                     offer ? "webrtcbin made no offer" : "webrtcbin made no answer");
  if (!offer) {
    (void)MakeDtlsPassive(desc->sdp);
    GstWebRTCSessionDescription* raw_remote = nullptr;
    g_object_get(webrtc, "remote-description", &raw_remote, nullptr);
    GstPtr<GstWebRTCSessionDescription> remote = Adopt(raw_remote);
    if (remote) (void)AcceptTransportCc(desc->sdp, remote->sdp);
  }
  BoundedPromise set;
  g_signal_emit_by_name(webrtc, "set-local-description", desc.get(), set.get());
  (void)set.Wait(kSdpTimeout);
  if (set.timed_out()) return WebrtcbinTimeout("set-local-description");
  GstPtr<gchar> text = Adopt(gst_sdp_message_as_text(desc->sdp));
  return std::string(text.get());
}

std::string MidOf(GstPad* pad) {
  GstWebRTCRTPTransceiver* raw_trans = nullptr;
  g_object_get(pad, "transceiver", &raw_trans, nullptr);
  GstPtr<GstWebRTCRTPTransceiver> trans = Adopt(raw_trans);
  gchar* raw_mid = nullptr;
  if (trans) g_object_get(trans.get(), "mid", &raw_mid, nullptr);
  GstPtr<gchar> mid = Adopt(raw_mid);
  return mid ? std::string(mid.get()) : std::string();
}

media::RtpTotals SumStats(const GstStructure* reply) {
  media::RtpTotals t;
  gst_structure_foreach(
      reply,
      [](GQuark, const GValue* value, gpointer data) -> gboolean {
        auto* out = static_cast<media::RtpTotals*>(data);
        if (!GST_VALUE_HOLDS_STRUCTURE(value)) return TRUE;
        const GstStructure* s = gst_value_get_structure(value);
        GstWebRTCStatsType type;
        if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) return TRUE;
        guint64 u = 0;
        guint u32 = 0;
        gint i32 = 0;
        gint64 i64 = 0;
        double d = 0;
        if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
          if (gst_structure_get_uint64(s, "bytes-sent", &u)) out->bytes_sent += u;
          if (gst_structure_get_uint64(s, "packets-sent", &u)) out->packets_sent += u;
        } else if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
          if (gst_structure_get_uint64(s, "bytes-received", &u)) out->bytes_received += u;
          if (gst_structure_get_uint64(s, "packets-received", &u))
            out->packets_received += u;
          else if (gst_structure_get_uint(s, "packets-received", &u32))
            out->packets_received += u32;
          if (gst_structure_get_int64(s, "packets-lost", &i64))
            out->packets_lost += i64;
          else if (gst_structure_get_int(s, "packets-lost", &i32))
            out->packets_lost += i32;
          // The jitter buffer's count of retransmissions that filled a gap.
          if (gst_structure_get_uint64(s, "packets-repaired", &u)) out->packets_repaired += static_cast<int64_t>(u);
          if (gst_structure_get_double(s, "jitter", &d)) out->jitter_s = std::max(out->jitter_s, d);
        } else if (type == GST_WEBRTC_STATS_LOCAL_CANDIDATE || type == GST_WEBRTC_STATS_REMOTE_CANDIDATE) {
          // webrtcbin describes the selected pair's candidates only, and 1.22 files the
          // local one as remote and the other way round: whichever is relayed (never
          // the server's) says the pair is, and both have the pair's protocol.
          const char* proto = gst_structure_get_string(s, "protocol");
          const char* kind = gst_structure_get_string(s, "candidate-type");
          const char* relay = gst_structure_get_string(s, "relay-protocol");
          // (1.22 leaves relay-protocol "none": then just "relay".)
          if (kind && std::string_view(kind) == "relay")
            out->transport = relay && std::string_view(relay) != "none" ? std::string("relay/") + relay : "relay";
          else if (proto && out->transport.rfind("relay", 0) != 0)
            out->transport = proto;
        } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
          if (gst_structure_get_double(s, "round-trip-time", &d) && d > 0) out->rtt_s = std::max(out->rtt_s, d);
          if (gst_structure_get_int(s, "packets-lost", &i32))
            out->remote_packets_lost = std::max<int64_t>(0, out->remote_packets_lost) + std::max(0, i32);
        }
        return TRUE;
      },
      &t);
  return t;
}

// The requests still waiting; a request's reply and its bound each hold a Ticket, and
// whichever comes first ends it.
struct StatsRequests::Shared {
  std::mutex mu;
  media::Post post;
  uint64_t next = 0;
  std::map<uint64_t, std::function<void(media::RtpTotals)>> waiting;

  void Finish(uint64_t id, const media::RtpTotals& totals) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = waiting.find(id);
    if (it == waiting.end()) return;  // ended already (replied, timed out or closed)
    // Posted under mu, so that nothing is posted once the requests are closed.
    post([done = std::move(it->second), totals] { done(totals); });
    waiting.erase(it);
  }
};

namespace {

// A ticket is made on the engine thread and used on a clock or webrtcbin thread. GLib
// hands it over under its own locks, which ThreadSanitizer cannot see; the release
// store after construction and the acquire load before any use make the hand-over
// visible (and cost nothing on x86).
struct Ticket {
  Ticket(std::shared_ptr<StatsRequests::Shared> s, uint64_t i) : shared(std::move(s)), id(i) {
    ready.store(true, std::memory_order_release);
  }
  Ticket* Take() {
    (void)ready.load(std::memory_order_acquire);
    return this;
  }
  std::shared_ptr<StatsRequests::Shared> shared;
  uint64_t id;
  std::atomic<bool> ready{false};
};

void FreeTicket(gpointer data) {
  delete static_cast<Ticket*>(data)->Take();
}

// A webrtcbin thread (or whoever replied): the promise is no longer pending, so its
// wait returns at once.
void OnReply(GstPromise* promise, gpointer data) {
  auto* t = static_cast<Ticket*>(data)->Take();
  media::RtpTotals totals;
  if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED)
    if (const GstStructure* reply = gst_promise_get_reply(promise)) totals = SumStats(reply);
  t->shared->Finish(t->id, totals);
}

// The system clock's thread, at the bound: nothing measured.
gboolean OnBound(GstClock*, GstClockTime, GstClockID, gpointer data) {
  auto* t = static_cast<Ticket*>(data)->Take();
  t->shared->Finish(t->id, {});
  return TRUE;
}

}  // namespace

StatsRequests::StatsRequests(media::Post post, std::chrono::milliseconds bound)
    : shared_(std::make_shared<Shared>()), bound_(bound) {
  shared_->post = std::move(post);
}

StatsRequests::~StatsRequests() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  for (auto& entry : shared_->waiting) shared_->post([done = std::move(entry.second)] { done({}); });
  shared_->waiting.clear();
}

void StatsRequests::Collect(GstElement* webrtc, std::function<void(media::RtpTotals)> done) {
  Ask([webrtc](GstPromise* p) { g_signal_emit_by_name(webrtc, "get-stats", nullptr, p); }, std::move(done));
}

void StatsRequests::Ask(const std::function<void(GstPromise*)>& emit, std::function<void(media::RtpTotals)> done) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    id = ++shared_->next;
    shared_->waiting.emplace(id, std::move(done));
  }
  // The bound first: a reply that comes at once then finds it armed already. The
  // clock's list holds its own reference to the entry until it fires.
  GstPtr<GstClock> clock = Adopt(gst_system_clock_obtain());
  GstClockID bound = gst_clock_new_single_shot_id(
      clock.get(), gst_clock_get_time(clock.get()) + static_cast<GstClockTime>(bound_.count()) * GST_MSECOND);
  GstClockReturn armed = gst_clock_id_wait_async(bound, &OnBound, new Ticket{shared_, id}, &FreeTicket);
  gst_clock_id_unref(bound);
  if (armed != GST_CLOCK_OK) shared_->Finish(id, {});  // no clock thread: nothing to wait with
  // The promise owns its ticket (freed when webrtcbin lets the promise go).
  GstPromise* promise = gst_promise_new_with_change_func(&OnReply, new Ticket{shared_, id}, &FreeTicket);
  emit(promise);
  gst_promise_unref(promise);
}

}  // namespace gst
}  // namespace parley::sdk
