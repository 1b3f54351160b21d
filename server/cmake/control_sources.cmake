# Sources of parley_control (signalling, apps and tokens, admin routes, metrics).
set(PARLEY_CONTROL_SOURCES
  src/config.cpp
  src/metrics.cpp
  src/auth/app_store.cpp
  src/auth/authenticator.cpp
  src/auth/usage_meter.cpp
  src/channel/active_speaker_monitor.cpp
  src/channel/channel.cpp
  src/channel/heartbeat_monitor.cpp
  src/channel/media_abort_monitor.cpp
  src/channel/registry.cpp
  src/channel/session.cpp
  src/channel/transport_failure_monitor.cpp
  src/http/router.cpp
  src/signal/hub.cpp
  src/signal/join_limiter.cpp
  src/signal/refusal_log.cpp)
