#include "sfu/sctp.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

namespace parley::sfu {
namespace {

// The stack's mutex: held around every usrsctp call, so its callbacks run under it.
// Never destroyed (nor is Live's set): an association that outlives main (a static)
// still finds both.
std::mutex& Mu() {
  static auto* m = new std::mutex;
  return *m;
}

// The associations alive (registered addresses): a callback for one that is gone (a
// packet usrsctp still had for a closed socket) finds it missing and is dropped.
std::set<const void*>& Live() {
  static auto* s = new std::set<const void*>;
  return *s;
}

bool g_initialised = false;
int64_t g_last_tick_ms = -1;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int ConnOutput(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  if (Live().count(addr)) static_cast<SctpAssociation*>(addr)->OnOutput(buffer, length);
  return 0;
}

int OnSocketReceive(struct socket* /*sock*/, union sctp_sockstore /*addr*/, void* data, size_t length,
                    struct sctp_rcvinfo info, int flags, void* ulp_info) {
  if (!data) return 1;
  if (Live().count(ulp_info))
    static_cast<SctpAssociation*>(ulp_info)->OnReceive(data, length, info.rcv_sid, ntohl(info.rcv_ppid), flags);
  free(data);  // usrsctp hands over a malloc'd copy
  return 1;
}

// Under Mu().
void InitLocked() {
  if (g_initialised) return;
  usrsctp_init_nothreads(0, ConnOutput, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);  // WebRTC peers do not negotiate ECN over DTLS
  g_initialised = true;
  g_last_tick_ms = SteadyMs();
}

// How one message goes out: its stream, PPID (host order here), order and reliability
// (no retransmission when unreliable: PR-SCTP, RFC 3758).
sctp_sendv_spa SendInfo(uint16_t stream, uint32_t ppid, SctpSendOptions options) {
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_flags = SCTP_EOR | (options.ordered ? 0 : SCTP_UNORDERED);
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  if (!options.reliable) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = 0;
  }
  return spa;
}

template <typename T>
void SetOption(struct socket* s, int level, int name, const T& value) {
  usrsctp_setsockopt(s, level, name, &value, static_cast<socklen_t>(sizeof value));
}

}  // namespace

SctpAssociation::SctpAssociation(uint16_t local_port, uint16_t remote_port, SendFn send, Limits limits)
    : local_port_(local_port), remote_port_(remote_port), send_(std::move(send)), limits_(limits) {}

SctpAssociation::~SctpAssociation() {
  std::lock_guard lock(Mu());
  Live().erase(this);
  if (sock_) usrsctp_close(sock_);  // SO_LINGER 0: an ABORT, and the association is freed
  if (g_initialised) usrsctp_deregister_address(this);
}

bool SctpAssociation::Start() {
  if (state_ != State::kNew) return state_ != State::kClosed;
  std::vector<std::vector<uint8_t>> packets;
  {
    std::lock_guard lock(Mu());
    InitLocked();
    usrsctp_register_address(this);
    Live().insert(this);
    sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, OnSocketReceive, nullptr, 0, this);
    if (!sock_) {
      state_ = State::kClosed;
      return false;
    }
    usrsctp_set_non_blocking(sock_, 1);
    SetOption(sock_, SOL_SOCKET, SO_LINGER, linger{1, 0});
    SetOption(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET,
              sctp_assoc_value{SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ});
    SetOption(sock_, IPPROTO_SCTP, SCTP_NODELAY, int{1});
    for (int type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SEND_FAILED_EVENT}) {
      sctp_event ev{};
      ev.se_assoc_id = SCTP_ALL_ASSOC;
      ev.se_type = static_cast<uint16_t>(type);
      ev.se_on = 1;
      SetOption(sock_, IPPROTO_SCTP, SCTP_EVENT, ev);
    }
    sctp_initmsg init{};
    init.sinit_num_ostreams = 1024;
    init.sinit_max_instreams = 1024;
    SetOption(sock_, IPPROTO_SCTP, SCTP_INITMSG, init);
    // Retransmission timers for a real-time path (RFC 4960's 3 s initial and 1 s minimum
    // would leave a lost message waiting seconds): 500 ms first, 100 ms to 3 s.
    sctp_rtoinfo rto{};
    rto.srto_assoc_id = SCTP_ALL_ASSOC;
    rto.srto_initial = 500;
    rto.srto_min = 100;
    rto.srto_max = 3000;
    SetOption(sock_, IPPROTO_SCTP, SCTP_RTOINFO, rto);
    SetOption(sock_, SOL_SOCKET, SO_SNDBUF, static_cast<int>(limits_.send_buffer));
    SetOption(sock_, SOL_SOCKET, SO_RCVBUF, static_cast<int>(limits_.send_buffer));
    auto address = [this](uint16_t port) {
      sockaddr_conn a{};
      a.sconn_family = AF_CONN;
      a.sconn_port = htons(port);
      a.sconn_addr = this;
      return a;
    };
    sockaddr_conn local = address(local_port_), remote = address(remote_port_);
    if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0 ||
        (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) < 0 && errno != EINPROGRESS)) {
      state_ = State::kClosed;
      return false;
    }
    // A fixed path MTU (no discovery over DTLS): an SCTP packet plus DTLS's record
    // overhead stays within a datagram any path carries (as browsers size theirs).
    sctp_paddrparams path{};
    std::memcpy(&path.spp_address, &remote, sizeof remote);
    path.spp_flags = SPP_PMTUD_DISABLE;
    path.spp_pathmtu = 1191;
    SetOption(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, path);
    if (state_ == State::kNew) state_ = State::kConnecting;
    Drain(packets);
  }
  for (const auto& p : packets) send_(p);
  return true;
}

