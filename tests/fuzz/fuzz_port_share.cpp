// Fuzzes how one-port mode tells a connection's first bytes apart (sfu/port_share.hpp):
// whatever arrives, the answer is one of the four kinds, a media connection names a
// worker that exists, and a prefix of the input is never decided differently from the
// whole (kNeedMore until it is decided, then the same answer as more bytes arrive).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "sfu/port_share.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using parley::sfu::ClassifyOpening;
  using parley::sfu::Opening;
  if (size < 1) return 0;
  const size_t workers = 1 + data[0] % 8;
  std::span<const uint8_t> bytes(data + 1, size - 1);
  auto whole = ClassifyOpening(bytes, 1500, workers);
  if (whole.kind == Opening::kMedia && whole.worker >= workers) std::abort();
  bool decided = false;
  for (size_t n = 0; n <= bytes.size(); ++n) {
    auto k = ClassifyOpening(bytes.first(n), 1500, workers);
    if (k.kind == Opening::kNeedMore) {
      if (decided) std::abort();  // decided on fewer bytes, undecided on more
      continue;
    }
    if (k.kind != whole.kind || k.worker != whole.worker) std::abort();
    decided = true;
  }
  (void)parley::sfu::UfragWorker(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
