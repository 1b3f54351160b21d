// The last-mile probe's client (RtcEngine::StartLastMileDetect; docs/protocol.md,
// "Last-mile probe"). On the engine's loop, every step asynchronous and bounded:
//  1. signalling: connect, `lastMileProbe` with the join's credentials; the reply names
//     the media worker's UDP address and the probe's cookie (the link then closes);
//  2. idle: echoes every 100 ms; the first answers give the round trip on an idle path
//     and the nonce (no answer within 3 s: 0x0F060002);
//  3. uplink: data at the expected rate for 2 s, then an echo's counters say what
//     arrived (loss, jitter, the rate that got through);
//  4. downlink: a start carrying the nonce, then the server's data at the expected rate
//     for 2 s, counted here.
// LastMileVerdict turns what was measured into the public result (pure, unit-tested).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/events.hpp"
#include "parley/proto/requests.hpp"
#include "parley/types.hpp"
#include "signal_channel.hpp"

namespace parley::sdk {

/// What a probe measured, direction by direction.
struct LastMileMeasured {
  std::vector<int64_t> idle_rtts_us, rtts_us;  ///< round trips before any data, and all of them
  bool up_asked = false, down_asked = false;
  int up_expected_kbps = 0, down_expected_kbps = 0;
  // Uplink: what we sent, what the server's last echo reply said it received.
  int64_t up_sent = 0, up_received = 0, up_bytes = 0, up_span_us = 0, up_jitter_us = 0, up_packet_bytes = 0;
  // Downlink: what arrived here.
  int64_t down_received = 0, down_expected = 0, down_bytes = 0, down_span_us = 0, down_jitter_us = 0,
          down_first_bytes = 0;
};

struct LastMileOutcome {
  int32_t code = 0;  ///< 0, or why nothing was measured
  std::string message;
  LastMileProbeResult result;
  NetworkQuality quality = NetworkQuality::kUnknown;
};

/// The result and quality of a measurement (network_quality.hpp's bands: the worse
/// direction).
LastMileOutcome LastMileVerdict(const LastMileMeasured& m);

/// Whether a config may be probed: at least one direction, rates 100..10000 kbit/s.
bool ValidLastMileConfig(const LastMileProbeConfig& c);

/// The probe's steps in time (tests shorten them).
struct LastMileTiming {
  std::chrono::milliseconds connect{5000}, request{5000};
  std::chrono::milliseconds idle{500};        ///< echoes alone before data
  std::chrono::milliseconds phase{2000};      ///< each direction's data
  std::chrono::milliseconds settle{400};      ///< after a direction's data, for the stragglers
  std::chrono::milliseconds no_answer{3000};  ///< no echo answered by then: UDP is blocked
};

class LastMileProbe {
 public:
  using DoneFn = std::function<void(const LastMileOutcome&)>;
  using Timing = LastMileTiming;

  /// `done` runs once on the loop (posted, never inside a call of this object), unless
  /// the probe is destroyed first.
  LastMileProbe(boost::asio::io_context& io, std::unique_ptr<SignalChannel> signal, std::string url,
                proto::JoinCredentials credentials, LastMileProbeConfig config, DoneFn done, Timing timing = {});
  /// Stops at once: sockets and timers close, `done` never runs.
  ~LastMileProbe();
  LastMileProbe(const LastMileProbe&) = delete;
  LastMileProbe& operator=(const LastMileProbe&) = delete;

  void Start();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  ///< shared with the handlers queued on the loop
};

/// An engine's last-mile probes: one at a time, on the engine's loop, told to its
/// listener. Start and Stop from any thread.
class LastMileControl {
 public:
  using ListenerFn = std::function<EngineEventListener*()>;
  using PostFn = std::function<void(std::function<void()>)>;
  LastMileControl(boost::asio::io_context& io, const std::string& url, ListenerFn listener, PostFn post)
      : io_(io), url_(url), listener_(std::move(listener)), post_(std::move(post)) {}

  /// 0, or 0x01030204 while one runs.
  int32_t Start(const proto::JoinCredentials& credentials, const LastMileProbeConfig& config);
  /// 0, or 0x01030204 when none runs. The probe ends without a result.
  int32_t Stop();

 private:
  boost::asio::io_context& io_;
  const std::string& url_;
  ListenerFn listener_;
  PostFn post_;
  std::atomic<bool> running_{false};      ///< asked for and not yet over
  std::unique_ptr<LastMileProbe> probe_;  ///< engine thread
};

}  // namespace parley::sdk
