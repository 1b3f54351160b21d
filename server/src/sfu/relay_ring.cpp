#include "sfu/relay_ring.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace parley::sfu {

std::shared_ptr<RelayRing> RelayRing::Create(int wake_fd, size_t capacity) {
  const int fd = fcntl(wake_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  return std::shared_ptr<RelayRing>(new RelayRing(fd, capacity < 2 ? 2 : capacity));
}

RelayRing::RelayRing(int fd, size_t capacity) : slots_(capacity), wake_fd_(fd) {}

RelayRing::~RelayRing() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

RelayEntry* RelayRing::Reserve() {
  const size_t tail = tail_.load(std::memory_order_relaxed);
  if (tail - head_.load(std::memory_order_acquire) >= slots_.size()) return nullptr;
  return &slots_[tail % slots_.size()];
}

void RelayRing::Commit() {
  tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  pending_ = true;
}

void RelayRing::WakeIfPending() {
  if (!pending_) return;
  pending_ = false;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

RelayEntry* RelayRing::Peek(size_t i) {
  const size_t head = head_.load(std::memory_order_relaxed);
  if (tail_.load(std::memory_order_acquire) - head <= i) return nullptr;
  return &slots_[(head + i) % slots_.size()];
}

void RelayRing::Pop(size_t n) {
  const size_t head = head_.load(std::memory_order_relaxed);
  const size_t used = tail_.load(std::memory_order_acquire) - head;
  head_.store(head + (n < used ? n : used), std::memory_order_release);
}

}  // namespace parley::sfu
