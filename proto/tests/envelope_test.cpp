#include "parley/proto/envelope.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::proto {
namespace {

using nlohmann::json;

std::string Nested(size_t levels) {
  return R"({"type":"ping","x":)" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST(Envelope, NestingDeeperThan32IsMalformed) {
  json id;
  EXPECT_TRUE(ParseEnvelope(Nested(32), 1 << 16, &id).ok());
  auto deep = ParseEnvelope(Nested(33), 1 << 16, &id);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.code(), Errc::kMalformedMessage);
  EXPECT_EQ(deep.error().message, "message nests deeper than 32 levels");
  // Brackets inside strings, escaped quotes included, are text and do not count.
  std::string in_string = R"({"type":"ping","s":"\")" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(ParseEnvelope(in_string, 1 << 16, &id).ok());
  // Size is checked first, with the server's words.
  auto big = ParseEnvelope(std::string(11, ' '), 10, &id);
  EXPECT_EQ(big.code(), Errc::kMessageTooLarge);
  EXPECT_EQ(big.error().message, "message is 11 bytes; the limit is 10");
  auto bad = ParseEnvelope("{", 10, &id);
  EXPECT_EQ(bad.code(), Errc::kMalformedMessage);
  EXPECT_EQ(bad.error().message, "message is not valid JSON");
  auto arr = ParseEnvelope("[]", 10, &id);
  EXPECT_EQ(arr.error().message, "message is not a JSON object");
}

TEST(Envelope, IdIsEchoedWhenReadable) {
  json id;
  // A later failure still leaves the id, so the error response can name the request.
  auto no_type = ParseEnvelope(R"({"id":7})", 1024, &id);
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.code(), Errc::kInvalidField);
  EXPECT_EQ(no_type.error().message, "type must be a non-empty string");
  EXPECT_EQ(id, json(7));
  auto ok = ParseEnvelope(R"({"id":"r-1","type":"join","userName":"Ann"})", 1024, &id);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->id, json("r-1"));
  EXPECT_EQ(ok->type, "join");
  EXPECT_EQ(ok->body.at("userName"), "Ann");
  // An id that cannot be echoed is refused and not kept.
  auto long_id = ParseEnvelope(R"({"id":")" + std::string(65, 'i') + R"(","type":"ping"})", 1024, &id);
  EXPECT_EQ(long_id.code(), Errc::kInvalidField);
  EXPECT_EQ(long_id.error().message, "id must be an integer or a string of at most 64 characters");
  EXPECT_TRUE(id.is_null());
  auto float_id = ParseEnvelope(R"({"id":1.5,"type":"ping"})", 1024, &id);
  EXPECT_EQ(float_id.code(), Errc::kInvalidField);
  EXPECT_TRUE(ParseEnvelope(R"({"id":null,"type":"ping"})", 1024, &id).ok());
  EXPECT_TRUE(id.is_null());
  auto long_type = ParseEnvelope(R"({"id":1,"type":")" + std::string(65, 't') + "\"}", 1024, &id);
  EXPECT_EQ(long_type.code(), Errc::kUnknownMessageType);
  EXPECT_EQ(long_type.error().message, "type is too long");
  EXPECT_EQ(id, json(1));
}

TEST(Envelope, WrongVersionIsUnsupported) {
  json id;
  EXPECT_TRUE(ParseEnvelope(R"({"v":1,"type":"ping"})", 1024, &id).ok());
  for (const char* text : {R"({"v":2,"type":"ping","id":3})", R"({"v":"1","type":"ping","id":3})"}) {
    auto r = ParseEnvelope(text, 1024, &id);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.code(), Errc::kUnsupportedVersion);
    EXPECT_EQ(r.error().message, "this server speaks protocol v1");
    EXPECT_EQ(id, json(3));
  }
}

TEST(Envelope, ResponsesAreTheServersBytes) {
  // Golden bytes of protocol.cpp's MakeResponse at aa7c5f4: sorted keys, data only when set.
  EXPECT_EQ(MakeResponse(5, "ping", Errc::kOk, "pong", {{"serverTimeMs", 1}}),
            R"({"code":0,"data":{"serverTimeMs":1},"id":5,"message":"pong","request":"ping","type":"response"})");
  EXPECT_EQ(MakeResponse(nullptr, "x", Errc::kOk, "ok"),
            R"({"code":0,"id":null,"message":"ok","request":"x","type":"response"})");
  Error e = MakeError(Errc::kTokenInvalid, "expired", Errc::kOk);
  EXPECT_EQ(MakeErrorResponse("a", "join", e), MakeResponse("a", "join", Errc::kTokenInvalid, "expired"));
  Error d = MakeError(Errc::kTokenInvalid, "", Errc::kInvalidField);
  EXPECT_NE(MakeErrorResponse("a", "join", d).find(R"("data":{"detail":)"), std::string::npos);
  // Invalid UTF-8 echoed from a client is replaced, never thrown.
  std::string bad = "\xff\xfe";
  EXPECT_NO_THROW(MakeResponse(1, bad, Errc::kOk, bad));
  EXPECT_EQ(DumpSafe(json("a\xff")), "\"a\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace parley::proto

namespace parley::proto {
namespace {

TEST(Utf8, WellFormedOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("\xC3\xA9t\xC3\xA9"));         // été
  EXPECT_TRUE(IsUtf8("\xE4\xBD\xA0\xE5\xA5\xBD"));  // 你好
  EXPECT_TRUE(IsUtf8("\xF0\x9F\x8E\xA4"));          // U+1F3A4
  EXPECT_TRUE(IsUtf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF
  EXPECT_FALSE(IsUtf8("\xC3"));                     // cut short
  EXPECT_FALSE(IsUtf8("\xE4\xBD"));
  EXPECT_FALSE(IsUtf8("a\x80z"));    // a lone continuation byte
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));  // overlong '/'
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsUtf8("\xFF"));
  EXPECT_FALSE(IsUtf8("\xC3\x28"));  // a bad continuation
}

}  // namespace
}  // namespace parley::proto
