// The call against a fake signalling server and fake media, driven by its own
// io_context: join, leave, resume, reconcile, publish, subscribe, the server ending
// the session, the role and a media timeout. Retries wait 0 ms, so the tests run the
// loop's ready handlers and never wait for a clock.
#include "call/call.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake_media.hpp"
#include "fake_signal.hpp"
#include "recording_listener.hpp"

namespace parley::sdk::call_test {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using testing::FakeMedia;
using testing::FakeSignal;
using testing::RecordingListener;

std::string Hex(Errc e) {
  return FormatHex(static_cast<int32_t>(e));
}

class Host final : public call::Call::Host {
 public:
  explicit Host(boost::asio::io_context& io) : io_(io) {}
  EngineEventListener* listener() override { return &app; }
  void Post(std::function<void()> fn) override { boost::asio::post(io_, std::move(fn)); }
  void OnRemoteVideoFrame(const RemoteTrackInfo&, const VideoFrame&) override {}
  void OnRemoteAudioFrame(const RemoteTrackInfo&, const AudioFrame&) override {}
  RecordingListener app;

 private:
  boost::asio::io_context& io_;
};

/// The fixture is named after the unit, so the tests read Call.<what it does>.
class Call : public ::testing::Test {
 protected:
  Call() {
    config.server_url = "ws://server";
    config.audio_source = "test:tone";
    config.video_source = "null";
    config.auto_publish = false;
    config.reconnect_timeout_ms = 60000;
  }

  void Make() {
    call = std::make_unique<call::Call>(
        config, host, media, io,
        [this](SignalChannel::NotifyFn n, SignalChannel::ClosedFn c) {
          return server.Make(std::move(n), std::move(c));
        },
        timing);
  }

  /// Runs what is ready on the loop (at most `limit` handlers: a retry chain at 0 ms
  /// never runs dry while the server refuses).
  void Run(int limit = 1000) {
    for (int i = 0; i < limit && io.poll_one() > 0; ++i) {
    }
  }
  /// Runs handlers one at a time until `done()` (false when it never holds).
  bool RunUntil(const std::function<bool()>& done, int limit = 1000) {
    for (int i = 0; i < limit && !done(); ++i)
      if (io.poll_one() == 0) break;
    return done();
  }

  /// Starts a join as ann in "room" and connects; the join request waits for its answer.
  void StartJoin() {
    if (!call) Make();
    ASSERT_EQ(call->StartJoin(proto::JoinCredentials{"tok", std::nullopt}, "room", "ann", "Ann", true), 0);
    Run();
  }
  /// Joined, with `users` in the channel.
  void Join(const Json& users = Json::array()) {
    StartJoin();
    ASSERT_TRUE(server.Answer("join", 0, {{"resumeToken", "r1"}, {"users", users}, {"heartbeatIntervalMs", 60000}}));
    Run();
  }
  static Json User(const std::string& id, const std::vector<std::string>& tracks = {}) {
    return {{"userId", id}, {"tracks", tracks}};
  }
  /// Lets `n` heartbeats go by (with a 1 ms heartbeat interval), each answered: every
  /// one collects the statistics and reports them.
  void Heartbeats(int n) {
    for (int i = 0; i < n; ++i) {
      size_t pings = server.Sent("ping").size();
      for (int k = 0; k < 50 && server.Sent("ping").size() == pings; ++k) io.run_one_for(milliseconds(100));
      ASSERT_TRUE(server.Answer("ping", 0, Json::object()));
      Run();
    }
  }
  bool InCall() {
    std::lock_guard<std::mutex> lock(call->state().mu);
    return call->state().in_call;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  FakeSignal server{io};
  FakeMedia media{io};
  Host host{io};
  EngineConfig config;
  call::CallTiming timing{milliseconds(0), milliseconds(0), milliseconds(2000), milliseconds(2000), milliseconds(2500)};
  std::unique_ptr<call::Call> call;  ///< last: it goes before the fakes it uses
  std::vector<std::string>& events = host.app.events;
};

TEST_F(Call, JoinSendsTheFieldsAndReportsTheResult) {
  config.auto_publish = true;
  config.role = ClientRole::kBroadcaster;
  Join(Json::array({User("bob", {"audio"}), User("ann")}));
  auto joins = server.Sent("join");
  ASSERT_EQ(joins.size(), 1U);
  const Json& f = joins[0]->fields;
  EXPECT_EQ(f["userName"], "Ann");
  EXPECT_EQ(f["token"], "tok");
  EXPECT_EQ(f["role"], "broadcaster");
  EXPECT_EQ(f["h5Compatible"], true);
  EXPECT_EQ(f["sdkVersion"], RtcEngine::SdkVersion());
  EXPECT_EQ(joins[0]->timeout, milliseconds(config.request_timeout_ms));
  EXPECT_EQ(joins[0]->timeout_code, Errc::kJoinTimeout);
  EXPECT_EQ(events, (std::vector<std::string>{"status connecting", "status connected",
                                              "join " + FormatHex(0) + " room ann", "online bob"}));
  EXPECT_TRUE(InCall());
  // bob publishes, so he is subscribed to; ann (this call's own user) is not listed.
  ASSERT_EQ(server.Sent("subscribe").size(), 1U);
  EXPECT_EQ(server.Sent("subscribe")[0]->fields["userId"], "bob");
  ASSERT_EQ(call->RemoteUsersNow().size(), 1U);
  // The broadcaster publishes what its sources name (audio; the camera is "null").
  ASSERT_EQ(server.Sent("publish").size(), 1U);
  EXPECT_EQ(server.Sent("publish")[0]->fields["tracks"], Json({"audio"}));
}

// A new microphone of the same sort switches in place on the publish connection;
// another sort publishes again; a new speaker goes to the media. The system's device
// changes are told, and losing the device in use falls back to the default with its code.
TEST_F(Call, DeviceChoicesSwitchInPlaceAndALostDeviceFallsBack) {
  config.auto_publish = true;
  config.audio_source = "device:mic1";
  config.audio_playout = "device:spk1";
  Make();
  ASSERT_TRUE(media.watch) << "a device in use: the system's devices are watched";
  Join();
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  Run();
  ASSERT_EQ(media.publishers.size(), 1U);
  call->devices().Use(DeviceKind::kMicrophone, "device:mic2");
  Run();
  EXPECT_EQ(media.publishers.size(), 1U) << "no new connection";
  EXPECT_EQ(media.publishers[0]->swaps,
            (std::vector<std::pair<TrackKind, std::string>>{{TrackKind::kAudio, "device:mic2"}}));
  call->devices().Use(DeviceKind::kSpeaker, "device:spk2");
  EXPECT_EQ(media.playouts, (std::vector<std::string>{"device:spk2"}));
  events.clear();
  DeviceInfo spk{DeviceKind::kSpeaker, "spk2", "Headset", false};
  media.watch(DeviceInfo{DeviceKind::kMicrophone, "mic9", "USB", false}, true);
  media.watch(spk, false);
  Run();
  EXPECT_EQ(events,
            (std::vector<std::string>{"device+ mic9", "device- spk2", "error " + Hex(Errc::kAudioPlayDeviceNotFound)}));
  EXPECT_EQ(media.playouts.back(), "device");
  // A media that cannot switch in place: published again on a new connection.
  media.swap_error = MakeError(Errc::kPublishStreamRuntimeError, "no");
  call->devices().Use(DeviceKind::kMicrophone, "device");
  Run();
  EXPECT_EQ(media.publishers.size(), 2U);
  EXPECT_EQ(media.publishers.back()->options.audio_source, "device");
}

// The device checks run in the media beside the call; a level that arrives after the
// check stopped is not told.
TEST_F(Call, DeviceChecksReportLevelsUntilStopped) {
  config.audio_source = "test:tone";
  config.audio_playout = "auto";
  Make();
  call->devices().StartMicrophoneCheck("");
  call->devices().StartSpeakerCheck("");
  EXPECT_EQ(media.mic_check, "test:tone");
  EXPECT_EQ(media.speaker_check, "auto");
  auto report = media.check_level;
  report(120);
  Run();
  call->devices().StopMicrophoneCheck();
  report(130);  // already on its way when the check stopped
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"level 120"}));
  EXPECT_EQ(media.mic_check, "");
  call->devices().StopSpeakerCheck();
  EXPECT_EQ(media.speaker_check, "");
}

