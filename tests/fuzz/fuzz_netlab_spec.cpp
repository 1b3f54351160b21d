// Fuzzes the network lab's impairment specs (the text its control socket and command
// line take): no crash, every value it accepts is in range, and the canonical form of
// what it accepts parses again to a link that describes the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "impairment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto imp = parley::netlab::ParseImpairment(text, &error);
  if (!imp) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (imp->loss < 0 || imp->loss > 1 || imp->duplicate < 0 || imp->duplicate > 1) __builtin_trap();
  if (imp->burst_p < 0 || imp->burst_r <= 0 || imp->burst_r > 1) __builtin_trap();
  if (imp->delay_ms > 60000 || imp->jitter_ms > 60000 || imp->queue_bytes < 1500) __builtin_trap();
  std::string canonical = parley::netlab::Describe(*imp);
  auto again = parley::netlab::ParseImpairment(canonical, &error);
  if (!again || parley::netlab::Describe(*again) != canonical) __builtin_trap();
  return 0;
}
