// The media seam on GStreamer: results reach the engine through its queue, never
// inline (the engine's code is written as continuations), and they carry values, so
// a connection dropped before its result is handled is no danger.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/media.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::media {
namespace {

class GstMediaFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitMedia());
    factory_ = MakeMediaFactory([this](std::function<void()> fn) {
      std::lock_guard<std::mutex> lock(mu_);  // statistics are posted from media threads
      queue_.push_back(std::move(fn));
      cv_.notify_all();
    });
  }
  /// Runs what the factory posted, in order, as the engine loop would.
  size_t RunQueue() {
    size_t n = 0;
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) return n;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
      ++n;
    }
  }
  /// Waits, within the bound of the media seam and some slack, for a posted result.
  bool WaitForPosted() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(3), [this] { return !queue_.empty(); });
  }
  std::unique_ptr<PublishConnection> AudioPublisher() {
    PublishOptions o;
    o.audio = true;
    o.audio_source = "test:silence";
    o.ice.addresses = {"127.0.0.1"};
    auto p = factory_->CreatePublisher(o, [](int32_t, const std::string&) {});
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::unique_ptr<MediaFactory> factory_;
};

TEST_F(GstMediaFactory, DoneIsPostedNeverRunInline) {
  auto pub = AudioPublisher();
  ASSERT_TRUE(pub);
  int calls = 0;
  std::string sdp;
  pub->CreateOffer([&](Result<std::string> offer) {
    ++calls;
    if (offer) sdp = *offer;
  });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(RunQueue(), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(sdp.find("m=audio"), std::string::npos) << sdp;

  pub->CollectStats([&](RtpTotals t) {
    ++calls;
    EXPECT_EQ(t.bytes_received, 0u);
  });
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(WaitForPosted());  // the reply (or the 1 s bound) comes on a media thread
  EXPECT_EQ(RunQueue(), 1u);
  EXPECT_EQ(calls, 2);
}

TEST_F(GstMediaFactory, AResultOutlivesTheConnectionItCameFrom) {
  auto pub = AudioPublisher();
  ASSERT_TRUE(pub);
  std::vector<Errc> got;
  pub->SetAnswer("not sdp", [&](const Status& st) { got.push_back(st ? Errc::kOk : st.error().code); });
  pub.reset();  // dropped before the engine handles the answer's outcome
  EXPECT_EQ(RunQueue(), 1u);
  EXPECT_EQ(got, std::vector<Errc>{Errc::kInvalidSdp});
}

TEST_F(GstMediaFactory, InputsRefuseFramesUntilAPublisherTakesThem) {
  std::vector<int16_t> pcm(480, 0);
  EXPECT_EQ(factory_->AudioInput().PushAudio(pcm.data(), pcm.size(), 48000, 1, true),
            static_cast<int32_t>(Errc::kPublishStreamNotExist));
  PublishOptions o;
  o.audio = true;
  o.audio_source = "external";
  o.ice.addresses = {"127.0.0.1"};
  auto pub = factory_->CreatePublisher(o, [](int32_t, const std::string&) {});
  ASSERT_TRUE(pub) << pub.error().message;
  (*pub)->AttachInputs();
  EXPECT_EQ(factory_->AudioInput().PushAudio(pcm.data(), pcm.size(), 48000, 1, true), 0);
}

}  // namespace
}  // namespace parley::sdk::media
