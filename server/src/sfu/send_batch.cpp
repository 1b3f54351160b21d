#include "sfu/send_batch.hpp"

namespace parley::sfu {

SendBatch::SendBatch(size_t slot_bytes) : slot_bytes_(slot_bytes), bufs_(kSlots * slot_bytes) {}

void SendBatch::Queue(size_t length, const sockaddr_storage& to) {
  size_t i = count_++;
  addrs_[i] = to;
  iov_[i] = {bufs_.data() + i * slot_bytes_, length};
  msgs_[i].msg_hdr = {};
  msgs_[i].msg_hdr.msg_name = &addrs_[i];
  msgs_[i].msg_hdr.msg_namelen = to.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  msgs_[i].msg_hdr.msg_iov = &iov_[i];
  msgs_[i].msg_hdr.msg_iovlen = 1;
}

size_t SendBatch::Flush(int fd) {
  size_t done = 0;
  while (done < count_) {
    int n = sendmmsg(fd, msgs_.data() + done, static_cast<unsigned>(count_ - done), MSG_DONTWAIT);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  size_t dropped = count_ - done;
  count_ = 0;
  return dropped;
}

}  // namespace parley::sfu