void SctpAssociation::Input(std::span<const uint8_t> packet) {
  if (!sock_ || packet.empty()) return;
  std::vector<std::vector<uint8_t>> packets;
  {
    std::lock_guard lock(Mu());
    usrsctp_conninput(this, packet.data(), packet.size(), 0);
    Drain(packets);
  }
  for (const auto& p : packets) send_(p);
}

void SctpAssociation::Flush() {
  if (!sock_) return;
  std::vector<std::vector<uint8_t>> packets;
  {
    std::lock_guard lock(Mu());
    Drain(packets);
  }
  for (const auto& p : packets) send_(p);
}

bool SctpAssociation::Send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data, SctpSendOptions options) {
  if (state_ != State::kOpen || data.size() > limits_.max_message) return false;
  // RFC 8831 §6.6: an empty message is one byte under the "empty" PPID.
  static const uint8_t kZero = 0;
  const void* bytes = data.data();
  size_t length = data.size();
  if (length == 0) {
    bytes = &kZero;
    length = 1;
    ppid = ppid == kPpidString ? kPpidStringEmpty : kPpidBinaryEmpty;
  }
  sctp_sendv_spa spa = SendInfo(stream, ppid, options);
  std::vector<std::vector<uint8_t>> packets;
  ssize_t sent;
  {
    std::lock_guard lock(Mu());
    sent = usrsctp_sendv(sock_, bytes, length, nullptr, 0, &spa, static_cast<socklen_t>(sizeof spa), SCTP_SENDV_SPA, 0);
    Drain(packets);
  }
  for (const auto& p : packets) send_(p);
  return sent >= 0;
}

std::vector<SctpMessage> SctpAssociation::TakeMessages() {
  std::vector<SctpMessage> out;
  std::lock_guard lock(Mu());
  out.swap(in_);
  return out;
}

void SctpAssociation::Drain(std::vector<std::vector<uint8_t>>& packets) {
  // DCEP (RFC 8832 §5.2): DATA_CHANNEL_ACK, one byte, on the stream that was opened.
  for (uint16_t stream : acks_) {
    static const uint8_t kAck = 0x02;
    sctp_sendv_spa spa = SendInfo(stream, kPpidDcep, {});
    usrsctp_sendv(sock_, &kAck, 1, nullptr, 0, &spa, static_cast<socklen_t>(sizeof spa), SCTP_SENDV_SPA, 0);
  }
  acks_.clear();
  packets.swap(out_);
}

void SctpAssociation::OnOutput(const void* buffer, size_t length) {
  // Bounded by SCTP itself (its window and SO_SNDBUF); at most what one call produces.
  const auto* p = static_cast<const uint8_t*>(buffer);
  out_.emplace_back(p, p + length);
}

void SctpAssociation::OnReceive(const void* data, size_t length, uint16_t stream, uint32_t ppid, int flags) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (flags & MSG_NOTIFICATION) {
    OnNotification(bytes, length);
    return;
  }
  auto [it, fresh] = partial_.try_emplace(stream);
  SctpMessage& m = it->second;
  if (fresh) {
    m.stream = stream;
    m.ppid = ppid;
  }
  // A message over the bound is read to its end and dropped (ppid 0 marks it).
  if (m.ppid != 0 && m.data.size() + length <= limits_.max_message) {
    m.data.insert(m.data.end(), bytes, bytes + length);
  } else {
    m.ppid = 0;
    m.data.clear();
  }
  if (!(flags & MSG_EOR)) return;
  SctpMessage done = std::move(m);
  partial_.erase(it);
  switch (done.ppid) {
    case kPpidDcep: OnDcep(done.stream, done.data); return;
    case kPpidStringEmpty:
    case kPpidBinaryEmpty:
      done.ppid = done.ppid == kPpidStringEmpty ? kPpidString : kPpidBinary;
      done.data.clear();
      break;
    case kPpidString:
    case kPpidBinary: break;
    default: ++dropped_; return;  // too large, or a PPID data channels do not use
  }
  if (in_.size() >= limits_.max_queued_messages) {
    ++dropped_;
    return;
  }
  in_.push_back(std::move(done));
}

void SctpAssociation::OnDcep(uint16_t stream, const std::vector<uint8_t>& data) {
  // DATA_CHANNEL_OPEN (0x03) is acknowledged; its label and protocol do not matter to
  // the relay (a message's stream says how it travels). An ACK (0x02) needs nothing.
  if (data.empty() || data[0] != 0x03) return;
  ++dcep_opens_;
  if (acks_.size() < 64) acks_.push_back(stream);
}

void SctpAssociation::OnNotification(const uint8_t* data, size_t length) {
  sctp_notification n{};
  std::memcpy(&n, data, std::min(length, sizeof n));
  if (length < sizeof n.sn_header || n.sn_header.sn_type != SCTP_ASSOC_CHANGE) return;
  switch (n.sn_assoc_change.sac_state) {
    case SCTP_COMM_UP: state_ = State::kOpen; break;
    case SCTP_COMM_LOST:
    case SCTP_SHUTDOWN_COMP:
    case SCTP_CANT_STR_ASSOC: state_ = State::kClosed; break;
    default: break;
  }
}

void SctpStack::Tick() {
  std::lock_guard lock(Mu());
  if (!g_initialised) return;
  int64_t now = SteadyMs();
  int64_t elapsed = now - g_last_tick_ms;
  if (elapsed < 10) return;
  g_last_tick_ms = now;
  usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
}

size_t SctpStack::associations() {
  std::lock_guard lock(Mu());
  return Live().size();
}

}  // namespace parley::sfu
