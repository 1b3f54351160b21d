// Data messages between the members of a channel (issue: data channels through the SFU).
//
// Each member that opened a data connection has one SCTP association with the server
// (sctp.hpp); Parley's data channels on it are negotiated out of band, one stream per
// way of sending (docs/protocol.md, "Data messages"):
//   stream 0 reliable and ordered, 1 reliable and unordered,
//   stream 2 unreliable (no retransmission) and ordered, 3 unreliable and unordered.
// A message is an envelope: a user id, a colon, then the application's payload (text
// or binary, as its PPID says; the colon cannot be in an id, and keeps a text message
// a C string where a stack hands strings over as such). From a client the id names the recipient ("" =
// everyone else in the channel); from the server it names the sender. The relay
// checks the envelope and the sender's rates, and sends the message on the same stream
// (the same way) to each recipient's association.
//
// Worker-thread only, like the transports it relays between.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfu/sctp.hpp"

namespace parley::sfu {

class WebRtcTransport;

/// The largest payload of one data message (bytes), and the sender's rates: what both
/// SDKs enforce before sending (with their own codes) and the relay enforces again.
inline constexpr size_t kMaxDataPayload = 64 * 1024;
inline constexpr uint32_t kDataMessagesPerSecond = 256;
inline constexpr uint64_t kDataBytesPerSecond = 4 * 1024 * 1024;
/// Between the id and the payload of an envelope.
inline constexpr uint8_t kEnvelopeSeparator = ':';
/// Parley's data channels: stream ids 0..3 (kDataStreams of them).
inline constexpr uint16_t kDataStreams = 4;
/// How stream `id` sends (see the header comment).
SctpSendOptions DataStreamOptions(uint16_t stream);

/// A token bucket: `rate` per second, at most one second's worth saved up.
class RateBucket {
 public:
  explicit RateBucket(uint64_t rate) : rate_(rate), tokens_(static_cast<double>(rate)) {}
  /// Whether `n` tokens are there at `now_us` (refilling first).
  bool Allows(uint64_t n, int64_t now_us);
  /// Takes `n` tokens (after Allows said yes).
  void Spend(uint64_t n) { tokens_ -= static_cast<double>(n); }

 private:
  uint64_t rate_;
  double tokens_;
  int64_t last_us_ = -1;
};

struct DataRelayCounters {
  uint64_t relayed = 0;       ///< messages received and sent on (once per message)
  uint64_t delivered = 0;     ///< copies sent to recipients
  uint64_t rate_limited = 0;  ///< dropped: the sender was over its rate
  uint64_t malformed = 0;     ///< dropped: no envelope, a bad id, too large, or an unknown stream
  uint64_t no_recipient = 0;  ///< dropped: the named user has no open data connection here
  uint64_t send_failed = 0;   ///< copies a recipient's association did not take (buffer full, not open)
};

class DataRelay {
 public:
  /// Finds a transport by id (the worker's registry).
  using FindFn = WebRtcTransport* (*)(void* ctx, uint64_t id);

  /// `transport` is `user`'s data connection in route table `channel`. A user has one:
  /// adding another replaces the first in the relay.
  void Add(uint64_t transport, uint64_t channel, std::string user);
  void Remove(uint64_t transport);
  [[nodiscard]] size_t size() const { return members_.size(); }

  /// One message received on `from`'s association.
  void OnMessage(const WebRtcTransport& from, const SctpMessage& m, int64_t now_us, FindFn find, void* ctx);

  [[nodiscard]] const DataRelayCounters& counters() const { return counters_; }

  /// Splits an envelope into (id, payload); false when it has no separator within the
  /// id's 64 characters or the id is not one (A-Z a-z 0-9 _ -).
  static bool SplitEnvelope(std::span<const uint8_t> message, std::string_view* id, std::span<const uint8_t>* payload);

 private:
  struct Member {
    uint64_t channel = 0;
    std::string user;
    RateBucket messages{kDataMessagesPerSecond}, bytes{kDataBytesPerSecond};
  };
  std::unordered_map<uint64_t, Member> members_;
  std::map<uint64_t, std::vector<uint64_t>> channels_;  ///< channel → its members' transports
  DataRelayCounters counters_;
  std::vector<uint8_t> scratch_;  ///< the outgoing envelope, reused
};

}  // namespace parley::sfu