TEST_F(Call, JoinFailureReportsDetailThenResult) {
  StartJoin();
  ASSERT_TRUE(server.Answer("join", static_cast<int32_t>(Errc::kTokenInvalid),
                            {{"detail", static_cast<int32_t>(Errc::kMalformedToken)}}, "bad token"));
  Run();
  EXPECT_EQ(events,
            (std::vector<std::string>{"status connecting", "status failed",
                                      "joinError " + Hex(Errc::kTokenInvalid) + " " + Hex(Errc::kMalformedToken),
                                      "join " + Hex(Errc::kTokenInvalid) + " room ann"}));
  EXPECT_FALSE(InCall());
  EXPECT_FALSE(call->state().joining);
  // An unreachable server fails the same way, with the connect's code.
  events.clear();
  server.refuse = true;
  StartJoin();
  EXPECT_EQ(events, (std::vector<std::string>{"status connecting", "status failed",
                                              "joinError " + Hex(Errc::kSignalRequestError) + " " + FormatHex(0),
                                              "join " + Hex(Errc::kSignalRequestError) + " room ann"}));
}

// The camera preview runs while the camera is not sent: before joining, gone once the
// publish connection opens the camera, back when the camera is unpublished and after
// leaving; a new camera or window restarts it, and it needs a window.
TEST_F(Call, ThePreviewShowsTheCameraWhileItIsNotSent) {
  config.auto_publish = true;
  config.video_source = "test:bars";
  timing.leave_bound = milliseconds(0);
  Make();
  call->publishing().SetPreview(true);
  EXPECT_TRUE(media.previews.empty()) << "no window yet";
  call->publishing().SetLocalWindow(42);
  EXPECT_EQ(media.previews, (std::vector<std::string>{"test:bars 42"}));
  call->publishing().SetLocalWindow(43);
  EXPECT_EQ(media.previews, (std::vector<std::string>{"test:bars 43"}));
  Join();
  EXPECT_TRUE(media.previews.empty()) << "the publish pipeline has the camera";
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  Run();
  EXPECT_TRUE(media.previews.empty());
  call->publishing().Toggle(TrackKind::kCamera, false);
  Run();
  ASSERT_TRUE(server.Answer("unpublish", 0, Json::object()));
  Run();
  ASSERT_TRUE(server.Answer("updatePublish", 0, {{"sdp", "answer"}}));  // audio alone, on a new connection
  Run();
  EXPECT_EQ(media.previews, (std::vector<std::string>{"test:bars 43"})) << "back once the camera is not sent";
  call->devices().Use(DeviceKind::kCamera, "test:pattern");
  EXPECT_EQ(media.previews, (std::vector<std::string>{"test:pattern 43"}));
  call->Leave(true);
  Run();
  EXPECT_EQ(media.previews, (std::vector<std::string>{"test:pattern 43"}));
  call->publishing().SetPreview(false);
  EXPECT_TRUE(media.previews.empty());
  media.preview_error = MakeError(Errc::kCameraOpenFailed, "busy");
  events.clear();
  call->publishing().SetPreview(true);
  EXPECT_EQ(events, (std::vector<std::string>{"error " + Hex(Errc::kCameraOpenFailed)}));
}

