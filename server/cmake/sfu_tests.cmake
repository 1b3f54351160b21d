# Unit tests of the media plane (sfu_tests).
set(PARLEY_SFU_TEST_SOURCES
  tests/sfu_parsers_test.cpp
  tests/dtls_srtp_test.cpp
  tests/worker_test.cpp
  tests/worker_media_test.cpp
  tests/negotiate_test.cpp
  tests/sfu_libs_test.cpp
  tests/retransmission_buffer_test.cpp
  tests/nack_generator_test.cpp
  tests/receive_stats_test.cpp
  tests/seq_rewriter_test.cpp
  tests/keyframe_requester_test.cpp
  tests/sfu/media_plane_test.cpp
  tests/sfu/rtcp_writer_test.cpp
  tests/sfu/webrtc_transport_test.cpp
  tests/sfu/router_test.cpp)
