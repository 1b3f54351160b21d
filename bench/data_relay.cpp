// Data messages through a media worker on 127.0.0.1 (SCTP over DTLS, usrsctp on both
// ends, the worker's DataRelay between): the one-way latency of small messages from one
// client to another (p50 / p99 / max), reliable and unreliable, and the throughput of
// large ones with the sender at its rate limit. Both clients run on this thread; the
// worker on its own. Prints numbers (docs/performance.md records them).
//   data_relay [messages]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "data_peer.hpp"
#include "on_worker.hpp"
#include "sfu/worker.hpp"

using namespace parley::sfu;
using test_peer::DataPeer;
using Clock = std::chrono::steady_clock;

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// `count` messages of `size` bytes from a to b, one every `gap_us`, each stamped with
// its send time; the latencies (ms) of those that arrived.
std::vector<double> Latencies(DataPeer& a, DataPeer& b, int count, size_t size, uint16_t stream, int64_t gap_us) {
  std::vector<double> ms;
  b.got.clear();
  for (int i = 0; i < count; ++i) {
    std::string payload(size, 'x');
    int64_t t = NowNs();
    std::memcpy(payload.data(), &t, sizeof t);
    if (!a.SendTo("b", payload, stream, kPpidBinary)) continue;
    auto until = Clock::now() + std::chrono::microseconds(gap_us);
    while (Clock::now() < until) {
      a.Step(0);
      b.Step(1);
      for (auto& m : b.got) {
        int64_t sent;
        std::memcpy(&sent, m.data.data() + 2, sizeof sent);  // after "a:"
        ms.push_back(static_cast<double>(NowNs() - sent) / 1e6);
      }
      b.got.clear();
    }
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  auto cert = *DtlsCertificate::Generate();
  auto worker = *MediaWorker::Create("127.0.0.1", 0, cert);
  worker->Start();
  std::vector<std::unique_ptr<DataPeer>> peers;
  for (uint64_t id : {uint64_t{1}, uint64_t{2}}) {
    auto peer = std::make_unique<DataPeer>(worker->port());
    TransportParams params{"u" + std::to_string(id), "password-of-the-server-" + std::to_string(id), "c",
                           peer->fingerprint()};
    params.sctp_port = kSctpPort;
    OnWorker(*worker, [&] {
      worker->AddTransport(id, params, 1);
      worker->AddDataMember(id, 1, id == 1 ? "a" : "b");
      return 0;
    });
    if (!peer->Connect(params.local_ufrag + ":c", params.local_pwd, cert->fingerprint())) {
      std::fprintf(stderr, "data_relay: client %llu did not connect\n", static_cast<unsigned long long>(id));
      return 1;
    }
    peers.push_back(std::move(peer));
  }
  DataPeer& a = *peers[0];
  DataPeer& b = *peers[1];
  // 200 a second: within the sender's 256.
  for (auto [stream, name] : {std::pair<uint16_t, const char*>{0, "reliable ordered"}, {3, "unreliable unordered"}}) {
    auto ms = Latencies(a, b, count, 100, stream, 5000);
    std::printf("data_relay: latency, %d x 100 B at 200/s, %s: %zu arrived, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                count, name, ms.size(), Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0));
  }
  // Throughput: 16 KiB messages as fast as the sender's SCTP takes them for 3 s; the
  // relay passes what the sender's rate allows (4 MiB/s) and drops the rest.
  auto before = OnWorker(*worker, [&] { return worker->data_counters(); });
  std::string big(16 * 1024, 'y');
  uint64_t received = 0, offered = 0;
  b.got.clear();
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(3)) {
    if (a.SendTo("b", big, 0, kPpidBinary)) offered += big.size();
    a.Step(0);
    b.Step(0);
    for (auto& m : b.got) received += m.data.size() - 2;
    b.got.clear();
  }
  for (auto end = Clock::now() + std::chrono::milliseconds(500); Clock::now() < end;) {
    a.Step(0);
    b.Step(1);
    for (auto& m : b.got) received += m.data.size() - 2;
    b.got.clear();
  }
  auto after = OnWorker(*worker, [&] { return worker->data_counters(); });
  double secs = 3.0;
  std::printf(
      "data_relay: throughput, 16 KiB reliable ordered for 3 s: offered %.2f MiB/s, delivered %.2f MiB/s "
      "(%llu relayed, %llu over the sender's rate)\n",
      static_cast<double>(offered) / secs / 1048576.0, static_cast<double>(received) / secs / 1048576.0,
      static_cast<unsigned long long>(after.relayed - before.relayed),
      static_cast<unsigned long long>(after.rate_limited - before.rate_limited));
  peers.clear();
  worker->Stop();
  return 0;
}
