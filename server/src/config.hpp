// parleyd's configuration: flags (parleyd --help) and an optional YAML file whose keys
// are the flag names without dashes (e.g. `port: 8080`, `heartbeat-interval-ms: 2000`).
// Flags given on the command line win over the file.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/proto/result.hpp"

namespace parley::server {

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 7880;  ///< 0 picks a free port (printed, and written to port_file)
  std::string data_dir = "parley-data";
  std::optional<std::string> admin_key;  ///< sets the admin key; otherwise one is created on first start
  std::string admin_key_file;            ///< read the admin key from this file (first line)
  std::string admin_key_source;          ///< where the key came from (for the startup log)
  std::string web_root;                  ///< static files (browser SDK, demo, console)
  std::string tls_cert, tls_key;         ///< PEM files; both set = HTTPS/WSS only
  std::string port_file;                 ///< write the bound port here once listening
  std::string log_level = "info";
  int heartbeat_interval_ms = 2000;         ///< clients ping this often
  int heartbeat_misses = 3;                 ///< silent this many intervals = connection closed, session in resume grace
  int resume_grace_ms = 10000;              ///< a dropped connection may resume within this
  int token_grace_ms = 30000;               ///< a session whose token expired is removed this much later
  int64_t channel_max_age_s = 48 * 3600;    ///< older live channels refuse joins (0x02010203)
  int request_timeout_ms = 10000;           ///< documented to clients (their request timeout)
  size_t max_message_bytes = 64 * 1024;     ///< larger messages get 0x0F010003
  int usage_flush_ms = 10000;               ///< metering granularity for app usage
  std::string media_address = "127.0.0.1";  ///< UDP address of the media worker (its host candidate)
  std::string media_address6;               ///< an IPv6 address with host candidates too (dual-stack workers)
  uint16_t media_port = 0;                  ///< 0 picks a free port
  bool media = true;                        ///< false runs signalling only (no SFU)
  int media_abort_ms = 5000;                ///< a connected publisher silent this long gets 0x02010401
  int media_workers = 0;                    ///< media worker threads (0 = one per CPU, at most 8)
  /// A channel's subscribe transports beyond this many on its worker go to the others
  /// (relayed from mirrors, sfu/relay.cpp); 0 = a channel stays on one worker.
  int media_spread_at = 100;
  int media_connect_timeout_ms = 10000;  ///< ICE + DTLS must finish this long after an offer
  int media_consent_timeout_ms = 30000;  ///< RFC 7675: connected, then no check this long = failed
  int media_loss_permille = 0;           ///< test aid: simulated loss on media sent to subscribers
  bool media_video_pacing = true;        ///< video to each subscriber through its pacer (sfu/pacer.hpp)
  bool media_ice_tcp = true;             ///< the media ports also listen on TCP (sfu/tcp_links.hpp)
  bool one_port = false;  ///< ICE-TCP on the signalling port, every worker on one UDP port (sfu/port_share.hpp)
  int active_speaker_interval_ms = 500;  ///< how often the loudest publisher is evaluated
  /// TURN/STUN servers handed to clients with their join (auth/turn_credentials.hpp),
  /// with the secret they share with the TURN server and how long a credential lasts.
  std::vector<std::string> turn_urls;
  std::string turn_secret, turn_secret_file;
  int64_t turn_ttl_s = 24 * 3600;
  // Limits (docs/security.md).
  int max_connections = 0;                        ///< HTTP + WebSocket; 0 = from RLIMIT_NOFILE
  size_t send_queue_max_bytes = 4 * 1024 * 1024;  ///< per connection; past it the client is closed
  size_t send_queue_max_messages = 4096;          ///< per connection
  int64_t max_classic_token_lifetime_s = 86400;   ///< classic tokens expiring later are refused
  int join_failures_per_connection = 20;          ///< then the connection is closed
  double join_failure_burst = 30;                 ///< failed joins per address before throttling
  double join_failure_refill_per_s = 1;           ///< ... and how fast that allowance returns
  std::string metrics_access = "public";          ///< "public" or "admin" (needs the admin key)
  std::string config_file;
};

/// The smallest admin key accepted (characters).
inline constexpr size_t kMinAdminKeyLength = 16;

/// Resolves the admin key from --admin-key, --admin-key-file or PARLEY_ADMIN_KEY (in that
/// order), checks its length, and records its source. Errors are start-up errors.
Status ResolveAdminKey(ServerConfig& config);

/// Reads the TURN secret from --turn-secret-file or PARLEY_TURN_SECRET when not given
/// with --turn-secret, and checks that every TURN URL has one. Errors are start-up errors.
Status ResolveTurnSecret(ServerConfig& config);

/// The web root when --web-root is not given: share/parley/web beside the binary's
/// folder (…/bin/../share/parley/web when installed; the build tree has the same
/// layout). Empty when there is none.
std::string DefaultWebRoot();

/// Adds every option to `app`, bound to `config`.
void AddServerOptions(CLI::App& app, ServerConfig& config);

/// Applies the YAML file named by config.config_file to options not given on the
/// command line. Errors name the file and key.
Status ApplyConfigFile(CLI::App& app, ServerConfig& config);

/// Checks ranges and combinations (TLS needs both files, ...).
Status Validate(const ServerConfig& config);

}  // namespace parley::server
