// Server counters and gauges, rendered as Prometheus text at /metrics.
// Touched only on the control-plane thread; the media workers' own counters are
// atomics, read when rendering.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley::sfu {
class MediaWorker;
}

namespace parley::server {

struct Metrics {
  uint64_t http_requests_total = 0;
  uint64_t ws_connections_total = 0;
  uint64_t ws_open = 0;
  uint64_t messages_in_total = 0;
  uint64_t messages_out_total = 0;
  uint64_t bad_messages_total = 0;
  // Hardening: limits reached and failures contained (docs/security.md).
  uint64_t http_connections_open = 0;       ///< gauge: HTTP + WebSocket connections
  uint64_t http_busy_rejections_total = 0;  ///< answered 503 past --max-connections
  uint64_t http_bad_requests_total = 0;     ///< answered 400 / 431 / 413
  uint64_t http_accept_errors_total = 0;    ///< accept() failures (EMFILE, ...)
  /// --one-port: connections to the signalling port by what their first bytes were.
  uint64_t one_port_signalling_total = 0, one_port_media_total = 0, one_port_refused_total = 0;
  uint64_t http_handler_exceptions_total = 0;    ///< HTTP requests answered 500 by the catch
  uint64_t ws_slow_consumer_closes_total = 0;    ///< closed: send queue over its bound
  uint64_t signal_handler_exceptions_total = 0;  ///< signalling requests answered 0x0F040001 by the catch
  uint64_t joins_rate_limited_total = 0;         ///< joins refused by the failed-join limits
  std::map<int32_t, uint64_t> joins_by_code;     ///< join results by catalog code (0 = ok)
  std::map<std::string, uint64_t> sessions_removed_by_reason;
  uint64_t sessions = 0;  ///< gauge, set by the hub
  uint64_t channels = 0;  ///< gauge, set by the hub
  uint64_t resumes_total = 0;
  uint64_t media_transport_failures_total = 0;  ///< ICE/DTLS failures and consent losses
  /// The media workers (set once at start-up; they outlive every render).
  std::vector<const sfu::MediaWorker*> media_workers;

  [[nodiscard]] std::string Render() const;
};

}  // namespace parley::server
