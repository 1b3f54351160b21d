// ChannelMedia against a real media worker on 127.0.0.1: what each control call
// negotiates (SDP, sections, SSRCs from an injected source) and what it leaves on the
// worker (transports, routes), read back on the worker thread. No packets flow, so
// nothing here depends on time.
#include "sfu/media_plane.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "../on_worker.hpp"
#include "sdp_fixtures.hpp"

namespace parley::sfu {
namespace {

using namespace sdp_fixtures;

SdpSession Parsed(const std::string& text) {
  auto sdp = ParseSdp(text);
  EXPECT_TRUE(sdp.ok()) << (sdp.ok() ? "" : sdp.error().What());
  return sdp.ok() ? *sdp : SdpSession{};
}

// Named as the unit it tests, so the tests read ChannelMedia.*; inside this file the
// unit itself is spelled sfu::ChannelMedia.
class ChannelMedia : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::shared_ptr<DtlsCertificate> cert = *DtlsCertificate::Generate();
    auto w = MediaWorker::Create("127.0.0.1", 0, cert);
    ASSERT_TRUE(w.ok());
    worker_ = std::move(*w);
    worker_->Start();
    plane_ = std::make_unique<MediaPlane>(std::vector<MediaWorker*>{worker_.get()}, "127.0.0.1",
                                          [this] { return next_ssrc_++; });
    media_ = plane_->OpenChannel(0);
  }
  void TearDown() override {
    media_.reset();
    plane_.reset();
    if (worker_) worker_->Stop();
  }

  uint64_t PublishId(SessionId s) const {
    auto st = media_->PublishStatus(s);
    return st ? st->transport_id : 0;
  }
  uint64_t SubscribeId(SessionId s) const {
    auto st = media_->SubscribeStatus(s);
    return st ? st->transport_id : 0;
  }
  std::vector<std::pair<uint64_t, RouteSpec>> Routes(uint64_t publisher) {
    return OnWorker(*worker_, [&] { return worker_->RoutesFrom(publisher); });
  }
  bool Exists(uint64_t transport) {
    return OnWorker(*worker_, [&] { return worker_->FindTransport(transport) != nullptr; });
  }

  uint32_t next_ssrc_ = 5000;
  std::unique_ptr<MediaWorker> worker_;
  std::unique_ptr<MediaPlane> plane_;
  std::unique_ptr<sfu::ChannelMedia> media_;
};

constexpr SessionId kAlice = 11, kBob = 12, kCarol = 13, kDave = 14;
const TrackSet kAll{TrackKind::kAudio, TrackKind::kCamera, TrackKind::kScreen};

