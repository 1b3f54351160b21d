// Media on GStreamer webrtcbin, behind the seam of media/media.hpp
// (impl/gst_media_factory.cpp adapts these classes to it): the publish connection (we offer what we send) and
// the subscribe connection (the server offers, we answer). Both follow
// ../shared/notes/webrtc-on-loopback.md: max-bundle, no UPnP, ICE restricted to the
// configured local addresses, transport-wide-cc negotiated through payloader caps.
//
// Threading: the methods block (they wait for webrtcbin's promises, each wait
// bounded: SDP operations 5 s, stats 1 s) and are called from the engine thread.
// Callbacks (frames, tracks, errors) run on GStreamer threads.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "impl/track_ids.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk {

/// Initializes GStreamer once and checks that every element the engine needs exists;
/// a missing one is 0x01010103 naming the element and the Debian package holding it.
Status InitMedia();

/// Devices GstDeviceMonitor sees now, then the synthetic sources and sinks.
std::vector<DeviceInfo> EnumerateDevices(DeviceKind kind);

using MediaErrorFn = std::function<void(int32_t code, const std::string& message)>;
struct BusState;

/// Totals from webrtcbin's statistics.
using RtpTotals = media::RtpTotals;

/// Media pushed into the publish pipeline from outside it: the application's own
/// frames (PushExternal…) or a media file decoded by a FilePlayer. It outlives the
/// publish connections: each new Publisher attaches its appsrc, and the feed stamps
/// buffers on that pipeline's clock.
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

  void Attach(GstElement* appsrc);
  void Detach(GstElement* appsrc);
  /// Interleaved S16 audio; takes `buffer`. Returns 0, 0x01030304 (nothing attached:
  /// the track is not published) or, when `bounded`, 0x01070101 (queue full).
  int32_t PushAudio(GstBuffer* buffer, int rate, int channels, bool bounded);
  /// An I420 frame; takes `buffer`.
  int32_t PushVideo(GstBuffer* buffer, int width, int height, bool bounded);
  [[nodiscard]] bool attached() const;

 private:
  GstClockTime Now() const;  // running time of the attached pipeline (mu_ held)
  bool video_;
  mutable std::mutex mu_;
  GstElement* src_ = nullptr;
  GstCaps* caps_ = nullptr;
  GstClockTime next_ = GST_CLOCK_TIME_NONE;  // audio: where the next buffer starts
};

using FileState = media::FileState;

/// A media file (wav, mp3, mp4, mkv, webm … anything uridecodebin reads) decoded in
/// its own pipeline in real time and pushed into the audio and/or video feed. Pausing
/// keeps the tracks alive (silence and the last frame repeated); seeking flushes only
/// this pipeline.
class FilePlayer {
 public:
  using EndFn = std::function<void()>;
  /// Opens and prerolls the file; 0x01090003 when it is missing or not media.
  static Result<std::unique_ptr<FilePlayer>> Open(const std::string& path, InputFeed* audio, InputFeed* video,
                                                  EndFn on_end, MediaErrorFn on_error);
  ~FilePlayer();
  Status Play();
  Status Pause();
  Status Seek(int64_t position_ms);
  [[nodiscard]] int64_t PositionMs() const;
  [[nodiscard]] int64_t DurationMs() const;
  [[nodiscard]] FileState state() const { return state_.load(); }
  [[nodiscard]] bool has_audio() const { return has_audio_; }
  [[nodiscard]] bool has_video() const { return has_video_; }

 private:
  FilePlayer();
  void Filler();
  static void OnPad(GstElement*, GstPad* pad, gpointer self);
  static GstFlowReturn OnSample(GstElement* sink, gpointer self);
  GstElement* pipeline_ = nullptr;
  InputFeed* audio_ = nullptr;
  InputFeed* video_ = nullptr;
  EndFn on_end_;
  MediaErrorFn on_error_;
  std::atomic<FileState> state_{FileState::kPaused};
  // Set by OnPad on streaming threads while the file prerolls, read after it (GLib's
  // wait in gst_element_get_state orders them, invisibly to TSan) and by the filler.
  std::atomic<bool> has_audio_{false}, has_video_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<BusState> bus_;
  GstBuffer* last_frame_ = nullptr;  // under mu_
  int last_w_ = 0, last_h_ = 0;
  std::thread filler_;
};

/// Screen capture for the screen track (X11 via ximagesrc).
struct ScreenOptions {
  std::string display;     ///< e.g. ":99"; empty: $DISPLAY
  uint64_t window_id = 0;  ///< 0: the whole screen
  VideoEncoderConfig video;
};

struct PublishOptions {
  bool audio = false, video = false, screen = false;
  std::string audio_source = "test:tone";
  std::string video_source = "test:pattern";
  VideoEncoderConfig video_config;
  ScreenOptions screen_options;
  std::vector<std::string> ice_addresses;
  InputFeed* audio_feed = nullptr;  ///< for "external" and "file:" audio
  InputFeed* video_feed = nullptr;
  bool mute_audio = false, mute_video = false;
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
  /// Points the input feeds (external frames, media file) at this connection; called
  /// once its answer is applied, so the previous connection is fed until then.
  void AttachFeeds();
  /// Muted audio sends silence, a muted camera black frames: the tracks stay alive.
  void Mute(TrackKind track, bool muted);
  /// Renders the local camera into a native window (0: stop); 0x01040201 when the
  /// renderer cannot start.
  Status SetPreviewWindow(uint64_t window);

 private:
  Publisher() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SubscribeOptions {
  std::vector<std::string> ice_addresses;
  /// Each received stream is also written, without re-encoding, to
  /// <record_dir>/<user>-<track>.{ogg,webm,mkv} (empty: no recording).
  std::string record_dir;
  /// Remote audio playout: "null" (none), "auto", "device" or "device:<pulse sink>".
  std::string playout = "null";
};

class Subscriber {
 public:
  using VideoFn = std::function<void(const RemoteTrackInfo&, const VideoFrame&)>;
  using AudioFn = std::function<void(const RemoteTrackInfo&, const AudioFrame&)>;
  using TrackFn = std::function<void(const RemoteTrackInfo&)>;
  using RecordFn = std::function<void(const RemoteTrackInfo&, const std::string& path)>;
  static Result<std::unique_ptr<Subscriber>> Create(const SubscribeOptions& options, VideoFn on_video, AudioFn on_audio,
                                                    TrackFn on_track, RecordFn on_record, MediaErrorFn on_error);
  /// Finishes the recordings (their muxers write durations and indexes) and stops.
  ~Subscriber();
  /// Applies the server's offer and returns our answer.
  Result<std::string> ApplyOffer(const std::string& offer);
  RtpTotals Stats();
  /// Renders a remote video track into a native window (X11 window id; 0: stop). Set
  /// before or after the track arrives. Render failures arrive through on_error
  /// (0x01040201 could not start, 0x01040202 failed while running).
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window);

 private:
  Subscriber() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk
