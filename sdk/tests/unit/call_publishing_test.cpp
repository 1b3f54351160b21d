// The publish side of a call against a fake call and fake media: what each publish
// announces, what a failure takes back, when the connection goes, and the checks the
// API makes on frames and encoder settings.
#include "call/publishing.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <deque>
#include <string>
#include <vector>

#include "fake_media.hpp"
#include "recording_listener.hpp"

namespace parley::sdk::call {
namespace {

using Json = nlohmann::json;
using testing::FakeMedia;
using testing::RecordingListener;

class FakeCall : public Publishing::Listener {
 public:
  explicit FakeCall(boost::asio::io_context& io) : io_(io) {}
  [[nodiscard]] bool Live() const override { return live; }
  media::IceSetup Ice(media::IceUse) override { return {}; }
  void Request(std::string_view type, Json body, Publishing::Reply reply) override {
    body["type"] = std::string(type);
    sent.push_back(body);
    replies.push_back(std::move(reply));
  }
  void Error(int32_t code, const std::string& m) override { app.OnOccurError(code, m); }
  void Notify(const Publishing::Event& event) override { event(app); }
  [[nodiscard]] uint64_t Generation() const override { return generation; }
  void ScreenShareEnded() override { ++screen_ended; }
  void Post(std::function<void()> fn) override { boost::asio::post(io_, std::move(fn)); }

  /// Replies to the oldest request still waiting.
  void Reply(int32_t code, const Json& data = Json::object()) {
    auto r = std::move(replies.front());
    replies.pop_front();
    r(code, code ? "failed" : "", data);
  }

  bool live = true;
  uint64_t generation = 1;
  int screen_ended = 0;
  std::vector<Json> sent;
  std::deque<Publishing::Reply> replies;
  RecordingListener app;

