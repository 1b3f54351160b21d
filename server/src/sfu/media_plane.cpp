#include "sfu/media_plane.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "sfu/port_share.hpp"

namespace parley::sfu {
namespace {

// `bytes` random bytes as lowercase hex. ICE credentials must be unguessable (RFC 8445
// §5.3), so they come from the cryptographic generator; without entropy there is no
// safe value, and the signalling dispatcher's catch refuses the request.
std::string Hex(std::span<const unsigned char> raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
  return Hex(raw);
}

uint32_t RandomSsrc() {
  uint32_t v = 0;
  while (v == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) throw std::runtime_error("RAND_bytes failed");
  return v;
}

}  // namespace

MediaPlane::MediaPlane(std::vector<MediaWorker*> workers, std::string media_address, SsrcSource ssrcs)
    : workers_(std::move(workers)), media_address_(std::move(media_address)), ssrcs_(std::move(ssrcs)) {
  if (!ssrcs_) ssrcs_ = RandomSsrc;
}

std::unique_ptr<ChannelMedia> MediaPlane::OpenChannel(size_t worker) {
  const size_t home = workers_.empty() ? 0 : std::min(worker, workers_.size() - 1);
  return std::make_unique<ChannelMedia>(*this, workers_.empty() ? nullptr : workers_[home], next_channel_id_++, home);
}

uint32_t MediaPlane::NewSsrc() {
  uint32_t v = 0;
  while (v == 0) v = ssrcs_();  // 0 is what "no SSRC" means everywhere in the SFU
  return v;
}

LocalTransport MediaPlane::NewLocal(const MediaWorker& worker) const {
  // The ufrag names the worker (port_share.hpp): one-port mode steers by it.
  const size_t index = static_cast<size_t>(std::find(workers_.begin(), workers_.end(), &worker) - workers_.begin());
  return {WorkerUfrag(index, RandomHex(4)),
          RandomHex(12),
          worker.certificate()->fingerprint(),
          media_address_,
          worker.port(),
          tcp_port_ ? tcp_port_ : worker.tcp_port(),
          media_address6_};
}

Result<ProbeTarget> MediaPlane::OpenProbe(uint32_t up_kbps, uint32_t down_kbps,
                                          std::chrono::steady_clock::time_point now) {
  if (workers_.empty()) return MakeError(Errc::kMediaConnectionCreateFailed, "this server runs no media workers");
  std::erase_if(probe_expiries_, [now](auto at) { return at <= now; });
  if (probe_expiries_.size() >= kMaxOpenProbes)
    return MakeError(Errc::kServerBusy,
                     "the server runs as many last-mile probes as it allows; retry in a few seconds");
  ProbeGrant grant{{}, {}, up_kbps, down_kbps};
  if (RAND_bytes(grant.cookie.data(), static_cast<int>(grant.cookie.size())) != 1 ||
      RAND_bytes(grant.nonce.data(), static_cast<int>(grant.nonce.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  MediaWorker* w = workers_[next_probe_worker_++ % workers_.size()];
  w->Post([w, grant] { w->OpenProbe(grant); });
  constexpr auto lifetime = std::chrono::microseconds(ProbeSessions::kLifetimeUs);
  probe_expiries_.push_back(now + lifetime);
  return ProbeTarget{Hex(grant.cookie), media_address_, w->port(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count()};
}

ChannelMedia::ChannelMedia(MediaPlane& plane, MediaWorker* worker, uint64_t channel, size_t home)
    : plane_(plane), worker_(worker), channel_(channel), home_(home) {}

ChannelMedia::~ChannelMedia() {
  for (auto& entry : sessions_) {
    if (entry.second.publish) ClosePublish(*entry.second.publish);
    if (entry.second.subscribe) RemoveTransport(entry.second.subscribe->worker, entry.second.subscribe->transport_id);
    if (entry.second.data) RemoveTransport(entry.second.data->transport_id);
  }
}

void ChannelMedia::RemoveTransport(size_t worker, uint64_t id) {
  if (!worker_) return;
  MediaWorker* w = WorkerAt(worker);
  w->Post([w, id] { w->RemoveTransport(id); });
}

const ChannelMedia::SessionMedia* ChannelMedia::Find(SessionId session) const {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? nullptr : &it->second;
}

ChannelMedia::SessionMedia* ChannelMedia::Find(SessionId session) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? nullptr : &it->second;
}

Result<std::string> ChannelMedia::Publish(SessionId session, std::string_view offer_sdp, const TrackSet& tracks,
                                          Platform publisher, int camera_layers) {
  if (!worker_) return MakeError(Errc::kMediaConnectionCreateFailed, "this server runs without a media plane");
  auto offer = ParseSdp(offer_sdp);
  if (!offer) return offer.error();
  LocalTransport local = plane_.NewLocal(*worker_);
  // The DTLS client role for native publishers only (PublishAnswerOptions says why).
  auto answer = AnswerPublishOffer(*offer, local, {publisher == Platform::kNative});
  if (!answer) return answer.error();
  // Signalling tracks map onto the offer's sections in order: audio to the first audio
  // section, camera to the first video section (or the first `camera_layers`, its
  // layers), screen to the next video section.
  std::vector<size_t> camera_sections;  // answer tracks that are the camera's layers
  if (tracks.count(TrackKind::kCamera) && camera_layers > 1) {
    for (size_t i = 0; i < answer->tracks.size() && camera_sections.size() < static_cast<size_t>(camera_layers); ++i)
      if (answer->tracks[i].kind == "video") camera_sections.push_back(i);
    // Consecutive (the forwarder finds a source's layers next to each other), each one
    // stream, one codec.
    bool fit = camera_sections.size() == static_cast<size_t>(camera_layers);
    for (size_t k = 0; fit && k < camera_sections.size(); ++k) {
      const AcceptedTrack& t = answer->tracks[camera_sections[k]];
      fit = camera_sections[k] == camera_sections[0] + k && t.layers.empty() &&
            t.codec == answer->tracks[camera_sections[0]].codec;
    }
    if (!fit)
      return MakeError(Errc::kInvalidSdp,
                       "cameraLayers " + std::to_string(camera_layers) +
                           " needs as many consecutive accepted video sections, each one stream, of one codec");
  }
  auto camera_layer = [&](size_t section) -> int {
    auto it = std::find(camera_sections.begin(), camera_sections.end(), section);
    return it == camera_sections.end() ? -1 : static_cast<int>(it - camera_sections.begin());
  };
  PublishSide side;
  std::vector<InboundTrack> inbound;
  std::vector<size_t> videos;
  TransportParams params{local.ufrag, local.pwd, answer->remote_ufrag, answer->remote_fingerprint};
  params.dtls_client = answer->dtls_client;
  std::vector<size_t> first_inbound;  // per accepted section: its (first layer's) inbound track
  for (size_t i = 0; i < answer->tracks.size(); ++i) {
    const AcceptedTrack& t = answer->tracks[i];
    first_inbound.push_back(inbound.size());
    if (t.kind == "audio" && !side.tracks.count(TrackKind::kAudio) && tracks.count(TrackKind::kAudio)) {
      side.tracks[TrackKind::kAudio] = t;
      side.index[TrackKind::kAudio] = inbound.size();
    }
    if (t.kind == "video") videos.push_back(i);
    InboundTrack in{t.kind == "video",  t.ssrc,
                    t.payload_type,     t.rtx_payload_type,
                    t.rtx_ssrc,         PayloadFormatOf(t.codec),
                    t.red_payload_type, t.red_rtx_payload_type};
    in.mid = t.mid;
    // A simulcast section is one inbound track per layer, smallest first.
    for (size_t l = 0; l < std::max<size_t>(t.layers.size(), 1); ++l) {
      if (!t.layers.empty()) {
        in.ssrc = t.layers[l].ssrc;
        in.rtx_ssrc = t.layers[l].rtx_ssrc;
        in.rid = t.layers[l].rid;
        in.layer = static_cast<uint8_t>(l);
        in.layers = static_cast<uint8_t>(t.layers.size());
      }
      if (int cl = camera_layer(i); cl >= 0) {  // a section that is one of the camera's layers
        in.layer = static_cast<uint8_t>(cl);
        in.layers = static_cast<uint8_t>(camera_sections.size());
      }
      inbound.push_back(in);
    }
    // BUNDLE: one extension id space for the whole transport (RFC 8843 §9.2).
    if (!params.ext_transport_cc) params.ext_transport_cc = t.ext_transport_cc;
    if (!params.ext_audio_level && t.kind == "audio") params.ext_audio_level = t.ext_audio_level;
    if (!params.ext_rid) params.ext_rid = t.ext_rid;
    if (!params.ext_repaired_rid) params.ext_repaired_rid = t.ext_repaired_rid;
    if (!params.ext_mid) params.ext_mid = t.ext_mid;
  }
  size_t next_video = 0;
  for (TrackKind t : {TrackKind::kCamera, TrackKind::kScreen})
    if (tracks.count(t) && next_video < videos.size()) {
      side.index[t] = first_inbound[videos[next_video]];
      side.tracks[t] = answer->tracks[videos[next_video++]];
      if (t == TrackKind::kCamera && !camera_sections.empty()) {  // its layers, told apart by section
        for (size_t s : camera_sections)
          side.tracks[t].layers.push_back({"", answer->tracks[s].ssrc, answer->tracks[s].rtx_ssrc});
        next_video = camera_sections.size();
      }
    }
  side.transport_id = plane_.NewTransportId();
  side.counters = std::make_shared<TransportCounters>();
  side.inbound_tracks = inbound.size();
  side.inbound = inbound;
  worker_->Post([w = worker_, id = side.transport_id, params, counters = side.counters, inbound, ch = channel_] {
    Transport* t = w->AddTransport(id, params, ch);
    t->SetCounters(counters);
    t->SetInboundTracks(inbound);
  });
  SessionMedia& media = sessions_[session];
  if (media.publish) {
    // Renegotiation: subscribers keep their routes (and numbering) on the new transport.
    std::vector<int> track_map;
    for (const auto& entry : media.publish->index) {
      size_t old_index = entry.second;
      if (track_map.size() <= old_index) track_map.resize(old_index + 1, -1);
      auto now = side.index.find(entry.first);
      track_map[old_index] = now == side.index.end() ? -1 : static_cast<int>(now->second);
    }
    worker_->Post([w = worker_, from = media.publish->transport_id, to = side.transport_id, track_map] {
      w->MoveRoutes(from, to, track_map);
    });
    // Likewise on each worker holding a mirror of it: a new mirror takes the routes.
    for (const auto& [w, old_mirror] : media.publish->mirrors) {
      const uint64_t mirror = PublisherOn(side, w);
      MediaWorker* other = WorkerAt(w);
      other->Post([other, from = old_mirror, to = mirror, track_map] {
        other->MoveRoutes(from, to, track_map);
        other->RemoveTransport(from);
      });
    }
    RemoveTransport(media.publish->transport_id);
  }
  media.publish = std::move(side);
  CountLayered();
  return WriteSdp(answer->sdp);
}

void ChannelMedia::CountLayered() {
  layered_ = 0;
  for (const auto& [id, media] : sessions_) {
    if (!media.publish) continue;
    for (const auto& [kind, accepted] : media.publish->tracks)
      if (accepted.layers.size() > 1) {
        ++layered_;
        break;
      }
  }
}

void ChannelMedia::Unpublish(SessionId session, const TrackSet& tracks, bool drop_transport) {
  SessionMedia* media = Find(session);
  if (!media || !media->publish) return;
  PublishSide& pub = *media->publish;
  for (TrackKind t : tracks) {
    auto idx = pub.index.find(t);
    if (idx != pub.index.end() && worker_)
      for (const auto& entry : sessions_) {
        if (!entry.second.subscribe) continue;
        const uint64_t from = FindPublisherOn(pub, entry.second.subscribe->worker);
        if (!from) continue;
        MediaWorker* w = WorkerAt(entry.second.subscribe->worker);
        w->Post([w, from, to = entry.second.subscribe->transport_id, i = static_cast<int>(idx->second)] {
          w->RemoveRoutes(from, to, i);
        });
      }
    pub.tracks.erase(t);
    if (idx != pub.index.end()) pub.index.erase(idx);
  }
  if (drop_transport) {
    ClosePublish(pub);  // its routes go with it
    media->publish.reset();
  }
  CountLayered();
}

bool ChannelMedia::IsPublishing(SessionId session) const {
  const SessionMedia* media = Find(session);
  return media && media->publish;
}

void ChannelMedia::SetStreamType(SessionId sub, SessionId pub, VideoStreamType type) {
  const SessionMedia* subscriber = Find(sub);
  const SessionMedia* publisher = Find(pub);
  if (!worker_ || !subscriber || !subscriber->subscribe || !publisher || !publisher->publish) return;
  const uint64_t from = FindPublisherOn(*publisher->publish, subscriber->subscribe->worker);
  if (!from) return;
  MediaWorker* w = WorkerAt(subscriber->subscribe->worker);
  w->Post([w, from, to = subscriber->subscribe->transport_id, type] { w->SetStreamType(from, to, type); });
}

Result<std::string> ChannelMedia::Subscribe(SessionId sub, SessionId pub, std::string_view pub_user,
                                            const TrackSet& tracks, Platform subscriber, VideoStreamType stream_type) {
  if (!worker_) return MakeError(Errc::kMediaConnectionCreateFailed, "this server runs without a media plane");
  SessionMedia& media = sessions_[sub];
  if (!media.subscribe) {
    SubscribeSide side;
    side.worker = PlaceSubscriber();
    MediaWorker* w = WorkerAt(side.worker);
    side.transport_id = plane_.NewTransportId();
    side.local = plane_.NewLocal(*w);
    side.counters = std::make_shared<TransportCounters>();
    TransportParams params{side.local.ufrag, side.local.pwd, "", ""};
    w->Post([w, id = side.transport_id, params, counters = side.counters, ch = channel_] {
      w->AddTransport(id, params, ch)->SetCounters(counters);
    });
    media.subscribe = std::move(side);
  }
  SubscribeSide& side = *media.subscribe;
  MediaWorker* sub_worker = WorkerAt(side.worker);
  // The publisher's entry: looked up after the subscriber's, which may have inserted one.
  SessionMedia* remote = Find(pub);
  PublishSide* published = remote && remote->publish ? &*remote->publish : nullptr;
  for (TrackKind t : tracks) {
    if (!published) break;
    auto acc = published->tracks.find(t);
    auto idx = published->index.find(t);
    if (acc == published->tracks.end() || idx == published->index.end()) continue;  // no media to forward
    std::string track_id = TrackId(pub_user, t);
    std::vector<OfferedTrack>& offered = side.offered;
    auto existing = std::find_if(offered.begin(), offered.end(),
                                 [&](const OfferedTrack& o) { return o.active && o.track_id == track_id; });
    if (existing == offered.end()) {
      // Reuse an inactive section: the one this track had before (its publisher left,
      // unpublished it or was unsubscribed, and is back), else one of the same kind;
      // or add one. Either way it is a new stream with new SSRCs below.
      bool video = acc->second.kind == "video";
      existing = std::find_if(offered.begin(), offered.end(),
                              [&](const OfferedTrack& o) { return !o.active && o.track_id == track_id; });
      if (existing == offered.end())
        existing = std::find_if(offered.begin(), offered.end(),
                                [&](const OfferedTrack& o) { return !o.active && o.video == video; });
      if (existing == offered.end()) {
        OfferedTrack o;
        o.mid = std::to_string(offered.size());
        offered.push_back(o);
        existing = offered.end() - 1;
      }
      OfferedTrack& o = *existing;
      o.video = video;
      o.active = false;  // filled in below
      SubscribePayloadTypes pts = SubscribePayloadTypesFor(acc->second.codec, acc->second.stereo);
      o.codec = {};
      o.codec.payload_type = pts.media;
      o.codec.name = acc->second.codec;
      o.codec.clock_rate = o.video ? 90000 : 48000;
      o.codec.channels = o.video ? 0 : 2;
      // Stereo as the publisher sends it when the section is offered: a native receiver
      // decodes the channels the offer announces (a publisher's later change of profile
      // keeps the section, and is folded into the channels decoded at first); a
      // browser's decoder takes what its own answer asks for (parley.js asks for stereo).
      if (!o.video)
        o.codec.fmtp = acc->second.stereo ? "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"
                                          : "minptime=10;useinbandfec=1;sprop-stereo=0";
      else if (acc->second.codec == "H264")
        o.codec.fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
      // RTX towards the subscriber when the publisher repairs its own stream too (the
      // SFU keeps packets to answer NACKs only for such tracks, publisher_tracks.hpp).
      bool repaired = acc->second.rtx_payload_type != 0 && (o.video || subscriber == Platform::kNative);
      o.rtx_payload_type = repaired ? pts.rtx : 0;
      // RED offered on every audio section (the publisher may send it now or after it
      // publishes again); until an answer takes it, the primary blocks go.
      o.red_payload_type = pts.red;
      o.ssrc = plane_.NewSsrc();  // a reused section gets new SSRCs: a new stream to the client
      o.rtx_ssrc = o.rtx_payload_type ? plane_.NewSsrc() : 0;
      o.stream_id = std::string(pub_user);
      o.track_id = track_id;
    }
    existing->active = true;
    // (Re)route: the publisher may have a new transport since this track was offered.
    RouteSpec spec{idx->second,
                   existing->ssrc,
                   existing->codec.payload_type,
                   existing->rtx_ssrc,
                   existing->rtx_payload_type,
                   existing->red_accepted ? existing->red_payload_type : uint8_t{0},
                   stream_type};
    const uint64_t from = PublisherOn(*published, side.worker);
    if (from != 0)  // 0: no mirror could be made there (no ring): nothing to route from
      sub_worker->Post([w = sub_worker, from, to = side.transport_id, spec] { w->AddRoute(from, to, spec); });
  }
  if (side.offered.empty())
    return MakeError(Errc::kSubscribeRemoteStreamGone, "the remote tracks carry no media to forward");
  return WriteSdp(BuildSubscribeOffer(side.local, side.offered, ++media.subscribe_version));
}

Status ChannelMedia::Answer(SessionId sub, std::string_view answer_sdp) {
  SessionMedia* media = Find(sub);
  if (!media || !media->subscribe)
    return MakeError(Errc::kSubscribeStreamNotExist, "no subscribe offer is waiting for an answer");
  auto parsed = ParseSdp(answer_sdp);
  if (!parsed) return parsed.error();
  auto answer = CheckSubscribeAnswer(*parsed, media->subscribe->offered);
  if (!answer) return answer.error();
  // What each stream carries from now on: RED where the answer took it, else Opus.
  std::vector<std::pair<uint32_t, uint8_t>> red;
  for (size_t i = 0; i < answer->red.size(); ++i) {
    OfferedTrack& o = media->subscribe->offered[i];
    o.red_accepted = answer->red[i];
    if (o.active && o.red_payload_type) red.emplace_back(o.ssrc, o.red_accepted ? o.red_payload_type : 0);
  }
  MediaWorker* sub_worker = WorkerAt(media->subscribe->worker);
  sub_worker->Post([w = sub_worker, id = media->subscribe->transport_id, ufrag = answer->remote_ufrag,
                    fp = answer->remote_fingerprint, client = answer->dtls_client, ast = answer->abs_send_time_id,
                    tcc = answer->transport_cc_id] {
    if (Transport* t = w->FindTransport(id)) {
      t->SetRemote(ufrag, fp, client);
      t->set_abs_send_time_id(ast);
      t->set_transport_cc_id(tcc);
      w->Answered(id);
    }
  });
  if (!red.empty())
    sub_worker->Post([w = sub_worker, id = media->subscribe->transport_id, red = std::move(red)] {
      for (const auto& [ssrc, pt] : red) w->SetRouteRed(id, ssrc, pt);
    });
  return {};
}

void ChannelMedia::Unsubscribe(SessionId sub, SessionId pub, const TrackSet& tracks) {
  const SessionMedia* subscriber = Find(sub);
  const SessionMedia* publisher = Find(pub);
  if (!worker_ || !subscriber || !subscriber->subscribe || !publisher || !publisher->publish) return;
  const uint64_t from = FindPublisherOn(*publisher->publish, subscriber->subscribe->worker);
  MediaWorker* w = WorkerAt(subscriber->subscribe->worker);
  for (TrackKind t : tracks) {
    auto idx = publisher->publish->index.find(t);
    if (idx == publisher->publish->index.end() || !from) continue;
    w->Post([w, from, to = subscriber->subscribe->transport_id, i = static_cast<int>(idx->second)] {
      w->RemoveRoutes(from, to, i);
    });
  }
}

bool ChannelMedia::RetireTrack(SessionId sub, std::string_view track_id) {
  SessionMedia* media = Find(sub);
  if (!media || !media->subscribe) return false;
  auto& offered = media->subscribe->offered;
  auto o = std::find_if(offered.begin(), offered.end(),
                        [&](const OfferedTrack& t) { return t.track_id == track_id && t.active; });
  if (o == offered.end()) return false;
  o->active = false;
  return true;
}

std::string ChannelMedia::NextSubscribeOffer(SessionId sub) {
  SessionMedia* media = Find(sub);
  if (!media || !media->subscribe) return {};
  return WriteSdp(BuildSubscribeOffer(media->subscribe->local, media->subscribe->offered, ++media->subscribe_version));
}

void ChannelMedia::CloseSubscribe(SessionId session) {
  SessionMedia* media = Find(session);
  if (!media || !media->subscribe) return;
  const size_t w = media->subscribe->worker;
  RemoveTransport(w, media->subscribe->transport_id);
  media->subscribe.reset();
  PruneMirrors(w);
}

void ChannelMedia::CloseSession(SessionId session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  // Publish side first, then subscribe side, as the session always dropped them.
  if (it->second.publish) ClosePublish(*it->second.publish);
  std::optional<size_t> sub_worker;
  if (it->second.subscribe) {
    sub_worker = it->second.subscribe->worker;
    RemoveTransport(*sub_worker, it->second.subscribe->transport_id);
  }
  if (it->second.data) RemoveTransport(it->second.data->transport_id);
  sessions_.erase(it);
  if (sub_worker) PruneMirrors(*sub_worker);
  CountLayered();
}

Result<std::string> ChannelMedia::OpenData(SessionId session, std::string_view user, std::string_view offer_sdp,
                                           Platform platform) {
  if (!worker_) return MakeError(Errc::kMediaConnectionCreateFailed, "this server runs without a media plane");
  auto offer = ParseSdp(offer_sdp);
  if (!offer) return offer.error();
  LocalTransport local = plane_.NewLocal(*worker_);
  auto answer = AnswerDataOffer(*offer, local, {platform == Platform::kNative});
  if (!answer) return answer.error();
  TransportParams params{local.ufrag, local.pwd, answer->remote_ufrag, answer->remote_fingerprint};
  params.dtls_client = answer->dtls_client;
  params.sctp_port = answer->sctp_port;
  DataSide side{plane_.NewTransportId(), std::make_shared<TransportCounters>()};
  worker_->Post(
      [w = worker_, id = side.transport_id, params, counters = side.counters, ch = channel_, name = std::string(user)] {
        Transport* t = w->AddTransport(id, params, ch);
        t->SetCounters(counters);
        w->AddDataMember(id, ch, name);
      });
  SessionMedia& media = sessions_[session];
  if (media.data) RemoveTransport(media.data->transport_id);
  media.data = side;
  return WriteSdp(answer->sdp);
}

namespace {

TransportStatus StatusOf(uint64_t id, const TransportCounters& c) {
  return {id, static_cast<Transport::State>(c.state.load()), static_cast<Failure>(c.failure.load()),
          c.rtp_packets.load(std::memory_order_relaxed)};
}

}  // namespace

std::optional<TransportStatus> ChannelMedia::DataStatus(SessionId session) const {
  const SessionMedia* media = Find(session);
  if (!media || !media->data) return std::nullopt;
  return StatusOf(media->data->transport_id, *media->data->counters);
}

std::optional<TransportStatus> ChannelMedia::PublishStatus(SessionId session) const {
  const SessionMedia* media = Find(session);
  if (!media || !media->publish) return std::nullopt;
  return StatusOf(media->publish->transport_id, *media->publish->counters);
}

std::optional<std::vector<LayerPlan>> ChannelMedia::TakeLayerPlan(SessionId session) {
  SessionMedia* media = Find(session);
  if (!media || !media->publish) return std::nullopt;
  PublishSide& side = *media->publish;
  const uint64_t paused = side.counters->paused_layers.load(std::memory_order_relaxed);
  if (side.told_paused == paused) return std::nullopt;
  std::vector<LayerPlan> plans;
  for (const auto& [kind, accepted] : side.tracks) {
    auto first = side.index.find(kind);
    if (accepted.layers.size() <= 1 || first == side.index.end()) continue;
    LayerPlan& plan = plans.emplace_back(LayerPlan{kind, {}});
    for (size_t i = 0; i < accepted.layers.size(); ++i) {
      size_t bit = first->second + i;
      plan.layers.push_back({accepted.layers[i].rid, bit >= 64 || !(paused >> bit & 1u)});
    }
  }
  if (plans.empty()) return std::nullopt;  // no video in layers: nothing to tell
  side.told_paused = paused;
  return plans;
}

std::optional<TransportStatus> ChannelMedia::SubscribeStatus(SessionId session) const {
  const SessionMedia* media = Find(session);
  if (!media || !media->subscribe) return std::nullopt;
  return StatusOf(media->subscribe->transport_id, *media->subscribe->counters);
}

uint32_t ChannelMedia::TakeAudioPeak(SessionId session) {
  SessionMedia* media = Find(session);
  if (!media || !media->publish) return 0;
  return media->publish->counters->audio_peak.exchange(0, std::memory_order_relaxed);
}

MediaSnapshot ChannelMedia::Snapshot(SessionId session) const {
  MediaSnapshot out;
  const SessionMedia* media = Find(session);
  if (!media) return out;
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (media->publish) {
    const TransportCounters& c = *media->publish->counters;
    out.publish = PublishView{static_cast<Transport::State>(c.state.load()),
                              c.rtp_packets.load(kRelaxed),
                              c.rtp_bytes.load(kRelaxed),
                              c.nacks_sent.load(kRelaxed),
                              c.twcc_feedbacks.load(kRelaxed),
                              c.sender_reports.load(kRelaxed),
                              c.red_packets.load(kRelaxed),
                              {},
                              c.paused_layers.load(kRelaxed)};
    size_t n = std::min(TransportCounters::kRatedTracks, media->publish->inbound_tracks);
    for (size_t i = 0; i < n; ++i) out.publish->track_kbps.push_back(c.track_kbps[i].load(kRelaxed));
    out.publish->over_tcp = c.over_tcp.load(kRelaxed);
  }
  if (media->subscribe) {
    const TransportCounters& c = *media->subscribe->counters;
    out.subscribe = SubscribeView{static_cast<Transport::State>(c.state.load()),
                                  c.sent_packets.load(kRelaxed),
                                  c.sent_bytes.load(kRelaxed),
                                  c.nacks_in.load(kRelaxed),
                                  c.retransmitted.load(kRelaxed),
                                  c.sender_reports.load(kRelaxed),
                                  c.fraction_lost.load(kRelaxed),
                                  c.downstream_bps.load(kRelaxed),
                                  c.sent_bps.load(kRelaxed),
                                  c.video_paused.load(kRelaxed),
                                  c.video_pauses.load(kRelaxed),
                                  c.video_trials.load(kRelaxed),
                                  c.layer_switches.load(kRelaxed),
                                  c.layer_trials.load(kRelaxed),
                                  c.layer_probes.load(kRelaxed),
                                  c.probe_bps.load(kRelaxed),
                                  c.twcc_feedbacks.load(kRelaxed)};
    out.subscribe->over_tcp = c.over_tcp.load(kRelaxed);
  }
  return out;
}

}  // namespace parley::sfu
