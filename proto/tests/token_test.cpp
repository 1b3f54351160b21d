#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "parley/proto/token.hpp"

namespace parley {
namespace {

AuthInfo Vector() {
  AuthInfo a;
  a.app_id = "abc";
  a.channel_id = "abcChannel";
  a.user_id = "abcUser";
  a.nonce = "";
  a.timestamp = 1699423634;
  a.token = "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31";
  return a;
}

TEST(Token, ReferenceVector) {
  EXPECT_EQ(ComputeClassicToken("abc", "abckey", "abcChannel", "abcUser", "", 1699423634),
            "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31");
}

TEST(Token, Sha256KnownAnswer) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Token, VerifyAcceptsAndRejects) {
  AuthInfo a = Vector();
  EXPECT_TRUE(VerifyToken(a, "abckey", 1699423633).ok());
  EXPECT_EQ(VerifyToken(a, "abckey", 1699423634).code(), Errc::kChannelOverdue);  // expiry is exclusive
  EXPECT_EQ(VerifyToken(a, "wrongkey", 1).code(), Errc::kTokenInvalid);
  AuthInfo upper = a;
  for (char& c : upper.token) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(VerifyToken(upper, "abckey", 1).ok());
  AuthInfo other_user = a;
  other_user.user_id = "mallory";
  EXPECT_EQ(VerifyToken(other_user, "abckey", 1).code(), Errc::kTokenInvalid);
  AuthInfo later = a;
  later.timestamp += 1;  // extending the expiry invalidates the hash
  EXPECT_EQ(VerifyToken(later, "abckey", 1).code(), Errc::kTokenInvalid);
  AuthInfo truncated = a;
  truncated.token.pop_back();
  EXPECT_EQ(VerifyToken(truncated, "abckey", 1).code(), Errc::kTokenInvalid);
}

TEST(Token, ValidationCodes) {
  EXPECT_TRUE(ValidateAuthInfo(Vector()).ok());
  auto with = [](auto mutate) {
    AuthInfo a = Vector();
    mutate(a);
    return ValidateAuthInfo(a).code();
  };
  EXPECT_EQ(with([](AuthInfo& a) { a.app_id.clear(); }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.channel_id.clear(); }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.user_id.clear(); }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.token.clear(); }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.timestamp = 0; }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.timestamp = -5; }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.nonce = std::string(129, 'n'); }), Errc::kInvalidAuthInfo);
  EXPECT_EQ(with([](AuthInfo& a) { a.channel_id = "has space"; }), Errc::kInvalidChannelId);
  EXPECT_EQ(with([](AuthInfo& a) { a.channel_id = std::string(65, 'c'); }), Errc::kInvalidChannelId);
  EXPECT_EQ(with([](AuthInfo& a) { a.user_id = "u/../x"; }), Errc::kInvalidUserId);
  EXPECT_EQ(with([](AuthInfo& a) { a.user_id = "用户"; }), Errc::kInvalidUserId);
  EXPECT_EQ(with([](AuthInfo& a) { a.app_id = "a b"; }), Errc::kInvalidAppId);
  EXPECT_EQ(with([](AuthInfo& a) { a.channel_id = std::string(64, 'c'); }), Errc::kOk);
  EXPECT_EQ(with([](AuthInfo& a) { a.user_id = "A-z_09"; }), Errc::kOk);
  EXPECT_EQ(with([](AuthInfo& a) { a.nonce = ""; }), Errc::kOk);
}

TEST(Token, SingleParameterRoundTrip) {
  AuthInfo a = Vector();
  a.nonce = "AK-1";
  std::string t = EncodeSingleToken(a);
  std::string raw;
  ASSERT_TRUE(Base64Decode(t, &raw));
  auto j = nlohmann::json::parse(raw);
  EXPECT_EQ(j["appid"], "abc");
  EXPECT_EQ(j["timestamp"], 1699423634);
  auto back = DecodeSingleToken(t);
  ASSERT_TRUE(back.ok()) << back.error().What();
  EXPECT_EQ(back->app_id, a.app_id);
  EXPECT_EQ(back->channel_id, a.channel_id);
  EXPECT_EQ(back->user_id, a.user_id);
  EXPECT_EQ(back->nonce, a.nonce);
  EXPECT_EQ(back->timestamp, a.timestamp);
  EXPECT_EQ(back->token, a.token);
}

