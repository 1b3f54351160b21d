#include "parley/proto/probe_wire.hpp"

#include <algorithm>
#include <cstring>

namespace parley::proto::probe {
namespace {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  uint64_t Int(size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | d_[at_ + i];
    at_ += bytes;
    return v;
  }
  template <size_t N>
  std::array<uint8_t, N> Bytes() {
    std::array<uint8_t, N> out{};
    std::memcpy(out.data(), d_.data() + at_, N);
    at_ += N;
    return out;
  }

 private:
  std::span<const uint8_t> d_;
  size_t at_ = 0;
};

class Writer {
 public:
  explicit Writer(std::span<uint8_t> d) : d_(d) {}
  void Int(uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) d_[at_ + i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
    at_ += bytes;
  }
  void Bytes(std::span<const uint8_t> b) {
    std::memcpy(d_.data() + at_, b.data(), b.size());
    at_ += b.size();
  }
  void Header(const probe::Header& h) {
    Bytes(kMagic);
    Int(kVersion, 1);
    Int(static_cast<uint8_t>(h.kind), 1);
    Int(0, 2);
    Bytes(h.cookie);
    Int(h.seq, 4);
    Int(h.time_us, 8);
  }

 private:
  std::span<uint8_t> d_;
  size_t at_ = 0;
};

size_t MinimumFor(Kind k) {
  switch (k) {
    case Kind::kEcho: return kMinEchoBytes;
    case Kind::kEchoReply: return kEchoReplyBytes;
    case Kind::kDownStart: return kDownStartBytes;
    case Kind::kUp:
    case Kind::kDown: return kMinDataBytes;
  }
  return 0;
}

}  // namespace

std::optional<Datagram> Parse(std::span<const uint8_t> d) {
  if (d.size() < kHeaderBytes || d.size() > kMaxDataBytes) return std::nullopt;
  if (std::memcmp(d.data(), kMagic, sizeof kMagic) != 0 || d[4] != kVersion) return std::nullopt;
  if (d[5] < static_cast<uint8_t>(Kind::kEcho) || d[5] > static_cast<uint8_t>(Kind::kDown)) return std::nullopt;
  Datagram out;
  out.size = d.size();
  out.header.kind = static_cast<Kind>(d[5]);
  if (d.size() < MinimumFor(out.header.kind)) return std::nullopt;
  Reader r(d.subspan(8));
  out.header.cookie = r.Bytes<16>();
  out.header.seq = static_cast<uint32_t>(r.Int(4));
  out.header.time_us = r.Int(8);
  if (out.header.kind == Kind::kEchoReply) {
    out.reply.echoed_time_us = r.Int(8);
    out.reply.nonce = r.Bytes<16>();
    auto& up = out.reply.up;
    up.packets = static_cast<uint32_t>(r.Int(4));
    up.highest_seq = static_cast<uint32_t>(r.Int(4));
    up.bytes = r.Int(8);
    up.first_us = r.Int(8);
    up.last_us = r.Int(8);
    up.jitter_us = static_cast<uint32_t>(r.Int(4));
  } else if (out.header.kind == Kind::kDownStart) {
    out.start.nonce = r.Bytes<16>();
    out.start.kbps = static_cast<uint32_t>(r.Int(4));
    out.start.duration_ms = static_cast<uint32_t>(r.Int(4));
    out.start.packet_bytes = static_cast<uint16_t>(r.Int(2));
    if (out.start.packet_bytes < kMinDataBytes || out.start.packet_bytes > kMaxDataBytes) return std::nullopt;
  }
  return out;
}

size_t WritePadded(std::span<uint8_t> out, const Header& h, size_t size) {
  size = std::clamp(size, MinimumFor(h.kind), kMaxDataBytes);
  if (out.size() < size) return 0;
  Writer w(out);
  w.Header(h);
  std::memset(out.data() + kHeaderBytes, 0, size - kHeaderBytes);
  return size;
}

size_t WriteEchoReply(std::span<uint8_t> out, const Header& h, const EchoReply& r) {
  if (out.size() < kEchoReplyBytes) return 0;
  Writer w(out);
  Header hh = h;
  hh.kind = Kind::kEchoReply;
  w.Header(hh);
  w.Int(r.echoed_time_us, 8);
  w.Bytes(r.nonce);
  w.Int(r.up.packets, 4);
  w.Int(r.up.highest_seq, 4);
  w.Int(r.up.bytes, 8);
  w.Int(r.up.first_us, 8);
  w.Int(r.up.last_us, 8);
  w.Int(r.up.jitter_us, 4);
  return kEchoReplyBytes;
}

size_t WriteDownStart(std::span<uint8_t> out, const Header& h, const DownStart& s) {
  if (out.size() < kDownStartBytes) return 0;
  Writer w(out);
  Header hh = h;
  hh.kind = Kind::kDownStart;
  w.Header(hh);
  w.Bytes(s.nonce);
  w.Int(s.kbps, 4);
  w.Int(s.duration_ms, 4);
  w.Int(s.packet_bytes, 2);
  return kDownStartBytes;
}

}  // namespace parley::proto::probe
