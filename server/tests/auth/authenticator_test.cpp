// The authenticator against a real (in-memory) app store: each refusal code of a join's
// credentials, and what accepted ones grant. Time is an argument, never the clock.
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "parley/proto/token.hpp"

namespace parley::server {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15

class Authenticator : public ::testing::Test {
 protected:
  Authenticator() : store_(AppStore::Open(":memory:").value()), auth_(*store_, config_) {
    app_ = store_->Create("test").value();
  }

  proto::JoinCredentials Access(const AccessClaims& claims, const std::string& key) const {
    return {MintAccessToken(claims, key), std::nullopt};
  }
  AccessClaims Claims() const { return {app_.app_id, "room", "alice", "n1", "", kNow + 3600, kNow}; }
  /// Classic AuthInfo credentials for `app` valid until `expires`.
  static proto::JoinCredentials Classic(const App& app, int64_t expires) {
    AuthInfo a{app.app_id, "room", "alice", "n1", expires, ""};
    a.token = ComputeClassicToken(a.app_id, app.app_key, a.channel_id, a.user_id, a.nonce, a.timestamp);
    return {a.token, a};
  }

  ServerConfig config_;
  std::unique_ptr<AppStore> store_;
  server::Authenticator auth_;
  App app_;
};

void ExpectRefused(const Result<Credentials>& r, Errc code, Errc detail = Errc::kOk) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, code) << r.error().What();
  EXPECT_EQ(r.error().detail, detail) << r.error().What();
}

TEST_F(Authenticator, AccessTokenGrantsItsClaimsAndRole) {
  AccessClaims claims = Claims();
  claims.role = "audience";
  auto given = Access(claims, app_.app_key);
  auto r = auth_.Verify(given, kNow);
  ASSERT_TRUE(r) << r.error().What();
  EXPECT_EQ(r->auth.app_id, app_.app_id);
  EXPECT_EQ(r->auth.channel_id, "room");
  EXPECT_EQ(r->auth.user_id, "alice");
  EXPECT_EQ(r->auth.nonce, "n1");
  EXPECT_EQ(r->auth.timestamp, kNow + 3600);
  EXPECT_EQ(r->auth.token, given.token);
  EXPECT_EQ(r->role, "audience");
  // No role claim grants no role restriction.
  r = auth_.Verify(Access(Claims(), app_.app_key), kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->role, "");
  // Signed with another key: invalid, with the key-mismatch detail.
  ExpectRefused(auth_.Verify(Access(Claims(), "not-the-key"), kNow), Errc::kTokenInvalid, Errc::kTokenKeyMismatch);
  // Not a token at all: the token layer's refusal passes through.
  ExpectRefused(auth_.Verify({"a.b.c", std::nullopt}, kNow), Errc::kMalformedToken);
}

TEST_F(Authenticator, AuthInfoBesideAnAccessTokenMustNameWhatItGrants) {
  auto given = Access(Claims(), app_.app_key);
  // Empty fields name nothing and are accepted; matching ones too.
  given.fields = AuthInfo{"", "", "", "", 0, given.token};
  EXPECT_TRUE(auth_.Verify(given, kNow));
  given.fields = AuthInfo{app_.app_id, "room", "alice", "", 0, given.token};
  EXPECT_TRUE(auth_.Verify(given, kNow));
  for (int field = 0; field < 3; ++field) {
    AuthInfo other{app_.app_id, "room", "alice", "", 0, given.token};
    (field == 0 ? other.app_id : field == 1 ? other.channel_id : other.user_id) = "mallory";
    given.fields = other;
    ExpectRefused(auth_.Verify(given, kNow), Errc::kTokenInvalid);
  }
}

TEST_F(Authenticator, UnknownAppIsAppIdNotExist) {
  AccessClaims claims = Claims();
  claims.app_id = "no-such-app";
  auto r = auth_.Verify(Access(claims, app_.app_key), kNow);
  ExpectRefused(r, Errc::kAppIdNotExist);
  EXPECT_EQ(r.error().message, "no app with AppId no-such-app");
  App other = app_;
  other.app_id = "no-such-app";
  ExpectRefused(auth_.Verify(Classic(other, kNow + 60), kNow), Errc::kAppIdNotExist);
}