TEST_F(ChannelMedia, PublishMapsAudioCameraScreenToSectionsInOrder) {
  // Video first in the offer: camera still takes the first video section, screen the next.
  auto answer = media_->Publish(kAlice, PublishOffer({{true, 2001, 2002}, {false, 1001}, {true, 3001, 3002}}), kAll);
  ASSERT_TRUE(answer.ok()) << answer.error().What();
  SdpSession sdp = Parsed(*answer);
  ASSERT_EQ(sdp.media.size(), 3u);
  EXPECT_TRUE(sdp.ice_lite);
  EXPECT_EQ(sdp.media[0].fingerprint, worker_->certificate()->fingerprint());
  EXPECT_EQ(sdp.media[0].ice_ufrag.size(), 10u);  // the worker's index, then 4 random bytes, in hex
  EXPECT_EQ(sdp.media[0].ice_ufrag.substr(0, 2), "00");
  EXPECT_EQ(sdp.media[0].ice_pwd.size(), 24u);  // 12 random bytes in hex
  ASSERT_TRUE(media_->IsPublishing(kAlice));
  uint64_t pub = PublishId(kAlice);
  ASSERT_TRUE(Exists(pub));
  auto inbound = OnWorker(*worker_, [&] {
    Transport* t = worker_->FindTransport(pub);
    std::vector<uint32_t> ssrcs;
    for (size_t i = 0; i < t->inbound_track_count(); ++i) ssrcs.push_back(t->inbound_track(i).ssrc);
    return std::make_pair(ssrcs, t->params().ext_transport_cc);
  });
  EXPECT_EQ(inbound.first, (std::vector<uint32_t>{2001, 1001, 3001}));
  EXPECT_EQ(inbound.second, 3);  // one extension id for the bundle

  // A subscriber to everything gets one route per track, to the track's section index.
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", kAll).ok());
  auto routes = Routes(pub);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].second.track, 1u);  // audio
  EXPECT_EQ(routes[1].second.track, 0u);  // camera
  EXPECT_EQ(routes[2].second.track, 2u);  // screen
  for (const auto& r : routes) EXPECT_EQ(r.first, SubscribeId(kBob));

  // Screen alone on an audio + video offer: screen takes the first video section.
  ASSERT_TRUE(media_->Publish(kCarol, kAudioVideo, {TrackKind::kScreen}).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kCarol, "carol", {TrackKind::kScreen}).ok());
  auto carol = Routes(PublishId(kCarol));
  ASSERT_EQ(carol.size(), 1u);
  EXPECT_EQ(carol[0].second.track, 1u);
}

// The native SDK's dual stream: the camera as two sections (small, then big), each
// one layer of one source; the screen takes the section after them.
TEST_F(ChannelMedia, CameraLayersTakeConsecutiveVideoSectionsSmallestFirst) {
  auto answer =
      media_->Publish(kAlice, PublishOffer({{false, 1001}, {true, 2001, 2002}, {true, 2101, 2102}, {true, 3001, 3002}}),
                      kAll, Platform::kNative, 2);
  ASSERT_TRUE(answer.ok()) << answer.error().What();
  uint64_t pub = PublishId(kAlice);
  auto inbound = OnWorker(*worker_, [&] {
    Transport* t = worker_->FindTransport(pub);
    std::vector<std::tuple<uint32_t, int, int, std::string>> out;
    for (size_t i = 0; i < t->inbound_track_count(); ++i) {
      const InboundTrack& in = t->inbound_track(i);
      out.emplace_back(in.ssrc, in.layer, in.layers, in.mid);
    }
    return out;
  });
  using L = std::tuple<uint32_t, int, int, std::string>;
  EXPECT_EQ(inbound, (std::vector<L>{L{1001, 0, 1, "0"}, L{2001, 0, 2, "1"}, L{2101, 1, 2, "2"}, L{3001, 0, 1, "3"}}));
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", kAll).ok());
  auto routes = Routes(pub);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].second.track, 0u);  // audio
  EXPECT_EQ(routes[1].second.track, 1u);  // camera: its first layer
  EXPECT_EQ(routes[2].second.track, 3u);  // screen: after the camera's layers
  // Whether each layer is wanted is told by position (no RIDs).
  ASSERT_TRUE(OnWorker(*worker_, [&] {  // as the economy would: the big one (inbound track 2) paused
    worker_->FindTransport(pub)->shared_counters()->paused_layers.store(uint64_t{1} << 2);
    return true;
  }));
  auto layers = media_->TakeLayerPlan(kAlice);
  ASSERT_TRUE(layers);
  ASSERT_EQ(layers->size(), 1u);
  EXPECT_EQ((*layers)[0].track, TrackKind::kCamera);
  ASSERT_EQ((*layers)[0].layers.size(), 2u);
  EXPECT_TRUE((*layers)[0].layers[0].active);
  EXPECT_FALSE((*layers)[0].layers[1].active);
  EXPECT_EQ((*layers)[0].layers[1].rid, "");

  // Sections that cannot be one source's layers are refused, and nothing changes.
  const std::string misfits[] = {
      PublishOffer({{false, 1001}, {true, 2001, 2002}}),                      // one video section for two layers
      PublishOffer({{true, 2001, 2002}, {false, 1001}, {true, 2101, 2102}}),  // not consecutive
  };
  for (const std::string& offer : misfits) {
    auto bad = media_->Publish(kCarol, offer, {TrackKind::kAudio, TrackKind::kCamera}, Platform::kNative, 2);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::kInvalidSdp);
    EXPECT_FALSE(media_->IsPublishing(kCarol));
  }
  // Without the camera, the count is not used: the screen takes the first video section.
  ASSERT_TRUE(media_->Publish(kDave, kAudioVideo, {TrackKind::kScreen}, Platform::kNative, 2).ok());
}

