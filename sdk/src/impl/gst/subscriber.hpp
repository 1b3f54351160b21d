// The subscribe connection on webrtcbin: the server offers, we answer. Each incoming
// stream is matched to its user and track by its mid (the offers' a=msid), decoded to
// raw frames for the application (and a renderer or speaker when asked), and recorded
// when a recording folder is set.
//
// Threading: the methods are called from the engine thread; the SDP calls block, each
// wait bounded (5 s). Callbacks (frames, tracks, recordings, errors) run on GStreamer
// threads.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

#include "media/media.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

class Playout;
class Snapshots;

class Subscriber {
 public:
  /// Remote audio plays through `playout` (the engine's; none: nowhere), and every
  /// decoded video frame is offered to `snapshots`; both must outlive the subscriber.
  static Result<std::unique_ptr<Subscriber>> Create(const media::SubscribeOptions& options,
                                                    media::SubscribeCallbacks callbacks, Playout* playout,
                                                    Snapshots* snapshots);
  /// Finishes the recordings (their muxers write durations and indexes) and stops.
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  /// Applies the server's offer and returns our answer.
  Result<std::string> ApplyOffer(const std::string& offer);
  /// webrtcbin, for its statistics (borrowed).
  [[nodiscard]] GstElement* webrtc() const;
  /// Fills the remote audio counts (core/audio_concealment.hpp). Any thread.
  void AudioCounts(media::RtpTotals* totals) const;
  /// Renders a remote video track into a native window (X11 window id; 0: stop). Set
  /// before or after the track arrives. Render failures arrive through on_error
  /// (0x01040201 could not start, 0x01040202 failed while running).
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window);
  /// The jitter buffers' latency, in ms, for every stream now and later (webrtcbin
  /// hands it to rtpbin, which hands it to each jitter buffer), and the pipeline's
  /// latency with it so that the sinks play what now waits longer. Not on a
  /// streaming thread.
  void SetLatency(int ms);
  /// The largest latency of the jitter buffers in use, in ms (0: no stream yet).
  [[nodiscard]] int jitter_buffer_ms() const;

 private:
  Subscriber() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk::gst
