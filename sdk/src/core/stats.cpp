#include "core/stats.hpp"

#include <algorithm>

#include "parley/proto/errc.hpp"

namespace parley::sdk {

int StatsWindow::Quality(double loss_rate, int rtt_ms) {
  int rtt = std::max(0, rtt_ms);
  return loss_rate < 0.01 && rtt < 100   ? 1
         : loss_rate < 0.03 && rtt < 200 ? 2
         : loss_rate < 0.08 && rtt < 400 ? 3
         : loss_rate < 0.15              ? 4
                                         : 5;
}

std::optional<StatsWindow::Report> StatsWindow::Add(const media::RtpTotals& pub, const media::RtpTotals& sub,
                                                    const Frames& frames, Clock::time_point now) {
  std::optional<Report> out;
  if (at_ != Clock::time_point{}) {
    double ms = std::max(1.0, std::chrono::duration<double, std::milli>(now - at_).count());
    Report r;
    EngineStats& st = r.stats;
    auto rate = [ms](uint64_t now_b, uint64_t before) {
      return now_b >= before ? static_cast<int>(static_cast<double>(now_b - before) * 8.0 / ms) : 0;
    };
    st.send_kbps = rate(pub.bytes_sent, pub_.bytes_sent);
    st.receive_kbps = rate(sub.bytes_received, sub_.bytes_received);
    int64_t lost = std::max<int64_t>(0, sub.packets_lost - sub_.packets_lost);
    int64_t got = sub.packets_received >= sub_.packets_received
                      ? static_cast<int64_t>(sub.packets_received - sub_.packets_received)
                      : 0;
    st.loss_rate = got + lost > 0 ? static_cast<double>(lost) / static_cast<double>(got + lost) : 0;
    st.rtt_ms = pub.rtt_s >= 0 ? static_cast<int>(pub.rtt_s * 1000) : -1;
    st.jitter_ms = static_cast<int>(sub.jitter_s * 1000);
    st.video_fps = static_cast<int>(static_cast<double>(frames.decoded - frames_) * 1000.0 / ms + 0.5);
    st.width = frames.width;
    st.height = frames.height;
    // Nothing received and no round trip measured: the quality is unknown (0).
    if (got + lost > 0 || st.rtt_ms >= 0) st.quality = Quality(st.loss_rate, st.rtt_ms);
    // Weak network: a warning when quality turns poor, a notice when it is good again.
    if (st.quality >= 4 && !weak_) {
      weak_ = true;
      r.warning = Warning{static_cast<int32_t>(Errc::kNetworkWeak),
                          "network quality is poor (loss " + std::to_string(static_cast<int>(st.loss_rate * 100)) +
                              "%, rtt " + std::to_string(st.rtt_ms) + " ms)"};
    } else if (weak_ && st.quality > 0 && st.quality <= 2) {
      weak_ = false;
      r.warning = Warning{static_cast<int32_t>(Errc::kNetworkRecovered), "network quality is back to normal"};
    }
    out = std::move(r);
  }
  at_ = now;
  pub_ = pub;
  sub_ = sub;
  frames_ = frames.decoded;
  return out;
}

}  // namespace parley::sdk
