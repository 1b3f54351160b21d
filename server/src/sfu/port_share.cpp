#include "sfu/port_share.hpp"

#include "sfu/stun.hpp"

namespace parley::sfu {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string WorkerUfrag(size_t worker, std::string_view random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string u;
  u.reserve(2 + random.size());
  u += kHex[(worker >> 4) & 0xf];
  u += kHex[worker & 0xf];
  u += random;
  return u;
}

std::optional<size_t> UfragWorker(std::string_view local_ufrag) {
  if (local_ufrag.size() < 3) return std::nullopt;
  int hi = HexDigit(local_ufrag[0]), lo = HexDigit(local_ufrag[1]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<size_t>(hi << 4 | lo);
}

OpeningKind ClassifyOpening(std::span<const uint8_t> first, size_t max_frame, size_t workers) {
  if (first.empty()) return {};
  // A frame's length is at most max_frame (< 0x600): its high byte is small. TLS opens
  // with 0x16 and HTTP with a method's capital letter.
  if (first[0] > (max_frame >> 8)) return {Opening::kSignalling};
  if (first.size() < 2) return {};
  const size_t len = static_cast<size_t>(first[0]) << 8 | first[1];
  if (len < 20 || len > max_frame) return {Opening::kRefused};  // shorter than a STUN header
  if (first.size() < 2 + len) return {};
  auto m = ParseStun(first.subspan(2, len));
  if (!m || m->type != kStunBindingRequest) return {Opening::kRefused};
  auto worker = UfragWorker(LocalUfrag(m->username));
  if (!worker || *worker >= workers) return {Opening::kRefused};
  return {Opening::kMedia, *worker};
}

}  // namespace parley::sfu
