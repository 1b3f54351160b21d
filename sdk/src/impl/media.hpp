// Media on GStreamer webrtcbin: the publish connection (we offer what we send) and
// the subscribe connection (the server offers, we answer). Both follow
// ../shared/notes/webrtc-on-loopback.md: max-bundle, no UPnP, ICE restricted to the
// configured local addresses, transport-wide-cc negotiated through payloader caps.
//
// Threading: the methods block (they wait for webrtcbin's promises) and are called
// from the engine thread. Callbacks (frames, tracks, errors) run on GStreamer threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk {

/// Initializes GStreamer once and checks that every element the engine needs exists;
/// a missing one is 0x01010103 naming the element and the Debian package holding it.
Status InitMedia();

using MediaErrorFn = std::function<void(int32_t code, const std::string& message)>;

/// Totals from webrtcbin's statistics (the W3C RTCStats it models).
struct RtpTotals {
  uint64_t bytes_sent = 0, packets_sent = 0;
  uint64_t bytes_received = 0, packets_received = 0;
  int64_t packets_lost = 0;
  double jitter_s = 0;  ///< largest inbound jitter
  double rtt_s = -1;    ///< from the remote side's reports (-1: unknown yet)
};

struct PublishOptions {
  bool audio = false, video = false;
  std::string audio_source = "test:tone";
  std::string video_source = "test:pattern";
  VideoEncoderConfig video_config;
  std::vector<std::string> ice_addresses;
};

class Publisher {
 public:
  /// Builds the sources, encoders and webrtcbin; errors are 0x01030305 (start) with
  /// the GStreamer message, or the device/file codes when a source cannot open.
  static Result<std::unique_ptr<Publisher>> Create(const PublishOptions& options, MediaErrorFn on_error);
  ~Publisher();
  /// The offer for the publish request.
  Result<std::string> CreateOffer();
  Status SetAnswer(const std::string& sdp);
  RtpTotals Stats();

 private:
  Publisher() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RemoteTrackInfo {
  std::string user_id;
  TrackKind track = TrackKind::kAudio;
};

class Subscriber {
 public:
  using VideoFn = std::function<void(const RemoteTrackInfo&, const VideoFrame&)>;
  using AudioFn = std::function<void(const RemoteTrackInfo&, const AudioFrame&)>;
  using TrackFn = std::function<void(const RemoteTrackInfo&)>;
  static Result<std::unique_ptr<Subscriber>> Create(const std::vector<std::string>& ice_addresses, VideoFn on_video,
                                                    AudioFn on_audio, TrackFn on_track, MediaErrorFn on_error);
  ~Subscriber();
  /// Applies the server's offer and returns our answer.
  Result<std::string> ApplyOffer(const std::string& offer);
  RtpTotals Stats();

 private:
  Subscriber() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk
