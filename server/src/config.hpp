// parleyd's configuration: flags (parleyd --help) and an optional YAML file whose keys
// are the flag names without dashes (e.g. `port: 8080`, `heartbeat-interval-ms: 2000`).
// Flags given on the command line win over the file.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "parley/proto/result.hpp"

namespace parley::server {

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 7880;  ///< 0 picks a free port (printed, and written to port_file)
  std::string data_dir = "parley-data";
  std::optional<std::string> admin_key;  ///< sets the admin key; otherwise one is created on first start
  std::string web_root;                  ///< static files (browser SDK, demo, console)
  std::string tls_cert, tls_key;         ///< PEM files; both set = HTTPS/WSS only
  std::string port_file;                 ///< write the bound port here once listening
  std::string log_level = "info";
  int heartbeat_interval_ms = 2000;         ///< clients ping this often
  int heartbeat_misses = 3;                 ///< silent this many intervals = session removed
  int resume_grace_ms = 10000;              ///< a dropped connection may resume within this
  int64_t channel_max_age_s = 48 * 3600;    ///< older live channels refuse joins (0x02010203)
  int request_timeout_ms = 10000;           ///< documented to clients (their request timeout)
  size_t max_message_bytes = 64 * 1024;     ///< larger messages get 0x0F010003
  int usage_flush_ms = 10000;               ///< metering granularity for app usage
  std::string media_address = "127.0.0.1";  ///< UDP address of the media worker (its host candidate)
  uint16_t media_port = 0;                  ///< 0 picks a free port
  bool media = true;                        ///< false runs signalling only (no SFU)
  int media_abort_ms = 5000;                ///< a connected publisher silent this long gets 0x02010401
  int media_workers = 0;                    ///< media worker threads (0 = one per CPU, at most 8)
  int media_connect_timeout_ms = 10000;     ///< ICE + DTLS must finish this long after an offer
  int media_consent_timeout_ms = 30000;     ///< RFC 7675: connected, then no check this long = failed
  int media_loss_permille = 0;              ///< test aid: simulated loss on media sent to subscribers
  int active_speaker_interval_ms = 500;     ///< how often the loudest publisher is evaluated
  std::string config_file;
};

/// Adds every option to `app`, bound to `config`.
void AddServerOptions(CLI::App& app, ServerConfig& config);

/// Applies the YAML file named by config.config_file to options not given on the
/// command line. Errors name the file and key.
Status ApplyConfigFile(CLI::App& app, ServerConfig& config);

/// Checks ranges and combinations (TLS needs both files, ...).
Status Validate(const ServerConfig& config);

}  // namespace parley::server
