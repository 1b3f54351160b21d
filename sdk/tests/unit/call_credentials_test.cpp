// What JoinChannel's arguments name, and the codes a bad token gets before any I/O.
#include "call/credentials.hpp"

#include <gtest/gtest.h>

namespace parley::sdk::call {
namespace {

std::string Token(const std::string& channel, const std::string& user) {
  AccessClaims c;
  c.app_id = "app";
  c.channel_id = channel;
  c.user_id = user;
  c.expires_at = 4000000000;
  return MintAccessToken(c, "key");
}

TEST(CallCredentials, AnAccessTokenFillsTheFieldsLeftEmptyAndMustAgreeWithTheOthers) {
  AuthInfo a;
  a.token = Token("room", "ann");
  auto t = JoinFor(a);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel_id, "room");
  EXPECT_EQ(t->user_id, "ann");
  ASSERT_TRUE(t->credentials.fields.has_value());
  EXPECT_EQ(t->credentials.fields->app_id, "app");
  EXPECT_EQ(t->credentials.fields->timestamp, 4000000000);
  a.user_id = "bob";
  EXPECT_EQ(JoinFor(a).code(), Errc::kTokenInvalid);
  a.user_id.clear();
  a.token = "not.a.token";
  EXPECT_EQ(JoinFor(a).code(), Errc::kMalformedToken);
}

TEST(CallCredentials, ClassicFieldsMustAllBeThere) {
  AuthInfo a{"app", "room", "ann", "", 4000000000, "abc"};
  auto t = JoinFor(a);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->credentials.token, "abc");
  a.timestamp = 0;
  EXPECT_EQ(JoinFor(a).code(), Errc::kInvalidAuthInfo);
}

TEST(CallCredentials, ATokenAloneNamesTheChannelAndTheUser) {
  auto t = JoinFor(Token("room", "ann"), "", "");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel_id, "room");
  EXPECT_EQ(t->user_id, "ann");
  EXPECT_FALSE(t->credentials.fields.has_value());
  EXPECT_EQ(JoinFor(Token("room", "ann"), "other", "").code(), Errc::kTokenInvalid);
  EXPECT_EQ(JoinFor("", "room", "ann").code(), Errc::kInvalidAuthInfo);
  // A single-parameter token.
  auto single = JoinFor(EncodeSingleToken({"app", "room", "bob", "n", 4000000000, "abc"}), "room", "bob");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->user_id, "bob");
  EXPECT_EQ(JoinFor("@@@", "", "").code(), Errc::kMalformedToken);
}

}  // namespace
}  // namespace parley::sdk::call