TEST_F(ChannelMedia, TheBrowserOfferFixtureIsAnswered) {
  std::string path = __FILE__;
  path = path.substr(0, path.rfind("/server/tests/")) + "/tests/fuzz/corpus/fuzz_sdp/browser_offer";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  auto answer = media_->Publish(kAlice, text.str(), {TrackKind::kAudio, TrackKind::kCamera});
  ASSERT_TRUE(answer.ok()) << answer.error().What();
  SdpSession sdp = Parsed(*answer);
  ASSERT_EQ(sdp.media.size(), 2u);
  EXPECT_EQ(sdp.media[0].direction, "recvonly");
  auto offer = Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}));
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_EQ(offer.media[0].msid, "alice alice-audio");
  EXPECT_EQ(offer.media[1].msid, "alice alice-camera");
  EXPECT_EQ(offer.media[0].ssrcs, (std::vector<uint32_t>{5000}));
  EXPECT_EQ(offer.media[1].ssrcs, (std::vector<uint32_t>{5001, 5002}));  // media, then RTX
}

TEST_F(ChannelMedia, RenegotiationMovesTheSubscribersRoutes) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  uint64_t first = PublishId(kAlice);
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}).ok());
  auto before = Routes(first);
  ASSERT_EQ(before.size(), 2u);

  // The new offer puts video first and adds a section for the screen.
  ASSERT_TRUE(
      media_->Publish(kAlice, PublishOffer({{true, 2101, 2102}, {false, 1101}, {true, 3101, 3102}}), kAll).ok());
  uint64_t second = PublishId(kAlice);
  EXPECT_NE(second, first);
  EXPECT_FALSE(Exists(first));
  EXPECT_TRUE(Exists(second));
  EXPECT_TRUE(Routes(first).empty());
  auto after = Routes(second);
  ASSERT_EQ(after.size(), 2u);  // the screen is not subscribed yet
  // Same streams to the subscriber (SSRCs), now read from the sections' new indexes.
  EXPECT_EQ(after[0].second.ssrc, before[0].second.ssrc);
  EXPECT_EQ(after[0].second.track, 1u);  // audio moved from 0 to 1
  EXPECT_EQ(after[1].second.ssrc, before[1].second.ssrc);
  EXPECT_EQ(after[1].second.track, 0u);  // camera moved from 1 to 0

  // A renegotiation that drops the camera drops its routes.
  ASSERT_TRUE(media_->Publish(kAlice, PublishOffer({{false, 1201}}), {TrackKind::kAudio}).ok());
  auto third = Routes(PublishId(kAlice));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].second.ssrc, before[0].second.ssrc);
  EXPECT_EQ(third[0].second.track, 0u);
}

TEST_F(ChannelMedia, AFailedRenegotiationChangesNothing) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio}).ok());
  uint64_t first = PublishId(kAlice);
  auto bad = media_->Publish(kAlice, "v=0\r\n", {TrackKind::kAudio});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidSdp);
  EXPECT_EQ(PublishId(kAlice), first);
  EXPECT_TRUE(Exists(first));
}

