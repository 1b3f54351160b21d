#include "config.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "auth/turn_credentials.hpp"

namespace parley::server {

void AddServerOptions(CLI::App& app, ServerConfig& c) {
  app.add_option("--config", c.config_file, "YAML file with any of these options (keys without the dashes)");
  app.add_option("--listen", c.listen_address, "Address to listen on")->capture_default_str();
  app.add_option("--port", c.port, "HTTP/WebSocket port (0 = pick a free one)")->capture_default_str();
  app.add_option("--data", c.data_dir, "Data directory (SQLite database)")->capture_default_str();
  app.add_option("--admin-key", c.admin_key,
                 "Set the admin API key (>= 16 characters; visible in ps: prefer --admin-key-file or the "
                 "PARLEY_ADMIN_KEY environment variable). Default: created once and printed");
  app.add_option("--admin-key-file", c.admin_key_file, "Read the admin API key from this file (its first line)");
  app.add_option("--web-root", c.web_root, "Directory of static web files (SDK, demo, console)");
  app.add_option("--tls-cert", c.tls_cert, "TLS certificate (PEM); with --tls-key serves HTTPS/WSS");
  app.add_option("--tls-key", c.tls_key, "TLS private key (PEM)");
  app.add_option("--port-file", c.port_file, "Write the bound port to this file once listening");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--heartbeat-interval-ms", c.heartbeat_interval_ms, "Client ping interval")->capture_default_str();
  app.add_option(
         "--heartbeat-misses", c.heartbeat_misses,
         "Missed intervals before a silent connection is closed (its session may still resume within the grace)")
      ->capture_default_str();
  app.add_option("--resume-grace-ms", c.resume_grace_ms, "How long a dropped session may resume")
      ->capture_default_str();
  app.add_option("--token-grace-ms", c.token_grace_ms,
                 "How long a session outlives its token's expiry (refreshToken within it keeps the session)")
      ->capture_default_str();
  app.add_option("--channel-max-age", c.channel_max_age_s, "Seconds a live channel accepts joins (48 h)")
      ->capture_default_str();
  app.add_option("--request-timeout-ms", c.request_timeout_ms, "Request timeout advertised to clients")
      ->capture_default_str();
  app.add_option("--max-message-bytes", c.max_message_bytes, "Largest signalling message accepted")
      ->capture_default_str();
  app.add_option("--media-address", c.media_address, "Address for media (the ICE host candidates, UDP and TCP)")
      ->capture_default_str();
  app.add_option("--media-address6", c.media_address6,
                 "An IPv6 address for media too: host candidates on it beside --media-address's (the media ports "
                 "then listen on every address, IPv4 and IPv6)");
  app.add_option("--media-port", c.media_port, "Media port, UDP and ICE-TCP (0 = pick a free one)")
      ->capture_default_str();
  app.add_flag("!--no-media", c.media, "Run signalling only, without the SFU media plane");
  app.add_option("--media-abort-ms", c.media_abort_ms, "Publisher media silence that counts as aborted (0x02010401)")
      ->capture_default_str();
  app.add_option("--media-workers", c.media_workers,
                 "Media worker threads, each with its own port, UDP and TCP (0 = one per CPU, at most 8); "
                 "with --media-port P, worker i binds P+i")
      ->capture_default_str();
  app.add_option("--media-spread-at", c.media_spread_at,
                 "A channel with this many subscribers on its media worker puts its next ones on the workers "
                 "with the fewest (its publishers' packets relayed there); 0 = each channel on one worker")
      ->capture_default_str();
  app.add_option("--media-connect-timeout-ms", c.media_connect_timeout_ms,
                 "ICE and DTLS must complete this long after an offer (else 0x01050201 / 0x02010402)")
      ->capture_default_str();
  app.add_option("--media-consent-timeout-ms", c.media_consent_timeout_ms,
                 "A connected transport without a connectivity check this long has failed (RFC 7675)")
      ->capture_default_str();
  app.add_flag("!--no-video-pacing", c.media_video_pacing,
               "Send each subscriber's video as it comes instead of through its pacer (for comparisons)");
  app.add_flag("!--no-ice-tcp", c.media_ice_tcp,
               "Offer no ICE-TCP candidate (by default the media port also listens on TCP, RFC 6544)");
  app.add_flag("--one-port", c.one_port,
               "Two ports for everything: ICE-TCP on the signalling port (told from HTTPS by its first bytes) "
               "and every media worker on the one UDP port --media-port (0 = a free one)");
  app.add_option("--media-loss-permille", c.media_loss_permille,
                 "Testing: drop this many per thousand media packets sent to subscribers")
      ->capture_default_str();
  app.add_option("--active-speaker-interval-ms", c.active_speaker_interval_ms,
                 "How often each channel's loudest publisher is evaluated")
      ->capture_default_str();
  app.add_option("--turn-url", c.turn_urls,
                 "A TURN or STUN server clients get with their join, as turn:host:port?transport=udp|tcp, "
                 "turns:host:port or stun:host:port (repeat for several); docs/deploy.md")
      ->take_all();
  app.add_option("--turn-secret", c.turn_secret,
                 "The secret shared with the TURN server (coturn's static-auth-secret; visible in ps: prefer "
                 "--turn-secret-file or PARLEY_TURN_SECRET)");
  app.add_option("--turn-secret-file", c.turn_secret_file, "Read the TURN secret from this file (its first line)");
  app.add_option("--turn-ttl", c.turn_ttl_s, "Seconds a client's TURN credential lasts")->capture_default_str();
  app.add_option("--max-connections", c.max_connections,
                 "Open HTTP/WebSocket connections at most; more are answered 503 (0 = file-descriptor limit - 64)")
      ->capture_default_str();
  app.add_option("--send-queue-max-bytes", c.send_queue_max_bytes,
                 "Bytes waiting to be sent to one client; past it the client is closed (1008)")
      ->capture_default_str();
  app.add_option("--send-queue-max-messages", c.send_queue_max_messages,
                 "Messages waiting to be sent to one client; past it the client is closed (1008)")
      ->capture_default_str();
  app.add_option("--max-classic-token-lifetime", c.max_classic_token_lifetime_s,
                 "Seconds ahead a classic token may expire (apps with classic tokens on)")
      ->capture_default_str();
  app.add_option("--join-failures-per-connection", c.join_failures_per_connection,
                 "Failed joins one connection may make before it is closed")
      ->capture_default_str();
  app.add_option("--join-failure-burst", c.join_failure_burst, "Failed joins one address may make in a burst")
      ->capture_default_str();
  app.add_option("--join-failure-refill-per-s", c.join_failure_refill_per_s,
                 "Failed joins per second one address may make after its burst")
      ->capture_default_str();
  app.add_option("--metrics-access", c.metrics_access, "/metrics: public, or admin (needs the admin key)")
      ->capture_default_str();
  app.add_option("--usage-flush-ms", c.usage_flush_ms, "How often usage is metered and stored")->capture_default_str();
}

Status ApplyConfigFile(CLI::App& app, ServerConfig& c) {
  if (c.config_file.empty()) return {};
  YAML::Node root;
  try {
    root = YAML::LoadFile(c.config_file);
  } catch (const YAML::Exception& e) {
    return MakeError(Errc::kInvalidField, "config " + c.config_file + ": " + e.what());
  }
  if (!root.IsMap()) return MakeError(Errc::kInvalidField, "config " + c.config_file + ": not a mapping");
  for (const auto& kv : root) {
    auto key = kv.first.as<std::string>();
    CLI::Option* opt = nullptr;
    try {
      opt = app.get_option("--" + key);
    } catch (const CLI::OptionNotFound&) {
      return MakeError(Errc::kInvalidField, "config " + c.config_file + ": unknown key '" + key + "'");
    }
    if (key == "config") return MakeError(Errc::kInvalidField, "config files cannot include others");
    if (opt->count() > 0) continue;  // the command line wins
    // A list only where the flag may be repeated (--turn-url).
    const bool list = kv.second.IsSequence() && opt->get_expected_max() > 1;
    if (!kv.second.IsScalar() && !list)
      return MakeError(Errc::kInvalidField, "config " + c.config_file + ": '" + key + "' must be a scalar");
    try {
      if (list) {
        for (const auto& item : kv.second) {
          if (!item.IsScalar())
            return MakeError(Errc::kInvalidField, "config " + c.config_file + ": '" + key + "' lists scalars only");
          opt->add_result(item.as<std::string>());
        }
      } else {
        opt->add_result(kv.second.as<std::string>());
      }
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return MakeError(Errc::kInvalidField, "config " + c.config_file + ": '" + key + "': " + e.what());
    }
  }
  return {};
}

Status Validate(const ServerConfig& c) {
  auto bad = [](const std::string& m) { return MakeError(Errc::kInvalidField, m); };
  if (c.tls_cert.empty() != c.tls_key.empty()) return bad("--tls-cert and --tls-key go together");
  if (c.heartbeat_interval_ms < 50) return bad("--heartbeat-interval-ms must be >= 50");
  if (c.heartbeat_misses < 1) return bad("--heartbeat-misses must be >= 1");
  if (c.resume_grace_ms < 0) return bad("--resume-grace-ms must be >= 0");
  if (c.token_grace_ms < 0) return bad("--token-grace-ms must be >= 0");
  if (c.channel_max_age_s < 1) return bad("--channel-max-age must be >= 1");
  if (c.max_message_bytes < 1024 || c.max_message_bytes > 16 * 1024 * 1024)
    return bad("--max-message-bytes must be 1 KiB..16 MiB");
  if (c.usage_flush_ms < 100) return bad("--usage-flush-ms must be >= 100");
  if (c.media_abort_ms < 100) return bad("--media-abort-ms must be >= 100");
  if (c.media_workers < 0 || c.media_workers > 64) return bad("--media-workers must be 0..64");
  if (c.media_spread_at < 0) return bad("--media-spread-at must be 0 or more");
  if (c.one_port && !c.media) return bad("--one-port needs the media workers");
  if (c.media_connect_timeout_ms < 100) return bad("--media-connect-timeout-ms must be >= 100");
  if (c.media_consent_timeout_ms < 100) return bad("--media-consent-timeout-ms must be >= 100");
  if (c.media_loss_permille < 0 || c.media_loss_permille > 1000) return bad("--media-loss-permille must be 0..1000");
  if (c.active_speaker_interval_ms < 50) return bad("--active-speaker-interval-ms must be >= 50");
  if (c.data_dir.empty()) return bad("--data must not be empty");
  if (c.max_connections < 0) return bad("--max-connections must be >= 0");
  if (c.send_queue_max_bytes < 64 * 1024) return bad("--send-queue-max-bytes must be >= 65536");
  if (c.send_queue_max_messages < 16) return bad("--send-queue-max-messages must be >= 16");
  if (c.max_classic_token_lifetime_s < 60) return bad("--max-classic-token-lifetime must be >= 60");
  if (c.join_failures_per_connection < 1) return bad("--join-failures-per-connection must be >= 1");
  if (c.join_failure_burst < 1) return bad("--join-failure-burst must be >= 1");
  if (c.join_failure_refill_per_s <= 0) return bad("--join-failure-refill-per-s must be > 0");
  if (c.metrics_access != "public" && c.metrics_access != "admin")
    return bad("--metrics-access must be public or admin");
  if (in6_addr a6{}; !c.media_address6.empty() && inet_pton(AF_INET6, c.media_address6.c_str(), &a6) != 1)
    return bad("--media-address6 must be an IPv6 address");
  for (const auto& url : c.turn_urls)
    if (Status s = CheckIceServerUrl(url); !s) return s;
  if (c.turn_ttl_s < 60 || c.turn_ttl_s > 7 * 86400) return bad("--turn-ttl must be 60..604800 seconds");
  return {};
}

Status ResolveAdminKey(ServerConfig& c) {
  auto bad = [](const std::string& m) { return MakeError(Errc::kInvalidField, m); };
  if (c.admin_key && !c.admin_key_file.empty()) return bad("give --admin-key or --admin-key-file, not both");
  if (c.admin_key) {
    c.admin_key_source = "--admin-key";
  } else if (!c.admin_key_file.empty()) {
    std::ifstream in(c.admin_key_file);
    std::string line;
    if (!in || !std::getline(in, line)) return bad("cannot read the admin key from " + c.admin_key_file);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    c.admin_key = line;
    c.admin_key_source = "--admin-key-file " + c.admin_key_file;
  } else if (const char* env = std::getenv("PARLEY_ADMIN_KEY"); env && *env) {
    c.admin_key = std::string(env);
    c.admin_key_source = "PARLEY_ADMIN_KEY";
  } else {
    c.admin_key_source = "data directory";
    return {};
  }
  if (c.admin_key->size() < kMinAdminKeyLength)
    return bad("the admin key (" + c.admin_key_source + ") must be at least " + std::to_string(kMinAdminKeyLength) +
               " characters; an empty or short key is refused");
  return {};
}

Status ResolveTurnSecret(ServerConfig& c) {
  auto bad = [](const std::string& m) { return MakeError(Errc::kInvalidField, m); };
  if (!c.turn_secret.empty() && !c.turn_secret_file.empty())
    return bad("give --turn-secret or --turn-secret-file, not both");
  if (!c.turn_secret_file.empty()) {
    std::ifstream in(c.turn_secret_file);
    std::string line;
    if (!in || !std::getline(in, line)) return bad("cannot read the TURN secret from " + c.turn_secret_file);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    c.turn_secret = line;
  } else if (const char* env = std::getenv("PARLEY_TURN_SECRET"); c.turn_secret.empty() && env && *env) {
    c.turn_secret = env;
  }
  const bool turn =
      std::any_of(c.turn_urls.begin(), c.turn_urls.end(), [](const std::string& u) { return u.rfind("turn", 0) == 0; });
  if (turn && c.turn_secret.size() < 16)
    return bad("a TURN URL needs the secret the TURN server shares (--turn-secret-file, at least 16 characters)");
  return {};
}

std::string DefaultWebRoot() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  auto root = exe.parent_path().parent_path() / "share" / "parley" / "web";
  if (!std::filesystem::is_directory(root, ec)) return {};
  return root.string();
}

}  // namespace parley::server
