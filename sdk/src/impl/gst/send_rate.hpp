// A publish connection's congestion control: what the SFU's transport-wide feedback
// says about the path drives the encoders.
//
// webrtcbin's RTP session parses the transport-cc feedback for the packets it sent and
// hands the results upstream as a custom event ("RTPTWCCPackets") towards the
// payloaders; a probe on one of our pads into webrtcbin reads it. The bandwidth
// estimate (parley/congestion/bandwidth_estimator.hpp) sets each video encoder's bitrate and, past
// the thresholds of its degradation preference (adapt/video_adapter.hpp), its
// resolution or frame rate (a capsfilter after videoscale/videorate); the measured loss
// sets Opus's expected packet loss, which is what turns its in-band FEC on, and decides
// whether audio goes with a redundant copy (adapt/red_policy.hpp).
//
// The video tracks share what the estimate leaves for video: a dual-stream camera's
// small layer first, up to its ceiling but at most half while another track is sent
// (it is what a subscriber on a thin link falls back to), the rest in proportion to the
// tracks' ceilings; a layer the server paused gets nothing.
//
// The device's load: probes around each video encoder time every frame through it and
// see how long after its capture it comes out; when the encoder is busy for most of
// the wall-clock time or frames fall behind (adapt/overuse_detector.hpp) the video is
// lowered a level whatever the estimate says, and given back once there is room again
// (as many levels as the measured room affords; a paused layer's limit is lifted).
//
// Threading: feedback arrives on GStreamer's RTCP thread; snapshot() is read from the
// engine thread. One mutex, never held while GStreamer is called back into.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "adapt/overuse_detector.hpp"
#include "adapt/red_policy.hpp"
#include "adapt/video_adapter.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "parley/congestion/bandwidth_estimator.hpp"
#include "parley/types.hpp"

namespace parley::sdk::gst {

/// The packet results of one RTPTWCCPackets structure, in its order; packets without
/// both timestamps (not ours, or lost) come back lost or are skipped.
std::vector<congestion::PacketResult> ParseTwccPackets(const GstStructure* s);

class SendRate {
 public:
  struct Video {
    GstPtr<GstElement> encoder;     ///< x264enc (bitrate, kbit/s) or vp8enc (target-bitrate, bit/s)
    GstPtr<GstElement> adapt_caps;  ///< the capsfilter that sets size and frame rate
    VideoEncoderConfig config;
    bool small_layer = false;  ///< dual stream's small layer (served first, see OnFeedback)
  };
  struct Snapshot {
    int64_t target_bps = 0;  ///< the whole connection's estimate (0: no feedback yet)
    int64_t acked_bps = 0;
    double loss = 0;
    bool congested = false;              ///< the last loss counted as congestion (not random loss)
    int64_t rtt_us = 0;                  ///< the round trip the feedback measured (0: not yet)
    int width = 0, height = 0, fps = 0;  ///< the first video track's current setting
    size_t level = 0;                    ///< its degradation level (0: the app's setting)
    int64_t video_bps = 0;
    int opus_loss_percent = 0;
    int64_t wanted_bps = 0;   ///< the estimate's ceiling: what the encoders want at most
    size_t cpu_level = 0;     ///< the highest floor the device's load has set (0: none)
    double encode_usage = 0;  ///< the busiest video encoder's busy share, last window
    bool audio_red = true;    ///< audio goes with a redundant copy (when RED was negotiated)
  };

  /// `audio_encoder` may be null (no audio track).
  SendRate(GstPtr<GstElement> audio_encoder, std::vector<Video> video);
  ~SendRate();
  SendRate(const SendRate&) = delete;
  SendRate& operator=(const SendRate&) = delete;

  /// Listens for the feedback on `pad` (one pad linked into webrtcbin is enough: the
  /// session's event goes to every one).
  void Watch(GstPad* pad);
  [[nodiscard]] Snapshot snapshot() const;
  /// Turns audio redundancy on and off (RED was negotiated): called now with the
  /// current decision and then on each change, on the thread feedback arrives on.
  void SetRedSwitch(std::function<void(bool on)> fn);
  /// A dual-stream layer's encoder was paused (the server's publishLayers: nobody
  /// watches it) or resumed: a paused one is given no share of the estimate.
  void SetActive(GstElement* encoder, bool active);

  /// One feedback event's results at `now_us`, on the clock rtpsession stamps sent
  /// packets with (GStreamer's system clock); public for tests.
  void OnFeedback(int64_t now_us, const std::vector<congestion::PacketResult>& packets);
  /// Video track `index`'s encoder put out a frame at `now_us` after `busy_us` in it,
  /// `late_us` after its capture (-1: unknown); the encoder's streaming thread. Public
  /// for tests.
  void OnEncoded(size_t index, int64_t now_us, int64_t busy_us, int64_t late_us);

 private:
  struct Change;
  struct EncoderTiming;
  static GstPadProbeReturn OnEvent(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn OnEncoderInput(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn OnEncoderOutput(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  // Under mu_: each active video track's share of `video_total` (bit/s).
  [[nodiscard]] std::vector<std::pair<size_t, int64_t>> Shares(int64_t video_total) const;
  // Under mu_: records track i's new setting if it differs from what was applied.
  void Decide(size_t i, const adapt::VideoSetting& s, std::vector<Change>* changes);
  void UpdateSnapshotLocked();
  // Outside mu_: sets the encoders and capsfilters.
  void Apply(const std::vector<Change>& changes, int64_t delay_kbps, int64_t loss_kbps, double loss, bool congested,
             int64_t rtt_ms, const char* why);

  GstPtr<GstElement> audio_encoder_;
  std::vector<Video> video_;
  int64_t video_max_bps_ = 0;  ///< the video tracks' configured ceilings, summed
  std::vector<bool> x264_;     ///< per video track: x264enc (kbit/s) rather than vp8enc (bit/s)
  mutable std::mutex mu_;
  congestion::BandwidthEstimator bwe_;
  adapt::RedPolicy red_;
  std::function<void(bool)> red_switch_;  ///< set once RED is negotiated
  std::vector<adapt::VideoAdapter> adapters_;
  std::vector<bool> active_;  ///< per video track: not paused
  std::vector<adapt::VideoSetting> applied_;
  std::vector<double> encode_usage_;  ///< per video track, the last window's busy share
  Snapshot snapshot_;
  GstPtr<GstClock> clock_;  ///< the system clock: what the feedback's send times are on
  GstPtr<GstPad> watched_;
  gulong probe_ = 0;
  std::vector<std::unique_ptr<EncoderTiming>> timing_;  ///< per video track
};

}  // namespace parley::sdk::gst