TEST_F(ChannelMedia, SubscribeReusesTheTracksOwnSectionThenOneOfItsKind) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Publish(kCarol, kAudioVideo, {TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Publish(kDave, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kCarol, "carol", {TrackKind::kCamera}).ok());
  // Sections: 0 alice-audio, 1 alice-camera, 2 carol-camera. Both cameras go away.
  EXPECT_TRUE(media_->RetireTrack(kBob, "alice-camera"));
  EXPECT_TRUE(media_->RetireTrack(kBob, "carol-camera"));

  // Carol's camera takes back its own section, though section 1 is an earlier inactive video.
  auto offer = Parsed(*media_->Subscribe(kBob, kCarol, "carol", {TrackKind::kCamera}));
  ASSERT_EQ(offer.media.size(), 3u);
  EXPECT_EQ(offer.media[2].msid, "carol carol-camera");
  EXPECT_EQ(offer.media[2].direction, "sendonly");
  EXPECT_EQ(offer.media[1].direction, "inactive");

  // Dave's camera has no section of its own: it takes the inactive video one; his audio
  // finds no inactive audio section and gets a new one.
  offer = Parsed(*media_->Subscribe(kBob, kDave, "dave", {TrackKind::kAudio, TrackKind::kCamera}));
  ASSERT_EQ(offer.media.size(), 4u);
  EXPECT_EQ(offer.media[1].msid, "dave dave-camera");
  EXPECT_EQ(offer.media[1].direction, "sendonly");
  EXPECT_EQ(offer.media[3].kind, "audio");
  EXPECT_EQ(offer.media[3].mid, "3");
  EXPECT_EQ(offer.media[3].msid, "dave dave-audio");
}

TEST_F(ChannelMedia, AReusedSectionGetsNewSsrcs) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  uint64_t pub = PublishId(kAlice);
  auto first = Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera}));
  ASSERT_EQ(first.media.size(), 1u);
  EXPECT_EQ(first.media[0].ssrcs, (std::vector<uint32_t>{5000, 5001}));
  // Subscribing again to an active section keeps its stream.
  auto again = Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera}));
  EXPECT_EQ(again.media[0].ssrcs, (std::vector<uint32_t>{5000, 5001}));
  EXPECT_EQ(Routes(pub).size(), 1u);  // the worker ignores the duplicate route

  media_->Unsubscribe(kBob, kAlice, {TrackKind::kCamera});
  EXPECT_TRUE(Routes(pub).empty());
  ASSERT_TRUE(media_->RetireTrack(kBob, "alice-camera"));
  auto reused = Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera}));
  ASSERT_EQ(reused.media.size(), 1u);
  EXPECT_EQ(reused.media[0].mid, "0");
  EXPECT_EQ(reused.media[0].ssrcs, (std::vector<uint32_t>{5002, 5003}));
  auto routes = Routes(pub);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].second.ssrc, 5002u);
  EXPECT_EQ(routes[0].second.rtx_ssrc, 5003u);
  EXPECT_EQ(routes[0].second.payload_type, 96);
  EXPECT_EQ(routes[0].second.rtx_payload_type, 97);
}

TEST_F(ChannelMedia, ZeroFromTheSsrcSourceIsDrawnAgain) {
  std::vector<uint32_t> draws{0, 77, 0, 0, 78};
  size_t at = 0;
  MediaPlane plane({worker_.get()}, "127.0.0.1", [&] { return draws[at++]; });
  auto media = plane.OpenChannel(0);
  ASSERT_TRUE(media->Publish(kAlice, kAudioVideo, {TrackKind::kCamera}).ok());
  auto offer = Parsed(*media->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera}));
  EXPECT_EQ(offer.media[0].ssrcs, (std::vector<uint32_t>{77, 78}));
}

