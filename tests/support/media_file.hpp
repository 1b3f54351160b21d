// Media files for tests, made and read back with GStreamer's own tools.
#pragma once

#include <string>

namespace parley::test {

/// A WebM (VP8 320x240 at 15 fps + an Opus tone of `freq` Hz) of about `seconds`, at
/// /tmp/parley-<name>-<pid>.webm; "" when gst-launch-1.0 failed.
std::string MakeTestWebm(const std::string& name, int seconds, int freq);

/// A WAV (44.1 kHz stereo, S16) of a `freq` Hz tone at -9 dBFS of `seconds`, at
/// /tmp/parley-<name>-<pid>.wav; "" when gst-launch-1.0 failed.
std::string MakeTestWav(const std::string& name, double seconds, int freq);

/// The duration gst-discoverer-1.0 reads from a file, in seconds (-1: unreadable).
double DiscoverSeconds(const std::string& path);

}  // namespace parley::test
