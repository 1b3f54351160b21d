// The accompaniment: an audio file decoded in real time (its own pipeline, paced by
// the clock), written into the publish side's MixIn and, for local play, pushed into
// the playout as an input of its own (so the echo canceller hears it too and takes it
// out of the microphone, which then carries the clean file once). A thread of its own
// restarts the file for each further cycle and tells the end.
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
#include "impl/gst/mix_in.hpp"
#include "impl/gst/playout.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class Accompaniment final : public media::Accompaniment {
 public:
  /// The playout input's name: not a user id (those never start with '#').
  static constexpr char kPlayoutInput[] = "#accompaniment";
  /// `mix` and `playout` (null: no local play) outlive it. 0x01090003 when the file
  /// cannot be read or has no audio; the file plays when this returns.
  static Result<std::unique_ptr<Accompaniment>> Start(const media::AccompanyOptions& options, MixIn* mix,
                                                      Playout* playout, std::function<void()> on_end,
                                                      MediaErrorFn on_error);
  ~Accompaniment() override;
  Accompaniment(const Accompaniment&) = delete;
  Accompaniment& operator=(const Accompaniment&) = delete;

  Status Pause() override;
  Status Resume() override;
  Status Seek(int64_t position_ms) override;
  void SetVolumes(int publish, int playout) override;
  [[nodiscard]] int64_t PositionMs() const override;
  [[nodiscard]] int64_t DurationMs() const override;

 private:
  Accompaniment() = default;
  static void OnPad(GstElement*, GstPad* pad, gpointer self);
  static GstFlowReturn OnSample(GstElement* sink, gpointer self);
  void Cycles();            // the thread: a new cycle or the end after each end of stream
  void Silence(bool gone);  // the mix and the local input stop (gone: for good)

  GstPtr<GstElement> pipeline_;
  MixIn* mix_ = nullptr;
  Playout* playout_ = nullptr;
  std::function<void()> on_end_;
  MediaErrorFn on_error_;
  std::unique_ptr<BusState> bus_;
  std::atomic<bool> has_audio_{false};
  std::atomic<double> publish_gain_{1.0};
  bool replace_mic_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;      // under mu_
  bool eos_ = false;       // under mu_
  bool paused_ = false;    // under mu_
  bool ended_ = false;     // under mu_
  bool local_on_ = false;  // samples go to the playout (under mu_)
  int cycles_left_ = 1;    // -1: for ever (under mu_)
  std::thread cycles_;
};

}  // namespace parley::sdk::gst
