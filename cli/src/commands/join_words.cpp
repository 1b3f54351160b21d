#include "commands/join_words.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "commands/common.hpp"

namespace parley::cli {

const char* QualityWord(int q) {
  static constexpr const char* kWords[] = {"excellent", "good", "poor", "bad", "very bad", "down"};
  return q >= 0 && q <= 5 ? kWords[q] : "measuring";
}

std::string QualityText(int q) {
  if (q < 0 || q > 5) return "— (measuring)";
  std::string bars;
  for (int i = 0; i < 4; ++i) bars += i < 4 - q ? "▮" : "▯";
  return bars + " " + QualityWord(q);
}

std::string ProgressBar(int64_t position_ms, int64_t duration_ms) {
  constexpr int kWidth = 20;
  auto clock = [](int64_t ms) { return fmt::format("{}:{:02}", ms / 60000, (ms / 1000) % 60); };
  if (duration_ms <= 0) return "file " + clock(position_ms);
  int filled = static_cast<int>(std::min<int64_t>(kWidth, position_ms * kWidth / duration_ms));
  return fmt::format("[{}{}] {} / {}", std::string(static_cast<size_t>(filled), '#'),
                     std::string(static_cast<size_t>(kWidth - filled), '-'), clock(position_ms), clock(duration_ms));
}

std::optional<DegradationPreference> ParseDegradation(const std::string& word) {
  if (word == "fluency") return DegradationPreference::kMaintainFramerate;
  if (word == "clarity") return DegradationPreference::kMaintainResolution;
  if (word == "balanced") return DegradationPreference::kBalanced;
  return std::nullopt;
}

std::vector<std::string> RoleNames() {
  return {std::string(Name(ClientRole::kBroadcaster)), std::string(Name(ClientRole::kAudience))};
}

std::vector<std::string> ProfileNames() {
  return {std::string(Name(ChannelProfile::kCommunication)), std::string(Name(ChannelProfile::kInteractiveLive))};
}

const std::vector<std::string>& AudioProfileNames() {
  // In the order of the enum's values.
  static const std::vector<std::string> names{"low", "basic", "high", "stereo-high", "super-high", "stereo-super-high"};
  return names;
}

AudioProfile ParseAudioProfile(const std::string& word) {
  const auto& names = AudioProfileNames();
  auto it = std::find(names.begin(), names.end(), word);
  return it == names.end() ? AudioProfile::kHighQuality : static_cast<AudioProfile>(it - names.begin());
}

bool ParseRegion(const std::string& text, ScreenShareConfig* c) {
  int x = 0, y = 0, w = 0, h = 0, end = 0;
  if (std::sscanf(text.c_str(), "%d,%d,%dx%d%n", &x, &y, &w, &h, &end) != 4 || end != static_cast<int>(text.size()))
    return false;
  if (!c) return true;
  c->region_x = x;
  c->region_y = y;
  c->region_width = w;
  c->region_height = h;
  return true;
}

void PrintJoinFailure(const Error& error, const std::string& server) {
  PrintError(error);
  if (error.code == Errc::kSignalRequestError || error.code == Errc::kJoinTimeout)
    fmt::print(stderr, "hint: {}\n", UnreachableHint(server));
}

}  // namespace parley::cli
