// Publishing a media file: which file a publish opens, and the state changes that
// pause, resume and seek report (against a fake playback).
#include "call/file_control.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::sdk::call {
namespace {

class FakePlayback : public media::FilePlayback {
 public:
  Status Play() override { return Set(media::FileState::kPlaying); }
  Status Pause() override { return Set(media::FileState::kPaused); }
  Status Seek(int64_t position_ms) override {
    if (position_ms > 1000) return MakeError(Errc::kPublishConfigInvalid, "past the end");
    position_ = position_ms;
    return {};
  }
  [[nodiscard]] int64_t PositionMs() const override { return position_; }
  [[nodiscard]] int64_t DurationMs() const override { return 1000; }
  [[nodiscard]] media::FileState state() const override { return state_; }

 private:
  Status Set(media::FileState s) {
    if (state_ == media::FileState::kEnded) return MakeError(Errc::kPublishStreamNotExist, "ended");
    state_ = s;
    return {};
  }
  media::FileState state_ = media::FileState::kPaused;
  int64_t position_ = 0;
};

TEST(CallFileControl, APublishOpensTheOneFileItsSourcesName) {
  EXPECT_FALSE(*FileFor("test:tone", "test:ball", true, true));
  EXPECT_FALSE(*FileFor("file:/a.webm", "test:ball", false, true)) << "audio not asked for";
  EXPECT_EQ(**FileFor("file:/a.webm", "test:ball", true, true), (FileToOpen{"/a.webm", true, false}));
  // One file for both: it feeds both inputs even when this publish asks for one.
  EXPECT_EQ(**FileFor("file:/a.webm", "file:/a.webm", false, true), (FileToOpen{"/a.webm", true, true}));
  auto two = FileFor("file:/a.webm", "file:/b.webm", true, false);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, Errc::kPublishConfigInvalid);
  EXPECT_TRUE(IsFileSource("file:x"));
  EXPECT_FALSE(IsFileSource("device:file:x"));
}

TEST(CallFileControl, AnOperationReportsTheStateOnlyWhenItChanged) {
  FakePlayback p;
  auto play = [](media::FilePlayback& f) { return f.Play(); };
  auto played = RunFileOp(p, play);
  ASSERT_TRUE(played);
  EXPECT_EQ(*played, MediaFileState::kPlaying);
  auto again = RunFileOp(p, play);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "already playing: nothing to report";
  auto seek = RunFileOp(p, [](media::FilePlayback& f) { return f.Seek(2000); });
  ASSERT_FALSE(seek);
  EXPECT_EQ(seek.error().code, Errc::kPublishConfigInvalid);
  EXPECT_EQ(ToApi(media::FileState::kEnded), MediaFileState::kEnded);
  EXPECT_EQ(ToApi(media::FileState::kPaused), MediaFileState::kPaused);
}

}  // namespace
}  // namespace parley::sdk::call
