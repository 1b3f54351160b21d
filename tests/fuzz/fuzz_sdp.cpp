// Fuzzes the SDP parser; what parses must write and re-parse to a fixed point, and the
// data connection's answer must take it or refuse it with kInvalidSdp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sfu/negotiate.hpp"
#include "sfu/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = parley::sfu::ParseSdp(text);
  if (!s.ok()) return 0;
  static const parley::sfu::LocalTransport kLocal{"u", "password-0123456789abcd", "AB:CD", "127.0.0.1", 9, 0, ""};
  auto data_answer = parley::sfu::AnswerDataOffer(*s, kLocal);
  if (!data_answer.ok() && data_answer.error().code != parley::Errc::kInvalidSdp) __builtin_trap();
  std::string once = parley::sfu::WriteSdp(*s);
  auto back = parley::sfu::ParseSdp(once);
  if (!back.ok()) __builtin_trap();
  std::string twice = parley::sfu::WriteSdp(*back);
  auto third = parley::sfu::ParseSdp(twice);
  if (!third.ok() || parley::sfu::WriteSdp(*third) != twice) __builtin_trap();
  return 0;
}
