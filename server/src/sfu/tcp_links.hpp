// ICE over TCP beside a worker's UDP socket: RFC 6544 passive candidates on the same
// port number, each connection carrying datagrams framed as RFC 4571 says (a 16-bit
// big-endian length before each one).
//
// A client that cannot send UDP (a network that blocks it) connects to the worker's
// port over TCP and sends its ICE checks, DTLS and SRTP as frames; each frame is handed
// to the worker as if it were a datagram from the connection's address, marked as TCP
// (MarkTcp) so that a TCP path never mixes with a UDP one that happens to share the
// same address and port. What the worker sends to a marked address is framed into that
// connection's send buffer and written when the worker flushes.
//
// Everything here comes from the network and is bounded: the number of connections
// (more are closed as they are accepted), a frame's length (a datagram's, kMaxDatagram;
// a longer or empty one closes the connection), what waits to be sent to a connection
// (a packet that does not fit is dropped, as a full UDP socket buffer would), how long a
// connection may stay unproven (nothing sent to it: the worker answers only valid ICE
// checks, so junk does not keep a connection) and silent after its last frame, and how
// much is read from one connection per turn of the loop.
//
// Threading: the worker's thread only (one owner, like the rest of the worker).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "parley/proto/result.hpp"

namespace parley::sfu {

/// Whether `a` names a TCP connection (an address the worker got from TcpLinks).
bool IsTcp(const sockaddr_storage& a);
/// Marks `a` as a TCP connection's address (a byte past any sockaddr's own fields).
void MarkTcp(sockaddr_storage* a);
/// Family (with the TCP mark), port and address as a fixed-size key: looking a
/// transport or a connection up by an address allocates nothing.
std::array<uint8_t, 19> AddressKey(const sockaddr_storage& a);

/// RFC 4571 deframing: hands each whole frame at the start of `bytes` to `on_frame`
/// and returns how many bytes they took (what is left is the start of the next frame),
/// or -1 when a frame is empty or longer than `max_frame` (the connection is hostile or
/// broken: close it).
template <typename OnFrame>
std::ptrdiff_t Deframe(std::span<uint8_t> bytes, size_t max_frame, OnFrame&& on_frame) {
  size_t at = 0;
  while (bytes.size() - at >= 2) {
    const size_t len = static_cast<size_t>(bytes[at]) << 8 | bytes[at + 1];
    if (len == 0 || len > max_frame) return -1;
    if (bytes.size() - at < 2 + len) break;
    on_frame(bytes.subspan(at + 2, len));
    at += 2 + len;
  }
  return static_cast<std::ptrdiff_t>(at);
}

class TcpLinks {
 public:
  struct Limits {
    size_t max_links = 1024;               ///< open connections at most; more are closed at once
    size_t max_frame = 1500;               ///< a frame longer than a datagram closes its connection
    size_t max_pending_send = 256 * 1024;  ///< bytes waiting to be written to one connection
    int64_t first_frame_us = 5'000'000;    ///< a connection sent nothing (no check answered) this long: closed
    int64_t idle_us = 35'000'000;          ///< nor anything after (consent checks come every few s)
    size_t read_per_turn = 64 * 1024;      ///< bytes read from one connection per Run
    size_t unproven_per_address = 16;      ///< connections from one IP not answered yet
    size_t accept_per_turn = 64;           ///< connections accepted per Run (the rest wait)
  };
  struct Counters {
    uint64_t accepted = 0, refused = 0;  ///< refused: over the limits (all, or one address's unproven)
    uint64_t evicted = 0;                ///< unproven connections closed to make room for a new one
    uint64_t accept_paused = 0;          ///< out of descriptors or memory: accepting paused a while
    uint64_t bad_frames = 0;             ///< connections closed for a frame too long or empty
    uint64_t timed_out = 0;              ///< closed for silence
    uint64_t frames_in = 0, frames_out = 0;
    uint64_t send_dropped = 0;  ///< packets that did not fit a connection's send buffer
  };
  /// What Run hands the frames to.
  class Handler {
   public:
    virtual ~Handler() = default;
    /// Before a connection's frames (they stay valid until AfterFrames).
    virtual void BeforeFrames() = 0;
    /// One frame from `from` (marked TCP).
    virtual void OnFrame(std::span<uint8_t> frame, const sockaddr_storage& from) = 0;
    /// After a connection's frames, before its buffer is reused.
    virtual void AfterFrames() = 0;
    /// Connection `peer` (marked TCP) is closed: nothing more goes to or comes from it.
    virtual void OnLinkClosed(const sockaddr_storage& peer) = 0;
  };

