#include "call/call_quality.hpp"

#include <algorithm>

namespace parley::sdk::call {

void CallQuality::OnVideoFrame(std::string_view user_id, TrackKind track, int64_t now_us) {
  const auto i = static_cast<size_t>(track);
  if (i >= kTracks) return;
  std::lock_guard<std::mutex> lock(video_mu_);
  auto it = video_.find(user_id);
  if (it == video_.end()) it = video_.emplace(std::string(user_id), UserVideo{}).first;
  VideoStream& v = it->second[i];
  if (v.last_us != 0) v.max_gap_us = std::max(v.max_gap_us, now_us - v.last_us);
  v.last_us = now_us;
}

void CallQuality::MediaEndedOnPurpose(const std::string& user_id, std::optional<TrackKind> track) {
  received_before_ = 0;
  std::lock_guard<std::mutex> lock(video_mu_);
  auto it = video_.find(user_id);
  if (it == video_.end()) return;
  if (!track) {
    video_.erase(it);
  } else if (auto i = static_cast<size_t>(*track); i < kTracks) {
    it->second[i] = VideoStream{};
  }
}

void CallQuality::RemoteVideoMuted(const std::string& user_id, bool muted, int64_t now_us) {
  if (muted) {
    muted_video_.insert(user_id);
    return;
  }
  if (muted_video_.erase(user_id) == 0) return;
  // The gap while it was muted is over, not a freeze: its streams start afresh.
  std::lock_guard<std::mutex> lock(video_mu_);
  auto it = video_.find(user_id);
  if (it == video_.end()) return;
  for (VideoStream& v : it->second) {
    if (v.last_us != 0) v.last_us = now_us;
    v.max_gap_us = 0;
    v.flowing = false;
  }
}

CallQuality::Local CallQuality::Sample(UplinkSample up, DownlinkSample down, int64_t now_us) {
  {
    std::lock_guard<std::mutex> lock(video_mu_);
    for (auto& [user_id, streams] : video_) {
      const bool muted = muted_video_.count(user_id) > 0;
      for (VideoStream& v : streams) {
        if (v.last_us == 0) continue;
        // Only video that was flowing can freeze; the gap still open at the sample counts.
        const int64_t gap = std::max(v.max_gap_us, now_us - v.last_us);
        down.froze = down.froze || (v.flowing && !muted && gap > kFreezeUs);
        v.flowing = now_us - v.last_us <= kFreezeUs;
        v.max_gap_us = 0;
      }
    }
  }
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
  // Off the scale (the server checks, but this is the network) reads as unknown.
  auto on_scale = [](int v) { return v >= kQualityExcellent && v <= kQualityUnknown ? v : kQualityUnknown; };
  r.relayed = {on_scale(up), on_scale(down)};
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
  reported_ = {kQualityUnknown, kQualityUnknown};
  remote_.clear();
  muted_video_.clear();
  received_before_ = 0;
  std::lock_guard<std::mutex> lock(video_mu_);
  video_.clear();
}

}  // namespace parley::sdk::call
