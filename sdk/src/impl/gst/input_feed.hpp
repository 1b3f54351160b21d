// Media pushed into the publish pipeline from outside it: the application's own frames
// (MediaInput) or a media file decoded by a FilePlayer. A feed outlives the publish
// connections: each new Publisher attaches its appsrc, and the feed stamps buffers on
// that pipeline's clock. Any thread.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <mutex>

namespace parley::sdk::gst {

/// The running time of `e`'s pipeline now (0 before it has a clock).
GstClockTime RunningTime(GstElement* e);

class InputFeed {
 public:
  explicit InputFeed(bool video) : video_(video) {}
  ~InputFeed();
  InputFeed(const InputFeed&) = delete;
  InputFeed& operator=(const InputFeed&) = delete;
  /// How far ahead of real time bounded audio may be queued (0x01070101 beyond).
  static constexpr GstClockTime kMaxAudioAhead = 200 * GST_MSECOND;
  /// Frames waiting in a video feed before pushes are refused (0x01070101).
  static constexpr guint64 kMaxVideoQueued = 4;

  /// Feeds `appsrc` from now on (a reference is taken). A video feed says its frames
  /// come at `fps` (the track's configured rate, > 0; ignored for audio): the publish
  /// chain then needs no element that makes the rate regular, which holds each frame
  /// until the next one arrives. Faster input is thinned after it (rate_thinner.hpp),
  /// slower input goes as it comes.
  void Attach(GstElement* appsrc, int fps);
  /// Stops feeding `appsrc`, unless a newer connection took over already.
  void Detach(GstElement* appsrc);
  /// Interleaved S16 audio; takes `buffer`. Returns 0, 0x01030304 (nothing attached:
  /// the track is not published) or, when `bounded`, 0x01070101 (queue full).
  int32_t PushAudio(GstBuffer* buffer, int rate, int channels, bool bounded);
  /// An I420 frame; takes `buffer`.
  int32_t PushVideo(GstBuffer* buffer, int width, int height, bool bounded);
  [[nodiscard]] bool attached() const;

 private:
  void SetCaps(GstCaps* caps);  // mu_ held; takes `caps`
  bool video_;
  mutable std::mutex mu_;
  GstElement* src_ = nullptr;                // our reference (under mu_)
  GstCaps* caps_ = nullptr;                  // what src_ was told last (under mu_)
  GstClockTime next_ = GST_CLOCK_TIME_NONE;  // audio: where the next buffer starts
  int fps_ = 0;                              // video: the rate its caps name (under mu_)
};

}  // namespace parley::sdk::gst
