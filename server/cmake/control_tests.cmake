# Unit tests of the control plane (control_tests).
set(PARLEY_CONTROL_TEST_SOURCES
  tests/hub_test.cpp
  tests/auth/authenticator_test.cpp
  tests/auth/turn_credentials_test.cpp
  tests/auth/usage_meter_test.cpp
  tests/channel/active_speaker_monitor_test.cpp
  tests/channel/channel_test.cpp
  tests/channel/heartbeat_monitor_test.cpp
  tests/channel/lifecycle_test.cpp
  tests/channel/media_abort_monitor_test.cpp
  tests/channel/registry_test.cpp
  tests/channel/session_test.cpp
  tests/channel/transport_failure_monitor_test.cpp
  tests/http/admin_ops_test.cpp
  tests/signal/dispatcher_test.cpp
  tests/signal/join_limiter_test.cpp
  tests/signal/refusal_log_test.cpp)
