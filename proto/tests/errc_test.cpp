#include <gtest/gtest.h>

#include <set>

#include "parley/parley_errors.h"
#include "parley/proto/errc.hpp"
#include "parley/proto/result.hpp"

namespace parley {
namespace {

TEST(Errc, ValuesMatchTheContract) {
  EXPECT_EQ(static_cast<int32_t>(Errc::kInvalidAuthInfo), 16974081);
  EXPECT_EQ(static_cast<int32_t>(Errc::kDefaultWarning), -1);
  EXPECT_EQ(static_cast<int32_t>(Errc::kH5CompatibleModeConfig), 10501);
  EXPECT_EQ(static_cast<int32_t>(Errc::kRenderError), 0x01040202);
  EXPECT_EQ(PARLEY_ERR_CHANNEL_OVERDUE, 84148226);
  EXPECT_EQ(PARLEY_ERR_H5_NOT_COMPATIBLE, 0x02010121);
}

TEST(Errc, CatalogHasEverySeedCodePlusExtensions) {
  int seed = 0, ext = 0;
  std::set<int32_t> seen;
  for (const auto& e : AllErrors()) {
    EXPECT_TRUE(seen.insert(e.value()).second) << e.name;
    uint32_t u = static_cast<uint32_t>(e.value());
    if (e.value() == 0) continue;
    if ((u >> 24) == 0x0F)
      ++ext;
    else
      ++seed;
  }
  EXPECT_EQ(seed, 87);
  EXPECT_GT(ext, 0);
}

TEST(Errc, ParseEveryForm) {
  EXPECT_EQ(ParseCodeValue("0x01030101"), 16974081);
  EXPECT_EQ(ParseCodeValue("0X01030101"), 16974081);
  EXPECT_EQ(ParseCodeValue("0x0103030D"), 0x0103030d);
  EXPECT_EQ(ParseCodeValue("0x0103030d"), 0x0103030d);
  EXPECT_EQ(ParseCodeValue("  16974081 "), 16974081);
  EXPECT_EQ(ParseCodeValue("-1"), -1);
  EXPECT_EQ(ParseCodeValue("4294967295"), -1);
  EXPECT_EQ(ParseCodeValue("0xFFFFFFFF"), -1);
  EXPECT_EQ(ParseCodeValue("0xffffffff"), -1);
  EXPECT_EQ(ParseCodeValue("-2147483648"), INT32_MIN);
  EXPECT_FALSE(ParseCodeValue("4294967296"));
  EXPECT_FALSE(ParseCodeValue("-2147483649"));
  EXPECT_FALSE(ParseCodeValue("0x100000000"));
  EXPECT_FALSE(ParseCodeValue("0x"));
  EXPECT_FALSE(ParseCodeValue("0xZZ"));
  EXPECT_FALSE(ParseCodeValue("12abc"));
  EXPECT_FALSE(ParseCodeValue(""));
  EXPECT_FALSE(ParseCodeValue("kInvalidAuthInfo"));
}

TEST(Errc, LookupByNumberAndName) {
  for (const char* text : {"0x01030101", "0X01030101", "16974081", "kInvalidAuthInfo", "InvalidAuthInfo",
                           "PARLEY_ERR_INVALID_AUTH_INFO", "invalid_auth_info", "KINVALIDAUTHINFO"}) {
    const ErrorInfo* e = LookupCode(text);
    ASSERT_NE(e, nullptr) << text;
    EXPECT_EQ(e->code, Errc::kInvalidAuthInfo) << text;
  }
  ASSERT_NE(LookupCode("-1"), nullptr);
  EXPECT_EQ(LookupCode("4294967295")->code, Errc::kDefaultWarning);
  EXPECT_EQ(LookupCode("0X01010304")->code, Errc::kNotInChannel);
  EXPECT_EQ(LookupCode("0x1020204")->code, Errc::kJoinTimeout);
  EXPECT_EQ(LookupCode("0x00002905")->code, Errc::kH5CompatibleModeConfig);
  EXPECT_EQ(LookupCode("0x12345678"), nullptr);
  EXPECT_EQ(LookupCode("kNoSuchThing"), nullptr);
  EXPECT_EQ(LookupCode(""), nullptr);
}

TEST(Errc, SeedMisprintIsAnAliasOfRenderError) {
  const ErrorInfo* e = LookupCode("0x0104020");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, Errc::kRenderError);
  EXPECT_EQ(LookupCode("1064992")->code, Errc::kRenderError);
  EXPECT_EQ(e->alias, 1064992);
  EXPECT_EQ(FormatHex(e->value()), "0x01040202");
}

TEST(Errc, DescribeAdviceAndCategory) {
  EXPECT_EQ(Describe(Errc::kTokenInvalid), "token is invalid");
  EXPECT_FALSE(Advice(Errc::kTokenInvalid).empty());
  std::error_code ec = Errc::kAppIdNotExist;
  EXPECT_EQ(ec.value(), 0x02010201);
  EXPECT_STREQ(ec.category().name(), "parley");
  EXPECT_EQ(ec.message(), "AppId is not exist");
  EXPECT_EQ(ErrorCategory().message(0x7ABCDEF0), "unknown parley error 0x7ABCDEF0");
}

TEST(Errc, TimeoutCodesShareTextButNotDetail) {
  std::set<std::string_view> details;
  int n = 0;
  for (const auto& e : AllErrors()) {
    if (e.description != "signal request is timeout") continue;
    ++n;
    EXPECT_TRUE(details.insert(e.detail).second) << e.name;
  }
  EXPECT_EQ(n, 29);  // 26 from the contract, lastMileProbe's, setRemoteVideoStreamType's and openData's
}

TEST(Errc, SearchEnglishAndChinese) {
  auto hits = SearchErrors("camera");
  auto has = [](const auto& list, Errc c) {
    return std::any_of(list.begin(), list.end(), [c](auto* e) { return e->code == c; });
  };
  EXPECT_TRUE(has(hits, Errc::kCameraOpenFailed));
  EXPECT_TRUE(has(hits, Errc::kCameraCaptureError));
  EXPECT_FALSE(has(hits, Errc::kInvalidAuthInfo));
  auto zh = SearchErrors("麦克风");
  ASSERT_FALSE(zh.empty());
  EXPECT_TRUE(has(zh, Errc::kAudioRecordNoPermission));
  EXPECT_TRUE(has(SearchErrors("TOKEN invalid"), Errc::kTokenInvalid));
  EXPECT_TRUE(SearchErrors("zzzz-nothing").empty());
  EXPECT_TRUE(SearchErrors("   ").empty());
}

TEST(Errc, SearchKnowsSynonymsInBothLanguages) {
  auto has = [](const auto& list, Errc c) {
    return std::any_of(list.begin(), list.end(), [c](auto* e) { return e->code == c; });
  };
  // The catalog says 相机 and "camera"; people also type 摄像头.
  auto zh = SearchErrors("摄像头");
  EXPECT_TRUE(has(zh, Errc::kCameraOpenFailed));
  EXPECT_FALSE(has(zh, Errc::kTokenInvalid));
  // Several words: every one must match (through its synonyms).
  auto expired = SearchErrors("token expired");
  EXPECT_TRUE(has(expired, Errc::kTokenExpired));
  EXPECT_TRUE(has(expired, Errc::kChannelOverdue));
  EXPECT_FALSE(has(expired, Errc::kCameraOpenFailed));
  EXPECT_TRUE(has(SearchErrors("令牌 过期"), Errc::kTokenExpired));
  EXPECT_TRUE(has(SearchErrors("quota"), Errc::kQuotaExhausted));
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  EXPECT_EQ(good.code(), Errc::kOk);
  Result<int> bad = MakeError(Errc::kNotInChannel);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.code(), Errc::kNotInChannel);
  EXPECT_EQ(bad.error().What(), "operation failed dut to not in channel");
  Status s;
  EXPECT_TRUE(s.ok());
  Status f = MakeError(Errc::kInvalidState, "after Destroy");
  EXPECT_EQ(f.error().What(), "after Destroy");
}

}  // namespace
}  // namespace parley
