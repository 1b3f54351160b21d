#include "sfu/send_batch.hpp"

#include "sfu/tcp_links.hpp"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h; older C library headers lack it
#endif

namespace parley::sfu {

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family || IsTcp(a) != IsTcp(b)) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

SendBatch::SendBatch(size_t slot_bytes) : slot_bytes_(slot_bytes), bufs_(kSlots * slot_bytes) {}

void SendBatch::Queue(size_t length, const sockaddr_storage& to) {
  size_t i = count_++;
  addrs_[i] = to;
  iov_[i] = {bufs_.data() + i * slot_bytes_, length};
}

bool SendBatch::KernelSegments(int fd) {
  int size = 0;
  socklen_t len = sizeof size;
  return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) == 0;
}

size_t SendBatch::Build(size_t first, bool runs) {
  size_t m = 0;
  for (size_t i = first; i < count_; ++m) {
    const size_t segment = iov_[i].iov_len;
    size_t end = i + 1, bytes = segment;
    // A run: the same address, every datagram but the last exactly `segment` long.
    if (runs)
      while (end < count_ && end - i < kMaxSegments && iov_[end - 1].iov_len == segment &&
             iov_[end].iov_len <= segment && bytes + iov_[end].iov_len <= kMaxSegmentedBytes &&
             SameAddress(addrs_[end], addrs_[i])) {
        bytes += iov_[end].iov_len;
        ++end;
      }
    msghdr& h = msgs_[m].msg_hdr;
    h = {};
    h.msg_name = &addrs_[i];
    h.msg_namelen = addrs_[i].ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    h.msg_iov = &iov_[i];
    h.msg_iovlen = end - i;
    if (end - i > 1) {
      h.msg_control = control_[m].bytes;
      h.msg_controllen = sizeof control_[m].bytes;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const auto size = static_cast<uint16_t>(segment);
      std::memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    first_[m] = i;
    i = end;
  }
  return m;
}

size_t SendBatch::Flush(int fd) {
  size_t messages = Build(0, segment_), done = 0;
  size_t sent = 0;  // datagrams
  bool segmented = segment_;
  while (done < messages) {
    int n = sendmmsg(fd, msgs_.data() + done, static_cast<unsigned>(messages - done), MSG_DONTWAIT);
    if (n > 0) {
      for (size_t k = done; k < done + static_cast<size_t>(n); ++k) sent += msgs_[k].msg_hdr.msg_iovlen;
      messages_sent_ += static_cast<uint64_t>(n);
      done += static_cast<size_t>(n);
      continue;
    }
    // A segmented message the kernel refused (EINVAL: a segment above the path's MTU;
    // EIO: a device that cannot checksum it): the rest of this flush goes datagram by
    // datagram. Anything else (EAGAIN: a full buffer) drops what is left.
    const int err = errno;
    if (segmented && msgs_[done].msg_hdr.msg_iovlen > 1 && (err == EIO || err == EINVAL)) {
      ++segment_refusals_;
      segmented = false;
      messages = Build(first_[done], false);
      done = 0;
      continue;
    }
    break;
  }
  datagrams_sent_ += sent;
  size_t dropped = count_ - sent;
  count_ = 0;
  return dropped;
}

}  // namespace parley::sfu
