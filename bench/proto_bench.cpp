// Costs on the join path: token verification and decoding, catalog lookups, and parsing
// the typed requests (envelope plus body) the server reads most.
#include <benchmark/benchmark.h>

#include "parley/proto/envelope.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/requests.hpp"
#include "parley/proto/token.hpp"

namespace {

parley::AuthInfo Auth() {
  parley::AuthInfo a{"abc", "abcChannel", "abcUser", "", 1699423634, ""};
  a.token = parley::ComputeClassicToken(a.app_id, "abckey", a.channel_id, a.user_id, a.nonce, a.timestamp);
  return a;
}

void BM_ComputeClassicToken(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(parley::ComputeClassicToken("abc", "abckey", "abcChannel", "abcUser", "", 1699423634));
}
BENCHMARK(BM_ComputeClassicToken);

void BM_VerifyToken(benchmark::State& state) {
  auto a = Auth();
  for (auto _ : state) benchmark::DoNotOptimize(parley::VerifyToken(a, "abckey", 1));
}
BENCHMARK(BM_VerifyToken);

void BM_DecodeSingleToken(benchmark::State& state) {
  std::string t = parley::EncodeSingleToken(Auth());
  for (auto _ : state) benchmark::DoNotOptimize(parley::DecodeSingleToken(t));
}
BENCHMARK(BM_DecodeSingleToken);

// The join path's token cost with access tokens: one HMAC-SHA256 and one JSON parse,
// whatever the number of apps.
void BM_MintAccessToken(benchmark::State& state) {
  parley::AccessClaims c{"abc", "abcChannel", "abcUser", "", "", 1699423634, 0};
  for (auto _ : state) benchmark::DoNotOptimize(parley::MintAccessToken(c, "abckey"));
}
BENCHMARK(BM_MintAccessToken);

void BM_VerifyAccessToken(benchmark::State& state) {
  std::string t = parley::MintAccessToken({"abc", "abcChannel", "abcUser", "", "", 1699423634, 0}, "abckey");
  for (auto _ : state) benchmark::DoNotOptimize(parley::VerifyAccessToken(t, "abckey", 1));
}
BENCHMARK(BM_VerifyAccessToken);

void BM_FindError(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parley::FindError(0x01090003));
}
BENCHMARK(BM_FindError);

void BM_LookupCodeByName(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parley::LookupCode("PARLEY_ERR_MEDIA_FILE_OPEN_FAILED"));
}
BENCHMARK(BM_LookupCodeByName);

// A whole join message as a browser sends it: the envelope, the join fields and the
// credentials, which is what the server reads before it can check the token.
void BM_ParseJoin(benchmark::State& state) {
  std::string text = R"({"type":"join","id":2,"v":1,"userName":"Ann","sdkVersion":"parley.js 0.1.0",)"
                     R"("profile":"communication","platform":"h5","h5Compatible":true,"token":")" +
                     std::string(200, 't') + "\"}";
  for (auto _ : state) {
    nlohmann::json id;
    auto env = parley::proto::ParseEnvelope(text, 1 << 16, &id);
    auto join = parley::proto::JoinRequest::Parse(env->body);
    auto creds = parley::proto::JoinCredentials::Parse(env->body);
    benchmark::DoNotOptimize(join.ok() && creds.ok());
  }
}
BENCHMARK(BM_ParseJoin);

// A publish with a typical 4 KiB offer: most of the cost is copying the SDP string.
void BM_ParsePublish(benchmark::State& state) {
  std::string text = R"({"type":"publish","id":3,"tracks":["audio","camera"],"sdp":")" + std::string(4096, 's') + "\"}";
  for (auto _ : state) {
    nlohmann::json id;
    auto env = parley::proto::ParseEnvelope(text, 1 << 16, &id);
    auto publish = parley::proto::PublishRequest::Parse(env->body);
    benchmark::DoNotOptimize(publish.ok());
  }
}
BENCHMARK(BM_ParsePublish);

}  // namespace