TEST_F(Authenticator, DisabledAppIsAppIdInvalid) {
  ASSERT_TRUE(store_->SetClassicTokens(app_.app_id, true));
  ASSERT_TRUE(store_->SetEnabled(app_.app_id, false));
  auto r = auth_.Verify(Access(Claims(), app_.app_key), kNow);
  ExpectRefused(r, Errc::kAppIdInvalid);
  EXPECT_EQ(r.error().message, "app " + app_.app_id + " is disabled");
  ExpectRefused(auth_.Verify(Classic(app_, kNow + 60), kNow), Errc::kAppIdInvalid);
  // Read at every call: enabled again, admitted again.
  ASSERT_TRUE(store_->SetEnabled(app_.app_id, true));
  EXPECT_TRUE(auth_.Verify(Access(Claims(), app_.app_key), kNow));
}

TEST_F(Authenticator, ClassicTokenNeedsTheAppsConsent) {
  auto given = Classic(app_, kNow + 60);
  ExpectRefused(auth_.Verify(given, kNow), Errc::kTokenInvalid, Errc::kClassicTokensOff);
  // The single-parameter form is a classic token too.
  proto::JoinCredentials single{EncodeSingleToken(*given.fields), std::nullopt};
  ExpectRefused(auth_.Verify(single, kNow), Errc::kTokenInvalid, Errc::kClassicTokensOff);
  ASSERT_TRUE(store_->SetClassicTokens(app_.app_id, true));
  auto r = auth_.Verify(given, kNow);
  ASSERT_TRUE(r) << r.error().What();
  EXPECT_EQ(r->auth.user_id, "alice");
  EXPECT_EQ(r->role, "");
  r = auth_.Verify(single, kNow);
  ASSERT_TRUE(r) << r.error().What();
  EXPECT_EQ(r->auth.channel_id, "room");
  // Checked before any app lookup: the shape of the fields, then the hash.
  auto empty_user = given;
  empty_user.fields->user_id.clear();
  ExpectRefused(auth_.Verify(empty_user, kNow), Errc::kInvalidAuthInfo);
  auto forged = given;
  forged.fields->user_id = "mallory";
  ExpectRefused(auth_.Verify(forged, kNow), Errc::kTokenInvalid, Errc::kTokenKeyMismatch);
  ExpectRefused(auth_.Verify({"not base64!", std::nullopt}, kNow), Errc::kMalformedToken);
}

TEST_F(Authenticator, ClassicLifetimeIsCapped) {
  ASSERT_TRUE(store_->SetClassicTokens(app_.app_id, true));
  config_.max_classic_token_lifetime_s = 600;
  EXPECT_TRUE(auth_.Verify(Classic(app_, kNow + 600), kNow));
  auto r = auth_.Verify(Classic(app_, kNow + 601), kNow);
  ExpectRefused(r, Errc::kTokenInvalid);
  EXPECT_EQ(r.error().message, "classic token expires more than 600 s from now (--max-classic-token-lifetime)");
}

TEST_F(Authenticator, OverdueAppIsChannelOverdueWithQuotaDetail) {
  ASSERT_TRUE(store_->SetQuota(app_.app_id, 1));
  EXPECT_TRUE(auth_.Verify(Access(Claims(), app_.app_key), kNow));
  ASSERT_TRUE(store_->AddUsage({{app_.app_id, 60}}));
  auto r = auth_.Verify(Access(Claims(), app_.app_key), kNow);
  ExpectRefused(r, Errc::kChannelOverdue, Errc::kQuotaExhausted);
  EXPECT_EQ(r.error().message, "app " + app_.app_id + " has used up its usage quota");
  ASSERT_TRUE(store_->SetClassicTokens(app_.app_id, true));
  ExpectRefused(auth_.Verify(Classic(app_, kNow + 60), kNow), Errc::kChannelOverdue, Errc::kQuotaExhausted);
}

TEST_F(Authenticator, ExpiryIsJudgedAtTheGivenNow) {
  ASSERT_TRUE(store_->SetClassicTokens(app_.app_id, true));
  auto access = Access(Claims(), app_.app_key);  // expires at kNow + 3600
  EXPECT_TRUE(auth_.Verify(access, kNow + 3599));
  ExpectRefused(auth_.Verify(access, kNow + 3600), Errc::kChannelOverdue, Errc::kTokenExpired);
  auto classic = Classic(app_, kNow + 60);
  EXPECT_TRUE(auth_.Verify(classic, kNow + 59));
  ExpectRefused(auth_.Verify(classic, kNow + 60), Errc::kChannelOverdue, Errc::kTokenExpired);
}

}  // namespace
}  // namespace parley::server