TEST_F(Call, LeaveStopsMediaThenTellsTheServerWithinItsBound) {
  config.auto_publish = true;
  timing.leave_bound = milliseconds(0);  // the server never answers: the bound ends the leave
  Join(Json::array({User("bob", {"audio"})}));
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  ASSERT_TRUE(server.Answer("subscribe", 0, {{"sdp", "offer"}}));
  Run();
  ASSERT_EQ(media.publishers.size(), 1U);
  ASSERT_EQ(media.subscribers.size(), 1U);
  ASSERT_NE(call->publishing().connection(), nullptr);
  events.clear();
  call->Leave(true);
  // Media stopped before the request left, and the request has its own 2 s answer bound.
  EXPECT_FALSE(media.publishers[0]->alive);
  EXPECT_FALSE(media.subscribers[0]->alive);
  auto leaves = server.Sent("leave");
  ASSERT_EQ(leaves.size(), 1U);
  EXPECT_EQ(leaves[0]->timeout, milliseconds(2000));
  EXPECT_FALSE(call->Live());
  Run();
  EXPECT_TRUE(server.closed_by_client(0));
  EXPECT_EQ(events, (std::vector<std::string>{"status disconnected", "leave " + FormatHex(0)}));
  EXPECT_FALSE(InCall());
  EXPECT_FALSE(server.Answer("leave"));  // the close answered it already; nothing more happens
  Run();
  EXPECT_EQ(events.size(), 2U);
}

TEST_F(Call, ADroppedLinkResumesWithBackoffAndReconciles) {
  // The waits between attempts, by default: 100 ms, doubled per failure, at most 2 s.
  call::CallTiming defaults;
  EXPECT_EQ(defaults.first_retry, milliseconds(100));
  EXPECT_EQ(call::NextRetry(defaults.first_retry, defaults.max_retry), milliseconds(200));
  EXPECT_EQ(call::NextRetry(milliseconds(1600), defaults.max_retry), milliseconds(2000));
  EXPECT_EQ(call::NextRetry(milliseconds(2000), defaults.max_retry), milliseconds(2000));
  Join(Json::array({User("bob")}));
  events.clear();
  server.refuse = true;
  server.Drop("reset");
  // Each refused attempt waits and tries again on a new link.
  ASSERT_TRUE(RunUntil([&] { return server.links() >= 4; }));
  EXPECT_EQ(events,
            (std::vector<std::string>{"warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting"}));
  EXPECT_TRUE(InCall());
  server.refuse = false;
  ASSERT_TRUE(RunUntil([&] { return !server.Sent("resume").empty(); }));
  EXPECT_EQ(server.Sent("resume")[0]->fields, (Json{{"resumeToken", "r1"}}));
  ASSERT_TRUE(server.Answer("resume", 0, {{"resumeToken", "r2"}, {"users", Json::array({User("bob")})}}));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting",
                                              "status connected", "warning " + Hex(Errc::kLocalNetworkConnected)}));
  // The next drop resumes with the new token.
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 2; }));
  EXPECT_EQ(server.Sent("resume")[1]->fields, (Json{{"resumeToken", "r2"}}));
}

TEST_F(Call, ResumeTooLateEndsWithBye) {
  Join();
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return !server.Sent("resume").empty(); }));
  events.clear();
  ASSERT_TRUE(server.Answer("resume", static_cast<int32_t>(Errc::kSessionRemoved), Json(), "gone"));
  Run();
  // The server's grace ended: the reconnection failed, the call is over.
  EXPECT_EQ(events,
            (std::vector<std::string>{"status disconnected", "error " + Hex(Errc::kMediaConnectionReconnectFailed),
                                      "bye connection-lost"}));
  EXPECT_EQ(host.app.last_error_message, "reconnection failed: the server had already removed the session (gone)");
  EXPECT_FALSE(InCall());
  EXPECT_EQ(server.links(), 2U);  // no attempt after that answer
}

TEST_F(Call, AReconnectionThatOutlivesItsBudgetEndsWithBye) {
  config.reconnect_timeout_ms = 1;
  Join();
  events.clear();
  server.refuse = true;
  server.Drop();
  // Refused attempts at 0 ms intervals until the budget's millisecond has passed (the
  // count of attempts varies, the outcome does not).
  ASSERT_TRUE(RunUntil([&] { return !InCall(); }, 1000000));
  EXPECT_EQ(events, (std::vector<std::string>{
                        "warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting", "status disconnected",
                        "error " + Hex(Errc::kMediaConnectionReconnectFailed), "bye connection-lost"}));
  size_t tries = server.links() - 1;  // each attempt opened a link after the join's
  EXPECT_EQ(host.app.last_error_message, "reconnection failed: the reconnection budget of 1 ms is spent after " +
                                             std::to_string(tries) + (tries == 1 ? " attempt" : " attempts"));
  size_t links = server.links();
  Run();
  EXPECT_EQ(server.links(), links);  // nothing tries again
}