TEST_F(ChannelMedia, RetireBumpsTheVersionOnlyWhenTheOfferIsTaken) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  EXPECT_EQ(Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio})).session_version, 1u);
  EXPECT_TRUE(media_->RetireTrack(kBob, "alice-audio"));
  EXPECT_FALSE(media_->RetireTrack(kBob, "alice-audio"));    // already inactive
  EXPECT_FALSE(media_->RetireTrack(kBob, "alice-camera"));   // never offered
  EXPECT_FALSE(media_->RetireTrack(kCarol, "alice-audio"));  // no subscribe connection
  // Retiring did not take a version; the offer that is sent does.
  auto retired = Parsed(media_->NextSubscribeOffer(kBob));
  EXPECT_EQ(retired.session_version, 2u);
  EXPECT_EQ(retired.media[0].direction, "inactive");
  EXPECT_EQ(Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera})).session_version, 3u);
  EXPECT_EQ(media_->NextSubscribeOffer(kCarol), "");

  // The version goes on across subscribe transports of the same session.
  media_->CloseSubscribe(kBob);
  EXPECT_FALSE(media_->SubscribeStatus(kBob));
  EXPECT_EQ(Parsed(*media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio})).session_version, 4u);
}

TEST_F(ChannelMedia, AnswerWithoutOfferIsSubscribeStreamNotExist) {
  Status none = media_->Answer(kBob, "v=0\r\n");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kSubscribeStreamNotExist);
  EXPECT_EQ(none.error().message, "no subscribe offer is waiting for an answer");

  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio}).ok());
  auto offer = media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio});
  ASSERT_TRUE(offer.ok());
  Status garbage = media_->Answer(kBob, "v=0\r\n");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, Errc::kInvalidSdp);

  Status ok = media_->Answer(kBob, SubscribeAnswerTo(*offer));
  ASSERT_TRUE(ok.ok()) << ok.error().What();
  uint64_t sub = SubscribeId(kBob);
  auto remote = OnWorker(*worker_, [&] {
    const TransportParams& p = worker_->FindTransport(sub)->params();
    return std::make_pair(p.remote_ufrag, p.remote_fingerprint);
  });
  EXPECT_EQ(remote.first, "cliu");
  EXPECT_EQ(remote.second, kFingerprint);
}

TEST_F(ChannelMedia, NoMediaToForwardIsRemoteStreamGone) {
  // Camera announced, but the offer has no video section: nothing carries it.
  ASSERT_TRUE(media_->Publish(kAlice, PublishOffer({{false, 1001}}), {TrackKind::kAudio, TrackKind::kCamera}).ok());
  auto offer = media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kCamera});
  ASSERT_FALSE(offer.ok());
  EXPECT_EQ(offer.error().code, Errc::kSubscribeRemoteStreamGone);
  EXPECT_EQ(offer.error().message, "the remote tracks carry no media to forward");
  // The connection was opened all the same; the next subscribe uses it.
  uint64_t sub = SubscribeId(kBob);
  ASSERT_NE(sub, 0u);
  EXPECT_TRUE(Exists(sub));
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio}).ok());
  EXPECT_EQ(SubscribeId(kBob), sub);
  // A publisher that never offered has nothing either.
  auto nothing = media_->Subscribe(kCarol, kDave, "dave", {TrackKind::kAudio});
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, Errc::kSubscribeRemoteStreamGone);
}

TEST_F(ChannelMedia, UnpublishRemovesTheTracksRoutesFromEverySubscriber) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  uint64_t pub = PublishId(kAlice);
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Subscribe(kCarol, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_EQ(Routes(pub).size(), 4u);
  media_->Unpublish(kAlice, {TrackKind::kCamera}, false);
  auto routes = Routes(pub);
  ASSERT_EQ(routes.size(), 2u);
  for (const auto& r : routes) EXPECT_EQ(r.second.track, 0u);
  // The forgotten track is not offered again.
  EXPECT_FALSE(media_->Subscribe(kDave, kAlice, "alice", {TrackKind::kCamera}).ok());
  EXPECT_TRUE(media_->IsPublishing(kAlice));

  media_->Unpublish(kAlice, {TrackKind::kAudio}, true);
  EXPECT_FALSE(media_->IsPublishing(kAlice));
  EXPECT_FALSE(media_->PublishStatus(kAlice));
  EXPECT_FALSE(Exists(pub));
  EXPECT_TRUE(Exists(SubscribeId(kBob)));  // subscribers keep their connections
}

