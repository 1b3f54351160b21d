// SignalHub: the control plane. It owns connections, sessions and channels, runs every
// server-side rule of the error contract, and sends presence notifications. It knows
// nothing of sockets: transports hand it text through SignalConnection, so it is
// tested and fuzzed without a network. Everything here runs on one thread (the
// io_context's); no locks.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/app_store.hpp"
#include "auth/authenticator.hpp"
#include "auth/usage_meter.hpp"
#include "channel/active_speaker_monitor.hpp"
#include "channel/channel.hpp"
#include "channel/heartbeat_monitor.hpp"
#include "channel/media_abort_monitor.hpp"
#include "channel/registry.hpp"
#include "channel/session.hpp"
#include "channel/transport_failure_monitor.hpp"
#include "config.hpp"
#include "http/admin_ops.hpp"
#include "metrics.hpp"
#include "parley/proto/requests.hpp"
#include "parley/proto/result.hpp"
#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"
#include "sfu/media_plane.hpp"
#include "signal/clock.hpp"
#include "signal/join_limiter.hpp"
#include "signal/protocol.hpp"
#include "signal/refusal_log.hpp"

namespace parley::server {

class SignalHub : private Notifier,
                  private HeartbeatMonitor::Listener,
                  private MediaAbortMonitor::Listener,
                  private TransportFailureMonitor::Listener,
                  private AdminOps::SessionRemover,
                  private ActiveSpeakerMonitor::PeakSource {
 public:
  /// `plane` holds the media workers and must outlive the hub; null or without workers =
  /// signalling only (publish offers are refused). Each channel is pinned to one worker
  /// (the one with the fewest channels).
  SignalHub(boost::asio::io_context& io, const ServerConfig& config, AppStore& store, Metrics& metrics,
            sfu::MediaPlane* plane = nullptr);
  ~SignalHub() override;
  SignalHub(const SignalHub&) = delete;
  SignalHub& operator=(const SignalHub&) = delete;

  /// Starts the heartbeat and metering timers.
  void Start();
  /// Closes every connection and cancels timers.
  void Stop();

  /// A connection opened; returns its id for the calls below.
  /// `remote` is the peer's address, used to rate-limit failed joins per address.
  uint64_t OnOpen(std::shared_ptr<SignalConnection> link, std::string remote = {});
  void OnMessage(uint64_t conn_id, std::string_view text);
  /// The connection is gone (closed by either side).
  void OnClose(uint64_t conn_id);

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
  using Handler = void (SignalHub::*)(Conn&, const ClientMessage&);

  void Reply(Conn& c, const ClientMessage& m, Errc code, std::string_view message,
             const nlohmann::json& data = nullptr);
  void ReplyError(Conn& c, const ClientMessage& m, const Error& e);
  /// Logs a refused request at info (who, code, detail, message), at most a burst of
  /// lines refilled each second: a flood of bad requests does not flood the log.
  void LogRefusal(const Conn& c, std::string_view request, const Error& e);
  void SendTo(Conn& c, std::string text) override;
  /// Checks the session is in a channel; replies 0x01010304 and returns null otherwise.
  Session* RequireJoined(Conn& c, const ClientMessage& m);

  void HandleHello(Conn& c, const ClientMessage& m);
  void HandleJoin(Conn& c, const ClientMessage& m);
  void HandleLeave(Conn& c, const ClientMessage& m);
  void HandlePing(Conn& c, const ClientMessage& m);
  void HandleResume(Conn& c, const ClientMessage& m);
  void HandlePublish(Conn& c, const ClientMessage& m);
  void HandleUnpublish(Conn& c, const ClientMessage& m);
  void HandleSubscribe(Conn& c, const ClientMessage& m);
  void HandleUnsubscribe(Conn& c, const ClientMessage& m);
  void HandleSubscribeAnswer(Conn& c, const ClientMessage& m);
  void HandleUpdatePublish(Conn& c, const ClientMessage& m);
  void HandleSetRole(Conn& c, const ClientMessage& m);
  void HandleMute(Conn& c, const ClientMessage& m);
  void HandleListUsers(Conn& c, const ClientMessage& m);
  void HandleSendMessage(Conn& c, const ClientMessage& m);
  void HandleUpdateUserInfo(Conn& c, const ClientMessage& m);
  void HandleRefreshToken(Conn& c, const ClientMessage& m);

  /// Reads the request's credentials and verifies them against the app store now.
  Result<Credentials> Authenticate(const nlohmann::json& body);

  /// The one catch of the signalling path: a handler that throws gets the request
  /// answered with kInternalError, its connection closed, the count in /metrics.
  void Dispatch(Conn& c, const ClientMessage& m, Handler h);

  /// Takes the session out of its channel: unpublishes its tracks, tells the others it
  /// went offline with `reason`, closes the channel when it is the last member.
  void DetachFromChannel(Session& s, std::string_view reason);
  /// Removes a session for good. When it still has a connection, the client is sent
  /// sessionRemoved (0x02010105) with `reason` and, if `close_link`, disconnected.
  void RemoveSession(Session& s, std::string_view reason, bool notify_client, bool close_link);
  /// An admin operation removes a session: its client is told why and disconnected.
  void RemoveSession(Session& s, std::string_view reason) override { RemoveSession(s, reason, true, true); }
  /// Adds the user-time since the last metering to usage_ms_ (memory only).
  void AccumulateUsage();
  /// Sweeps the failed-join buckets and ticks the heartbeat monitor.
  void CheckHeartbeats();
  /// A silent connection: its session is removed ("heartbeat-lost"), or it is closed.
  void OnSilent(uint64_t conn_id) override;
  /// Transport failures, then publishers whose connected transport received no RTP
  /// for --media-abort-ms (the media abort monitor).
  void CheckMediaAborts();
  std::optional<MediaAbortMonitor::Sample> SamplePublisher(uint64_t session_id) override;
  /// 0x02010401 (publishAborted) to the publisher, streamAborted to the channel.
  void OnAborted(uint64_t session_id) override;
  /// streamResumed to the channel.
  void OnResumed(uint64_t session_id) override;
  /// transportFailed to the publisher (the transport failure monitor).
  void OnPublishFailed(Session& s, sfu::Failure why, Errc code) override;
  /// subscribeAborted (0x02010402) to the subscriber.
  void OnSubscribeFailed(Session& s, sfu::Failure why, const std::vector<std::string>& users) override;
  /// Announces each channel's loudest publisher (audio-level extension) when it changes.
  void CheckActiveSpeakers();
  /// The publish transport's audio peak, reset (only the active speaker monitor takes it).
  std::optional<uint32_t> TakeAudioPeak(uint64_t session_id) override;
  /// Runs `tick` every `interval_ms` until Stop().
  void ArmRepeating(boost::asio::steady_timer& timer, int interval_ms, void (SignalHub::*tick)());
  void UpdateGauges();

  boost::asio::io_context& io_;
  /// A plane without workers when none was given; declared before channels_, whose
  /// media it must outlive.
  std::unique_ptr<sfu::MediaPlane> own_plane_;
  sfu::MediaPlane* plane_;
  const ServerConfig& config_;
  AppStore& store_;
  Metrics& metrics_;
  Authenticator authenticator_;
  std::unordered_map<std::string, Handler> handlers_;
  std::unordered_map<std::string, std::function<void(const nlohmann::json&)>> test_handlers_;
  /// Failed joins are limited per connection and per address; a limited join is
  /// refused before any token work.
  JoinLimiter join_limiter_;
  HeartbeatMonitor heartbeat_;
  ChannelMediaStatus media_status_;
  MediaAbortMonitor media_aborts_;
  TransportFailureMonitor transport_failures_;
  ActiveSpeakerMonitor speakers_;
  RefusalLog refusal_log_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  SessionTable sessions_;
  ChannelRegistry channels_;
  UsageMeter usage_;  ///< metered but not yet stored, by app
  AdminOps admin_{channels_, usage_, *this};
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer metering_timer_;
  boost::asio::steady_timer media_timer_;
  boost::asio::steady_timer speaker_timer_;
  uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace parley::server
