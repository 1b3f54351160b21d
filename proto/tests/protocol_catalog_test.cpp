// proto/protocol.tsv as the code sees it: every request has a timeout code from the
// error catalog, and those codes are the ones the clients raised before the catalog
// existed (so moving them here changed no behaviour).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "parley/proto/errc.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::proto {
namespace {

TEST(ProtocolCatalog, EveryRequestHasATimeoutCodeInTheCatalog) {
  ASSERT_EQ(RequestTypes().size(), 22u);
  std::set<std::string_view> seen;
  for (const auto& r : RequestTypes()) {
    EXPECT_TRUE(seen.insert(r.name).second) << "duplicate request " << r.name;
    const ErrorInfo* e = FindError(static_cast<int32_t>(r.timeout));
    ASSERT_NE(e, nullptr) << r.name;
    EXPECT_EQ(e->code, r.timeout) << r.name;
    // Every timeout lives in the contract's signalling-timeout block 0x010202xx, except
    // the ones the contract has no request for (lastMileProbe, setRemoteVideoStreamType,
    // openData): their codes are Parley's own (0x0F01xxxx).
    const bool ours = r.name == "lastMileProbe" || r.name == "setRemoteVideoStreamType" || r.name == "openData";
    const uint32_t block = ours ? 0x0F010000u : 0x01020200u;
    EXPECT_EQ(static_cast<uint32_t>(r.timeout) & 0xFFFFFF00u, block) << r.name << " " << FormatHex(e->value());
    EXPECT_EQ(TimeoutCode(r.name), r.timeout);
  }
  EXPECT_EQ(TimeoutCode("bogus"), std::nullopt);
  EXPECT_EQ(TimeoutCode(""), std::nullopt);
  EXPECT_EQ(TimeoutCode("Join"), std::nullopt);  // types are case-sensitive on the wire
  // A notification is not a request and has no timeout; the two share the envelope's "type".
  for (std::string_view n : NotificationTypes()) {
    EXPECT_EQ(TimeoutCode(n), std::nullopt) << n;
    EXPECT_FALSE(seen.count(n)) << n;
  }
}

TEST(ProtocolCatalog, TimeoutCodesAreTheOnesParleyJsAndTheEngineUse) {
  // Golden: web/sdk/parley.js's kTimeoutCode table at aa7c5f4, all 17 requests,
  // reportStats (network quality, issue #14) and setVolumeIndication (issue #21).
  const std::map<std::string, Errc> parley_js = {
      {"hello", Errc::kTimeoutHello},
      {"join", Errc::kJoinTimeout},
      {"leave", Errc::kTimeoutLeave},
      {"ping", Errc::kHeartbeatTimeout},
      {"resume", Errc::kTimeoutResume},
      {"publish", Errc::kTimeoutPublish},
      {"unpublish", Errc::kTimeoutUnpublish},
      {"subscribe", Errc::kTimeoutSubscribe},
      {"unsubscribe", Errc::kTimeoutUnsubscribe},
      {"setRole", Errc::kTimeoutSetRole},
      {"mute", Errc::kTimeoutMute},
      {"subscribeAnswer", Errc::kTimeoutSubscribeAnswer},
      {"updatePublish", Errc::kTimeoutUpdatePublish},
      {"listUsers", Errc::kTimeoutListUsers},
      {"sendMessage", Errc::kTimeoutSendMessage},
      {"updateUserInfo", Errc::kTimeoutUpdateUserInfo},
      {"refreshToken", Errc::kTimeoutRefreshToken},
      {"reportStats", Errc::kTimeoutReportStats},
      {"setVolumeIndication", Errc::kTimeoutSetVolumeIndication},
  };
  // Golden: the codes sdk/src/engine.cpp passes to Request() at aa7c5f4 (the engine sends 12 of them).
  const std::map<std::string, Errc> engine = {
      {"join", Errc::kJoinTimeout},
      {"leave", Errc::kTimeoutLeave},
      {"resume", Errc::kTimeoutResume},
      {"ping", Errc::kHeartbeatTimeout},
      {"unpublish", Errc::kTimeoutUnpublish},
      {"mute", Errc::kTimeoutMute},
      {"updatePublish", Errc::kTimeoutUpdatePublish},
      {"publish", Errc::kTimeoutPublish},
      {"setRole", Errc::kTimeoutSetRole},
      {"unsubscribe", Errc::kTimeoutUnsubscribe},
      {"subscribe", Errc::kTimeoutSubscribe},
      {"subscribeAnswer", Errc::kTimeoutSubscribeAnswer},
  };
  std::map<std::string, Errc> catalog;
  for (const auto& r : RequestTypes()) catalog.emplace(std::string(r.name), r.timeout);
  // lastMileProbe (issue #21) is the native SDK's alone: parley.js does not send it.
  ASSERT_EQ(catalog.count("lastMileProbe"), 1u);
  EXPECT_EQ(static_cast<int32_t>(catalog["lastMileProbe"]), 0x0F010008);
  catalog.erase("lastMileProbe");
  // setRemoteVideoStreamType (issue #15) came after the golden table; both SDKs send it.
  ASSERT_EQ(catalog.count("setRemoteVideoStreamType"), 1u);
  EXPECT_EQ(static_cast<int32_t>(catalog["setRemoteVideoStreamType"]), 0x0F010009);
  catalog.erase("setRemoteVideoStreamType");
  // openData (issue #15, data messages) came after it too; both SDKs send it.
  ASSERT_EQ(catalog.count("openData"), 1u);
  EXPECT_EQ(static_cast<int32_t>(catalog["openData"]), 0x0F01000A);
  catalog.erase("openData");
  EXPECT_EQ(catalog, parley_js);
  for (const auto& [type, code] : engine) EXPECT_EQ(TimeoutCode(type), code) << type;
  // Values, not only names: a renamed enumerator must not hide a changed code.
  EXPECT_EQ(static_cast<int32_t>(*TimeoutCode("join")), 0x01020204);
  EXPECT_EQ(static_cast<int32_t>(*TimeoutCode("ping")), 0x0102020C);
}

TEST(ProtocolCatalog, NotificationsAreTheTwentyTwoTheServerSends) {
  // Golden: the notification types server/src/signal/hub.cpp writes at aa7c5f4,
  // networkQuality (issue #14), tokenWillExpire, tokenExpired and volumeIndication (issue #21),
  // publishLayers (issue #15).
  const std::set<std::string_view> hub = {
      "userOnline",       "userOffline",     "userNetwork",      "userUpdated",      "roleUpdated",    "trackPublished",
      "trackUnpublished", "trackMuted",      "subscribeOffer",   "subscribeAborted", "publishAborted", "streamAborted",
      "streamResumed",    "transportFailed", "activeSpeaker",    "message",          "sessionRemoved", "networkQuality",
      "tokenWillExpire",  "tokenExpired",    "volumeIndication", "publishLayers"};
  std::set<std::string_view> catalog(NotificationTypes().begin(), NotificationTypes().end());
  EXPECT_EQ(catalog.size(), NotificationTypes().size()) << "duplicate notification type";
  EXPECT_EQ(catalog, hub);
}

}  // namespace
}  // namespace parley::proto