TEST_F(ChannelMedia, UnsubscribeRemovesOnlyThatSubscribersRoutes) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio, TrackKind::kCamera}).ok());
  uint64_t pub = PublishId(kAlice);
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio, TrackKind::kCamera}).ok());
  ASSERT_TRUE(media_->Subscribe(kCarol, kAlice, "alice", {TrackKind::kAudio}).ok());
  media_->Unsubscribe(kBob, kAlice, {TrackKind::kAudio});
  auto routes = Routes(pub);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].first, SubscribeId(kBob));
  EXPECT_EQ(routes[0].second.track, 1u);
  EXPECT_EQ(routes[1].first, SubscribeId(kCarol));
}

TEST_F(ChannelMedia, CloseSessionRemovesItsTransports) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio}).ok());
  ASSERT_TRUE(media_->Publish(kBob, kAudioVideo, {TrackKind::kAudio}).ok());
  ASSERT_TRUE(media_->Subscribe(kAlice, kBob, "bob", {TrackKind::kAudio}).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio}).ok());
  uint64_t alice_pub = PublishId(kAlice), alice_sub = SubscribeId(kAlice);
  uint64_t bob_pub = PublishId(kBob), bob_sub = SubscribeId(kBob);
  media_->CloseSession(kAlice);
  EXPECT_FALSE(Exists(alice_pub));
  EXPECT_FALSE(Exists(alice_sub));
  EXPECT_TRUE(Routes(bob_pub).empty());  // its routes went both ways
  EXPECT_FALSE(media_->IsPublishing(kAlice));
  EXPECT_FALSE(media_->SubscribeStatus(kAlice));
  EXPECT_FALSE(media_->Snapshot(kAlice).publish);
  // Closing the channel's media closes what is left.
  media_.reset();
  EXPECT_FALSE(Exists(bob_pub));
  EXPECT_FALSE(Exists(bob_sub));
}

TEST_F(ChannelMedia, ChannelsOnOneWorkerKeepTheirRoutesApart) {
  auto other = plane_->OpenChannel(0);  // a second channel on the same worker
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio}).ok());
  ASSERT_TRUE(media_->Subscribe(kBob, kAlice, "alice", {TrackKind::kAudio}).ok());
  ASSERT_TRUE(other->Publish(kCarol, kAudioVideo, {TrackKind::kAudio}).ok());
  ASSERT_TRUE(other->Subscribe(kDave, kCarol, "carol", {TrackKind::kAudio}).ok());
  uint64_t alice = PublishId(kAlice);
  uint64_t carol = other->PublishStatus(kCarol)->transport_id;
  EXPECT_NE(alice, carol);  // transport ids are unique across the plane's channels
  ASSERT_EQ(Routes(alice).size(), 1u);
  ASSERT_EQ(Routes(carol).size(), 1u);
  EXPECT_EQ(Routes(carol)[0].first, other->SubscribeStatus(kDave)->transport_id);
  other.reset();  // the channel closes: its transports and routes go, the first channel's stay
  EXPECT_FALSE(Exists(carol));
  EXPECT_TRUE(Routes(carol).empty());
  ASSERT_EQ(Routes(alice).size(), 1u);
  EXPECT_EQ(Routes(alice)[0].first, SubscribeId(kBob));
}

