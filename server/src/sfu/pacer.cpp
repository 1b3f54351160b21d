#include "sfu/pacer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

namespace parley::sfu {
namespace {

uint8_t* MapSlots() {
  void* p =
      mmap(nullptr, Pacer::kSlots * Pacer::kSlotBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

}  // namespace

void Pacer::Unmap::operator()(uint8_t* p) const {
  munmap(p, kSlots * kSlotBytes);
}

Pacer::Pacer(PacerOptions options)
    : options_(options), rate_bps_(options.min_rate_bps), data_(MapSlots()), len_(kSlots, 0), queued_at_(kSlots, 0) {}

void Pacer::SetVideoRate(uint64_t video_bps) {
  auto paced = static_cast<uint64_t>(static_cast<double>(video_bps) * options_.factor);
  rate_bps_ = std::max(paced, options_.min_rate_bps);
}

double Pacer::Burst() const {
  // At least two full datagrams, so that a packet is never held for want of room alone.
  double burst = static_cast<double>(rate_bps_) / 8e6 * static_cast<double>(options_.burst_us);
  return std::max(burst, 2.0 * 1500);
}

void Pacer::Refill(int64_t now_us) {
  if (last_us_ < 0)
    tokens_ = Burst();
  else if (now_us > last_us_)
    tokens_ =
        std::min(tokens_ + static_cast<double>(rate_bps_) / 8e6 * static_cast<double>(now_us - last_us_), Burst());
  last_us_ = std::max(last_us_, now_us);
}

void Pacer::Take(size_t bytes) {
  tokens_ = std::max(tokens_ - static_cast<double>(bytes), -Burst());
}

bool Pacer::Admit(size_t bytes, int64_t now_us) {
  Refill(now_us);
  if (count_ > 0 || tokens_ < static_cast<double>(bytes)) return false;
  Take(bytes);
  return true;
}

void Pacer::Spend(size_t bytes, int64_t now_us) {
  Refill(now_us);
  Take(bytes);
}

bool Pacer::Push(std::span<const uint8_t> datagram, int64_t now_us) {
  if (count_ == kSlots || datagram.size() > kSlotBytes || datagram.empty()) return false;
  // An empty FIFO starts again at the first slot, so only as many slots as the deepest
  // queue ever was become resident, not all kSlots as the head goes round.
  if (count_ == 0) head_ = 0;
  size_t i = (head_ + count_) % kSlots;
  std::memcpy(data_.get() + i * kSlotBytes, datagram.data(), datagram.size());
  len_[i] = static_cast<uint16_t>(datagram.size());
  queued_at_[i] = now_us;
  ++count_;
  queued_bytes_ += datagram.size();
  return true;
}

double Pacer::TokensAt(int64_t now_us) const {
  if (last_us_ < 0 || now_us <= last_us_) return tokens_;
  return std::min(tokens_ + static_cast<double>(rate_bps_) / 8e6 * static_cast<double>(now_us - last_us_), Burst());
}

int64_t Pacer::WaitUs(double bytes) const {
  return static_cast<int64_t>(std::ceil(bytes * 8e6 / static_cast<double>(rate_bps_)));
}

int64_t Pacer::DepartureUs(size_t bytes, int64_t now_us) const {
  double tokens = last_us_ < 0 ? Burst() : TokensAt(now_us);  // Refill's first budget
  double need = static_cast<double>(queued_bytes_ + bytes) - tokens;
  if (need <= 0) return now_us;
  return now_us + std::min(WaitUs(need), options_.max_delay_us);
}

int64_t Pacer::NextReleaseUs(int64_t now_us) const {
  if (count_ == 0) return -1;
  double need = static_cast<double>(len_[head_]) - TokensAt(now_us);
  if (need <= 0) return now_us;
  return std::max(now_us, std::min(now_us + WaitUs(need), queued_at_[head_] + options_.max_delay_us));
}

}  // namespace parley::sfu
