# Adaptation in the native SDK (src/adapt/): the encoder overuse detector, the video
# degradation it and the sender's bandwidth estimate (congestion/) drive, and when audio
# goes with a redundant copy (RED). Pure computation, in libparley, with its own unit tests (adapt_tests) that need neither GStreamer nor a server.
target_sources(parley_sdk PRIVATE src/adapt/video_adapter.cpp
                                  src/adapt/overuse_detector.cpp src/adapt/red_policy.cpp)

if(PARLEY_BUILD_TESTS)
  add_executable(adapt_tests tests/adapt/video_adapter_test.cpp
                             tests/adapt/overuse_detector_test.cpp tests/adapt/red_policy_test.cpp
                             src/adapt/video_adapter.cpp
                             src/adapt/overuse_detector.cpp src/adapt/red_policy.cpp)
  target_link_libraries(adapt_tests PRIVATE GTest::gtest_main)
  target_include_directories(adapt_tests PRIVATE src tests/adapt)
  parley_set_warnings(adapt_tests)
  gtest_discover_tests(adapt_tests PROPERTIES TIMEOUT 60)
endif()
