// Costs on the join path: token verification and decoding, and catalog lookups.
#include <benchmark/benchmark.h>

#include "parley/proto/errc.hpp"
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

}  // namespace
