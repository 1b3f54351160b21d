// A subscriber that stays in the channel while a publisher comes and goes must receive
// the publisher again each time, through a real parleyd and real GStreamer engines:
// after the publisher leaves and joins again, after it unpublishes and publishes
// again, and across the publisher's own publish connection being rebuilt. The server
// reuses the subscriber's retired sections for the returning tracks; each must come
// back as a new stream (new SSRCs, so the subscriber's SRTP replay protection does not
// drop it) and be announced to the application again (OnRemoteTrackAvailable).
#include <gtest/gtest.h>

#include <utility>

#include <thread>

#include "engine_support.hpp"
#include "impl/track_ids.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;

// Also counts OnRemoteTrackAvailable per user and track (Probe keeps only a set).
class CountingProbe : public Probe {
 public:
  void OnRemoteTrackAvailable(const std::string& id, TrackKind t) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++available[id][t];
    }
    Probe::OnRemoteTrackAvailable(id, t);
  }
  /// Inside WaitFor predicates (mu is held there).
  int Available(const std::string& id, TrackKind t) { return available[id][t]; }

 private:
  std::map<std::string, std::map<TrackKind, int>> available;
};

// What the subscriber has from `user` so far.
struct Received {
  int frames = 0;
  size_t samples = 0;
  int camera_available = 0, audio_available = 0;
};

class Republish : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig sc = Config(server_, "null");
    sc.video_source = "null";
    sub_ = RtcEngine::Create(sc);
    sub_->SetEngineEventListener(&ps_);
    sub_->SetMediaFrameObserver(&ps_);
    pub_ = RtcEngine::Create(Config(server_, "test:tone:440"));
    pub_->SetEngineEventListener(&pp_);
    ASSERT_EQ(sub_->JoinChannel(Auth(app_, "again", "sub"), "Sub"), 0);
    ASSERT_EQ(pub_->JoinChannel(Auth(app_, "again", "pub"), "Pub"), 0);
    ASSERT_TRUE(ReceivesMoreThan({}, true)) << Describe();
  }
  void TearDown() override {
    RtcEngine::Destroy(pub_);
    RtcEngine::Destroy(sub_);
  }

  Received Now() {
    std::lock_guard<std::mutex> lock(ps_.mu);
    return {ps_.frames["pub"], ps_.audio["pub"].samples, ps_.Available("pub", TrackKind::kCamera),
            ps_.Available("pub", TrackKind::kAudio)};
  }
  // Video frames and audio samples keep arriving after `before` (and, with
  // `announced`, both tracks were announced again since).
  bool ReceivesMoreThan(const Received& before, bool announced) {
    return ps_.WaitFor(
        [&] {
          bool media = ps_.frames["pub"] >= before.frames + 10 && ps_.audio["pub"].samples > before.samples + 48000;
          bool told = !announced || (ps_.Available("pub", TrackKind::kCamera) > before.camera_available &&
                                     ps_.Available("pub", TrackKind::kAudio) > before.audio_available);
          return media && told;
        },
        20s);
  }
  std::string Describe() {
    Received r = Now();
    return std::to_string(r.frames) + " frames, " + std::to_string(r.samples) + " samples, camera announced " +
           std::to_string(r.camera_available) + "x, audio " + std::to_string(r.audio_available) + "x";
  }
  bool PublishedCount(size_t n) {
    return pp_.WaitFor([&] { return pp_.published_tracks.size() == n; }, 10s);
  }

  test::ServerProcess server_;
  App app_ = CreateApp(server_);
  RtcEngine *sub_ = nullptr, *pub_ = nullptr;
  CountingProbe ps_, pp_;
};

TEST_F(Republish, APublisherThatLeavesAndJoinsAgainIsReceivedAgain) {
  ASSERT_EQ(pub_->LeaveChannel(), 0);
  ASSERT_TRUE(ps_.WaitFor([&] { return ps_.online.count("pub") == 0; }, 10s));
  // The publisher's engine is out of the call only once it has heard its leave answered.
  ASSERT_TRUE(pp_.WaitFor([&] { return std::exchange(pp_.left, false); }, 10s));
  Received before = Now();
  ASSERT_EQ(pub_->JoinChannel(Auth(app_, "again", "pub"), "Pub"), 0);
  ASSERT_TRUE(ps_.WaitFor([&] { return ps_.online.count("pub") == 1; }, 10s));
  EXPECT_TRUE(ReceivesMoreThan(before, true)) << "before: " << before.frames << " frames; now " << Describe();
  // And once more: a section is reused any number of times.
  ASSERT_EQ(pub_->LeaveChannel(), 0);
  ASSERT_TRUE(ps_.WaitFor([&] { return ps_.online.count("pub") == 0; }, 10s));
  ASSERT_TRUE(pp_.WaitFor([&] { return std::exchange(pp_.left, false); }, 10s));
  before = Now();
  ASSERT_EQ(pub_->JoinChannel(Auth(app_, "again", "pub"), "Pub"), 0);
  EXPECT_TRUE(ReceivesMoreThan(before, true)) << "before: " << before.frames << " frames; now " << Describe();
}

