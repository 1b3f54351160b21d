// A media file (wav, mp3, mp4, mkv, webm … anything uridecodebin reads) decoded in its
// own pipeline in real time and pushed into the audio and/or video feed. Pausing keeps
// the tracks alive (silence and the last frame repeated); seeking flushes only this
// pipeline.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/input_feed.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

/// A media file's decoding pipeline, prerolled: `path` checked readable, then
/// uridecodebin ("mediafile") in a new pipeline named `name`, `on_pad` on its
/// pad-added (with `self`), its bus routed to `bus` (configured by the caller: the
/// end of stream), prerolled within 10 s; errors from then on go to `on_error`.
/// 0x01090003 with the cause when the file cannot be read or is not media.
Result<GstPtr<GstElement>> OpenMediaFile(const std::string& path, const char* name, GCallback on_pad, gpointer self,
                                         BusState* bus, MediaErrorFn* on_error);

class FilePlayer {
 public:
  using EndFn = std::function<void()>;
  /// Opens and prerolls the file; 0x01090003 when it is missing or not media. `audio`
  /// and `video` (either may be null: that kind is not played) outlive the player.
  static Result<std::unique_ptr<FilePlayer>> Open(const std::string& path, InputFeed* audio, InputFeed* video,
                                                  EndFn on_end, MediaErrorFn on_error);
  ~FilePlayer();
  FilePlayer(const FilePlayer&) = delete;
  FilePlayer& operator=(const FilePlayer&) = delete;
  Status Play();
  Status Pause();
  Status Seek(int64_t position_ms);
  [[nodiscard]] int64_t PositionMs() const;
  [[nodiscard]] int64_t DurationMs() const;
  [[nodiscard]] media::FileState state() const { return state_.load(); }
  [[nodiscard]] bool has_audio() const { return has_audio_; }
  [[nodiscard]] bool has_video() const { return has_video_; }

 private:
  FilePlayer() = default;
  void Filler();
  static void OnPad(GstElement*, GstPad* pad, gpointer self);
  static GstFlowReturn OnSample(GstElement* sink, gpointer self);
  GstPtr<GstElement> pipeline_;
  InputFeed* audio_ = nullptr;
  InputFeed* video_ = nullptr;
  EndFn on_end_;
  MediaErrorFn on_error_;
  std::atomic<media::FileState> state_{media::FileState::kPaused};
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

}  // namespace parley::sdk::gst
