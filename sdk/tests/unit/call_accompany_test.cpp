// The accompaniment's control on the engine thread, over fake media: what the media is
// asked to play, the states the application is told, and an end or a failure of a
// playback already replaced that is not told.
#include "call/accompany.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <vector>

#include "fake_media.hpp"
#include "recording_listener.hpp"

namespace parley::sdk::call {
namespace {

class Listener final : public Publishing::Listener {
 public:
  explicit Listener(boost::asio::io_context& io) : io_(io) {}
  [[nodiscard]] bool Live() const override { return false; }
  media::IceSetup Ice(media::IceUse) override { return {}; }
  void Request(std::string_view, nlohmann::json, Reply) override {}
  void Error(int32_t code, const std::string& message) override { app.OnOccurError(code, message); }
  void Notify(const Publishing::Event& event) override { event(app); }
  [[nodiscard]] uint64_t Generation() const override { return 0; }
  void ScreenShareEnded() override {}
  void Post(std::function<void()> fn) override { boost::asio::post(io_, std::move(fn)); }
  testing::RecordingListener app;

 private:
  boost::asio::io_context& io_;
};

class Accompany : public ::testing::Test {
 protected:
  void Run() {
    io.restart();  // a loop that ran out of work stops
    while (io.poll_one() > 0) {
    }
  }
  boost::asio::io_context io;
  testing::FakeMedia media{io};
  Listener listener{io};
  EngineConfig config;
  AccompanyControl control{listener, media, config};
  std::vector<std::string>& events = listener.app.events;
};

TEST(CallAccompany, ConfigsAreValidated) {
  EXPECT_TRUE(ValidAccompanyConfig({}));
  EXPECT_TRUE(ValidAccompanyConfig({true, true, -1, 0, 0, 100}));
  EXPECT_FALSE(ValidAccompanyConfig({true, false, 0, 0, 100, 100})) << "no cycle";
  EXPECT_FALSE(ValidAccompanyConfig({true, false, -2, 0, 100, 100}));
  EXPECT_FALSE(ValidAccompanyConfig({true, false, 1, -1, 100, 100})) << "a start before the file";
  EXPECT_FALSE(ValidAccompanyConfig({true, false, 1, 0, 101, 100}));
  EXPECT_FALSE(ValidAccompanyConfig({true, false, 1, 0, 100, -1}));
}

TEST_F(Accompany, PlaysPausesResumesAndStops) {
  config.audio_playout = "device:speaker";
  EXPECT_EQ(control.PositionMs(), -1);
  control.Start("/music.ogg", {false, true, 3, 500, 40, 60});
  ASSERT_EQ(media.accompaniments.size(), 1u);
  const media::AccompanyOptions& o = media.accompaniments[0]->options;
  EXPECT_EQ(o.path, "/music.ogg");
  EXPECT_EQ(o.playout, "device:speaker");
  EXPECT_FALSE(o.local_play);
  EXPECT_TRUE(o.replace_mic);
  EXPECT_EQ(o.loop_cycles, 3);
  EXPECT_EQ(o.start_ms, 500);
  EXPECT_EQ(o.publish_volume, 40);
  EXPECT_EQ(o.playout_volume, 60);
  EXPECT_TRUE(control.active());
  EXPECT_EQ(control.PositionMs(), 1234);
  EXPECT_EQ(control.DurationMs(), 5000);
  control.Pause();
  control.Pause();  // once is enough
  control.SetVolumes(10, -1);
  control.Seek(2000);
  control.Resume();
  control.Stop();
  EXPECT_FALSE(media.accompaniments[0]->alive);
  EXPECT_FALSE(control.active());
  EXPECT_EQ(control.PositionMs(), -1);
  EXPECT_EQ(media.accompaniments[0]->calls,
            (std::vector<std::string>{"pause", "volumes 10 60", "seek 2000", "resume"}));
  EXPECT_EQ(events, (std::vector<std::string>{"accompany started", "accompany paused", "accompany resumed",
                                              "accompany stopped"}));
}

TEST_F(Accompany, TheEndOfTheLastCycleIsToldOnceAndAReplacedOneIsNot) {
  control.Start("/a.ogg", {});
  auto first = media.accompaniments[0];
  control.Start("/b.ogg", {});  // replaces the first
  EXPECT_FALSE(first->alive);
  first->on_end();  // already on its way
  first->on_error(0x01090003, "late");
  Run();
  EXPECT_TRUE(control.active());
  media.accompaniments[1]->on_end();
  Run();
  EXPECT_FALSE(control.active());
  EXPECT_FALSE(media.accompaniments[1]->alive);
  EXPECT_EQ(events, (std::vector<std::string>{"accompany started", "accompany started", "accompany ended"}));
}

TEST_F(Accompany, AFileThatIsNotAudioFails) {
  media.accompany_error = MakeError(Errc::kMediaFileOpenFailed, "no audio");
  control.Asked();
  control.Start("/picture.png", {});
  EXPECT_FALSE(control.active());
  EXPECT_EQ(events, (std::vector<std::string>{"accompany failed 0x01090003", "error 0x01090003"}));
  media.accompany_error.reset();
  control.Start("/a.ogg", {});
  media.accompaniments[0]->on_error(0x01090003, "decoding stopped");
  Run();
  EXPECT_FALSE(control.active());
  EXPECT_EQ(events.back(), "error 0x01090003");
  EXPECT_EQ(events[events.size() - 2], "accompany failed 0x01090003");
}

}  // namespace
}  // namespace parley::sdk::call
