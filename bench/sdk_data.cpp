// libparley's data messages end to end on loopback: two engines in one channel (no
// audio or video), each with its data connection (webrtcbin's SCTP data channel) to
// parleyd, which relays between them. One way latency from SendDataMessage on one
// engine to OnDataMessage on the other (one process, one clock), p50/p99/max, for
// small messages at a steady rate, reliable and ordered and then unreliable and
// unordered; and 16 KiB messages just under the send rate limit (4 MiB/s), with the
// rate that arrived.
//   sdk_data [messages=1000] [rate=200]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_bench.hpp"
#include "parley/engine.hpp"

namespace {

using namespace parley;
using Clock = std::chrono::steady_clock;
using bench::Percentile;

// The start of each message: its index and when it was handed to SendDataMessage.
struct Stamp {
  uint32_t index;
  int64_t sent_ns;
};

struct Side : EngineEventListener {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, peer = false;
  std::vector<double> latency_ms;  // by arrival
  std::vector<uint32_t> order;     // indexes by arrival
  size_t bytes = 0;
  void OnDataChannelStateChanged(DataChannelState s) override {
    std::lock_guard<std::mutex> lock(mu);
    open = s == DataChannelState::kOpen;
    cv.notify_all();
  }
  void OnRemoteUserOnline(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu);
    peer = true;
    cv.notify_all();
  }
  void OnDataMessage(const std::string&, const std::vector<uint8_t>& data, const DataMessageOptions&) override {
    const int64_t now = Clock::now().time_since_epoch().count();
    if (data.size() < sizeof(Stamp)) return;
    Stamp s;
    std::memcpy(&s, data.data(), sizeof s);
    std::lock_guard<std::mutex> lock(mu);
    latency_ms.push_back(static_cast<double>(now - s.sent_ns) / 1e6);
    order.push_back(s.index);
    bytes += data.size();
    cv.notify_all();
  }
  bool Wait(std::chrono::seconds t, const std::function<bool()>& ready) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, t, ready);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu);
    latency_ms.clear();
    order.clear();
    bytes = 0;
  }
};

// Sends `count` messages of `size` bytes at `per_second`; returns how many were refused.
int Send(RtcEngine* e, int count, size_t size, int per_second, const DataMessageOptions& o) {
  std::vector<uint8_t> msg(size, 0x5A);
  int refused = 0;
  auto next = Clock::now();
  const auto step = std::chrono::nanoseconds(1'000'000'000 / per_second);
  for (int i = 0; i < count; ++i) {
    Stamp s{static_cast<uint32_t>(i), Clock::now().time_since_epoch().count()};
    std::memcpy(msg.data(), &s, sizeof s);
    if (e->SendDataMessage("", msg.data(), msg.size(), o) != 0) ++refused;
    next += step;
    std::this_thread::sleep_until(next);
  }
  return refused;
}

void Report(const char* what, Side& rx, int sent, int refused) {
  std::lock_guard<std::mutex> lock(rx.mu);
  size_t reordered = 0;
  for (size_t i = 1; i < rx.order.size(); ++i) reordered += rx.order[i] < rx.order[i - 1];
  std::printf(
      "%s: sent %d (refused %d), arrived %zu, out of order %zu; one way p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", what,
      sent, refused, rx.latency_ms.size(), reordered, Percentile(rx.latency_ms, 0.5), Percentile(rx.latency_ms, 0.99),
      Percentile(rx.latency_ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rate = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  bench::EngineBenchServer server;
  auto auth = [&](const std::string& user) { return server.Auth("data", user); };
  EngineConfig cfg = server.Config();
  cfg.auto_publish = false;
  Side a, b;
  RtcEngine* ea = RtcEngine::Create(cfg);
  RtcEngine* eb = RtcEngine::Create(cfg);
  ea->SetEngineEventListener(&a);
  eb->SetEngineEventListener(&b);
  ea->EnableDataMessages(true);
  eb->EnableDataMessages(true);
  ea->JoinChannel(auth("a"), "a");
  eb->JoinChannel(auth("b"), "b");
  for (Side* s : {&a, &b})
    if (!s->Wait(std::chrono::seconds(20), [&] { return s->open && s->peer; })) {
      std::fprintf(stderr, "sdk_data: the data connections did not open\n");
      RtcEngine::Destroy(eb);
      RtcEngine::Destroy(ea);
      return 1;
    }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const DataMessageOptions reliable{false, true, true}, unreliable{false, false, false};
  int refused = Send(ea, messages, 100, rate, reliable);
  b.Wait(std::chrono::seconds(5), [&] { return b.order.size() >= static_cast<size_t>(messages - refused); });
  Report("100 B reliable ordered", b, messages, refused);
  b.Clear();
  refused = Send(ea, messages, 100, rate, unreliable);
  b.Wait(std::chrono::seconds(5), [&] { return b.order.size() >= static_cast<size_t>(messages - refused); });
  Report("100 B unreliable unordered", b, messages, refused);
  b.Clear();
  // 16 KiB at 240 a second: 3.75 MiB/s, under the 4 MiB/s limit.
  const int big = 720;
  auto t0 = Clock::now();
  refused = Send(ea, big, 16384, 240, reliable);
  b.Wait(std::chrono::seconds(10), [&] { return b.order.size() >= static_cast<size_t>(big - refused); });
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Report("16 KiB reliable ordered at 240/s", b, big, refused);
  {
    std::lock_guard<std::mutex> lock(b.mu);
    std::printf("16 KiB: %.2f MiB arrived in %.2f s (%.2f MiB/s)\n", static_cast<double>(b.bytes) / 1048576.0, secs,
                static_cast<double>(b.bytes) / 1048576.0 / secs);
  }
  RtcEngine::Destroy(eb);
  RtcEngine::Destroy(ea);
  return 0;
}
