// The active speaker monitor: on each tick it takes every publisher's loudest audio
// level since the last tick (the RFC 6464 audio-level header extension, read by the
// media worker) and names the channel's loudest speaker when that changes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "parley/proto/notifications.hpp"

namespace parley::server {

class ActiveSpeakerMonitor {
 public:
  /// Where the levels come from.
  class PeakSource {
   public:
    virtual ~PeakSource() = default;
    /// The session's loudest level since the last call, 127 - dBov (0 = silence), and
    /// resets it; nullopt when the session has no publish transport.
    virtual std::optional<uint32_t> TakeAudioPeak(uint64_t session_id) = 0;
  };
  struct Member {
    uint64_t session_id = 0;
    std::string_view user_id;
    bool audible = false;  ///< publishes audio and has not muted it
  };
  struct Speaker {
    std::string user_id;
    int level_dbov = 0;  ///< e.g. -27
  };
  /// Speech sits well above -60 dBov; silence and comfort noise below it.
  static constexpr uint32_t kSpeech = 127 - 60;

  explicit ActiveSpeakerMonitor(PeakSource& peaks) : peaks_(peaks) {}

  /// One channel's tick. Takes the peak of every member, audible or not (a muted
  /// member's level must not be counted once it unmutes), and returns the loudest
  /// audible member at speech level when it is not `current`, which becomes it.
  /// Members are in the channel's order; the first of equally loud ones wins.
  /// `volumes`, when given, gets each member's volume over the tick, in the members'
  /// order: 0..255 (Volume), 0 for a member that is not audible.
  std::optional<Speaker> Tick(std::string& current, std::span<const Member> members,
                              std::vector<int>* volumes = nullptr);

  /// A level (127 - dBov) as a volume, 0..255 (proto::VolumeOfLevel).
  static int Volume(uint32_t level) { return proto::VolumeOfLevel(level); }

 private:
  PeakSource& peaks_;
};

}  // namespace parley::server
