#include "core/stats.hpp"

#include <algorithm>

namespace parley::sdk {

std::optional<StatsWindow::Report> StatsWindow::Add(const media::RtpTotals& pub, const media::RtpTotals& sub,
                                                    const Frames& frames, Clock::time_point now) {
  std::optional<Report> out;
  // Audio counts add up over the connections: a new one starts again from zero.
  const uint64_t samples_before = audio_samples_, concealed_before = audio_concealed_;
  const bool audio_restarted = sub.audio_samples < sub_.audio_samples || sub.packets_received < sub_.packets_received;
  audio_samples_ += audio_restarted ? sub.audio_samples : sub.audio_samples - sub_.audio_samples;
  audio_concealed_ += audio_restarted || sub.audio_samples_concealed < sub_.audio_samples_concealed
                          ? sub.audio_samples_concealed
                          : sub.audio_samples_concealed - sub_.audio_samples_concealed;
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
    st.audio_samples_received = audio_samples_;
    st.audio_samples_concealed = audio_concealed_;
    r.audio_samples = audio_samples_ - samples_before;
    r.audio_concealed = audio_concealed_ - concealed_before;
    st.send_estimate_kbps = static_cast<int>(pub.estimate_bps / 1000);
    st.encoder_usage_percent = static_cast<int>(pub.encode_usage * 100 + 0.5);
    st.jitter_buffer_ms = sub.jitter_buffer_ms;
    st.transport = !pub.transport.empty() ? pub.transport : sub.transport;
    r.up.sent =
        pub.packets_sent >= pub_.packets_sent ? static_cast<long long>(pub.packets_sent - pub_.packets_sent) : 0;
    // The server's reports count the lost packets since the connection began.
    if (pub.remote_packets_lost >= 0)
      r.up.lost = std::max<int64_t>(0, pub.remote_packets_lost - std::max<int64_t>(0, pub_.remote_packets_lost));
    r.up.rtt_ms = st.rtt_ms;
    // Squeezed: the estimate allows only part of what the encoders want.
    if (pub.estimate_bps > 0 && pub.wanted_bps > 0)
      r.up.bandwidth_ratio = static_cast<double>(pub.estimate_bps) / static_cast<double>(pub.wanted_bps);
    r.subscribe_restarted = sub.packets_received < sub_.packets_received;
    r.down.received = got;
    r.down.lost = lost;
    r.down.repaired = std::max<int64_t>(0, sub.packets_repaired - sub_.packets_repaired);
    r.down.jitter_ms = st.jitter_ms;
    r.down.rtt_ms = st.rtt_ms;
    out = std::move(r);
  }
  at_ = now;
  pub_ = pub;
  sub_ = sub;
  frames_ = frames.decoded;
  return out;
}

}  // namespace parley::sdk
