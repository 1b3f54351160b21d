# Sources of parley_sfu (the media plane). Owned by the media plane's changes, so that
# signalling and media work never edit the same list.
set(PARLEY_SFU_SOURCES
  src/sfu/drop_counters.cpp
  src/sfu/downstream_estimate.cpp
  src/sfu/dtls.cpp
  src/sfu/forwarder.cpp
  src/sfu/keyframe_requester.cpp
  src/sfu/media_plane.cpp
  src/sfu/nack_generator.cpp
  src/sfu/negotiate.cpp
  src/sfu/openssl_lib.cpp
  src/sfu/pacer.cpp
  src/sfu/payload_check.cpp
  src/sfu/publisher_tracks.cpp
  src/sfu/receive_stats.cpp
  src/sfu/retransmission_buffer.cpp
  src/sfu/rtcp_writer.cpp
  src/sfu/router.cpp
  src/sfu/rtp.cpp
  src/sfu/sdp.cpp
  src/sfu/send_batch.cpp
  src/sfu/seq_rewriter.cpp
  src/sfu/srtp_lib.cpp
  src/sfu/stun.cpp
  src/sfu/twcc.cpp
  src/sfu/webrtc_transport.cpp
  src/sfu/worker.cpp)