TEST(Token, SingleParameterLenientForms) {
  // URL-safe alphabet, no padding, string timestamp, no nonce.
  std::string json = R"({"appid":"a","channelid":"c","userid":"u","timestamp":"42","token":"t?>"})";
  std::string b64 = Base64Encode(json);
  std::string url = b64;
  for (char& c : url) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!url.empty() && url.back() == '=') url.pop_back();
  auto a = DecodeSingleToken(url);
  ASSERT_TRUE(a.ok()) << a.error().What();
  EXPECT_EQ(a->timestamp, 42);
  EXPECT_EQ(a->nonce, "");
  EXPECT_EQ(a->token, "t?>");
}

TEST(Token, SingleParameterMalformed) {
  EXPECT_EQ(DecodeSingleToken("").code(), Errc::kInvalidAuthInfo);
  EXPECT_EQ(DecodeSingleToken("!!!notbase64").code(), Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken("A").code(), Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken(Base64Encode("[1,2]")).code(), Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken(Base64Encode("{not json")).code(), Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken(Base64Encode(R"({"appid":"a","channelid":"c","userid":"u","token":"t"})")).code(),
            Errc::kMalformedToken);
  EXPECT_EQ(
      DecodeSingleToken(Base64Encode(R"({"appid":1,"channelid":"c","userid":"u","timestamp":1,"token":"t"})")).code(),
      Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken(Base64Encode(R"({"appid":"a","channelid":"c","userid":"u","timestamp":1.5,"token":"t"})"))
                .code(),
            Errc::kMalformedToken);
  EXPECT_EQ(
      DecodeSingleToken(Base64Encode(R"({"appid":"a","channelid":"c","userid":"u","timestamp":"9x","token":"t"})"))
          .code(),
      Errc::kMalformedToken);
  EXPECT_EQ(DecodeSingleToken(std::string(5000, 'A')).code(), Errc::kMalformedToken);
}

TEST(Token, Base64KnownAnswers) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  std::string out;
  for (const char* s : {"Zg==", "Zg", "Zm8=", "Zm8", "Zm9v"}) {
    ASSERT_TRUE(Base64Decode(s, &out)) << s;
  }
  ASSERT_TRUE(Base64Decode("Zm8", &out));
  EXPECT_EQ(out, "fo");
  EXPECT_FALSE(Base64Decode("Z", &out));
  EXPECT_FALSE(Base64Decode("Zm 9v", &out));
}

TEST(Token, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

// Access tokens (JWT HS256). The reference token was made independently (Python's
// hmac + base64), so this checks the encoding against the standard, not against itself.
constexpr const char* kAccessVector =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJhcHBJZCI6ImFiYyIsImNoYW5uZWxJZCI6ImFiY0NoYW5uZWwiLCJ1c2VySWQiOiJhYmNVc2VyIiwiZXhwIjoxNjk5NDIzNjM0fQ."
    "YuQE4Y58rQwYcK6HI4ALbbzXH2tdgqtcvA3rPOsyo1U";

AccessClaims VectorClaims() {
  AccessClaims c;
  c.app_id = "abc";
  c.channel_id = "abcChannel";
  c.user_id = "abcUser";
  c.expires_at = 1699423634;
  return c;
}

TEST(AccessToken, ReferenceVector) {
  EXPECT_EQ(MintAccessToken(VectorClaims(), "abckey"), kAccessVector);
  auto c = VerifyAccessToken(kAccessVector, "abckey", 1699423633);
  ASSERT_TRUE(c.ok()) << c.error().What();
  EXPECT_EQ(c->app_id, "abc");
  EXPECT_EQ(c->channel_id, "abcChannel");
  EXPECT_EQ(c->user_id, "abcUser");
  EXPECT_EQ(c->expires_at, 1699423634);
  EXPECT_TRUE(IsAccessToken(kAccessVector));
  EXPECT_FALSE(IsAccessToken(EncodeSingleToken(Vector())));
}

TEST(AccessToken, ExpiryWrongKeyAndOptionalClaims) {
  EXPECT_EQ(VerifyAccessToken(kAccessVector, "abckey", 1699423634).code(), Errc::kChannelOverdue);
  EXPECT_EQ(VerifyAccessToken(kAccessVector, "abckey2", 1).code(), Errc::kTokenInvalid);
  AccessClaims c = VectorClaims();
  c.nonce = "AK-7";
  c.role = "audience";
  c.issued_at = 1699400000;
  auto back = VerifyAccessToken(MintAccessToken(c, "k"), "k", 1);
  ASSERT_TRUE(back.ok()) << back.error().What();
  EXPECT_EQ(back->nonce, "AK-7");
  EXPECT_EQ(back->role, "audience");
  EXPECT_EQ(back->issued_at, 1699400000);
  c.role = "admin";
  EXPECT_EQ(DecodeAccessToken(MintAccessToken(c, "k")).code(), Errc::kMalformedToken);
}

// The attacks that worked on the classic token: moving characters between fields and
// stretching the expiry. With the access token, every edit of any claim breaks the
// signature.
TEST(AccessToken, EditedClaimsFailTheSignature) {
  std::string token = kAccessVector;
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string head = token.substr(0, d1), sig = token.substr(d2 + 1);
  auto with_claims = [&](const std::string& json) { return head + "." + Base64UrlEncode(json) + "." + sig; };
  for (const char* edited : {
           R"({"appId":"abc","channelId":"abcChannel1","userId":"bcUser","exp":1699423634})",
           R"({"appId":"abc","channelId":"abcChanne","userId":"labcUser","exp":1699423634})",
           R"({"appId":"abc","channelId":"abcChannel","userId":"abcUser","exp":16994236340})",
           R"({"appId":"abc","channelId":"abcChannel","userId":"abcUser","exp":1699423634,"role":"audience"})",
           R"({"appId":"abc","channelId":"abcChannel","userId":"abcUser","exp":1699423634 })",
       }) {
    EXPECT_EQ(VerifyAccessToken(with_claims(edited), "abckey", 1).code(), Errc::kTokenInvalid) << edited;
  }
  // A flipped signature bit; and a non-canonical spelling of the same signature (the
  // last character's unused bits set) is refused too: one token, one spelling.
  std::string flipped = token;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyAccessToken(flipped, "abckey", 1).code(), Errc::kTokenInvalid);
  std::string respelled = token;
  respelled.back() = 'V';  // 'U' = 010100, 'V' = 010101: only an unused bit differs
  EXPECT_EQ(VerifyAccessToken(respelled, "abckey", 1).code(), Errc::kMalformedToken);
}

