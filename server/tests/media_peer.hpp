// A WebRTC client reduced to what a media worker sees, for tests over real UDP on
// 127.0.0.1 (worker_media_test.cpp, worker_simulcast_test.cpp): a socket, an ICE
// check, the DTLS client handshake and SRTP both ways; and RTP packets to send.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "loopback_client.hpp"
#include "sfu/dtls.hpp"
#include "sfu/rtcp_writer.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu::test_peer {

// A WebRTC client reduced to what the worker sees: a UDP socket, an ICE check, the
// DTLS client handshake, and SRTP both ways.
class Peer : public LoopbackClient {
 public:
  using LoopbackClient::LoopbackClient;

  /// A check, and then its answer: once it returns, the worker has handled the check.
  bool CheckAnswered(const std::string& user, const std::string& pwd) {
    Check(user, pwd);
    for (auto r = Recv(2s); !r.empty(); r = Recv(2s))
      if (Classify(r) == PacketClass::kStun) return true;  // RTCP to the publisher may come first
    return false;
  }

  /// ICE check, then the DTLS handshake; returns when SRTP is ready.
  bool Connect(const std::string& user, const std::string& pwd, const std::string& server_fp) {
    if (!Handshake(user, pwd, server_fp)) return false;
    out_ = *SrtpSession::Create(dtls_->keys().profile, dtls_->keys().local_master, SrtpSession::Direction::kOutbound);
    in_ = *SrtpSession::Create(dtls_->keys().profile, dtls_->keys().remote_master, SrtpSession::Direction::kInbound);
    return true;
  }

  void SendRtp(Bytes p) {
    p.resize(p.size() + kSrtpMaxOverhead);
    size_t n = out_->ProtectRtp(p.data(), p.size() - kSrtpMaxOverhead, p.size());
    Send({p.data(), n});
  }
  void SendRtcp(Bytes p) {
    p.resize(p.size() + kSrtpMaxOverhead);
    size_t n = out_->ProtectRtcp(p.data(), p.size() - kSrtpMaxOverhead, p.size());
    Send({p.data(), n});
  }

  /// The next decrypted RTP (or RTCP) packet within `timeout`; empty on timeout.
  Bytes RecvRtp(std::chrono::milliseconds timeout) { return RecvClass(PacketClass::kRtp, timeout); }
  Bytes RecvRtcp(std::chrono::milliseconds timeout) { return RecvClass(PacketClass::kRtcp, timeout); }
  /// The next RTCP packet of `type` (and FMT `fmt`, unless negative) within `timeout`.
  Bytes RecvRtcpOf(uint8_t type, int fmt, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto p =
          RecvRtcp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (p.empty()) break;
      for (RtcpIterator it(p); !it.done(); it.Next())
        if (it->type == type && (fmt < 0 || it->count == fmt)) return Bytes(it->data.begin(), it->data.end());
    }
    return {};
  }
  /// Whether a PLI (RFC 4585) for `ssrc` arrives, each RTCP feedback packet within
  /// `each` of the last.
  bool GetsPliFor(uint32_t ssrc, std::chrono::milliseconds each) {
    for (auto fb = RecvRtcpOf(kPsfb, 1, each); !fb.empty(); fb = RecvRtcpOf(kPsfb, 1, each))
      if (Load32(&fb[8]) == ssrc) return true;
    return false;
  }
  /// As a subscriber: NACKs `seq` of its stream `ssrc`, and returns what it receives
  /// next within `wait` (the retransmission; empty if none).
  Bytes AskAgain(uint32_t ssrc, uint16_t seq, std::chrono::milliseconds wait) {
    uint8_t nack[16];
    uint16_t wanted[] = {seq};
    SendRtcp(Bytes(nack, nack + WriteNack(nack, sizeof nack, 0x5EB, ssrc, wanted)));
    return RecvRtp(wait);
  }

 private:
  Bytes RecvClass(PacketClass want, std::chrono::milliseconds timeout) {
    auto& q = want == PacketClass::kRtp ? rtp_ : rtcp_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (q.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 && timeout.count() != 0) return {};  // a timeout of 0: what is there now
      auto d = Recv(std::max(left, std::chrono::milliseconds(0)));
      if (d.empty()) return {};
      PacketClass c = Classify(d);
      if (c == PacketClass::kRtp) {
        if (size_t n = in_->UnprotectRtp(d.data(), d.size()))
          rtp_.emplace_back(d.begin(), d.begin() + static_cast<long>(n));
      } else if (c == PacketClass::kRtcp) {
        if (size_t n = in_->UnprotectRtcp(d.data(), d.size()))
          rtcp_.emplace_back(d.begin(), d.begin() + static_cast<long>(n));
      }
    }
    Bytes p = std::move(q.front());
    q.pop_front();
    return p;
  }

  std::unique_ptr<SrtpSession> out_, in_;
  std::deque<Bytes> rtp_, rtcp_;
};

// An RTP packet; with `ext_id`, a one-byte header extension element carrying `ext`.
inline Bytes Rtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, Bytes payload, uint8_t ext_id = 0,
                 Bytes ext = {}) {
  Bytes p(12);
  p[0] = 0x80;
  p[1] = pt;
  Store16(&p[2], seq);
  Store32(&p[4], ts);
  Store32(&p[8], ssrc);
  if (ext_id) {
    p[0] |= 0x10;
    Bytes e = {static_cast<uint8_t>((ext_id << 4) | (ext.size() - 1))};
    e.insert(e.end(), ext.begin(), ext.end());
    while (e.size() % 4) e.push_back(0);
    p.push_back(0xBE);
    p.push_back(0xDE);
    p.push_back(0);
    p.push_back(static_cast<uint8_t>(e.size() / 4));
    p.insert(p.end(), e.begin(), e.end());
  }
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

}  // namespace parley::sfu::test_peer
