// The publish connection on webrtcbin: we offer what we send (sources, encoders and
// payloaders per track, in the order the server maps them: audio, camera, screen).
//
// Threading: the methods are called from the engine thread; the SDP calls block, each
// wait bounded (5 s). Errors after the start run on GStreamer threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/input_feed.hpp"
#include "impl/gst/mix_in.hpp"
#include "impl/gst/snapshot.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

class Publisher {
 public:
  /// Builds the sources, encoders and webrtcbin; errors are 0x01030305 (start) with
  /// the GStreamer message, or the device/file codes when a source cannot open. The
  /// "external" and "file:" sources read `audio_feed` / `video_feed`, which outlive
  /// the publisher, as do `snapshots` (offered each camera frame as published) and
  /// `mix` (added to the audio track before its mute).
  static Result<std::unique_ptr<Publisher>> Create(const media::PublishOptions& options, InputFeed* audio_feed,
                                                   InputFeed* video_feed, Snapshots* snapshots, MixIn* mix,
                                                   MediaErrorFn on_error);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  /// The offer for the publish request.
  Result<std::string> CreateOffer();
  Status SetAnswer(const std::string& sdp);
  /// webrtcbin, for its statistics (borrowed).
  [[nodiscard]] GstElement* webrtc() const;
  /// Fills the sender's state: estimate, ceiling, the device's load (send_rate.hpp).
  /// Any thread.
  void SenderState(media::RtpTotals* totals) const;
  /// Points the input feeds (external frames, media file) at this connection; called
  /// once its answer is applied, so the previous connection is fed until then.
  void AttachFeeds();
  /// Muted audio sends silence, a muted camera black frames: the tracks stay alive.
  void Mute(TrackKind track, bool muted);
  /// The microphone's loudest level (127 - dBov; 0 silence or no microphone) since
  /// the last call, which resets it. Any thread.
  uint32_t TakeMicPeak();
  /// The audio or camera track's source replaced while it runs (PublishConnection::
  /// SwapSource).
  Status SwapSource(TrackKind track, const std::string& source);
  /// Renders the local camera into a native window (0: stop); 0x01040201 when the
  /// renderer cannot start.
  Status SetPreviewWindow(uint64_t window);
  /// The camera's video sections (2 with dual stream: the small layer's first).
  [[nodiscard]] int camera_layers() const;
  /// Opens or closes layer `layer`'s valve before its encoder (0 the small one); an
  /// opened one is asked for a keyframe. Any thread.
  void SetCameraLayer(size_t layer, bool active);

 private:
  Publisher() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk::gst
