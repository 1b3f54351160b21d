#include "call/call_quality.hpp"

#include <algorithm>

namespace parley::sdk::call {

void CallQuality::OnVideoFrame(int64_t now_us) {
  int64_t last = last_frame_us_.exchange(now_us, std::memory_order_relaxed);
  if (last == 0) return;
  int64_t gap = now_us - last;
  int64_t seen = max_gap_us_.load(std::memory_order_relaxed);
  while (gap > seen && !max_gap_us_.compare_exchange_weak(seen, gap, std::memory_order_relaxed)) {
  }
}

void CallQuality::MediaEndedOnPurpose(int64_t now_us) {
  if (last_frame_us_.load(std::memory_order_relaxed) != 0) last_frame_us_.store(now_us, std::memory_order_relaxed);
  max_gap_us_.store(0, std::memory_order_relaxed);
  video_flowing_ = false;
  received_before_ = 0;
}

void CallQuality::RemoteVideoMuted(const std::string& user_id, bool muted, int64_t now_us) {
  if (muted)
    muted_video_.insert(user_id);
  else if (muted_video_.erase(user_id) > 0)
    MediaEndedOnPurpose(now_us);  // the gap while it was muted is over, not a freeze
}

CallQuality::Local CallQuality::Sample(UplinkSample up, DownlinkSample down, int64_t now_us) {
  int64_t last = last_frame_us_.load(std::memory_order_relaxed);
  int64_t gap = std::max(max_gap_us_.exchange(0, std::memory_order_relaxed), last != 0 ? now_us - last : 0);
  // Only video that was flowing can freeze; the gap still open at the sample counts.
  down.froze = down.froze || (video_flowing_ && muted_video_.empty() && gap > kFreezeUs);
  video_flowing_ = last != 0 && now_us - last <= kFreezeUs;
  down.expecting = down.expecting && received_before_ > 0;
  received_before_ = down.received;
  auto u = local_.Add(UplinkBand(up), DownlinkBand(down));
  Local out;
  out.weak = u.weak;
  out.recovered = u.recovered;
  if (u.changed) out.changed = reported_ = {u.up, u.down};
  return out;
}

CallQuality::Local CallQuality::LinkLost() {
  auto u = local_.Add(kQualityDown, kQualityDown);
  Local out;
  if (u.changed) out.changed = reported_ = {u.up, u.down};
  return out;
}

std::optional<CallQuality::Pair> CallQuality::Report(RemoteState& r) {
  Pair now = r.link_lost ? Pair{kQualityDown, kQualityDown} : r.relayed;
  if (now == r.reported) return std::nullopt;
  r.reported = now;
  return now;
}

std::optional<CallQuality::Pair> CallQuality::Remote(const std::string& user_id, int up, int down) {
  RemoteState& r = remote_[user_id];
  r.relayed = {std::clamp(up, kQualityUnknown, kQualityDown), std::clamp(down, kQualityUnknown, kQualityDown)};
  return Report(r);
}

std::optional<CallQuality::Pair> CallQuality::RemoteLinkLost(const std::string& user_id) {
  RemoteState& r = remote_[user_id];
  r.link_lost = true;
  return Report(r);
}

std::optional<CallQuality::Pair> CallQuality::RemoteLinkBack(const std::string& user_id) {
  auto it = remote_.find(user_id);
  if (it == remote_.end()) return std::nullopt;
  it->second.link_lost = false;
  return Report(it->second);
}

void CallQuality::Clear() {
  local_.Reset();
  reported_ = {0, 0};
  remote_.clear();
  muted_video_.clear();
  received_before_ = 0;
  last_frame_us_.store(0, std::memory_order_relaxed);
  max_gap_us_.store(0, std::memory_order_relaxed);
  video_flowing_ = false;
}

}  // namespace parley::sdk::call