TEST_F(ChannelMedia, SnapshotDoesNotTakeTheAudioPeak) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, {TrackKind::kAudio}).ok());
  uint64_t pub = PublishId(kAlice);
  OnWorker(*worker_, [&] {
    const auto& c = worker_->FindTransport(pub)->shared_counters();
    c->audio_peak = 90;
    c->rtp_packets = 7;
    return 0;
  });
  MediaSnapshot snap = media_->Snapshot(kAlice);
  ASSERT_TRUE(snap.publish);
  EXPECT_FALSE(snap.subscribe);
  EXPECT_EQ(snap.publish->rtp_packets, 7u);
  EXPECT_EQ(Name(snap.publish->state), "new");
  (void)media_->Snapshot(kAlice);
  EXPECT_EQ(media_->PublishStatus(kAlice)->rtp_packets, 7u);
  EXPECT_EQ(media_->TakeAudioPeak(kAlice), 90u);
  EXPECT_EQ(media_->TakeAudioPeak(kAlice), 0u);  // taking it resets it
  EXPECT_EQ(media_->TakeAudioPeak(kBob), 0u);    // not publishing
}

// A native publisher's offer as GStreamer writes it: Opus 111 with RTX 97 and H.264 102
// with RTX 96 (webrtcbin takes the first free numbers), which collides with a VP8
// publisher's 96.
std::string NativeH264Offer() {
  std::string sdp =
      "v=0\r\no=- 43 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 97\r\n";
  auto transport = [](const char* mid) {
    return std::string("c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n") +
           "a=fingerprint:sha-256 " + kFingerprint + "\r\na=setup:actpass\r\na=mid:" + mid +
           "\r\na=sendonly\r\na=rtcp-mux\r\n";
  };
  sdp += transport("0");
  sdp += "a=rtpmap:111 OPUS/48000/2\r\na=rtcp-fb:111 nack\r\na=rtpmap:97 rtx/48000\r\na=fmtp:97 apt=111\r\n";
  sdp += "a=ssrc-group:FID 7001 7002\r\na=ssrc:7001 cname:n\r\na=ssrc:7002 cname:n\r\n";
  sdp += "m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\n" + transport("1");
  sdp += "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n";
  sdp += "a=fmtp:102 packetization-mode=1;profile-level-id=42c01f\r\n";
  sdp += "a=rtpmap:96 rtx/90000\r\na=fmtp:96 apt=102\r\n";
  sdp += "a=ssrc-group:FID 8001 8002\r\na=ssrc:8001 cname:n\r\na=ssrc:8002 cname:n\r\n";
  return sdp;
}

// Every payload type of a subscribe offer means one codec in the whole bundle, and the
// routes put those numbers on the packets.
TEST_F(ChannelMedia, ASubscribeOfferNeverGivesOnePayloadTypeTwoMeanings) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAll).ok());
  ASSERT_TRUE(media_->Publish(kBob, NativeH264Offer(), kAll).ok());
  ASSERT_TRUE(media_->Subscribe(kCarol, kAlice, "alice", kAll, Platform::kNative).ok());
  auto offer = media_->Subscribe(kCarol, kBob, "bob", kAll, Platform::kNative);
  ASSERT_TRUE(offer.ok()) << offer.error().What();
  SdpSession sdp = Parsed(*offer);
  ASSERT_EQ(sdp.media.size(), 4u);
  std::map<uint8_t, std::string> meaning;
  for (const SdpMedia& m : sdp.media)
    for (const SdpCodec& c : m.codecs) {
      std::string what = c.name + "/" + std::to_string(c.clock_rate) + " " + c.fmtp;
      for (char& ch : what)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));  // names are case-blind
      auto [it, added] = meaning.emplace(c.payload_type, what);
      EXPECT_EQ(it->second, what) << "payload type " << int(c.payload_type);
    }
  std::set<uint8_t> offered;
  for (const auto& [pt, what] : meaning) offered.insert(pt);
  for (SessionId pub : {kAlice, kBob})
    for (const auto& r : Routes(PublishId(pub))) {
      EXPECT_TRUE(offered.count(r.second.payload_type)) << int(r.second.payload_type);
      if (r.second.rtx_payload_type) {
        EXPECT_TRUE(offered.count(r.second.rtx_payload_type));
      }
    }
}

