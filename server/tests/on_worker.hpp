// Test helper: runs `fn` on the media worker's thread and returns its result, as the
// control plane's Post() would, but waiting for the answer.
#pragma once

#include <future>

#include "sfu/worker.hpp"

namespace parley::sfu {

template <typename Fn>
auto OnWorker(MediaWorker& w, Fn fn) {
  std::promise<decltype(fn())> p;
  auto f = p.get_future();
  w.Post([&] { p.set_value(fn()); });
  return f.get();
}

}  // namespace parley::sfu