TEST_F(Call, AResumeTimeoutIsReportedOnceAndTheCallKeepsTrying) {
  Join();
  events.clear();
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 1; }));
  // No answer in time, twice: 0x01020202 once, and a new link each time.
  const auto timeout = static_cast<int32_t>(Errc::kTimeoutResume);
  EXPECT_EQ(server.Sent("resume")[0]->timeout_code, Errc::kTimeoutResume);
  ASSERT_TRUE(server.Answer("resume", timeout, Json(), "resume timed out"));
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 2; }));
  ASSERT_TRUE(server.Answer("resume", timeout, Json(), "resume timed out"));
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 3; }));
  EXPECT_EQ(server.links(), 4U);
  EXPECT_EQ(events, (std::vector<std::string>{"warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting",
                                              "error " + Hex(Errc::kTimeoutResume)}));
  EXPECT_TRUE(InCall());
  // The third attempt is answered: the call goes on.
  ASSERT_TRUE(server.Answer("resume", 0, {{"resumeToken", "r2"}, {"users", Json::array()}}));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting",
                                              "error " + Hex(Errc::kTimeoutResume), "status connected",
                                              "warning " + Hex(Errc::kLocalNetworkConnected)}));
  EXPECT_TRUE(InCall());
  // A later reconnection reports its own resume timeout again.
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 4; }));
  ASSERT_TRUE(server.Answer("resume", timeout, Json(), "resume timed out"));
  ASSERT_TRUE(RunUntil([&] { return server.Sent("resume").size() == 5; }));
  EXPECT_EQ(host.app.With("error "),
            (std::vector<std::string>{"error " + Hex(Errc::kTimeoutResume), "error " + Hex(Errc::kTimeoutResume)}));
}

TEST_F(Call, UnansweredHeartbeatsDropTheLinkAndResume) {
  StartJoin();
  // The shortest interval the call accepts: its first ping is due 100 ms after joining.
  ASSERT_TRUE(server.Answer("join", 0, {{"resumeToken", "r1"}, {"users", Json::array()}, {"heartbeatIntervalMs", 1}}));
  Run();
  events.clear();
  for (int i = 0; i < 50 && server.Sent("ping").empty(); ++i) io.run_one_for(milliseconds(100));
  ASSERT_FALSE(server.Sent("ping").empty());
  EXPECT_EQ(server.Sent("ping")[0]->timeout_code, Errc::kHeartbeatTimeout);
  // No answer within three intervals: reported, then the link is dropped by the
  // client and a new one resumes the session.
  ASSERT_TRUE(server.Answer("ping", static_cast<int32_t>(Errc::kHeartbeatTimeout), Json(), "ping timed out"));
  ASSERT_TRUE(RunUntil([&] { return !server.Sent("resume").empty(); }));
  EXPECT_TRUE(server.closed_by_client(0));
  EXPECT_EQ(events,
            (std::vector<std::string>{"error " + Hex(Errc::kHeartbeatTimeout),
                                      "warning " + Hex(Errc::kLocalNetworkDisconnected), "status reconnecting"}));
  ASSERT_TRUE(server.Answer("resume", 0, {{"resumeToken", "r2"}, {"users", Json::array()}}));
  Run();
  EXPECT_EQ(events.back(), "warning " + Hex(Errc::kLocalNetworkConnected));
  EXPECT_TRUE(InCall());
}

TEST_F(Call, ReconcileAddsMissedUsersAndRemovesGoneOnes) {
  Join(Json::array({User("bob", {"audio"}), User("dan")}));
  ASSERT_EQ(server.Sent("subscribe").size(), 1U);
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return !server.Sent("resume").empty(); }));
  events.clear();
  // While the link was down: dan left, erin came, bob added his camera.
  ASSERT_TRUE(server.Answer(
      "resume", 0,
      {{"users", Json::array({User("bob", {"audio", "camera"}), User("erin", {"camera"}), User("ann")})}}));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"status connected", "warning " + Hex(Errc::kLocalNetworkConnected),
                                              "online erin", "offline dan left"}));
  auto subscribes = server.Sent("subscribe");
  ASSERT_EQ(subscribes.size(), 3U);
  EXPECT_EQ(subscribes[1]->fields["userId"], "bob");
  EXPECT_EQ(subscribes[2]->fields["userId"], "erin");
  std::vector<std::string> now;
  for (const auto& u : call->RemoteUsersNow()) now.push_back(u.user_id);
  EXPECT_EQ(now, (std::vector<std::string>{"bob", "erin"}));
}

TEST_F(Call, SecondPublishAnnouncesOnlyNewTracks) {
  config.auto_publish = true;
  config.video_source = "test:pattern";
  Join();
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer 1"}}));
  Run();
  EXPECT_EQ(events.back(), "published camera on");
  call->publishing().StartScreenShare(ScreenShareConfig{});
  Run();
  auto publishes = server.Sent("publish");
  ASSERT_EQ(publishes.size(), 2U);
  EXPECT_EQ(publishes[0]->fields["tracks"], Json({"audio", "camera"}));
  EXPECT_EQ(publishes[1]->fields["tracks"], Json({"screen"}));
  EXPECT_EQ(publishes[1]->fields["sdp"], "offer 1");
  // The new connection carries all three and sends once its answer is applied.
  ASSERT_EQ(media.publishers.size(), 2U);
  EXPECT_TRUE(media.publishers[1]->options.screen && media.publishers[1]->options.audio);
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer 2"}}));
  Run();
  EXPECT_NE(call->publishing().connection(), nullptr);
  EXPECT_TRUE(media.publishers[1]->attached);
  EXPECT_EQ(events.back(), "published screen on");
}