 private:
  boost::asio::io_context& io_;
};

struct Fixture {
  boost::asio::io_context io;
  /// Keeps poll() running what is posted after the loop once ran dry.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  FakeMedia media{io};
  FakeCall call{io};
  EngineConfig config;
  Publishing publishing{call, media, config, io};
};

TEST(CallPublishing, ASnapshotPathNamesItsImageType) {
  using media::ImageType;
  EXPECT_EQ(media::ImageTypeOf("a.png"), ImageType::kPng);
  EXPECT_EQ(media::ImageTypeOf("/tmp/A.PNG"), ImageType::kPng);
  EXPECT_EQ(media::ImageTypeOf("x.jpg"), ImageType::kJpeg);
  EXPECT_EQ(media::ImageTypeOf("x.JpEg"), ImageType::kJpeg);
  for (const char* bad : {"", ".png", "dir/.jpg", "a.gif", "png", "a.png/", "a.jpeg.txt"})
    EXPECT_EQ(media::ImageTypeOf(bad), ImageType::kNone) << bad;
}

TEST(CallPublishing, ASecondPublishAnnouncesOnlyItsNewTracks) {
  Fixture f;
  f.config.dual_stream = false;  // the camera as one stream (the next test has two layers)
  f.publishing.Publish({TrackKind::kAudio, TrackKind::kCamera});
  f.io.poll();  // the offer
  ASSERT_EQ(f.call.sent.size(), 1U);
  EXPECT_EQ(f.call.sent[0], (Json{{"type", "publish"}, {"tracks", {"audio", "camera"}}, {"sdp", "offer 1"}}));
  f.call.Reply(0, {{"sdp", "answer 1"}});
  f.io.poll();  // the answer applied
  EXPECT_EQ(f.media.publishers[0]->answers, std::vector<std::string>{"answer 1"});
  EXPECT_TRUE(f.media.publishers[0]->attached);
  EXPECT_EQ(f.call.app.events, (std::vector<std::string>{"published audio on", "published camera on"}));
  EXPECT_NE(f.publishing.connection(), nullptr);

  // Screen share: a new connection with all three, but the server hears only of the screen.
  ScreenShareConfig screen;
  f.publishing.StartScreenShare(screen);
  f.io.poll();
  ASSERT_EQ(f.call.sent.size(), 2U);
  EXPECT_EQ(f.call.sent[1]["tracks"], Json({"screen"}));
  EXPECT_TRUE(f.media.publishers[1]->options.audio && f.media.publishers[1]->options.video &&
              f.media.publishers[1]->options.screen);
  // A republish with nothing new is an updatePublish.
  f.call.Reply(0, {{"sdp", "answer 2"}});
  f.io.poll();
  f.config.video.width = 320;
  f.publishing.VideoConfigChanged();
  f.io.poll();
  ASSERT_EQ(f.call.sent.size(), 3U);
  EXPECT_EQ(f.call.sent[2], (Json{{"type", "updatePublish"}, {"sdp", "offer 1"}}));
  EXPECT_EQ(f.media.publishers[2]->options.video_config.width, 320);
}

TEST(CallPublishing, DualStreamByDefaultTellsTheServerTheCamerasSectionsAndFollowsItsLayerPlan) {
  Fixture f;  // EngineConfig's default: dual stream
  f.publishing.Publish({TrackKind::kAudio, TrackKind::kCamera});
  f.io.poll();
  ASSERT_EQ(f.call.sent.size(), 1U);
  EXPECT_TRUE(f.media.publishers[0]->options.dual_stream);
  EXPECT_EQ(f.media.publishers[0]->options.small_video.width, 320);
  EXPECT_EQ(f.call.sent[0]["cameraLayers"], 2);
  f.publishing.SetCameraLayers({true, false});  // before the answer: no connection yet, nothing to do
  EXPECT_TRUE(f.media.publishers[0]->layers.empty());
  f.call.Reply(0, {{"sdp", "answer 1"}});
  f.io.poll();
  f.publishing.SetCameraLayers({false, true});  // the server's publishLayers: the small one paused
  EXPECT_EQ(f.media.publishers[0]->layers, (std::vector<std::pair<size_t, bool>>{{0, false}, {1, true}}));
  // Switched off during the call: the camera is published again as one stream.
  f.config.dual_stream = false;
  f.publishing.VideoConfigChanged();
  f.io.poll();
  ASSERT_EQ(f.call.sent.size(), 2U);
  EXPECT_EQ(f.call.sent[1], (Json{{"type", "updatePublish"}, {"sdp", "offer 1"}}));
  f.call.Reply(0, {{"sdp", "answer 2"}});
  f.io.poll();
  f.publishing.SetCameraLayers({true, false});  // one stream: nothing to pause
  EXPECT_TRUE(f.media.publishers[1]->layers.empty());
  // Audio alone never says cameraLayers.
  Fixture g;
  g.publishing.Publish({TrackKind::kAudio});
  g.io.poll();
  ASSERT_EQ(g.call.sent.size(), 1U);
  EXPECT_FALSE(g.call.sent[0].contains("cameraLayers"));
}

TEST(CallPublishing, AFailedPublishForgetsWhatItAnnounced) {
  Fixture f;
  f.publishing.Publish({TrackKind::kScreen});
  f.io.poll();
  f.call.Reply(static_cast<int32_t>(Errc::kTimeoutPublish));
  EXPECT_TRUE(f.publishing.announced().empty());
  EXPECT_EQ(f.call.screen_ended, 1);
  EXPECT_EQ(f.call.app.events,
            std::vector<std::string>{"error " + FormatHex(static_cast<int32_t>(Errc::kTimeoutPublish))});
  // So the next publish announces the screen again.
  f.publishing.Publish({TrackKind::kScreen});
  f.io.poll();
  EXPECT_EQ(f.call.sent.back()["tracks"], Json({"screen"}));

  // An offer that fails is never sent and is not announced either.
  f.media.offer_error = MakeError(Errc::kMediaConnectionCreateFailed, "no offer");
  f.publishing.Publish({TrackKind::kScreen, TrackKind::kAudio});
  f.io.poll();
  EXPECT_EQ(f.call.sent.size(), 2U);
  EXPECT_EQ(f.publishing.announced(), std::set<TrackKind>{TrackKind::kScreen});
}

TEST(CallPublishing, ATransportTheNetworkBrokePublishesAgainOnANewConnection) {
  Fixture f;
  f.publishing.Publish({TrackKind::kAudio, TrackKind::kCamera});
  f.io.poll();
  f.call.Reply(0, {{"sdp", "answer 1"}});
  f.io.poll();
  ASSERT_EQ(f.media.publishers.size(), 1U);

  f.publishing.TransportFailed("dtls-timeout");
  f.io.poll();
  ASSERT_EQ(f.media.publishers.size(), 2U);
  EXPECT_TRUE(f.media.publishers[1]->options.audio && f.media.publishers[1]->options.video);
  ASSERT_EQ(f.call.sent.size(), 2U);
  EXPECT_EQ(f.call.sent[1]["type"], "updatePublish");  // the same tracks, a new transport
  f.call.Reply(0, {{"sdp", "answer 2"}});
  f.io.poll();
  EXPECT_EQ(f.media.publishers[1]->answers, std::vector<std::string>{"answer 2"});
  EXPECT_TRUE(f.media.publishers[1]->attached);
  // The app heard of the tracks once.
  EXPECT_EQ(f.call.app.events, (std::vector<std::string>{"published audio on", "published camera on"}));

  f.publishing.TransportFailed("ice-timeout");
  f.publishing.TransportFailed("consent-lost");
  f.io.poll();
  EXPECT_EQ(f.media.publishers.size(), 4U);

  // A refused handshake or the server's own error is not the network's: no retry.
  f.publishing.TransportFailed("dtls-failed");
  f.publishing.TransportFailed("internal-error");
  f.io.poll();
  EXPECT_EQ(f.media.publishers.size(), 4U);
}

TEST(CallPublishing, NothingPublishedNothingRetried) {
  Fixture f;
  f.publishing.TransportFailed("ice-timeout");
  f.io.poll();
  EXPECT_TRUE(f.media.publishers.empty());
  EXPECT_TRUE(f.call.sent.empty());
}

TEST(CallPublishing, ResultsForAnEndedCallOrLinkAreDropped) {
  Fixture f;
  f.publishing.Publish({TrackKind::kAudio});
  f.call.generation = 2;  // the link changed before the offer came back
  f.io.poll();
  EXPECT_TRUE(f.call.sent.empty());
  f.call.generation = 1;
  f.call.live = false;
  f.publishing.Publish({TrackKind::kAudio});
  f.publishing.Toggle(TrackKind::kCamera, true);
  f.io.poll();
  EXPECT_TRUE(f.call.sent.empty());
  EXPECT_EQ(f.media.publishers.size(), 1U);
}

TEST(CallPublishing, UnpublishingTheLastTrackDropsTheConnection) {
  Fixture f;
  f.publishing.Toggle(TrackKind::kAudio, true);
  f.io.poll();
  f.call.Reply(0, {{"sdp", "answer"}});
  f.io.poll();
  f.publishing.Toggle(TrackKind::kAudio, true);  // already
  EXPECT_EQ(f.call.app.events.back(), "error " + FormatHex(static_cast<int32_t>(Errc::kAlreadyPublishing)));
  f.publishing.Toggle(TrackKind::kAudio, false);
  EXPECT_EQ(f.call.sent.back(), (Json{{"type", "unpublish"}, {"tracks", {"audio"}}}));
  f.call.Reply(static_cast<int32_t>(Errc::kTimeoutUnpublish));  // refused: still published
  EXPECT_EQ(f.publishing.announced(), std::set<TrackKind>{TrackKind::kAudio});
  EXPECT_NE(f.publishing.connection(), nullptr);
  f.publishing.Toggle(TrackKind::kAudio, false);
  f.call.Reply(0);
  EXPECT_EQ(f.call.app.events.back(), "published audio off");
  EXPECT_EQ(f.publishing.connection(), nullptr);
  EXPECT_FALSE(f.media.publishers[0]->alive);
}

TEST(CallPublishing, MutesReachTheConnectionAndThePublishedTracksServer) {
  Fixture f;
  f.publishing.SetMuted(TrackKind::kAudio, true);
  f.publishing.Publish({TrackKind::kAudio});
  EXPECT_TRUE(f.media.publishers[0]->options.mute_audio);
  f.io.poll();
  f.publishing.Mute(TrackKind::kAudio, true);  // not published yet: nothing to tell
  EXPECT_EQ(f.call.sent.size(), 1U);
  f.call.Reply(0, {{"sdp", "answer"}});
  f.io.poll();
  f.publishing.Mute(TrackKind::kAudio, false);
  EXPECT_EQ(f.call.sent.back(), (Json{{"type", "mute"}, {"tracks", {"audio"}}, {"muted", false}}));
  // The connection had the mute from its options; it hears of changes once it sends.
  EXPECT_EQ(f.media.publishers[0]->mutes, (std::vector<std::pair<TrackKind, bool>>{{TrackKind::kAudio, false}}));
}

TEST(CallPublishing, AMissingMicrophoneIsReportedAndTheRestPublished) {
  Fixture f;
  f.config.audio_source = "device:gone";
  f.media.devices = {{DeviceKind::kMicrophone, "hw:0", "Built-in", false}};
  f.publishing.Publish({TrackKind::kAudio, TrackKind::kCamera});
  EXPECT_EQ(f.call.app.events,
            std::vector<std::string>{"error " + FormatHex(static_cast<int32_t>(Errc::kAudioRecordDeviceNotFound))});
  ASSERT_EQ(f.media.publishers.size(), 1U);
  EXPECT_FALSE(f.media.publishers[0]->options.audio);
  EXPECT_TRUE(f.media.publishers[0]->options.video);
}

TEST(CallPublishing, TheApiChecksFramesAndEncoderSettings) {
  EXPECT_TRUE(ValidVideoConfig({640, 480, 30, 800, VideoCodec::kVp8}));
  EXPECT_FALSE(ValidVideoConfig({641, 480, 30, 800, VideoCodec::kVp8}));
  EXPECT_FALSE(ValidVideoConfig({640, 480, 61, 800, VideoCodec::kVp8}));
  EXPECT_FALSE(ValidVideoConfig({640, 480, 30, 49, VideoCodec::kVp8}));
  std::vector<int16_t> pcm(960);
  EXPECT_TRUE(ValidAudioFrame(pcm.data(), 960, 48000, 2));
  EXPECT_FALSE(ValidAudioFrame(pcm.data(), 960, 48000, 3));
  EXPECT_FALSE(ValidAudioFrame(pcm.data(), 960, 7999, 1));
  EXPECT_FALSE(ValidAudioFrame(nullptr, 960, 48000, 1));
  EXPECT_FALSE(ValidAudioFrame(pcm.data(), 8001, 8000, 1));
  std::vector<uint8_t> i420(4 * 2 * 3 / 2);
  VideoFrame frame{};
  frame.data = i420.data();
  frame.width = 4;
  frame.height = 2;
  frame.size = i420.size();
  EXPECT_TRUE(ValidVideoFrame(frame));
  frame.size -= 1;
  EXPECT_FALSE(ValidVideoFrame(frame));
  frame.size = i420.size();
  frame.width = 3;
  EXPECT_FALSE(ValidVideoFrame(frame));
}

}  // namespace
}  // namespace parley::sdk::call
