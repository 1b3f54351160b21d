// SeqRewriter: the numbers a subscriber sees on one forwarded stream.
#include "sfu/seq_rewriter.hpp"

#include <gtest/gtest.h>

namespace parley::sfu {
namespace {

constexpr uint32_t kVideoFrame = 3000, kAudioFrame = 960;

// Feeds and "sends" input packets seq..seq+count-1 (one frame apart) on `ssrc`.
SeqRewriter::Out Forward(SeqRewriter& r, uint32_t ssrc, uint16_t seq, uint32_t ts, int count, uint32_t frame) {
  SeqRewriter::Out out;
  for (int i = 0; i < count; ++i) {
    auto s = static_cast<uint16_t>(seq + i);
    uint32_t t = ts + frame * static_cast<uint32_t>(i);
    r.OnInput(ssrc, s, t, frame);
    out = r.Apply(s, t);
    r.OnSent(out);
  }
  return out;
}

TEST(SeqRewriter, StartsAtTheGivenRandomNumber) {
  SeqRewriter r(40000, 777);
  EXPECT_FALSE(r.started());
  r.OnInput(0xAAAA, 12, 900000, kVideoFrame);
  EXPECT_TRUE(r.started());
  EXPECT_EQ(r.input_ssrc(), 0xAAAAu);
  EXPECT_EQ(r.Apply(12, 900000).seq, 40000) << "the publisher's first number maps to ours";
  EXPECT_EQ(r.Apply(12, 900000).ts, 900000u) << "timestamps pass through until a restart";
  EXPECT_EQ(r.Apply(13, 903000).seq, 40001);
  EXPECT_EQ(r.Apply(11, 897000).seq, 39999) << "reordered input keeps its place";
  EXPECT_EQ(r.NextRtxSeq(), 777) << "the RTX stream numbers from its own start";
  EXPECT_EQ(r.NextRtxSeq(), 778);
  SeqRewriter wrap(65535, 65535);
  wrap.OnInput(1, 0, 0, kAudioFrame);
  EXPECT_EQ(wrap.Apply(1, 960).seq, 0);
  EXPECT_EQ(wrap.NextRtxSeq(), 65535);
  EXPECT_EQ(wrap.NextRtxSeq(), 0);
}

TEST(SeqRewriter, PublisherRestartContinuesRightAfterTheLastSent) {
  SeqRewriter video(100, 0);
  SeqRewriter::Out last = Forward(video, 1, 5000, 1'000'000, 10, kVideoFrame);
  EXPECT_EQ(last.seq, 109);
  // A new SSRC with unrelated numbers: the subscriber's stream goes on by one packet
  // and one frame.
  video.OnInput(2, 77, 42, kVideoFrame);
  EXPECT_EQ(video.input_ssrc(), 2u);
  EXPECT_EQ(video.Apply(77, 42).seq, 110);
  EXPECT_EQ(video.Apply(77, 42).ts, last.ts + 3000);
  EXPECT_EQ(video.Apply(78, 42 + 3000).seq, 111);

  SeqRewriter audio(65530, 0);
  last = Forward(audio, 1, 100, 5000, 10, kAudioFrame);  // crosses 65535
  EXPECT_EQ(last.seq, 3);
  audio.OnInput(9, 30000, 7, kAudioFrame);
  EXPECT_EQ(audio.Apply(30000, 7).seq, 4);
  EXPECT_EQ(audio.Apply(30000, 7).ts, last.ts + 960);
}

TEST(SeqRewriter, RetransmissionDoesNotMoveTheHighestSent) {
  SeqRewriter r(1000, 0);
  SeqRewriter::Out last = Forward(r, 1, 0, 0, 5, kVideoFrame);  // out 1000..1004
  ASSERT_EQ(last.seq, 1004);
  r.OnSent(r.Apply(2, 6000));  // 1002 again, on the media SSRC (no RTX negotiated)
  r.OnInput(2, 500, 123, kVideoFrame);
  EXPECT_EQ(r.Apply(500, 123).seq, 1005) << "continues after 1004, not after 1002";
  EXPECT_EQ(r.Apply(500, 123).ts, last.ts + 3000);
}

TEST(SeqRewriter, InputSeqInvertsApply) {
  SeqRewriter r(65000, 0);
  r.OnInput(1, 30000, 0, kVideoFrame);
  for (uint32_t s : {30000u, 30001u, 29999u, 65535u, 0u, 1u, 31000u})
    EXPECT_EQ(r.InputSeq(r.Apply(static_cast<uint16_t>(s), 0).seq), s);
  Forward(r, 1, 30000, 0, 3, kVideoFrame);
  r.OnInput(2, 10, 0, kVideoFrame);  // after a restart, too
  for (uint32_t s : {10u, 11u, 9u, 65535u}) EXPECT_EQ(r.InputSeq(r.Apply(static_cast<uint16_t>(s), 0).seq), s);
}

}  // namespace
}  // namespace parley::sfu