TEST_F(Call, FailedPublishForgetsWhatItAnnounced) {
  config.auto_publish = true;
  Join();
  ASSERT_TRUE(server.Answer("publish", static_cast<int32_t>(Errc::kTimeoutPublish), Json(), "no answer"));
  Run();
  EXPECT_EQ(events.back(), "error " + Hex(Errc::kTimeoutPublish));
  EXPECT_TRUE(call->publishing().announced().empty());
  // Publishing audio again is a new announcement, not "already publishing".
  call->publishing().Toggle(TrackKind::kAudio, true);
  Run();
  ASSERT_EQ(server.Sent("publish").size(), 2U);
  EXPECT_EQ(server.Sent("publish")[1]->fields["tracks"], Json({"audio"}));
}

TEST_F(Call, SubscribeAbortedSubscribesAgainOnANewConnection) {
  Join(Json::array({User("bob", {"camera"})}));
  ASSERT_TRUE(server.Answer("subscribe", 0, {{"sdp", "offer 1"}}));
  Run();
  ASSERT_EQ(media.subscribers.size(), 1U);
  ASSERT_EQ(server.Sent("subscribeAnswer").size(), 1U);
  EXPECT_EQ(server.Sent("subscribeAnswer")[0]->fields["sdp"], "answer to offer 1");
  proto::SubscribeAborted aborted;
  aborted.code = static_cast<int32_t>(Errc::kSubscribeStreamStartError);
  aborted.users = {"bob"};
  aborted.message = "transport failed";
  server.Notify(aborted.ToJson());
  Run();
  EXPECT_EQ(events.back(), "error " + Hex(Errc::kSubscribeStreamStartError));
  EXPECT_FALSE(media.subscribers[0]->alive);
  auto subscribes = server.Sent("subscribe");
  ASSERT_EQ(subscribes.size(), 2U);
  EXPECT_EQ(subscribes[1]->fields["userId"], "bob");
  ASSERT_TRUE(server.Answer("subscribe", 0, {{"sdp", "offer 2"}}));
  Run();
  ASSERT_EQ(media.subscribers.size(), 2U);
  EXPECT_EQ(media.subscribers[1]->offers, std::vector<std::string>{"offer 2"});
}

TEST_F(Call, SessionRemovedBeforeTheCloseEndsWithThatReason) {
  Join();
  events.clear();
  server.Notify(proto::SessionRemoved{0, "kicked", ""}.ToJson());
  server.Drop("closed by the server");  // the close right behind it is not a drop to recover from
  Run();
  EXPECT_EQ(events,
            (std::vector<std::string>{"status disconnected", "error " + Hex(Errc::kSessionRemoved), "bye kicked"}));
  EXPECT_EQ(server.links(), 1U);
  EXPECT_FALSE(InCall());
}

TEST_F(Call, RoleSetWhileJoiningIsAskedForOnceJoined) {
  config.auto_publish = true;
  config.role = ClientRole::kBroadcaster;
  StartJoin();
  {
    std::lock_guard<std::mutex> lock(call->state().mu);  // as SetClientRole does while joining
    call->state().pending_role = ClientRole::kAudience;
  }
  ASSERT_TRUE(server.Answer("join", 0, {{"resumeToken", "r1"}}));
  Run();
  EXPECT_EQ(server.Sent("join")[0]->fields["role"], "broadcaster");
  ASSERT_EQ(server.Sent("setRole").size(), 1U);
  EXPECT_EQ(server.Sent("setRole")[0]->fields["role"], "audience");
  EXPECT_TRUE(server.Sent("publish").empty());  // an audience member does not publish
  ASSERT_TRUE(server.Answer("setRole"));
  Run();
  std::lock_guard<std::mutex> lock(call->state().mu);
  EXPECT_EQ(call->config().role, ClientRole::kAudience);
  EXPECT_FALSE(call->state().pending_role.has_value());
}

TEST_F(Call, AMediaTimeoutIsReportedNotHung) {
  config.auto_publish = true;
  media.answer_error =
      MakeError(Errc::kMediaConnectionCreateFailed, "webrtcbin did not answer set-remote-description within 5 s");
  Join();
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  Run();
  EXPECT_EQ(events.back(), "error " + Hex(Errc::kMediaConnectionCreateFailed));
  EXPECT_EQ(call->publishing().connection(), nullptr);  // the connection that timed out is dropped
  EXPECT_TRUE(call->Live());
  // Any other failure to apply the answer is the stream not starting.
  media.answer_error = MakeError(Errc::kMediaConnectionCreateFailed, "bad sdp");
  call->publishing().Toggle(TrackKind::kCamera, true);
  Run();
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  Run();
  EXPECT_EQ(events.back(), "error " + Hex(Errc::kPublishStreamStartError));
  // The call goes on: the next publish is sent and, answered, sends everything announced.
  media.answer_error.reset();
  call->publishing().StartScreenShare(ScreenShareConfig{});
  Run();
  ASSERT_EQ(server.Sent("publish").size(), 3U);
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer"}}));
  Run();
  EXPECT_EQ(events.back(), "published screen on");
  EXPECT_NE(call->publishing().connection(), nullptr);
}

}  // namespace
}  // namespace parley::sdk::call_test

