#include "sfu/drop_counters.hpp"

namespace parley::sfu {

std::string_view Name(DropReason r) {
  switch (r) {
    case DropReason::kUnknownUfrag: return "unknown-ufrag";
    case DropReason::kBadStun: return "bad-stun";
    case DropReason::kUnvalidatedAddress: return "unvalidated-address";
    case DropReason::kClosedTransport: return "closed-transport";
    case DropReason::kNotReady: return "not-ready";
    case DropReason::kSrtpRejected: return "srtp-rejected";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kUnknownSsrc: return "unknown-ssrc";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kRtxPadding: return "rtx-padding";
    case DropReason::kPadding: return "padding";
    case DropReason::kSubscriberNotReady: return "subscriber-not-ready";
    case DropReason::kTooLarge: return "too-large";
    case DropReason::kSendBufferFull: return "send-buffer-full";
    case DropReason::kTcpGone: return "tcp-gone";
    case DropReason::kSimulatedLoss: return "simulated-loss";
    case DropReason::kSubscriberCongested: return "subscriber-congested";
    case DropReason::kBadPayloadType: return "bad-payload-type";
    case DropReason::kMalformedPayload: return "malformed-payload";
    case DropReason::kBadProbe: return "bad-probe";
    case DropReason::kNoRtx: return "no-rtx";
    case DropReason::kRelayFull: return "relay-full";
    case DropReason::kCount: break;
  }
  return "unknown";
}

uint64_t DropCounters::Total() const {
  uint64_t sum = 0;
  for (const auto& c : counts_) sum += c.load(std::memory_order_relaxed);
  return sum;
}

}  // namespace parley::sfu
