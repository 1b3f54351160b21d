// Test helper: runs `fn` on the media worker's thread and returns its result, as the
// control plane's Post() would, but waiting for the answer.
#pragma once

#include <atomic>
#include <future>
#include <memory>

#include "sfu/worker.hpp"

namespace parley::sfu {

template <typename Fn>
auto OnWorker(MediaWorker& w, Fn fn) {
  std::promise<decltype(fn())> p;
  auto f = p.get_future();
  w.Post([&] { p.set_value(fn()); });
  return f.get();
}

/// A started worker on 127.0.0.1 whose clock is `now` (microseconds, advanced by the
/// test), with video pacing off: what a test on a test clock drives.
inline std::unique_ptr<MediaWorker> StartOnTestClock(const std::shared_ptr<DtlsCertificate>& cert,
                                                     std::atomic<int64_t>& now) {
  WorkerOptions opts;
  opts.pace_video = false;
  opts.clock = [&now] { return now.load(); };
  auto worker = *MediaWorker::Create("127.0.0.1", 0, cert, opts);
  worker->Start();
  return worker;
}

}  // namespace parley::sfu