namespace parley::sdk::call_test {
namespace {

TEST_F(Call, OthersNetworkQualityIsReportedAndDownWhileTheServerHasLostThem) {
  Json bob = User("bob", {"audio"});
  bob["networkQuality"] = {{"up", 2}, {"down", 3}};
  Join(Json::array({bob, User("dan")}));
  auto& q = host.app.qualities;
  EXPECT_EQ(q, (std::vector<std::string>{"bob 2/3"})) << "dan reported nothing yet";
  server.Notify(proto::NetworkQuality{"bob", 4, 4}.ToJson());
  server.Notify(proto::NetworkQuality{"bob", 4, 4}.ToJson());  // no news
  server.Notify(proto::NetworkQuality{"zed", 1, 1}.ToJson());  // not in the channel
  const int32_t kLost = static_cast<int32_t>(Errc::kRemoteNetworkDisconnected);
  const int32_t kBack = static_cast<int32_t>(Errc::kRemoteNetworkConnected);
  server.Notify(proto::UserNetwork{"bob", "disconnected", kLost}.ToJson());
  server.Notify(proto::NetworkQuality{"bob", 1, 1}.ToJson());  // kept for when bob is back
  server.Notify(proto::UserNetwork{"bob", "connected", kBack}.ToJson());
  Run();
  EXPECT_EQ(q, (std::vector<std::string>{"bob 2/3", "bob 4/4", "bob 5/5", "bob 1/1"}));
  server.Notify(proto::UserOffline{"bob", "left"}.ToJson());
  server.Notify(proto::NetworkQuality{"bob", 2, 2}.ToJson());  // gone: nothing to report
  Run();
  EXPECT_EQ(q.size(), 4U);
}

TEST_F(Call, NamesRolesResumedStreamsAndMessagesOfKnownUsersAreReported) {
  Json bob = User("bob", {"audio"});
  bob["userName"] = "Bob";
  Join(Json::array({bob}));
  events.clear();
  server.Notify({{"type", "userUpdated"}, {"user", {{"userId", "bob"}, {"userName", "Bobby"}}}, {"seq", 2}});
  server.Notify(
      {{"type", "userUpdated"}, {"user", {{"userId", "bob"}, {"userName", "Bobby"}}}, {"seq", 3}});  // no news
  server.Notify({{"type", "roleUpdated"}, {"userId", "bob"}, {"role", "audience"}, {"seq", 4}});
  server.Notify({{"type", "roleUpdated"}, {"userId", "bob"}, {"role", "nobody"}, {"seq", 5}});  // not a role
  server.Notify({{"type", "streamResumed"}, {"userId", "bob"}, {"seq", 6}});
  server.Notify({{"type", "message"}, {"fromUserId", "bob"}, {"data", "hello all"}, {"seq", 7}});
  server.Notify({{"type", "message"}, {"fromUserId", "bob"}, {"data", "just you"}, {"channelId", "room"}});
  // About users this engine does not know: nothing, but for a message (the sender may be
  // a live channel's audience, which is not listed), which makes it one to answer.
  EXPECT_FALSE(call->IsMember("zed"));
  server.Notify({{"type", "userUpdated"}, {"user", {{"userId", "zed"}, {"userName", "Z"}}}, {"seq", 8}});
  server.Notify({{"type", "roleUpdated"}, {"userId", "zed"}, {"role", "audience"}, {"seq", 9}});
  server.Notify({{"type", "streamResumed"}, {"userId", "zed"}, {"seq", 10}});
  server.Notify({{"type", "message"}, {"fromUserId", "zed"}, {"data", "?"}, {"seq", 11}});
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"updated bob Bobby", "role bob audience", "resumed bob",
                                              "message bob channel hello all", "message bob direct just you",
                                              "message zed channel ?"}));
  EXPECT_TRUE(call->IsMember("zed")) << "heard from: a data message may answer it";
  auto users = call->RemoteUsersNow();
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].user_name, "Bobby");
  EXPECT_EQ(users[0].role, ClientRole::kAudience);
}

TEST_F(Call, AMessageGoesOutAsSendMessageAndARefusalIsAnError) {
  Join(Json::array({User("bob")}));
  events.clear();
  call->SendMessage("", "hi all");
  call->SendMessage("bob", "hi bob");
  Run();
  auto sent = server.Sent("sendMessage");
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0]->fields["data"], "hi all");
  EXPECT_FALSE(sent[0]->fields.contains("toUserId"));
  EXPECT_EQ(sent[1]->fields["toUserId"], "bob");
  ASSERT_TRUE(server.Answer("sendMessage", 0));
  ASSERT_TRUE(server.Answer("sendMessage", static_cast<int32_t>(Errc::kRateLimited), Json(), "too fast"));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"error " + Hex(Errc::kRateLimited)}));
  EXPECT_NE(host.app.last_error_message.find("bob"), std::string::npos) << host.app.last_error_message;
}

