#include "metrics.hpp"

#include <fmt/core.h>

#include "parley/proto/errc.hpp"
#include "sfu/worker.hpp"

namespace parley::server {

std::string Metrics::Render() const {
  std::string o;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto gauge = [&](const char* name, const char* help, uint64_t v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  counter("parley_http_requests_total", "HTTP requests served (not counting WebSocket messages).", http_requests_total);
  counter("parley_ws_connections_total", "WebSocket signalling connections accepted.", ws_connections_total);
  gauge("parley_ws_connections", "Open WebSocket signalling connections.", ws_open);
  counter("parley_signal_messages_in_total", "Signalling messages received.", messages_in_total);
  counter("parley_signal_messages_out_total", "Signalling messages sent.", messages_out_total);
  counter("parley_signal_bad_messages_total", "Malformed, oversized or unknown messages.", bad_messages_total);
  gauge("parley_http_connections", "Open HTTP and WebSocket connections (bounded by --max-connections).",
        http_connections_open);
  counter("parley_http_busy_rejections_total", "Connections answered 503 past --max-connections or out of descriptors.",
          http_busy_rejections_total);
  counter("parley_http_bad_requests_total", "Malformed or oversized HTTP requests (answered 400, 431 or 413).",
          http_bad_requests_total);
  counter("parley_http_accept_errors_total", "Failed accept() calls (out of file descriptors, ...).",
          http_accept_errors_total);
  o += "# HELP parley_one_port_connections_total Connections to the signalling port in one-port mode, by what "
       "they opened with (signalling, media: ICE-TCP, refused: neither).\n"
       "# TYPE parley_one_port_connections_total counter\n";
  o += fmt::format("parley_one_port_connections_total{{kind=\"signalling\"}} {}\n", one_port_signalling_total);
  o += fmt::format("parley_one_port_connections_total{{kind=\"media\"}} {}\n", one_port_media_total);
  o += fmt::format("parley_one_port_connections_total{{kind=\"refused\"}} {}\n", one_port_refused_total);
  counter("parley_http_handler_exceptions_total", "HTTP requests whose handler threw (answered 500).",
          http_handler_exceptions_total);
  counter("parley_ws_slow_consumer_closes_total", "Signalling connections closed because the client did not read.",
          ws_slow_consumer_closes_total);
  counter("parley_signal_handler_exceptions_total", "Signalling requests whose handler threw (connection closed).",
          signal_handler_exceptions_total);
  counter("parley_joins_rate_limited_total", "Joins refused by the failed-join rate limits.", joins_rate_limited_total);
  gauge("parley_sessions", "Sessions in channels (including ones waiting to resume).", sessions);
  gauge("parley_channels", "Live channels.", channels);
  counter("parley_resumes_total", "Sessions resumed on a new connection.", resumes_total);
  counter("parley_media_transport_failures_total", "Media transports that failed (ICE/DTLS, consent).",
          media_transport_failures_total);
  o += "# HELP parley_joins_total Join requests by result code.\n# TYPE parley_joins_total counter\n";
  for (const auto& [code, n] : joins_by_code)
    o += fmt::format("parley_joins_total{{code=\"{}\"}} {}\n", FormatHex(code), n);
  o += "# HELP parley_sessions_removed_total Sessions removed by reason.\n"
       "# TYPE parley_sessions_removed_total counter\n";
  for (const auto& [reason, n] : sessions_removed_by_reason)
    o += fmt::format("parley_sessions_removed_total{{reason=\"{}\"}} {}\n", reason, n);
  // One series per media worker: `value` reads worker i's (atomic) count.
  auto per_worker = [&](const char* name, const char* type, const char* help, auto value) {
    o += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (size_t i = 0; i < media_workers.size(); ++i)
      o += fmt::format("{}{{worker=\"{}\"}} {}\n", name, i, value(*media_workers[i]));
  };
  // Per media worker: an idle worker should barely wake (see docs/performance.md), and
  // any exception is a bug that cost one transport.
  per_worker("parley_media_worker_wakeups_total", "counter",
             "Times a media worker's loop woke (I/O, posted work, its tick).",
             [](const sfu::MediaWorker& w) { return w.wakeups(); });
  per_worker("parley_media_worker_exceptions_total", "counter",
             "Exceptions caught in a media worker's loop; each closed the transport it was handling.",
             [](const sfu::MediaWorker& w) { return w.exceptions(); });
  per_worker("parley_media_checks_handed_over_total", "counter",
             "ICE checks another worker passed to this one (one port shared by the workers).",
             [](const sfu::MediaWorker& w) { return w.checks_handed_in(); });
  per_worker("parley_media_peer_sockets", "gauge",
             "Sockets connected to a validated client (one port shared by the workers).",
             [](const sfu::MediaWorker& w) { return w.peer_sockets(); });
  per_worker("parley_media_peer_socket_failures_total", "counter",
             "Clients that got no socket connected to them (one port shared; the descriptor budget, or none left): "
             "their media may be lost.",
             [](const sfu::MediaWorker& w) { return w.peer_socket_failures(); });
  per_worker("parley_media_paced_total", "counter",
             "Video datagrams that waited in a subscriber's pacer before leaving.",
             [](const sfu::MediaWorker& w) { return w.paced(); });
  // Every datagram a worker did not pass on, by why (sfu/drop_counters.hpp): media that
  // stopped can be told apart from media that was refused.
  o += "# HELP parley_media_dropped_total Datagrams (and forwarded copies) a media worker dropped, by reason.\n"
       "# TYPE parley_media_dropped_total counter\n";
  for (size_t i = 0; i < media_workers.size(); ++i)
    for (size_t r = 0; r < sfu::kDropReasonCount; ++r) {
      auto reason = static_cast<sfu::DropReason>(r);
      o += fmt::format("parley_media_dropped_total{{worker=\"{}\",reason=\"{}\"}} {}\n", i, sfu::Name(reason),
                       media_workers[i]->drops().Get(reason));
    }
  return o;
}

}  // namespace parley::server