// Audio is repaired only between native clients: the native subscriber of the native
// publisher gets NACK and RTX on audio; a browser subscriber, or audio from a browser
// publisher (no audio RTX), gets audio without feedback as before. Every audio section
// also offers RED.
TEST_F(ChannelMedia, AudioIsRepairedOnlyFromANativePublisherToANativeSubscriber) {
  ASSERT_TRUE(media_->Publish(kAlice, kAudioVideo, kAll).ok());      // a browser
  ASSERT_TRUE(media_->Publish(kBob, NativeH264Offer(), kAll).ok());  // native
  auto audio_of = [&](SessionId sub, SessionId pub, const char* user, Platform p) {
    auto offer = media_->Subscribe(sub, pub, user, {TrackKind::kAudio}, p);
    EXPECT_TRUE(offer.ok());
    SdpSession sdp = Parsed(offer.ok() ? *offer : "");
    return sdp.media.empty() ? SdpMedia{} : sdp.media.back();
  };
  SdpMedia repaired = audio_of(kCarol, kBob, "bob", Platform::kNative);
  ASSERT_FALSE(repaired.codecs.empty());
  EXPECT_EQ(repaired.codecs[0].feedback, (std::vector<std::string>{"nack"}));
  ASSERT_EQ(repaired.codecs.size(), 3u);  // Opus, RED (every audio section), RTX
  EXPECT_EQ(repaired.codecs[1].name, "red");
  EXPECT_EQ(repaired.codecs[2].name, "rtx");
  EXPECT_EQ(repaired.ssrc_groups.size(), 1u);
  auto routes = Routes(PublishId(kBob));
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_NE(routes[0].second.rtx_ssrc, 0u);

  SdpMedia browser = audio_of(kDave, kBob, "bob", Platform::kH5);
  ASSERT_EQ(browser.codecs.size(), 2u);
  EXPECT_EQ(browser.codecs[1].name, "red");
  EXPECT_TRUE(browser.codecs[0].feedback.empty());
  EXPECT_TRUE(browser.ssrc_groups.empty());

  SdpMedia from_browser = audio_of(kCarol, kAlice, "alice", Platform::kNative);
  ASSERT_EQ(from_browser.codecs.size(), 2u);
  EXPECT_TRUE(from_browser.codecs[0].feedback.empty());
}

TEST(MediaPlane, WithoutWorkersEveryChannelRefusesMedia) {
  MediaPlane plane({}, "127.0.0.1");
  EXPECT_EQ(plane.worker_count(), 0u);
  auto media = plane.OpenChannel(3);
  auto answer = media->Publish(kAlice, kAudioVideo, {TrackKind::kAudio});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, Errc::kMediaConnectionCreateFailed);
  EXPECT_EQ(answer.error().message, "this server runs without a media plane");
  EXPECT_FALSE(media->IsPublishing(kAlice));
  EXPECT_EQ(media->Answer(kBob, "v=0\r\n").error().code, Errc::kSubscribeStreamNotExist);
  media->Unpublish(kAlice, {TrackKind::kAudio}, true);
  media->CloseSession(kAlice);
}

TEST(MediaPlane, TransportStateNamesAreTheAdminApis) {
  EXPECT_EQ(Name(Transport::State::kNew), "new");
  EXPECT_EQ(Name(Transport::State::kIceConnected), "ice-connected");
  EXPECT_EQ(Name(Transport::State::kConnected), "connected");
  EXPECT_EQ(Name(Transport::State::kFailed), "failed");
  EXPECT_EQ(Name(Transport::State::kClosed), "closed");
  EXPECT_EQ(Name(static_cast<Transport::State>(9)), "new");
}

}  // namespace
}  // namespace parley::sfu