TEST_F(Call, TheTokensExpiryIsToldAndARefreshGoesOutForThisCallOnly) {
  Join();
  events.clear();
  server.Notify(proto::TokenWillExpire{1'700'000'030}.ToJson());
  server.Notify(proto::TokenExpired{1'700'000'030, 30000}.ToJson());
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"token expires 1700000030", "token expired 30000"}));
  events.clear();
  call::JoinTarget other{proto::JoinCredentials{"tok2", std::nullopt}, "room", "bob"};
  EXPECT_EQ(call->RefreshToken(other), static_cast<int32_t>(Errc::kTokenInvalid)) << "another user's token";
  call::JoinTarget mine{proto::JoinCredentials{"tok2", std::nullopt}, "room", "ann"};
  EXPECT_EQ(call->RefreshToken(mine), 0);
  Run();
  ASSERT_EQ(server.Sent("refreshToken").size(), 1U);
  EXPECT_EQ(server.Sent("refreshToken")[0]->fields["token"], "tok2");
  ASSERT_TRUE(server.Answer("refreshToken", static_cast<int32_t>(Errc::kChannelOverdue), Json(), "token expired"));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"error " + Hex(Errc::kChannelOverdue)}));
}

TEST_F(Call, ALostLinkMakesTheLocalQualityDown) {
  Join();
  server.Drop();
  ASSERT_TRUE(RunUntil([&] { return !server.Sent("resume").empty(); }));
  EXPECT_EQ(host.app.qualities, (std::vector<std::string>{" 5/5"}));
  EXPECT_TRUE(server.Sent("reportStats").empty()) << "nobody to tell while the link is down";
}

TEST_F(Call, AnEncoderThatCannotKeepUpIsReportedOnceAndItsRecoveryOnce) {
  config.auto_publish = true;
  config.video_source = "test:pattern";
  StartJoin();
  ASSERT_TRUE(server.Answer("join", 0, {{"resumeToken", "r1"}, {"users", Json::array()}, {"heartbeatIntervalMs", 1}}));
  Run();
  ASSERT_TRUE(server.Answer("publish", 0, {{"sdp", "answer 1"}}));
  Run();
  auto warnings = [&](Errc e) { return std::count(events.begin(), events.end(), "warning " + Hex(e)); };
  // Each heartbeat collects the statistics: the sender's state is in the publish totals.
  Heartbeats(2);
  EXPECT_EQ(warnings(Errc::kLowPerformance), 0);
  media.publish_totals.cpu_level = 1;
  media.publish_totals.encode_usage = 0.97;
  Heartbeats(3);
  EXPECT_EQ(warnings(Errc::kLowPerformance), 1) << "said once, not at every report";
  EXPECT_EQ(warnings(Errc::kPerformanceRestored), 0);
  media.publish_totals.cpu_level = 0;
  media.publish_totals.encode_usage = 0.3;
  Heartbeats(3);
  EXPECT_EQ(warnings(Errc::kPerformanceRestored), 1);
  EXPECT_EQ(warnings(Errc::kLowPerformance), 1);
}

TEST_F(Call, HeavyDownlinkLossLengthensTheJitterBuffersAndACleanNetworkShortensThem) {
  StartJoin();
  ASSERT_TRUE(server.Answer(
      "join", 0,
      {{"resumeToken", "r1"}, {"users", Json::array({User("bob", {"audio"})})}, {"heartbeatIntervalMs", 1}}));
  Run();
  ASSERT_TRUE(server.Answer("subscribe", 0, {{"sdp", "offer"}}));
  Run();
  ASSERT_EQ(media.subscribers.size(), 1U);
  // Each heartbeat's interval: 150 packets and 2 s of audio, and what was lost of them.
  auto interval = [&](int64_t lost, uint64_t concealed) {
    media.subscribe_totals.packets_received += 150;
    media.subscribe_totals.packets_lost += lost;
    media.subscribe_totals.audio_samples += 96'000;
    media.subscribe_totals.audio_samples_concealed += concealed;
    Heartbeats(1);
  };
  interval(0, 0);
  interval(1, 0);
  EXPECT_EQ(media.subscribers[0]->playout_delay_ms, 0) << "never touched on a clean network";
  interval(45, 3'000);  // 23 % lost
  EXPECT_EQ(media.subscribers[0]->playout_delay_ms, PlayoutDelay::kLossyMs);
  for (int i = 0; i < PlayoutDelay::kCleanIntervals - 1; ++i) interval(1, 0);
  EXPECT_EQ(media.subscribers[0]->playout_delay_ms, PlayoutDelay::kLossyMs);
  interval(1, 0);
  EXPECT_EQ(media.subscribers[0]->playout_delay_ms, PlayoutDelay::kNormalMs);
}

}  // namespace
}  // namespace parley::sdk::call_test

