// Fuzzes the last-mile probe's datagrams and the worker's probe sessions: whatever the
// bytes, Parse either refuses them or reads fields that write back to the same bytes,
// and a worker serving an open probe answers no datagram with more bytes than it had
// and sends nothing to any address but the one its first echo came from.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parley/proto/probe_wire.hpp"
#include "sfu/probe_sessions.hpp"

namespace {

namespace probe = parley::proto::probe;

constexpr probe::Cookie kCookie = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

sockaddr_storage Address(uint16_t port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ss;
}

class Sink final : public parley::sfu::WebRtcTransport::PacketSink {
 public:
  void SendNow(std::span<const uint8_t> d, const sockaddr_storage&) override { last = d.size(); }
  uint8_t* Slot() override { return slot.data(); }
  void Queue(size_t length, const sockaddr_storage& to) override {
    last = length;
    if (slot[5] == static_cast<uint8_t>(probe::Kind::kEchoReply)) last_reply = length;
    to_port = ntohs(reinterpret_cast<const sockaddr_in*>(&to)->sin_port);
    ++queued;
  }
  std::vector<uint8_t> slot = std::vector<uint8_t>(parley::sfu::kSlotBytes);
  size_t last = 0, last_reply = 0, queued = 0;
  uint16_t to_port = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);  // exact size: ASan sees any overread
  if (auto d = probe::Parse(bytes)) {
    std::vector<uint8_t> again(probe::kMaxDataBytes);
    size_t n = 0;
    if (d->header.kind == probe::Kind::kEchoReply) n = probe::WriteEchoReply(again, d->header, d->reply);
    if (d->header.kind == probe::Kind::kDownStart) n = probe::WriteDownStart(again, d->header, d->start);
    // Fields written back are the bytes they were read from (the reserved bytes and any
    // tail beyond the fields are not read).
    if (n && (std::memcmp(again.data(), bytes.data(), 6) != 0 ||
              std::memcmp(again.data() + 8, bytes.data() + 8, n - 8) != 0))
      __builtin_trap();
  }
  // A worker with one open probe; the datagram names it when its cookie bytes are the
  // probe's (the fuzzer finds them from the seeds).
  parley::sfu::ProbeSessions sessions;
  parley::sfu::ProbeGrant grant{kCookie, {}, 1000, 10000};
  grant.nonce.fill(0x5A);
  if (!sessions.Open(grant, 1'000'000)) __builtin_trap();
  parley::sfu::DropCounters drops;
  Sink sink;
  // The client's first echo binds the probe to port 1000; the fuzzed datagram comes
  // from there or from elsewhere.
  std::vector<uint8_t> echo(probe::kMinEchoBytes);
  probe::WritePadded(echo, {probe::Kind::kEcho, kCookie, 0, 1}, echo.size());
  sessions.Receive(echo, Address(1000), 1'000'050, sink, drops);
  if (sink.queued != 1) __builtin_trap();
  const bool from_other = size > 0 && (data[size - 1] & 1);
  sink.last_reply = 0;
  sessions.Receive(bytes, Address(from_other ? 2000 : 1000), 1'000'100, sink, drops);
  if (sink.last_reply > bytes.size()) __builtin_trap();           // an echo's answer is no larger than the echo
  if (sink.queued > 1 && sink.to_port != 1000) __builtin_trap();  // only to the bound address
  sessions.Run(1'050'000, sink);
  if (sink.queued > 1 && sink.to_port != 1000) __builtin_trap();
  return 0;
}
