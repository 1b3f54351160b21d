// SCTP over DTLS (RFC 8261) for WebRTC data channels (RFC 8831, RFC 8832), on usrsctp.
//
// usrsctp is one stack per process; it runs here without threads of its own
// (usrsctp_init_nothreads): every call into it, its timers included, happens under one
// process-wide mutex, and whatever it produces during a call (SCTP packets to send,
// received messages, association events) is queued on the association and handed to
// its owner after the call, outside the mutex. An association's packets go out through
// its SendFn (the DTLS transport's application data); received packets come in with
// Input. Timers fire from SctpStack::Tick, which any worker may call: packets they
// produce for another worker's association wait in its queue for its owner's Flush.
//
// Data channel messages are delivered whole (usrsctp's partial deliveries are joined,
// bounded by the association's largest message). DCEP (RFC 8832) DATA_CHANNEL_OPEN is
// acknowledged; Parley's own channels are negotiated out of band (fixed stream ids),
// so they need none.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

struct socket;

namespace parley::sfu {

/// The SCTP port of WebRTC data channels: the server's on data connections (a=sctp-port
/// of its answers), and a client's when its offer names none (RFC 8841 §5.1).
inline constexpr uint16_t kSctpPort = 5000;

/// SCTP payload protocol identifiers of WebRTC data channels (RFC 8831 §8).
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringEmpty = 56;
inline constexpr uint32_t kPpidBinaryEmpty = 57;

/// One data channel message.
struct SctpMessage {
  uint16_t stream = 0;
  uint32_t ppid = 0;  ///< kPpidString or kPpidBinary (the *Empty ones arrive as these with no bytes)
  std::vector<uint8_t> data;
};

/// How a message is sent: ordered or not, and reliably or with no retransmission
/// (partial reliability, RFC 3758: maxRetransmits 0).
struct SctpSendOptions {
  bool ordered = true;
  bool reliable = true;
};

class SctpAssociation {
 public:
  enum class State : uint8_t { kNew, kConnecting, kOpen, kClosed };
  struct Limits {
    size_t max_message = 64 * 1024 + 256;  ///< larger received messages are dropped
    size_t max_queued_messages = 512;      ///< received, not yet taken by the owner
    size_t send_buffer = 1024 * 1024;      ///< bytes SCTP may hold unacknowledged (SO_SNDBUF)
  };
  using SendFn = std::function<void(std::span<const uint8_t>)>;

  /// The SCTP ports of the two sides (a=sctp-port; kSctpPort in practice).
  SctpAssociation(uint16_t local_port, uint16_t remote_port, SendFn send, Limits limits);
  SctpAssociation(uint16_t local_port, uint16_t remote_port, SendFn send)
      : SctpAssociation(local_port, remote_port, std::move(send), Limits{}) {}
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  /// Opens the association (both WebRTC peers connect; SCTP resolves the crossing
  /// INITs). False if usrsctp refused the socket.
  bool Start();
  /// One SCTP packet from the DTLS transport's application data.
  void Input(std::span<const uint8_t> packet);
  /// Sends what timers produced for this association (call on the owner's tick).
  void Flush();
  /// Sends one message on `stream`; false when not open, too large, or SCTP's send
  /// buffer is full (the message is not sent).
  bool Send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, SctpSendOptions options);
  /// Messages received since the last call, in order of arrival.
  std::vector<SctpMessage> TakeMessages();

  [[nodiscard]] State state() const { return state_.load(); }
  /// Received messages dropped: over the size bound, an unknown PPID, or the queue full.
  [[nodiscard]] uint64_t dropped() const { return dropped_.load(); }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  /// DCEP DATA_CHANNEL_OPENs received (and acknowledged).
  [[nodiscard]] uint64_t dcep_opens() const { return dcep_opens_.load(); }

  // usrsctp's callbacks (sctp.cpp), under the stack's mutex.
  void OnOutput(const void* buffer, size_t length);
  void OnReceive(const void* data, size_t length, uint16_t stream, uint32_t ppid, int flags);

 private:
  void OnNotification(const uint8_t* data, size_t length);
  void OnDcep(uint16_t stream, const std::vector<uint8_t>& data);
  /// Under the mutex: takes the packets to send and the DCEP acks to answer.
  void Drain(std::vector<std::vector<uint8_t>>& packets);

  uint16_t local_port_, remote_port_;
  SendFn send_;
  Limits limits_;
  struct socket* sock_ = nullptr;
  // Written in callbacks, which a timer on another worker's thread may run.
  std::atomic<State> state_{State::kNew};
  std::atomic<uint64_t> dropped_{0}, dcep_opens_{0};
  // Guarded by the stack's mutex:
  std::vector<std::vector<uint8_t>> out_;
  std::vector<SctpMessage> in_;
  std::map<uint16_t, SctpMessage> partial_;  ///< per stream: a message not complete yet
  std::vector<uint16_t> acks_;               ///< DCEP opens to acknowledge
};

/// The process's SCTP stack.
class SctpStack {
 public:
  /// Runs usrsctp's timers for the time passed since the last call (any thread; the
  /// stack keeps its own steady clock: one stack, one time).
  static void Tick();
  /// Associations open in the process (for tests and metrics).
  static size_t associations();
};

}  // namespace parley::sfu
