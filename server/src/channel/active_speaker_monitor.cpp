#include "channel/active_speaker_monitor.hpp"

namespace parley::server {

std::optional<ActiveSpeakerMonitor::Speaker> ActiveSpeakerMonitor::Tick(std::string& current,
                                                                        std::span<const Member> members,
                                                                        std::vector<int>* volumes) {
  const Member* loudest = nullptr;
  uint32_t best = 0;
  if (volumes) volumes->assign(members.size(), 0);
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    auto peak = peaks_.TakeAudioPeak(m.session_id);
    if (!peak || !m.audible) continue;
    if (volumes) (*volumes)[i] = Volume(*peak);
    if (*peak > best) {
      best = *peak;
      loudest = &m;
    }
  }
  if (!loudest || best < kSpeech || loudest->user_id == current) return std::nullopt;
  current = std::string(loudest->user_id);
  return Speaker{current, -static_cast<int>(127 - best)};
}

}  // namespace parley::server
