#include "impl/gst/mix_in.hpp"

#include <algorithm>
#include <cstring>

namespace parley::sdk::gst {

void MixIn::Open(double gain, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  written_ = read_ = 0;
  priming_ = true;
  gain_ = std::clamp(gain, 0.0, 1.0);
  replace_ = replace;
  open_ = true;
}

void MixIn::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  open_ = false;
  written_ = read_ = 0;
}

void MixIn::SetGain(double gain) {
  std::lock_guard<std::mutex> lock(mu_);
  gain_ = std::clamp(gain, 0.0, 1.0);
}

void MixIn::Write(const int16_t* stereo, size_t frames) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return;
  if (frames > kCapacityFrames) {  // only the last second can be kept
    stereo += (frames - kCapacityFrames) * 2;
    frames = kCapacityFrames;
  }
  for (size_t i = 0; i < frames; ++i) {
    const size_t at = static_cast<size_t>((written_ + i) % kCapacityFrames) * 2;
    ring_[at] = stereo[i * 2];
    ring_[at + 1] = stereo[i * 2 + 1];
  }
  written_ += frames;
  if (written_ - read_ > kCapacityFrames) read_ = written_ - kCapacityFrames;  // the oldest go
}

void MixIn::MixInto(int16_t* pcm, size_t frames, int channels) {
  if (channels < 1 || !open()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return;
  const auto n_channels = static_cast<size_t>(channels);
  if (replace_) std::memset(pcm, 0, frames * n_channels * sizeof(int16_t));
  uint64_t ahead = written_ - read_;
  if (priming_) {
    if (ahead < kLeadFrames) return;
    priming_ = false;
  }
  if (ahead > kMaxLeadFrames) {  // the writer's clock runs fast, or we were not read for a while
    read_ = written_ - kLeadFrames;
    ahead = kLeadFrames;
  }
  const size_t take = static_cast<size_t>(std::min<uint64_t>(ahead, frames));
  auto add = [](int16_t& out, double v) {
    out = static_cast<int16_t>(std::clamp(static_cast<double>(out) + v, -32768.0, 32767.0));
  };
  for (size_t i = 0; i < take; ++i) {
    const size_t at = static_cast<size_t>((read_ + i) % kCapacityFrames) * 2;
    const double left = ring_[at] * gain_, right = ring_[at + 1] * gain_;
    int16_t* frame = pcm + i * n_channels;
    if (n_channels == 1) {
      add(frame[0], (left + right) / 2);
      continue;
    }
    add(frame[0], left);
    add(frame[1], right);
    for (size_t c = 2; c < n_channels; ++c) add(frame[c], (left + right) / 2);
  }
  read_ += take;
  if (take < frames) priming_ = true;  // ran dry: gather a lead again
}

}  // namespace parley::sdk::gst