namespace parley::sdk::call_test {
namespace {

// Stream types set before the join go out once joined (the default first), and are
// sent again at the next join; one set in a call goes at once; a refusal is an error.
TEST_F(Call, VideoStreamTypesGoOutAtTheJoinAndAtOnceInACall) {
  EXPECT_EQ(call::CheckStreamType("bob", VideoStreamType::kSmall, false), 0);
  EXPECT_EQ(call::CheckStreamType("", VideoStreamType::kSmall, false),
            static_cast<int32_t>(Errc::kSubscribeConfigInvalid));
  EXPECT_EQ(call::CheckStreamType("bob", VideoStreamType::kBig, true),
            static_cast<int32_t>(Errc::kSubscribeConfigInvalid));
  EXPECT_EQ(call::CheckStreamType("", static_cast<VideoStreamType>(3), true),
            static_cast<int32_t>(Errc::kSubscribeConfigInvalid));
  EXPECT_EQ(call::CheckStreamType(std::string(65, 'u'), VideoStreamType::kBig, false),
            static_cast<int32_t>(Errc::kSubscribeConfigInvalid));
  Make();
  call->SetStreamType("bob", VideoStreamType::kBig);
  call->SetStreamType("", VideoStreamType::kSmall);
  EXPECT_TRUE(server.Sent("setRemoteVideoStreamType").empty());
  Join(Json::array({User("bob")}));
  auto sent = server.Sent("setRemoteVideoStreamType");
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0]->fields, (Json{{"streamType", "small"}}));
  EXPECT_EQ(sent[1]->fields, (Json{{"streamType", "big"}, {"userId", "bob"}}));
  events.clear();
  call->SetStreamType("carol", VideoStreamType::kAuto);
  Run();
  sent = server.Sent("setRemoteVideoStreamType");
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(sent[2]->fields, (Json{{"streamType", "auto"}, {"userId", "carol"}}));
  ASSERT_TRUE(server.Answer("setRemoteVideoStreamType", 0));
  ASSERT_TRUE(server.Answer("setRemoteVideoStreamType", 0));
  ASSERT_TRUE(
      server.Answer("setRemoteVideoStreamType", static_cast<int32_t>(Errc::kInvalidField), Json(), "too many users"));
  Run();
  EXPECT_EQ(events, (std::vector<std::string>{"error " + Hex(Errc::kInvalidField)}));
}

}  // namespace
}  // namespace parley::sdk::call_test

namespace parley::sdk::call_test {
namespace {

// The TURN servers of the join answer go to every media connection, with the app's
// relay-only choice; a resume's fresh credentials replace them.
TEST_F(Call, TheJoinAnswersRelaysReachEveryMediaConnection) {
  config.auto_publish = true;
  config.relay_only = true;
  config.ice_addresses = {"10.0.0.2"};
  Make();
  StartJoin();
  Json servers =
      Json::array({{{"urls", {"turn:10.0.0.1:3478?transport=tcp", 7}}, {"username", "9:ann"}, {"credential", "c1"}},
                   "not an object",
                   {{"urls", "stun:10.0.0.1"}}});
  ASSERT_TRUE(
      server.Answer("join", 0, {{"resumeToken", "r1"}, {"iceServers", servers}, {"heartbeatIntervalMs", 60000}}));
  Run();
  ASSERT_FALSE(media.publishers.empty());
  const media::IceSetup& ice = media.publishers.back()->options.ice;
  EXPECT_EQ(ice.addresses, (std::vector<std::string>{"10.0.0.2"}));
  EXPECT_TRUE(ice.relay_only);
  ASSERT_EQ(ice.servers.size(), 2u) << "the entry that is not an object is skipped";
  EXPECT_EQ(ice.servers[0], (media::IceServer{{"turn:10.0.0.1:3478?transport=tcp"}, "9:ann", "c1"}));
  EXPECT_EQ(ice.servers[1], (media::IceServer{{"stun:10.0.0.1"}, "", ""}));
  EXPECT_TRUE(call::Call::IceServers(Json::object()).empty());
  EXPECT_TRUE(call::Call::IceServers({{"iceServers", "x"}}).empty());
}

}  // namespace
}  // namespace parley::sdk::call_test

namespace parley::sdk::call_test {
namespace {

// After each ICE failure the next connection tries another way: TCP only, then the
// relays (when the join answer had some), then everything again. Only a connection
// made the current way moves it on; an app's relay-only choice stays.
TEST(IceFallback, EachFailureOfTheCurrentWayMovesTheNextConnectionOn) {
  using Way = call::IceFallback::Way;
  using media::IceUse;
  call::IceFallback f;
  const media::IceSetup base{{"10.0.0.2"}, {}, false, false};
  EXPECT_FALSE(f.Apply(base, IceUse::kPublish).tcp_only);
  EXPECT_FALSE(f.Apply(base, IceUse::kSubscribe).tcp_only);
  f.Failed(IceUse::kPublish, true);
  EXPECT_EQ(f.way(), Way::kTcpOnly);
  f.Failed(IceUse::kSubscribe, true);  // made with everything, like the publish one: counted once
  EXPECT_EQ(f.way(), Way::kTcpOnly);
  const media::IceSetup tcp = f.Apply(base, IceUse::kPublish);
  EXPECT_TRUE(tcp.tcp_only);
  EXPECT_EQ(tcp.addresses, base.addresses);
  f.Failed(IceUse::kSubscribe, true);  // still the old subscribe connection's way
  EXPECT_EQ(f.way(), Way::kTcpOnly);
  f.Failed(IceUse::kPublish, true);
  EXPECT_EQ(f.way(), Way::kRelayOnly);
  EXPECT_TRUE(f.Apply(base, IceUse::kPublish).relay_only);
  EXPECT_FALSE(f.Apply(base, IceUse::kPublish).tcp_only);
  f.Failed(IceUse::kPublish, true);
  EXPECT_EQ(f.way(), Way::kAll);
  f.Apply(base, IceUse::kData);
  f.Failed(IceUse::kData, false);
  f.Apply(base, IceUse::kData);
  f.Failed(IceUse::kData, false);  // no relays: TCP only, then everything
  EXPECT_EQ(f.way(), Way::kAll);
  // The app's relay only is kept whatever the way.
  f.Failed(IceUse::kData, false);
  media::IceSetup relay = base;
  relay.relay_only = true;
  EXPECT_FALSE(f.Apply(relay, IceUse::kPublish).tcp_only);
  f.Reset();
  EXPECT_EQ(f.way(), Way::kAll);
}

}  // namespace
}  // namespace parley::sdk::call_test