TEST(AccessToken, OnlyHs256HeadersAreAccepted) {
  std::string token = kAccessVector;
  size_t d1 = token.find('.');
  std::string rest = token.substr(d1);
  for (const char* header :
       {R"({"alg":"none","typ":"JWT"})", R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256"})", R"({"typ":"JWT"})",
        R"({"alg":"HS256","typ":"JOSE+JSON"})", R"({"alg":"HS256","crit":["exp"]})", R"(["HS256"])"}) {
    EXPECT_EQ(VerifyAccessToken(Base64UrlEncode(header) + rest, "abckey", 1).code(), Errc::kMalformedToken) << header;
  }
  // alg none with an empty signature: refused before any signature check.
  std::string none = Base64UrlEncode(R"({"alg":"none"})") + token.substr(d1, token.rfind('.') - d1) + ".";
  EXPECT_EQ(VerifyAccessToken(none, "abckey", 1).code(), Errc::kMalformedToken);
}

TEST(AccessToken, MalformedShapes) {
  EXPECT_EQ(DecodeAccessToken("").code(), Errc::kInvalidAuthInfo);
  for (const std::string& t : std::vector<std::string>{"a.b", "a.b.c.d", "..", "a.b.c", "eyJ9.eyJ9.+/+/",
                                                       "x." + std::string(5000, 'A') + ".y"}) {
    EXPECT_EQ(DecodeAccessToken(t).code(), Errc::kMalformedToken) << t;
  }
  std::string sig = std::string(kAccessVector).substr(std::string(kAccessVector).rfind('.'));
  std::string head = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  auto claims = [&](const std::string& json) { return DecodeAccessToken(head + "." + Base64UrlEncode(json) + sig); };
  EXPECT_EQ(claims(R"({"channelId":"c","userId":"u","exp":1})").code(), Errc::kMalformedToken);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c","userId":"u"})").code(), Errc::kMalformedToken);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c","userId":"u","exp":"1"})").code(), Errc::kMalformedToken);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c","userId":"u","exp":1.5})").code(), Errc::kMalformedToken);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c d","userId":"u","exp":1})").code(), Errc::kInvalidChannelId);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c","userId":"u/x","exp":1})").code(), Errc::kInvalidUserId);
  EXPECT_EQ(claims(R"({"appId":"a","channelId":"c","userId":"u","exp":1,"nonce":"a b"})").code(),
            Errc::kInvalidAuthInfo);
  EXPECT_TRUE(claims(R"({"appId":"a","channelId":"c","userId":"u","exp":1,"extra":[1]})").ok());
}

TEST(Token, NonceCharacterSet) {
  AuthInfo a = Vector();
  a.nonce = "AK-0123_x";
  EXPECT_TRUE(ValidateAuthInfo(a).ok());
  a.nonce = "7|1699423634";
  EXPECT_EQ(ValidateAuthInfo(a).code(), Errc::kInvalidAuthInfo);
}

}  // namespace
}  // namespace parley
