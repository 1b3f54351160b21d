#include "parley/congestion/probe_meter.hpp"

#include <algorithm>

namespace parley::congestion {

void ProbeMeter::Expire(int64_t now_us) {
  for (Cluster& c : clusters_)
    if (c.id != 0 && now_us - c.begun_us >= kTimeoutUs) {
      c = {};
      ++timed_out_;
    }
}

void ProbeMeter::Begin(uint32_t id, size_t packets, int64_t now_us) {
  if (id == 0 || packets == 0) return;
  Expire(now_us);
  Cluster* slot = &clusters_[0];
  for (Cluster& c : clusters_) {
    if (c.id == 0) {
      slot = &c;
      break;
    }
    if (c.begun_us < slot->begun_us) slot = &c;  // all taken: the oldest goes
  }
  *slot = {};
  slot->id = id;
  slot->expected = packets;
  slot->begun_us = now_us;
}

int64_t ProbeMeter::Add(uint32_t id, const PacketResult& p, int64_t now_us) {
  Expire(now_us);
  if (id == 0) return -1;
  Cluster* c = nullptr;
  for (Cluster& each : clusters_)
    if (each.id == id) c = &each;
  if (!c) return -1;
  if (c->reported == 0 || p.send_us < c->first_send_us) c->first_send_us = p.send_us;
  if (c->reported == 0 || p.send_us >= c->last_send_us) {
    c->last_send_us = p.send_us;
    c->last_sent_size = p.size;
  }
  c->sent_bytes += p.size;
  if (!p.lost()) {
    if (c->received == 0 || p.recv_us < c->first_recv_us) {
      c->first_recv_us = p.recv_us;
      c->first_recv_size = p.size;
    }
    if (c->received == 0 || p.recv_us > c->last_recv_us) c->last_recv_us = p.recv_us;
    c->recv_bytes += p.size;
    ++c->received;
  }
  if (++c->reported < c->expected) return -1;
  int64_t answer = Answer(*c);
  *c = {};
  return answer;
}

int64_t ProbeMeter::Answer(const Cluster& c) {
  if (c.received < 4 || static_cast<double>(c.received) < kMinReceived * static_cast<double>(c.expected)) return 0;
  const int64_t send_span = c.last_send_us - c.first_send_us;
  const int64_t recv_span = c.last_recv_us - c.first_recv_us;
  if (send_span <= 0 || recv_span <= 0) return 0;
  const double send_bps = static_cast<double>(c.sent_bytes - c.last_sent_size) * 8e6 / static_cast<double>(send_span);
  const double recv_bps = static_cast<double>(c.recv_bytes - c.first_recv_size) * 8e6 / static_cast<double>(recv_span);
  if (recv_bps > 2 * send_bps) return 0;
  if (recv_bps < 0.9 * send_bps) return static_cast<int64_t>(0.95 * recv_bps);
  return static_cast<int64_t>(std::min(send_bps, recv_bps));
}

}  // namespace parley::congestion
