#include "signal/hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "parley/proto/envelope.hpp"
#include "parley/proto/notifications.hpp"

namespace parley::server {

using nlohmann::json;

SignalHub::SignalHub(boost::asio::io_context& io, const ServerConfig& config, AppStore& store, Metrics& metrics,
                     sfu::MediaPlane* plane)
    : own_plane_(plane ? nullptr : std::make_unique<sfu::MediaPlane>(std::vector<sfu::MediaWorker*>{}, "")),
      plane_(plane ? plane : own_plane_.get()),
      config_(config),
      store_(store),
      metrics_(metrics),
      authenticator_(store, config),
      join_limiter_(
          JoinLimits{config.join_failures_per_connection, config.join_failure_burst, config.join_failure_refill_per_s}),
      out_(metrics),
      heartbeat_(
          std::chrono::milliseconds(static_cast<int64_t>(config.heartbeat_interval_ms) * config.heartbeat_misses),
          *this),
      media_aborts_(std::chrono::milliseconds(config.media_abort_ms), *this),
      transport_failures_(media_status_, *this),
      speakers_(*this),
      dispatcher_(config.max_message_bytes, metrics, out_, heartbeat_, *this),
      channels_(*plane_),
      lifecycle_(io, std::chrono::milliseconds(config.resume_grace_ms), sessions_, channels_, usage_, out_, metrics,
                 *this),
      admin_(channels_, usage_, *this),
      handlers_{config,         metrics,       out_,          sessions_,           channels_, lifecycle_,
                authenticator_, join_limiter_, media_aborts_, transport_failures_, next_id_},
      heartbeat_timer_(io),
      metering_timer_(io),
      media_timer_(io),
      speaker_timer_(io),
      layers_timer_(io) {
  RegisterSessionHandlers(dispatcher_, handlers_);
  RegisterMediaHandlers(dispatcher_, handlers_);
  RegisterChannelHandlers(dispatcher_, handlers_);
}

SignalHub::~SignalHub() = default;

void SignalHub::Start() {
  ArmRepeating(heartbeat_timer_, config_.heartbeat_interval_ms, &SignalHub::CheckHeartbeats);
  ArmRepeating(metering_timer_, config_.usage_flush_ms, &SignalHub::MeterUsage);
  if (plane_->worker_count() > 0) {
    ArmRepeating(media_timer_, std::max(50, config_.media_abort_ms / 4), &SignalHub::CheckMedia);
    ArmRepeating(speaker_timer_, config_.active_speaker_interval_ms, &SignalHub::CheckActiveSpeakers);
    ArmRepeating(layers_timer_, kLayersCheckMs, &SignalHub::CheckPublishLayers);
  }
}

void SignalHub::Stop() {
  stopped_ = true;
  heartbeat_timer_.cancel();
  metering_timer_.cancel();
  media_timer_.cancel();
  speaker_timer_.cancel();
  layers_timer_.cancel();
  MeterUsage();
  lifecycle_.Stop();
  dispatcher_.CloseAll();
}

void SignalHub::ArmRepeating(boost::asio::steady_timer& timer, int interval_ms, void (SignalHub::*tick)()) {
  if (stopped_) return;
  timer.expires_after(std::chrono::milliseconds(interval_ms));
  timer.async_wait([this, &timer, interval_ms, tick](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    (this->*tick)();
    ArmRepeating(timer, interval_ms, tick);
  });
}

uint64_t SignalHub::OnOpen(std::shared_ptr<SignalConnection> link, std::string remote) {
  return dispatcher_.Open(next_id_++, std::move(link), std::move(remote)).id;
}

void SignalHub::OnConnectionClosed(Conn& c) {
  lifecycle_.ConnectionLost(c);
}

void SignalHub::OnSessionRemoved(uint64_t session_id) {
  media_aborts_.Forget(session_id);
  transport_failures_.Forget(session_id);
}

void SignalHub::RemoveSession(Session& s, std::string_view reason) {
  lifecycle_.Remove(s, reason, true, true);
}

void SignalHub::AddHandlerForTesting(const std::string& type, std::function<void(const json&)> handler) {
  dispatcher_.RegisterForTesting(type, std::move(handler));
}

void SignalHub::CheckHeartbeats() {
  auto now = Clock::now();
  join_limiter_.Sweep(now);
  heartbeat_.Tick(now);
}

void SignalHub::OnSilent(uint64_t conn_id) {
  Conn* c = dispatcher_.Find(conn_id);
  if (!c) return;
  // A silent connection is most often a network outage, not a client that left: TCP
  // may deliver the client's pings only seconds after the path heals. So the link is
  // closed but the session gets the same resume grace as a dropped connection; the
  // client's retransmission meets the closed socket, it reconnects and resumes with
  // its media untouched. Only a session that does not come back is removed.
  lifecycle_.ConnectionLost(*c, "heartbeat-lost");
  c->link->Close();
}

void SignalHub::CheckMedia() {
  auto now = Clock::now();
  transport_failures_.Tick(now, sessions_);
  media_aborts_.Tick(now);
}

namespace {
// What a failure most likely means for the person reading it.
std::string LikelyCause(sfu::Failure why) {
  if (why == sfu::Failure::kIceTimeout)
    return " (no connectivity check reached the server's media port, over UDP or ICE-TCP: a firewall likely blocks "
           "UDP and TCP to that port; open one of them, or relay through a TURN server)";
  if (why == sfu::Failure::kDtlsTimeout)
    return " (checks arrived but the DTLS handshake did not finish: packets are lost on the way, or something "
           "between rewrites them)";
  return "";
}
}  // namespace

void SignalHub::OnPublishFailed(Session& s, sfu::Failure why, Errc code) {
  ++metrics_.media_transport_failures_total;
  if (s.conn)
    out_.SendTo(*s.conn, json{{"type", "transportFailed"},
                              {"transport", "publish"},
                              {"reason", sfu::Name(why)},
                              {"code", static_cast<int32_t>(code)},
                              {"message",
                               "the publish media transport failed: " + std::string(sfu::Name(why)) + LikelyCause(why)}}
                             .dump());
}

void SignalHub::OnSubscribeFailed(Session& s, sfu::Failure why, const std::vector<std::string>& users) {
  ++metrics_.media_transport_failures_total;
  if (s.conn)
    out_.SendTo(*s.conn, json{{"type", "subscribeAborted"},
                              {"reason", sfu::Name(why)},
                              {"code", static_cast<int32_t>(Errc::kSubscribeStreamAbort)},
                              {"users", users},
                              {"message", "the server's media transport to this subscriber failed: " +
                                              std::string(sfu::Name(why)) + LikelyCause(why)}}
                             .dump());
}

std::optional<MediaAbortMonitor::Sample> SignalHub::SamplePublisher(uint64_t session_id) {
  const Session* s = sessions_.Find(session_id);
  if (!s) return std::nullopt;
  auto st = media_status_.Publish(*s);
  if (!st) return std::nullopt;
  return MediaAbortMonitor::Sample{st->rtp_packets, st->state == sfu::Transport::State::kConnected};
}

void SignalHub::OnAborted(uint64_t session_id) {
  Session* s = sessions_.Find(session_id);
  if (!s || !s->channel) return;
  int32_t code = static_cast<int32_t>(Errc::kPublishStreamAbort);
  std::string message = "no media from this publisher for " + std::to_string(config_.media_abort_ms) + " ms";
  if (s->conn) out_.SendTo(*s->conn, json{{"type", "publishAborted"}, {"code", code}, {"message", message}}.dump());
  s->channel->Broadcast(out_, {{"type", "streamAborted"}, {"userId", s->user_id}, {"code", code}, {"message", message}},
                        s);
}

void SignalHub::OnResumed(uint64_t session_id) {
  Session* s = sessions_.Find(session_id);
  if (!s || !s->channel) return;
  s->channel->Broadcast(out_, {{"type", "streamResumed"}, {"userId", s->user_id}});
}

void SignalHub::CheckActiveSpeakers() {
  std::vector<ActiveSpeakerMonitor::Member> members;
  std::vector<Session*> sessions;
  std::vector<int> volumes;
  const auto now = Clock::now();
  for (auto& [key, ch] : channels_) {
    // A channel where nobody publishes audio and nobody asked for volumes has nothing
    // to tell (most channels at a time in a big deployment): no peaks to take.
    bool any = false;
    for (auto& [uid, m] : ch->members)
      if (m->volume_interval_ms > 0 || m->published.count(Track::kAudio)) {
        any = true;
        break;
      }
    if (!any) continue;
    members.clear();
    sessions.clear();
    bool asked = false;
    for (auto& [uid, m] : ch->members) {
      members.push_back({m->id, m->user_id, m->published.count(Track::kAudio) && !m->muted.count(Track::kAudio)});
      sessions.push_back(m);
      asked = asked || m->volume_interval_ms > 0;
    }
    if (auto speaker = speakers_.Tick(ch->active_speaker, members, asked ? &volumes : nullptr))
      ch->Broadcast(out_,
                    {{"type", "activeSpeaker"}, {"userId", speaker->user_id}, {"levelDbov", speaker->level_dbov}});
    if (asked) SendVolumes(sessions, volumes, now);
  }
}

// volumeIndication to each member that asked and is due: the volume of every member
// that publishes audio over the last tick, the loudest first.
void SignalHub::SendVolumes(const std::vector<Session*>& members, const std::vector<int>& volumes,
                            Clock::time_point now) {
  proto::VolumeIndication note;
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i]->published.count(Track::kAudio)) note.speakers.push_back({members[i]->user_id, volumes[i]});
  std::stable_sort(note.speakers.begin(), note.speakers.end(),
                   [](const auto& a, const auto& b) { return a.volume > b.volume; });
  std::string text;
  for (Session* s : members) {
    if (s->volume_interval_ms <= 0 || now < s->volume_due || !s->conn) continue;
    s->volume_due = now + std::chrono::milliseconds(s->volume_interval_ms) - std::chrono::milliseconds(50);
    if (text.empty()) text = proto::DumpSafe(note.ToJson());
    out_.SendTo(*s->conn, text);
  }
}

void SignalHub::CheckPublishLayers() {
  for (auto& [key, ch] : channels_) {
    if (!ch->media || !ch->media->AnyLayered()) continue;
    for (auto& [uid, s] : ch->members) {
      if (!s->conn) continue;  // kept for the session's next connection while it has none
      auto plans = ch->media->TakeLayerPlan(s->id);
      if (!plans) continue;
      for (const sfu::LayerPlan& plan : *plans) {
        proto::PublishLayers note{plan.track, {}};
        for (const auto& l : plan.layers) note.layers.push_back({l.rid, l.active});
        out_.SendTo(*s->conn, proto::DumpSafe(note.ToJson()));
      }
    }
  }
}

std::optional<uint32_t> SignalHub::TakeAudioPeak(uint64_t session_id) {
  Session* s = sessions_.Find(session_id);
  if (!s) return std::nullopt;
  return media_status_.TakeAudioPeak(*s);
}

void SignalHub::MeterUsage() {
  lifecycle_.AccumulateUsage(Clock::now());
  AppStoreUsage sink(store_);
  if (Status s = usage_.Flush(sink); !s) spdlog::error("metering: {}", s.error().What());
}

}  // namespace parley::server