  explicit TcpLinks(Limits limits);
  TcpLinks() : TcpLinks(Limits{}) {}
  ~TcpLinks();
  TcpLinks(const TcpLinks&) = delete;
  TcpLinks& operator=(const TcpLinks&) = delete;

  /// Listens on `address` (the worker's UDP address and port).
  Status Listen(const sockaddr_storage& address, socklen_t length);
  [[nodiscard]] bool listening() const { return listen_fd_ >= 0; }
  /// Without a listener of its own: takes only connections accepted elsewhere (Adopt).
  Status OpenForAdoption();
  /// Takes connection `fd` from `peer`, accepted by another listener (the signalling
  /// port's in one-port mode, port_share.hpp), with whatever it sent still unread, under
  /// the same limits as one accepted here. Closes `fd` when they refuse it.
  bool Adopt(int fd, const sockaddr_storage& peer, int64_t now_us);
  /// An epoll descriptor, readable when a connection or the listener has work.
  [[nodiscard]] int fd() const { return epoll_fd_; }

  /// Accepts, reads and writes whatever is ready now (no waiting).
  void Run(int64_t now_us, Handler& handler);
  /// Frames `packet` into the send buffer of connection `to`; false when there is no
  /// such connection or the packet does not fit (dropped, counted). `answers_check`:
  /// the packet is the worker's answer to a valid ICE check, which proves the
  /// connection (nothing else does: an unproven one is closed after first_frame_us).
  bool Send(const sockaddr_storage& to, std::span<const uint8_t> packet, bool answers_check = false);
  /// Writes what Send queued (each connection as far as its socket takes).
  void Flush();
  /// Closes connections that stayed silent too long, or broke outside Run; resumes
  /// accepting after a pause. `handler` hears of each connection closed.
  void Tick(int64_t now_us, Handler& handler);

  [[nodiscard]] size_t size() const { return links_.size(); }
  /// Whether Tick has work: connections to time out, or accepting to resume.
  [[nodiscard]] bool needs_ticks() const { return !links_.empty() || accept_paused_until_us_ >= 0; }
  [[nodiscard]] const Counters& counters() const { return counters_; }

 private:
  struct Link;
  using Key = std::array<uint8_t, 19>;
  void Accept(int64_t now_us);
  /// Adds an accepted connection (closed when the limits refuse it).
  bool AddLink(int fd, sockaddr_storage peer, int64_t now_us);
  void ListenerOn(bool on);
  /// Reads and hands over frames; false when the connection is to be closed.
  bool Read(Link& l, Handler& handler);
  /// Writes what waits; false when the connection is to be closed.
  bool Write(Link& l);
  void WantWrite(Link& l, bool on);
  /// Marks a connection to be closed by the next Reap (never while Run iterates).
  void Break(Link* l);
  void Reap(Handler& handler);
  void Close(Link* l, Handler& handler);

  Limits limits_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  std::map<Key, std::unique_ptr<Link>> links_;
  std::vector<Link*> dirty_;    ///< connections with bytes queued since the last Flush
  std::vector<Link*> closing_;  ///< broken, closed by Reap
  Counters counters_;
  int64_t last_sweep_us_ = 0;
  int64_t accept_paused_until_us_ = -1;  ///< accepting is paused until then (-1: it is not)
};

}  // namespace parley::sfu
