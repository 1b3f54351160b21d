// The call's heartbeat and statistics (the rest of the call is call.cpp): the ping
// that keeps the link and the session alive and drops a link that stops answering,
// the stats each heartbeat collects from both connections, and what they are turned
// into for the app: OnStats, the network quality (local and relayed), and the
// device's load (0x01060101 / 0x01060102).
#include <string>

#include "call/call.hpp"
#include "log.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::call {

void Call::ScheduleHeartbeat() {
  ping_timer_.expires_after(ping_interval_);
  ping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Ping();
  });
}

void Call::Ping() {
  if (!in_call_ || !signal_) return;
  ScheduleHeartbeat();
  ReportStats();
  Ask("ping", Json::object(), ping_interval_ * 3, Continue([this](int32_t code, const std::string& m, const Json&) {
        if (code != Code(Errc::kHeartbeatTimeout)) return;
        Error(code, m);
        // A link that answers no heartbeat for three intervals is as good as gone:
        // during an outage TCP would hold it open (retransmitting) until long after
        // the server's resume grace has ended. Drop it and reconnect now, so that the
        // budget, not TCP's backoff, decides how long the call tries.
        if (signal_) signal_->Close();
        ++signal_gen_;  // whatever the old link still reports is stale
        OnSignalClosed("no answer to heartbeats for " + std::to_string((ping_interval_ * 3).count()) + " ms");
      }));
}

/// Asks both connections for their totals, then reports.
void Call::ReportStats() {
  auto with_pub = [this](media::RtpTotals pub) {
    if (!subscribing_.connection()) return StatsReady(pub, {});
    subscribing_.connection()->CollectStats([this, pub](media::RtpTotals sub) { StatsReady(pub, sub); });
  };
  if (publishing_.connection())
    publishing_.connection()->CollectStats(with_pub);
  else
    with_pub({});
}

/// Deltas of the connections' totals since the last report, plus decoded frames
/// (core/stats.hpp).
void Call::StatsReady(const media::RtpTotals& pub, const media::RtpTotals& sub) {
  // Left while the totals were collected, or the link dropped meanwhile (the quality
  // stays "down" until the call is back).
  if (!in_call_ || reconnecting_) return;
  DeviceLoad(pub);
  auto report = stats_.Add(pub, sub, {frames_.load(), width_.load(), height_.load()}, Clock::now());
  if (!report) return;
  // Silence means a cut only where media was flowing and no publisher left meanwhile
  // (CallQuality also needs packets in the interval before).
  report->down.expecting = subscribing_.connection() && !report->subscribe_restarted;
  AdaptPlayoutDelay(*report);
  CallQuality::Local q = quality_.Sample(report->up, report->down, NowUs());
  auto [up, down] = quality_.local();
  report->stats.quality = WorseQuality(up, down);
  Notify([&](EngineEventListener& l) { l.OnStats(report->stats); });
  LocalQuality(q);
}

void Call::AdaptPlayoutDelay(const StatsWindow::Report& r) {
  if (!subscribing_.connection()) return;
  if (r.subscribe_restarted) {  // a new connection starts at the default: it gets ours
    if (playout_.ms() != PlayoutDelay::kNormalMs) subscribing_.connection()->SetPlayoutDelay(playout_.ms());
    return;
  }
  const int before = playout_.ms();
  const int ms = playout_.Sample(r.down.received, r.down.lost, r.audio_samples, r.audio_concealed);
  if (ms == before) return;
  Log().info("parley: playout delay {} ms -> {} ms ({} of {} packets lost, {} of {} audio samples concealed)", before,
             ms, r.down.lost, r.down.received + r.down.lost, r.audio_concealed, r.audio_samples);
  subscribing_.connection()->SetPlayoutDelay(ms);
}

/// The sender lowers the video when its encoders cannot keep up (impl/gst/send_rate.hpp);
/// the app hears when that starts and when the video is back where it asked.
void Call::DeviceLoad(const media::RtpTotals& pub) {
  const bool limited = pub.cpu_level > 0;
  if (limited == device_limited_) return;
  device_limited_ = limited;
  const std::string busy = std::to_string(static_cast<int>(pub.encode_usage * 100 + 0.5));
  if (limited)
    Warn(Code(Errc::kLowPerformance),
         "video encoding cannot keep up (encoder busy " + busy + " % of the time): video lowered");
  else
    Warn(Code(Errc::kPerformanceRestored),
         "video encoding keeps up again (encoder busy " + busy + " % of the time): video restored");
}

void Call::LocalQuality(const CallQuality::Local& q) {
  if (q.changed) {
    auto [up, down] = *q.changed;
    Notify([&](EngineEventListener& l) { l.OnNetworkQualityChanged("", NetworkQuality(up), NetworkQuality(down)); });
    // The others hear of it through the server; an older server does not know the
    // request, and a lost answer changes nothing: the reply is not waited on.
    if (Live()) Request("reportStats", {{"up", up}, {"down", down}}, [](int32_t, const std::string&, const Json&) {});
  }
  if (q.weak) {
    auto [up, down] = quality_.local();
    Warn(Code(Errc::kNetworkWeak), "network quality is poor (up " + std::to_string(up) + ", down " +
                                       std::to_string(down) + " on 0 excellent .. 4 very bad)");
  }
  if (q.recovered) Warn(Code(Errc::kNetworkRecovered), "network quality is back to normal");
}

void Call::RemoteQuality(const std::string& user_id, std::optional<CallQuality::Pair> q) {
  if (!q || user_id.empty() || !remote_.Knows(user_id)) return;
  Notify([&](EngineEventListener& l) {
    l.OnNetworkQualityChanged(user_id, NetworkQuality(q->first), NetworkQuality(q->second));
  });
}

void Call::On(const proto::UserNetwork& n) {
  Warn(n.code, n.user_id + ": " + n.state);
  if (!remote_.Knows(n.user_id)) return;  // only members are tracked
  if (n.state == "disconnected") RemoteQuality(n.user_id, quality_.RemoteLinkLost(n.user_id));
  if (n.state == "connected") RemoteQuality(n.user_id, quality_.RemoteLinkBack(n.user_id));
}

}  // namespace parley::sdk::call