TEST_F(Republish, TracksUnpublishedAndPublishedAgainAreReceivedAgain) {
  ASSERT_TRUE(PublishedCount(2));
  ASSERT_EQ(pub_->PublishLocalVideoStream(false), 0);
  ASSERT_TRUE(PublishedCount(1));
  ASSERT_EQ(pub_->PublishLocalAudioStream(false), 0);
  ASSERT_TRUE(PublishedCount(0));
  std::this_thread::sleep_for(300ms);  // let the last forwarded packets drain
  Received before = Now();
  ASSERT_EQ(pub_->PublishLocalAudioStream(true), 0);
  ASSERT_EQ(pub_->PublishLocalVideoStream(true), 0);
  ASSERT_TRUE(PublishedCount(2));
  EXPECT_TRUE(ReceivesMoreThan(before, true)) << "before: " << before.frames << " frames; now " << Describe();
}

// Unpublishing one track makes the engine publish the rest on a new connection
// (updatePublish); publishing it again builds another. The camera, published
// throughout, must flow on across both; the audio must come back.
TEST_F(Republish, ARebuiltPublishConnectionKeepsAndRestoresTheSubscribersStreams) {
  ASSERT_TRUE(PublishedCount(2));
  ASSERT_EQ(pub_->PublishLocalAudioStream(false), 0);
  ASSERT_TRUE(PublishedCount(1));
  Received before = Now();
  EXPECT_TRUE(ps_.WaitFor([&] { return ps_.frames["pub"] >= before.frames + 10; }, 20s))
      << "the camera stopped when its connection was rebuilt: " << Describe();
  std::this_thread::sleep_for(300ms);
  before = Now();
  ASSERT_EQ(pub_->PublishLocalAudioStream(true), 0);
  ASSERT_TRUE(PublishedCount(2));
  EXPECT_TRUE(ps_.WaitFor(
      [&] {
        return ps_.frames["pub"] >= before.frames + 10 && ps_.audio["pub"].samples > before.samples + 48000 &&
               ps_.Available("pub", TrackKind::kAudio) > before.audio_available;
      },
      20s))
      << "before: " << before.samples << " samples; now " << Describe();
}

// What the subscriber's webrtcbin is given and what the server gets back, without
// GStreamer: retired sections keep receiving locally and are answered inactive.
TEST(SubscribeOffer, RetiredSectionsStayReceivingLocallyAndAreAnsweredInactive) {
  std::set<std::string> inactive;
  std::string offer =
      "v=0\r\na=group:BUNDLE 0 1 2\r\n"
      "m=audio 9 X 111\r\na=inactive\r\na=mid:0\r\n"  // the direction may come before the mid
      "m=video 9 X 96\r\na=mid:1\r\na=sendonly\r\na=msid:al al-camera\r\n"
      "m=video 9 X 96\na=x\na=mid:2\na=inactive\n";  // bare LF line ends are read too
  std::string applied = sdk::KeepSectionsReceiving(offer, &inactive);
  EXPECT_EQ(inactive, (std::set<std::string>{"0", "2"}));
  EXPECT_EQ(applied.find("a=inactive"), std::string::npos) << applied;
  EXPECT_NE(applied.find("m=audio 9 X 111\r\na=sendonly\r\na=mid:0\r\n"), std::string::npos) << applied;
  EXPECT_NE(applied.find("a=msid:al al-camera\r\n"), std::string::npos);

  std::string answer =
      "v=0\r\nm=audio 9 X 111\r\na=recvonly\r\na=mid:0\r\nm=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
      "m=video 9 X 96\r\na=mid:2\r\na=recvonly\r\n";
  std::string sent = sdk::MarkSectionsInactive(answer, inactive);
  EXPECT_EQ(sent,
            "v=0\r\nm=audio 9 X 111\r\na=inactive\r\na=mid:0\r\nm=video 9 X 96\r\na=mid:1\r\na=recvonly\r\n"
            "m=video 9 X 96\r\na=mid:2\r\na=inactive\r\n");
}

}  // namespace
}  // namespace parley
