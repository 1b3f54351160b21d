// The REMB parser (draft-alvestrand-rmcat-remb-03 §2.2) and one subscriber's downstream
// estimate: when video to it pauses and resumes. Time is passed in; nothing sleeps.
#include "sfu/downstream_estimate.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sfu/rtp.hpp"
#include "sfu/seq_rewriter.hpp"

namespace parley::sfu {
namespace {

RtcpView View(const std::vector<uint8_t>& p) {
  RtcpView v;
  v.type = p.size() > 1 ? p[1] : 0;
  v.count = p.empty() ? 0 : p[0] & 0x1F;
  v.data = p;
  return v;
}

// draft §2.2 layout: V=2 FMT=15 PT=206 length=5, sender SSRC, media SSRC 0, "REMB",
// Num SSRC 1, BR Exp 2, BR Mantissa 0x2D9E4 (186852), then the one SSRC.
const std::vector<uint8_t> kRemb = {0x8F, 0xCE, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
                                    'R',  'E',  'M',  'B',  0x01, 0x0A, 0xD9, 0xE4, 0xAA, 0xBB, 0xCC, 0xDD};

TEST(Remb, ParsesTheDraftLayout) {
  auto r = ParseRemb(View(kRemb));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bitrate_bps, 186852u << 2);
  EXPECT_EQ(r->ssrc_count, 1);
  // ... and inside a compound packet, after a receiver report.
  std::vector<uint8_t> compound = {0x80, 0xC9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};
  compound.insert(compound.end(), kRemb.begin(), kRemb.end());
  int rembs = 0;
  for (RtcpIterator it(compound); !it.done(); it.Next())
    if (auto x = ParseRemb(*it)) {
      ++rembs;
      EXPECT_EQ(x->bitrate_bps, 747408u);
    }
  EXPECT_EQ(rembs, 1);
}

TEST(Remb, RejectsTruncatedForeignAndOverlongSsrcLists) {
  // Every truncation: the parser reads nothing past the view (a fuzzer's first finding).
  for (size_t n = 0; n < kRemb.size(); ++n) {
    std::vector<uint8_t> cut(kRemb.begin(), kRemb.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(ParseRemb(View(cut))) << n << " bytes";
  }
  auto other = kRemb;
  other[15] = 'X';  // another application's FMT 15 message
  EXPECT_FALSE(ParseRemb(View(other)));
  auto pli = kRemb;
  pli[0] = 0x81;  // FMT 1: a PLI
  EXPECT_FALSE(ParseRemb(View(pli)));
  auto many = kRemb;
  many[16] = 2;  // claims two SSRCs, carries one
  EXPECT_FALSE(ParseRemb(View(many)));
  auto none = std::vector<uint8_t>(kRemb.begin(), kRemb.begin() + 20);
  none[3] = 4;
  none[16] = 0;  // no SSRC list at all is well-formed
  EXPECT_TRUE(ParseRemb(View(none)));
}

TEST(Remb, ExtremeExponentsSaturateInsteadOfOverflowing) {
  auto p = kRemb;
  p[17] = static_cast<uint8_t>((46 << 2) | 0x03);  // 18 set bits << 46: still fits
  p[18] = p[19] = 0xFF;
  EXPECT_EQ(ParseRemb(View(p))->bitrate_bps, 0x3FFFFull << 46);
  p[17] = static_cast<uint8_t>((63 << 2) | 0x03);
  EXPECT_EQ(ParseRemb(View(p))->bitrate_bps, UINT64_MAX);
  p[17] = 63 << 2;  // exponent 63 with mantissa 1: 2^63 fits
  p[18] = 0;
  p[19] = 1;
  EXPECT_EQ(ParseRemb(View(p))->bitrate_bps, 1ull << 63);
}

TEST(Remb, TheWriterRoundTripsToEighteenBitsOfPrecision) {
  const uint32_t ssrcs[] = {1, 2, 3};
  for (uint64_t bps : {0ull, 1ull, 262143ull, 262144ull, 300'000ull, 2'500'000ull, 1'000'000'000'000ull}) {
    uint8_t buf[64];
    size_t n = WriteRemb(buf, sizeof buf, 7, bps, ssrcs);
    ASSERT_EQ(n, 32u);
    std::vector<uint8_t> packet(buf, buf + n);
    ASSERT_TRUE(IsValidRtcp(packet));
    auto r = ParseRemb(View(packet));
    ASSERT_TRUE(r) << bps;
    EXPECT_LE(r->bitrate_bps, bps);
    EXPECT_GE(r->bitrate_bps, bps - bps / (1u << 17)) << bps;
    EXPECT_EQ(r->ssrc_count, 3);
  }
  uint8_t small[24];
  EXPECT_EQ(WriteRemb(small, sizeof small, 7, 1000, ssrcs), 0u);  // does not fit
}

constexpr int64_t kTick = 20'000;  // the worker's tick
constexpr int64_t kSecond = 1'000'000;

// A subscriber that is offered `video_bps` of video (and sent it while allowed), ticked
// like the worker does. Feedback is given per call.
struct Subscriber {
  explicit Subscriber(DownstreamOptions o = {}) : e(o) {}
  DownstreamEstimate e;
  int64_t now = 1'000;
  int paused = 0, resumed = 0;
  bool lower_layer = false;  ///< the video offered is a layer above its source's smallest

  void Run(int64_t duration, uint64_t video_bps, uint64_t remb_bps = 0, int loss = -1) {
    for (int64_t end = now + duration; now < end; now += kTick) {
      size_t bytes = static_cast<size_t>(video_bps / 8 * kTick / kSecond);
      e.OnVideoOffered(bytes, lower_layer);
      if (e.video_allowed()) e.OnSent(bytes);
      if ((now / kTick) % 50 == 0) {  // feedback once a second, as Chromium sends REMB and RR
        if (remb_bps) e.OnEstimate(remb_bps, now);
        if (loss >= 0) e.OnLoss(0xA0D10, static_cast<uint8_t>(loss), now);
      }
      switch (e.Update(now)) {
        case DownstreamEstimate::Change::kPaused: ++paused; break;
        case DownstreamEstimate::Change::kResumed: ++resumed; break;
        case DownstreamEstimate::Change::kNone: break;
      }
    }
  }
};

TEST(DownstreamEstimate, MeasuresOfferedVideoAndSentRates) {
  Subscriber s;
  s.Run(3 * kSecond, 1'000'000);
  EXPECT_NEAR(static_cast<double>(s.e.video_bps()), 1e6, 2e4);
  EXPECT_NEAR(static_cast<double>(s.e.sent_bps()), 1e6, 2e4);
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.e.estimate_bps(s.now), 0u);
}

TEST(DownstreamEstimate, WithoutFeedbackVideoIsNeverPaused) {
  Subscriber s;
  s.Run(20 * kSecond, 5'000'000);
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 0);
}

TEST(DownstreamEstimate, PausesWhenRembStaysBelowTheVideoRateForTwoSeconds) {
  Subscriber s;
  s.Run(2 * kSecond, 1'000'000, 2'000'000);  // enough room: video flows
  EXPECT_TRUE(s.e.video_allowed());
  s.Run(1900 * 1000, 1'000'000, 700'000);  // 70 % of the video rate, for 1.9 s: not yet
  EXPECT_TRUE(s.e.video_allowed());
  s.Run(200 * 1000, 1'000'000, 700'000);
  EXPECT_FALSE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 1);
  EXPECT_EQ(s.e.sent_bps(), 1'000'000u);  // the window before the pause
  s.Run(kSecond + kTick, 1'000'000, 700'000);
  EXPECT_EQ(s.e.sent_bps(), 0u);                                // nothing sent while paused ...
  EXPECT_NEAR(static_cast<double>(s.e.video_bps()), 1e6, 2e4);  // ... but still offered
}

// A simulcast layer with a smaller one below it is the layer switch's to move down, not
// the pause's: only what cannot get smaller is weighed.
TEST(DownstreamEstimate, VideoThatCouldGoAsASmallerLayerDoesNotPause) {
  Subscriber s;
  s.lower_layer = true;
  s.Run(6 * kSecond, 1'000'000, 300'000);
  EXPECT_EQ(s.paused, 0);
  EXPECT_NEAR(static_cast<double>(s.e.video_bps()), 1e6, 2e4) << "still the video offered (the pacer's rate)";
  EXPECT_EQ(s.e.floor_bps(), 0u);
  s.lower_layer = false;  // on its smallest layer now, and still too much
  s.Run(4 * kSecond, 1'000'000, 300'000);
  EXPECT_EQ(s.paused, 1);
}

// After a switch to a smaller layer the REMB rule waits (Settle): the larger layer's
// queue drains and the estimate recovers.
TEST(DownstreamEstimate, SettlingAfterASwitchDownDelaysThePause) {
  Subscriber s;
  s.Run(kSecond, 1'000'000);
  s.e.Settle(s.now + 4 * kSecond);
  s.Run(4 * kSecond, 1'000'000, 300'000);
  EXPECT_EQ(s.paused, 0);
  s.Run(3 * kSecond, 1'000'000, 300'000);  // still low once settled: paused
  EXPECT_EQ(s.paused, 1);
}

TEST(DownstreamEstimate, AShortDipOrAModestShortfallDoesNotPause) {
  Subscriber s;
  s.Run(2 * kSecond, 1'000'000, 2'000'000);
  s.Run(1500 * 1000, 1'000'000, 300'000);  // a 1.5 s dip
  s.Run(5 * kSecond, 1'000'000, 2'000'000);
  s.Run(10 * kSecond, 1'000'000, 850'000);  // 85 %: within the margin
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 0);
}

// The rules on the REMB alone, without the trials a pause also ends with.
DownstreamOptions NoTrials(DownstreamOptions o = {}) {
  o.retry_after_us = o.retry_max_us = 1'000 * kSecond;
  return o;
}

TEST(DownstreamEstimate, ResumesOnlyAfterTheEstimateHeldAboveTheVideoRateForThreeSeconds) {
  Subscriber s(NoTrials());
  s.Run(2 * kSecond, 1'000'000, 2'000'000);
  s.Run(3 * kSecond, 1'000'000, 500'000);
  ASSERT_FALSE(s.e.video_allowed());
  s.Run(6 * kSecond, 1'000'000, 1'200'000);  // above the rate, not 1.3x: stays paused
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(2900 * 1000, 1'000'000, 1'400'000);
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(200 * 1000, 1'000'000, 1'400'000);
  EXPECT_TRUE(s.e.video_allowed());
  s.Run(10 * kSecond, 1'000'000, 1'400'000);
  EXPECT_EQ(s.paused, 1);
  EXPECT_EQ(s.resumed, 1);  // reported once: one keyframe request
}

// The loss rule is off by default; these turn it on at 25 %.
DownstreamOptions LossRule() {
  DownstreamOptions o;
  o.pause_loss = 64;
  return o;
}

TEST(DownstreamEstimate, ByDefaultRandomLossAloneNeverPausesVideo) {
  Subscriber s;
  s.Run(20 * kSecond, 1'000'000, 0, 77);  // 30 %
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 0);
}

TEST(DownstreamEstimate, AfterALowRembVideoResumesOnTheRembDespiteRandomLoss) {
  Subscriber s;
  s.Run(2 * kSecond, 1'000'000, 2'000'000, 26);  // 10 % loss throughout
  s.Run(3 * kSecond, 1'000'000, 500'000, 26);
  ASSERT_FALSE(s.e.video_allowed());
  s.Run(3100 * 1000, 1'000'000, 2'000'000, 26);
  EXPECT_TRUE(s.e.video_allowed());
}

TEST(DownstreamEstimate, PausesOnSustainedLossAndResumesWhenItEnds) {
  Subscriber s(LossRule());
  s.Run(2 * kSecond, 1'000'000, 0, 77);  // 30 %
  EXPECT_TRUE(s.e.video_allowed());
  s.Run(2 * kSecond, 1'000'000, 0, 77);
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(5 * kSecond, 1'000'000, 0, 20);  // 8 %: better, not good
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(3100 * 1000, 1'000'000, 0, 5);  // 2 %
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.resumed, 1);
}

TEST(DownstreamEstimate, APauseThatDoesNotLowerTheLossEndsAndTheLossRuleRests) {
  Subscriber s(LossRule());
  s.Run(3100 * 1000, 1'000'000, 0, 77);  // 30 % random loss: video pauses ...
  ASSERT_FALSE(s.e.video_allowed());
  s.Run(3 * kSecond, 1'000'000, 0, 70);  // ... and the loss stays (above 80 % of 30 %)
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.resumed, 1);
  s.Run(25 * kSecond, 1'000'000, 0, 77);  // the loss rule rests: video stays
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 1);
  s.Run(9 * kSecond, 1'000'000, 0, 77);  // 30 s after, it is tried again (3 s more)
  EXPECT_EQ(s.paused, 2);
  // A REMB that stays low keeps video paused whatever the loss does (trials aside).
  Subscriber r(NoTrials(LossRule()));
  r.Run(2 * kSecond, 1'000'000, 2'000'000);
  r.Run(4 * kSecond, 1'000'000, 300'000, 77);
  ASSERT_FALSE(r.e.video_allowed());
  r.Run(10 * kSecond, 1'000'000, 300'000, 77);
  EXPECT_FALSE(r.e.video_allowed());
}

TEST(DownstreamEstimate, TheWorstFreshStreamCounts) {
  DownstreamEstimate e;
  e.OnLoss(1, 0, 1'000);   // a paused video stream: nothing expected, nothing lost
  e.OnLoss(2, 90, 2'000);  // the audio stream
  e.OnLoss(1, 0, 3'000);
  EXPECT_EQ(e.loss(3'000), 90);
  EXPECT_EQ(e.loss(2'000 + 5 * kSecond + 1), 0);  // the audio report went stale
  // More streams than entries: the stalest entry is reused, nothing grows.
  for (uint32_t ssrc = 10; ssrc < 100; ++ssrc) e.OnLoss(ssrc, static_cast<uint8_t>(ssrc), 10'000 + ssrc);
  EXPECT_EQ(e.loss(10'100), 99);
}

TEST(DownstreamEstimate, AStaleLowRembDoesNotKeepVideoOffForever) {
  Subscriber s(NoTrials());
  s.Run(2 * kSecond, 1'000'000, 2'000'000);
  s.Run(3 * kSecond, 1'000'000, 500'000);
  ASSERT_FALSE(s.e.video_allowed());
  s.Run(7 * kSecond, 1'000'000);  // the client stops sending REMB
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(2 * kSecond, 1'000'000);  // 5 s stale + 3 s good
  EXPECT_TRUE(s.e.video_allowed());
}

// Chromium's receive-side estimate grows only to 1.5x what arrives: paused, it stays
// low whatever the link can do. The pause is tried again (video resumes on trial).
TEST(DownstreamEstimate, APausedReceiverWhoseRembCannotRiseGetsItsVideoBackOnTrial) {
  Subscriber s;
  s.Run(2 * kSecond, 1'000'000, 2'000'000);
  s.Run(2100 * 1000, 1'000'000, 100'000);  // the estimate collapses: paused
  ASSERT_FALSE(s.e.video_allowed());
  s.Run(3800 * 1000, 1'000'000, 100'000);  // still low (it cannot rise while paused)
  EXPECT_FALSE(s.e.video_allowed());
  s.Run(300 * 1000, 1'000'000, 100'000);  // 4 s after the pause: on trial
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.e.trials(), 1u);
  // The link was fine: with video arriving the estimate climbs (a rising REMB is
  // forgiven while it trails the rate), and video stays.
  for (uint64_t remb = 110'000; remb < 2'000'000; remb = remb * 111 / 100) s.Run(kSecond, 1'000'000, remb);
  s.Run(15 * kSecond, 1'000'000, 2'000'000);
  EXPECT_TRUE(s.e.video_allowed());
  EXPECT_EQ(s.paused, 1);
  EXPECT_EQ(s.resumed, 1);
}

// Each pause-to-trial wait, in ms, while the REMB stays low for `seconds`.
std::vector<int64_t> TrialWaits(Subscriber& s, int64_t seconds) {
  std::vector<int64_t> waits;
  int64_t paused_at = -1;
  for (int64_t end = s.now + seconds * kSecond; s.now < end;) {
    int paused = s.paused, resumed = s.resumed;
    s.Run(kTick, 1'000'000, 100'000);
    if (s.paused > paused) paused_at = s.now;
    if (s.resumed > resumed && paused_at >= 0) waits.push_back((s.now - paused_at) / 1000);
  }
  return waits;
}

TEST(DownstreamEstimate, TrialsThatFailBackOffToThirtyTwoSecondsAndOneThatHeldResetsThem) {
  Subscriber s;
  s.Run(2 * kSecond, 1'000'000, 2'000'000);
  // A link that stays too thin: each trial brings the pause back after 2 s, and the
  // next one waits twice as long, up to 32 s.
  std::vector<int64_t> waits = TrialWaits(s, 4 + 2 + 8 + 2 + 16 + 2 + 32 + 2 + 32 + 3);
  ASSERT_EQ(waits.size(), 5u);
  const double want[] = {4000, 8000, 16000, 32000, 32000};
  for (size_t i = 0; i < waits.size(); ++i) EXPECT_NEAR(static_cast<double>(waits[i]), want[i], 40) << i;
  EXPECT_EQ(s.e.trials(), 5u);
  // The last trial held (the link came back) for 10 s: the next pause waits 4 s again.
  s.Run(11 * kSecond, 1'000'000, 2'000'000);
  ASSERT_TRUE(s.e.video_allowed());
  waits = TrialWaits(s, 2 + 4 + 1);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_NEAR(static_cast<double>(waits[0]), 4000, 40);
}

// While video to a subscriber is paused its copies are not sent: when it resumes, the
// stream continues right after the last number sent (no gap the subscriber would NACK),
// and its timestamps keep moving in real time.
TEST(DownstreamPause, VideoResumesRightAfterTheLastSentNumber) {
  SeqRewriter n(1000, 5000);
  for (uint16_t seq = 10; seq < 13; ++seq) {
    n.OnInput(0xCA, seq, seq * 3000u, 3000);
    n.OnSent(n.Apply(seq, seq * 3000u));
  }
  EXPECT_EQ(n.Apply(12, 36000).seq, 1002);
  for (uint16_t seq = 13; seq < 400; ++seq) n.Skipped();  // paused
  n.OnInput(0xCA, 400, 1'200'000, 3000);
  auto out = n.Apply(400, 1'200'000);
  n.OnSent(out);
  EXPECT_EQ(out.seq, 1003);
  EXPECT_EQ(out.ts - n.Apply(12, 36000).ts, 1'200'000u - 36000u);
  n.OnInput(0xCA, 401, 1'203'000, 3000);
  EXPECT_EQ(n.Apply(401, 1'203'000).seq, 1004);  // and on from there
  EXPECT_EQ(n.InputSeq(1004), 401);              // NACKs find the right packet
  EXPECT_TRUE(n.Current(1003));
  EXPECT_FALSE(n.Current(1002));  // sent before the pause: it would name packet 399 now
  // Skipping before anything was sent changes nothing: the first number is still the first.
  SeqRewriter fresh(7, 0);
  fresh.Skipped();
  fresh.OnInput(0xCB, 900, 0, 3000);
  EXPECT_EQ(fresh.Apply(900, 0).seq, 7);
}

}  // namespace
}  // namespace parley::sfu
