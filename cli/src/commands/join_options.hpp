// parley join's options: what the command line sets (join_options.cpp registers
// them) and what join_cmd.cpp runs with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parley/proto/vocabulary.hpp"

namespace parley::cli {

struct JoinOptions {
  std::string token, channel, user, user_name, nonce;
  std::string role{Name(ClientRole::kBroadcaster)}, profile{Name(ChannelProfile::kCommunication)};
  std::string source;  ///< test | file:PATH | device[:ID] (sets both sources)
  std::string audio_source = "test:tone", video_source = "test:pattern";
  std::string publish = "audio,video";  ///< any of audio, video, screen
  std::string codec = "vp8";
  std::string degradation;  ///< fluency | clarity | balanced; empty: each track's default
  std::string record_dir;
  std::string speaker = "null";
  std::string screen_display;  ///< empty: $DISPLAY
  uint64_t screen_window = 0;
  std::string screen_region;  ///< X,Y,WxH (empty: all of it)
  bool screen_audio = false;  ///< what the speakers play, into the audio track
  int width = 640, height = 360, fps = 30, bitrate_kbps = 800;
  bool no_subscribe = false, h5 = true, no_audio_processing = false, music = false;
  std::string video_stream;                ///< big | small | auto: the layer of simulcast cameras received
  bool dual_stream = true;                 ///< the camera published as two layers (--no-dual-stream: one)
  std::string audio_profile = "high";      ///< AudioProfileNames
  std::vector<std::string> ice_addresses;  ///< local addresses ICE may use (default: the SDK's)
  bool relay_only = false;                 ///< media only through TURN relays
  std::string log_level = "error";         ///< the SDK's own log lines; what matters is printed here
  double duration = 0;
  std::vector<std::string> messages;       ///< sent once joined ("@user text": to that user alone)
  bool chat = false;                       ///< each line on standard input is a message
  bool data = false;                       ///< data messages on: the data connection opens, what arrives is printed
  std::vector<std::string> data_messages;  ///< sent as data messages once that connection opens (implies data)
  int64_t token_ttl = 3600;                ///< seconds, of a token minted here (renewed before it expires)
  std::string accompany;                   ///< an audio file mixed into the published microphone
  int accompany_loops = 1;                 ///< how many times it plays (-1: for ever)
};

/// Joins, runs until the duration, Ctrl-C or the end of the call, and leaves; the exit
/// status (join_cmd.cpp).
int RunJoin(JoinOptions o);

}  // namespace parley::cli
