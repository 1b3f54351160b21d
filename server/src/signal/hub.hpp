// SignalHub: the control plane's wiring. It builds the units that do the work (the
// dispatcher and its handlers, the session table, the channel registry, the session
// lifecycle, the monitors, the admin operations), runs their timers and answers their
// listeners. It knows nothing of sockets: transports hand it text through
// SignalConnection, so it is tested and fuzzed without a network. Everything here runs
// on one thread (the io_context's); no locks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "auth/app_store.hpp"
#include "auth/authenticator.hpp"
#include "auth/usage_meter.hpp"
#include "channel/active_speaker_monitor.hpp"
#include "channel/channel.hpp"
#include "channel/heartbeat_monitor.hpp"
#include "channel/lifecycle.hpp"
#include "channel/media_abort_monitor.hpp"
#include "channel/media_status.hpp"
#include "channel/registry.hpp"
#include "channel/session.hpp"
#include "channel/transport_failure_monitor.hpp"
#include "config.hpp"
#include "http/admin_ops.hpp"
#include "metrics.hpp"
#include "sfu/media_plane.hpp"
#include "signal/clock.hpp"
#include "signal/dispatcher.hpp"
#include "signal/handlers.hpp"
#include "signal/join_limiter.hpp"
#include "signal/protocol.hpp"
#include "signal/responder.hpp"

namespace parley::server {

class SignalHub : private Dispatcher::Listener,
                  private SessionLifecycle::Listener,
                  private HeartbeatMonitor::Listener,
                  private MediaAbortMonitor::Listener,
                  private TransportFailureMonitor::Listener,
                  private ActiveSpeakerMonitor::PeakSource,
                  private AdminOps::SessionRemover {
 public:
  /// `plane` holds the media workers and must outlive the hub; null or without workers =
  /// signalling only (publish offers are refused). Each channel is pinned to one worker
  /// (the one with the fewest channels).
  SignalHub(boost::asio::io_context& io, const ServerConfig& config, AppStore& store, Metrics& metrics,
            sfu::MediaPlane* plane = nullptr);
  ~SignalHub() override;
  SignalHub(const SignalHub&) = delete;
  SignalHub& operator=(const SignalHub&) = delete;

  /// Starts the heartbeat, metering and media timers.
  void Start();
  /// Closes every connection and cancels timers.
  void Stop();

  /// A connection opened; returns its id for the calls below.
  /// `remote` is the peer's address, used to rate-limit failed joins per address.
  uint64_t OnOpen(std::shared_ptr<SignalConnection> link, std::string remote = {});
  void OnMessage(uint64_t conn_id, std::string_view text) { dispatcher_.Message(conn_id, text); }
  /// The connection is gone (closed by either side).
  void OnClose(uint64_t conn_id) { dispatcher_.Close(conn_id); }

  /// The admin API's operations on live channels and apps' users.
  AdminOps& admin() { return admin_; }

  /// Testing: registers an extra request type (e.g. one whose handler throws, to prove
  /// the dispatcher's catch). Not reachable from the network unless registered.
  void AddHandlerForTesting(const std::string& type, std::function<void(const nlohmann::json& body)> handler);
  /// Meters usage and stores whole user-seconds per app (also runs on its timer).
  void MeterUsage();

  [[nodiscard]] size_t SessionCount() const { return sessions_.size(); }
  [[nodiscard]] size_t ChannelCount() const { return channels_.size(); }

 private:
  /// The connection's session waits for a resume (or is removed after the grace period).
  void OnConnectionClosed(Conn& c) override;
  /// The monitors forget the session.
  void OnSessionRemoved(uint64_t session_id) override;
  /// An admin operation removes a session: its client is told why and disconnected.
  void RemoveSession(Session& s, std::string_view reason) override;
  /// Sweeps the failed-join buckets and ticks the heartbeat monitor.
  void CheckHeartbeats();
  /// A silent connection is closed; its session gets the resume grace and, if it is not
  /// resumed, is removed ("heartbeat-lost").
  void OnSilent(uint64_t conn_id) override;
  /// Transport failures, then publishers whose connected transport received no RTP
  /// for --media-abort-ms (the media abort monitor).
  void CheckMedia();
  std::optional<MediaAbortMonitor::Sample> SamplePublisher(uint64_t session_id) override;
  /// 0x02010401 (publishAborted) to the publisher, streamAborted to the channel.
  void OnAborted(uint64_t session_id) override;
  /// streamResumed to the channel.
  void OnResumed(uint64_t session_id) override;
  /// transportFailed to the publisher.
  void OnPublishFailed(Session& s, sfu::Failure why, Errc code) override;
  /// subscribeAborted (0x02010402) to the subscriber.
  void OnSubscribeFailed(Session& s, sfu::Failure why, const std::vector<std::string>& users) override;
  /// Announces each channel's loudest publisher (audio-level extension) when it changes.
  void CheckActiveSpeakers();
  void SendVolumes(const std::vector<Session*>& members, const std::vector<int>& volumes, Clock::time_point now);
  /// Publisher economy: tells each publisher which layers of its simulcast video the SFU
  /// wants sent, when that changes (publishLayers; sfu/layer_economy.hpp).
  void CheckPublishLayers();
  static constexpr int kLayersCheckMs = 200;
  /// The publish transport's audio peak, reset (only the active speaker monitor takes it).
  std::optional<uint32_t> TakeAudioPeak(uint64_t session_id) override;
  /// Runs `tick` every `interval_ms` until Stop().
  void ArmRepeating(boost::asio::steady_timer& timer, int interval_ms, void (SignalHub::*tick)());

  /// A plane without workers when none was given; declared before channels_, whose
  /// media it must outlive.
  std::unique_ptr<sfu::MediaPlane> own_plane_;
  sfu::MediaPlane* plane_;
  const ServerConfig& config_;
  AppStore& store_;
  Metrics& metrics_;
  Authenticator authenticator_;
  /// Failed joins are limited per connection and per address; a limited join is
  /// refused before any token work.
  JoinLimiter join_limiter_;
  Responder out_;
  HeartbeatMonitor heartbeat_;
  ChannelMediaStatus media_status_;
  MediaAbortMonitor media_aborts_;
  TransportFailureMonitor transport_failures_;
  ActiveSpeakerMonitor speakers_;
  Dispatcher dispatcher_;
  SessionTable sessions_;
  ChannelRegistry channels_;
  UsageMeter usage_;  ///< metered but not yet stored, by app
  SessionLifecycle lifecycle_;
  AdminOps admin_;
  uint64_t next_id_ = 1;  ///< numbers connections and sessions
  HubContext handlers_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer metering_timer_;
  boost::asio::steady_timer media_timer_;
  boost::asio::steady_timer speaker_timer_;
  boost::asio::steady_timer layers_timer_;
  bool stopped_ = false;
};

}  // namespace parley::server
