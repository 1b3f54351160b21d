#include "sfu/probe_sessions.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "sfu/send_batch.hpp"
#include "sfu/worker.hpp"

namespace parley::sfu {

namespace probe = proto::probe;

bool ProbeSessions::Open(const ProbeGrant& grant, int64_t now_us) {
  Expire(now_us);
  if (sessions_.size() >= kMaxSessions || Find(grant.cookie)) return false;
  if (sessions_.capacity() < kMaxSessions) sessions_.reserve(kMaxSessions);
  Session s;
  s.grant = grant;
  s.expires_us = now_us + kLifetimeUs;
  sessions_.push_back(s);
  return true;
}

ProbeSessions::Session* ProbeSessions::Find(const probe::Cookie& cookie) {
  for (auto& s : sessions_)
    if (s.grant.cookie == cookie) return &s;
  return nullptr;
}

void ProbeSessions::Receive(std::span<const uint8_t> datagram, const sockaddr_storage& from, int64_t now_us,
                            WebRtcTransport::PacketSink& sink, DropCounters& drops) {
  auto d = probe::Parse(datagram);
  Session* s = d ? Find(d->header.cookie) : nullptr;
  if (!s || s->expires_us <= now_us) return drops.Count(DropReason::kBadProbe);
  const probe::Kind kind = d->header.kind;
  if (!s->bound) {  // only an echo may bind: it is answered, so the client learns the nonce there
    if (kind != probe::Kind::kEcho) return drops.Count(DropReason::kBadProbe);
    s->bound = true;
    s->address = from;
  } else if (!SameAddress(s->address, from)) {
    return drops.Count(DropReason::kBadProbe);
  }
  switch (kind) {
    case probe::Kind::kEcho: {
      probe::Header h;
      h.cookie = s->grant.cookie;
      h.seq = s->echo_seq++;
      h.time_us = static_cast<uint64_t>(now_us);
      probe::EchoReply r;
      r.echoed_time_us = d->header.time_us;
      r.nonce = s->grant.nonce;
      r.up = s->up;
      r.up.jitter_us = static_cast<uint32_t>(s->jitter_q4 / 16);
      uint8_t* slot = sink.Slot();
      // Never more than was sent (Parse refused echoes shorter than the reply).
      if (size_t n = probe::WriteEchoReply(std::span<uint8_t>(slot, kSlotBytes), h, r); n && n <= d->size)
        sink.Queue(n, from);
      return;
    }
    case probe::Kind::kUp: {
      if (s->grant.up_kbps == 0) return drops.Count(DropReason::kBadProbe);
      auto& up = s->up;
      // RFC 3550 A.8: the transit time's variation, in the sender's and our microseconds.
      const uint64_t transit = static_cast<uint64_t>(now_us) - d->header.time_us;
      if (up.packets > 0) {
        probe::JitterStep(s->jitter_q4, transit, s->last_transit_us);
      } else {
        up.first_us = static_cast<uint64_t>(now_us);
      }
      s->last_transit_us = transit;
      if (up.packets == 0 || d->header.seq > up.highest_seq) up.highest_seq = d->header.seq;
      ++up.packets;
      up.bytes += d->size;
      up.last_us = static_cast<uint64_t>(now_us);
      return;
    }
    case probe::Kind::kDownStart: {
      if (s->down_started || s->grant.down_kbps == 0 || d->start.nonce != s->grant.nonce || d->start.kbps == 0)
        return drops.Count(DropReason::kBadProbe);
      s->down_started = true;
      const uint32_t kbps = std::min(d->start.kbps, s->grant.down_kbps);
      const uint32_t ms = std::min(d->start.duration_ms, kMaxDownMs);
      s->down_bytes = d->start.packet_bytes;
      s->down_interval_us = std::max<int64_t>(1, static_cast<int64_t>(s->down_bytes) * 8 * 1000 / kbps);
      s->down_next_us = now_us;
      s->down_end_us = now_us + static_cast<int64_t>(ms) * 1000;
      return Run(now_us, sink);
    }
    case probe::Kind::kEchoReply:
    case probe::Kind::kDown: return drops.Count(DropReason::kBadProbe);  // the server's own kinds
  }
}

void ProbeSessions::Expire(int64_t now_us) {
  std::erase_if(sessions_, [now_us](const Session& s) { return s.expires_us <= now_us; });
}

void ProbeSessions::Run(int64_t now_us, WebRtcTransport::PacketSink& sink) {
  for (auto& s : sessions_) {
    if (s.down_next_us < 0) continue;
    if (now_us >= s.down_end_us) {
      s.down_next_us = -1;
      continue;
    }
    // A wake-up far behind its schedule restarts it rather than catch up in a burst.
    if (now_us - s.down_next_us > kMaxBurst * s.down_interval_us) s.down_next_us = now_us;
    for (int i = 0; i < kMaxBurst && s.down_next_us <= now_us; ++i) {
      probe::Header h{probe::Kind::kDown, s.grant.cookie, s.down_seq++, static_cast<uint64_t>(now_us)};
      uint8_t* slot = sink.Slot();
      if (size_t n = probe::WritePadded(std::span<uint8_t>(slot, kSlotBytes), h, s.down_bytes))
        sink.Queue(n, s.address);
      s.down_next_us += s.down_interval_us;
    }
  }
  Expire(now_us);
}

int64_t ProbeSessions::NextDueUs() const {
  int64_t next = -1;
  for (const auto& s : sessions_)
    if (s.down_next_us >= 0) next = next < 0 ? s.down_next_us : std::min(next, s.down_next_us);
  return next;
}

}  // namespace parley::sfu
