// Fuzzes ICE-TCP's RFC 4571 deframing (sfu/tcp_links.hpp) as a connection would feed
// it: the input is read in chunks whose sizes come from its first byte, into a buffer
// of a frame's size, the way TcpLinks reads a socket. Whatever the split, the frames
// must be the ones a one-shot pass finds, each within the bounds, and a refused stream
// must be refused at the same point.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "sfu/tcp_links.hpp"

namespace {
constexpr size_t kMaxFrame = 1500;

// The frames of `bytes` in one pass, and whether the stream was refused.
std::vector<std::vector<uint8_t>> OneShot(std::vector<uint8_t> bytes, bool* refused) {
  std::vector<std::vector<uint8_t>> frames;
  auto took = parley::sfu::Deframe(std::span<uint8_t>(bytes), kMaxFrame,
                                   [&](std::span<uint8_t> f) { frames.emplace_back(f.begin(), f.end()); });
  *refused = took < 0;
  return frames;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] % 97;
  std::vector<uint8_t> stream(data + 1, data + size);
  bool refused_once = false;
  auto expected = OneShot(stream, &refused_once);

  std::vector<uint8_t> buf(2 + kMaxFrame);
  size_t filled = 0, at = 0;
  std::vector<std::vector<uint8_t>> got;
  bool refused = false;
  while (at < stream.size() && !refused) {
    size_t n = std::min({chunk, stream.size() - at, buf.size() - filled});
    if (n == 0) __builtin_trap();  // a full buffer always holds a whole frame
    std::memcpy(buf.data() + filled, stream.data() + at, n);
    at += n;
    filled += n;
    auto took = parley::sfu::Deframe(std::span<uint8_t>(buf.data(), filled), kMaxFrame, [&](std::span<uint8_t> f) {
      if (f.empty() || f.size() > kMaxFrame) __builtin_trap();
      got.emplace_back(f.begin(), f.end());
    });
    if (took < 0) {
      refused = true;
      break;
    }
    std::memmove(buf.data(), buf.data() + took, filled - static_cast<size_t>(took));
    filled -= static_cast<size_t>(took);
  }
  if (refused != refused_once || got != expected) __builtin_trap();
  return 0;
}
