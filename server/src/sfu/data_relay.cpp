#include "sfu/data_relay.hpp"

#include <algorithm>

#include "sfu/webrtc_transport.hpp"

namespace parley::sfu {

SctpSendOptions DataStreamOptions(uint16_t stream) {
  return {.ordered = stream % 2 == 0, .reliable = stream < 2};
}

bool RateBucket::Allows(uint64_t n, int64_t now_us) {
  if (last_us_ >= 0 && now_us > last_us_)
    tokens_ = std::min(static_cast<double>(rate_),
                       tokens_ + static_cast<double>(rate_) * static_cast<double>(now_us - last_us_) / 1e6);
  if (last_us_ < 0 || now_us > last_us_) last_us_ = now_us;
  return tokens_ >= static_cast<double>(n);
}

bool DataRelay::SplitEnvelope(std::span<const uint8_t> message, std::string_view* id,
                              std::span<const uint8_t>* payload) {
  size_t end = 0;
  while (end < message.size() && end <= 64 && message[end] != kEnvelopeSeparator) {
    uint8_t c = message[end];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
    ++end;
  }
  if (end >= message.size() || end > 64 || message[end] != kEnvelopeSeparator) return false;
  *id = std::string_view(reinterpret_cast<const char*>(message.data()), end);
  *payload = message.subspan(end + 1);
  return true;
}

void DataRelay::Add(uint64_t transport, uint64_t channel, std::string user) {
  // The user's earlier data connection (a reconnect) leaves the relay.
  std::vector<uint64_t> replaced;
  for (uint64_t t : channels_[channel])
    if (auto it = members_.find(t); it != members_.end() && it->second.user == user) replaced.push_back(t);
  for (uint64_t t : replaced) Remove(t);
  Remove(transport);
  Member m;
  m.channel = channel;
  m.user = std::move(user);
  members_.emplace(transport, std::move(m));
  channels_[channel].push_back(transport);
}

void DataRelay::Remove(uint64_t transport) {
  auto it = members_.find(transport);
  if (it == members_.end()) return;
  auto ch = channels_.find(it->second.channel);
  if (ch != channels_.end()) {
    std::erase(ch->second, transport);
    if (ch->second.empty()) channels_.erase(ch);
  }
  members_.erase(it);
}

void DataRelay::OnMessage(const WebRtcTransport& from, const SctpMessage& m, int64_t now_us, FindFn find, void* ctx) {
  auto sender = members_.find(from.id());
  if (sender == members_.end()) return;  // not (or no longer) a member: nothing to relay to
  std::string_view target;
  std::span<const uint8_t> payload;
  if (m.stream >= kDataStreams || !SplitEnvelope(m.data, &target, &payload) || payload.size() > kMaxDataPayload) {
    ++counters_.malformed;
    return;
  }
  Member& s = sender->second;
  // Both buckets must have room: a message refused by one takes nothing from the other.
  bool room = s.messages.Allows(1, now_us);
  if (!s.bytes.Allows(payload.size(), now_us) || !room) {
    ++counters_.rate_limited;
    return;
  }
  s.messages.Spend(1);
  s.bytes.Spend(payload.size());
  scratch_.assign(s.user.begin(), s.user.end());
  scratch_.push_back(kEnvelopeSeparator);
  scratch_.insert(scratch_.end(), payload.begin(), payload.end());
  auto ch = channels_.find(s.channel);
  size_t sent_to = 0;
  if (ch != channels_.end()) {
    for (uint64_t t : ch->second) {
      if (t == from.id()) continue;
      const Member& r = members_.at(t);
      if (!target.empty() && r.user != target) continue;
      ++sent_to;
      WebRtcTransport* to = find(ctx, t);
      if (to && to->SendData(m.stream, m.ppid, scratch_, DataStreamOptions(m.stream)))
        ++counters_.delivered;
      else
        ++counters_.send_failed;
    }
  }
  if (!target.empty() && sent_to == 0) {
    ++counters_.no_recipient;
    return;
  }
  ++counters_.relayed;
}

}  // namespace parley::sfu
