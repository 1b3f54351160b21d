// Remote audio playout: one pipeline for the whole engine. Each remote user's decoded
// audio enters through its own appsrc into an audiomixer whose pad carries that user's
// volume and mute; the mix goes through the whole playout's volume and an echo probe
// (what the microphone's echo canceller subtracts: it must hear everything the speaker
// plays, so there is one mix) to the speaker. A speaker that cannot open fails here
// alone, with the "speaker" element's codes (0x01040405 / 0x01040407).
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class Playout {
 public:
  /// `sink`: PlayoutSink(...) (its "speaker" element). nullptr when the pipeline cannot
  /// be built; a speaker that fails to open reports through `on_error`.
  static std::unique_ptr<Playout> Open(const std::string& sink, MediaErrorFn on_error);
  ~Playout();
  Playout(const Playout&) = delete;
  Playout& operator=(const Playout&) = delete;

  /// The echo probe's element name, for webrtcdsp's "probe" (unique in the process).
  [[nodiscard]] const std::string& probe() const { return probe_; }
  /// The pipeline's base time on the system clock, which the microphone's pipeline
  /// takes too (the probe's and the canceller's running times then agree).
  [[nodiscard]] uint64_t base_time() const;
  /// Where the speaker's failures go from now on (nullptr: nowhere).
  void SetErrorFn(MediaErrorFn on_error);

  /// Plays `buffer` (S16 mono, a new reference is taken) of `user_id`; the user's input
  /// is added on its first buffer. A streaming thread.
  void Push(const std::string& user_id, GstBuffer* buffer, GstCaps* caps);
  /// The user's input goes (it left, or its audio ended); its volume and mute stay.
  void Remove(const std::string& user_id);
  /// 0..400 (100: as received), before or while the user plays.
  void SetUserVolume(const std::string& user_id, int volume);
  void SetUserMuted(const std::string& user_id, bool muted);
  /// The whole playout, 0..400.
  void SetVolume(int volume);
  /// Plays into another speaker from now on (a PlayoutSink description, or kSilentSink),
  /// with no gap in the mix or the echo probe. Engine thread.
  Status SetSink(const std::string& sink);

 private:
  Playout() = default;
  struct Input {
    GstPtr<GstElement> src;  ///< the appsrc; none while the user does not play
    GstPtr<GstPad> pad;      ///< its audiomixer pad
    GstCaps* caps = nullptr;
    int volume = 100;
    bool muted = false;
  };
  void Apply(Input& in);  ///< volume and mute onto its pad; under mu_
  void Drop(Input& in);   ///< the appsrc and its pad go; under mu_

  GstPtr<GstElement> pipeline_;
  GstPtr<GstElement> mixer_;
  GstPtr<GstElement> volume_;
  GstPtr<GstElement> speaker_;  ///< the sink part (SetSink replaces it)
  GstPtr<GstPad> mix_out_;      ///< the echo probe's output, into the speaker
  std::string probe_;
  std::mutex mu_;
  std::map<std::string, Input> inputs_;
  std::mutex fn_mu_;
  MediaErrorFn target_;   ///< under fn_mu_
  MediaErrorFn forward_;  ///< what the bus calls: target_ as it is then
  BusState bus_;
};

}  // namespace parley::sdk::gst
