// The network quality a call reports (OnNetworkQualityChanged): the local user's, from
// each stats interval through core/network_quality's bands and filter, and every remote
// user's, as the server relays what their SDKs measured (networkQuality), with "down"
// (5) while the server says a user's connection is lost. It also notices video
// freezes: for each remote video stream, the longest gap between its decoded frames,
// kept by the media threads, so one stream that stops is seen while others flow.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/network_quality.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

class CallQuality {
 public:
  using Pair = std::pair<int, int>;  ///< up, down

  /// Media threads: a frame of `user_id`'s video `track` was decoded at `now_us`
  /// (steady clock). A short lock: the stream's last frame and longest gap.
  void OnVideoFrame(std::string_view user_id, TrackKind track, int64_t now_us);
  /// Engine thread: media that was flowing stops on purpose (a track or user went
  /// away): its silence is not a cut link. `user_id`'s video `track` (every one of its
  /// tracks when nullopt) is no longer watched for freezes.
  void MediaEndedOnPurpose(const std::string& user_id, std::optional<TrackKind> track);
  /// Engine thread: a remote user's video is muted (its sender may send black frames
  /// slowly, as browsers do) or unmuted. Its gaps meanwhile are not freezes; the
  /// other users' videos are still watched.
  void RemoteVideoMuted(const std::string& user_id, bool muted, int64_t now_us);

  /// What the application and the server are told after one sample.
  struct Local {
    std::optional<Pair> changed;  ///< the local pair, when it changed
    bool weak = false, recovered = false;
  };
  /// One stats interval ending at `now_us`. `down.froze` is filled in here from the
  /// frames seen: a video stream that was flowing showed no frame for more than 500 ms
  /// (a stream flows once a sample found a frame within 500 ms before it). Media
  /// is expected (silence is "down") only when the caller says so and packets arrived
  /// in the interval before.
  Local Sample(UplinkSample up, DownlinkSample down, int64_t now_us);
  /// The signalling link is lost (5, 5 at once: down).
  Local LinkLost();
  [[nodiscard]] Pair local() const { return reported_; }

  /// A remote user's relayed quality (or the one its user object carried at join);
  /// returns the pair to report when it differs from what was reported for that user.
  std::optional<Pair> Remote(const std::string& user_id, int up, int down);
  /// The server says the user's connection dropped (5, 5) or came back (its last pair).
  std::optional<Pair> RemoteLinkLost(const std::string& user_id);
  std::optional<Pair> RemoteLinkBack(const std::string& user_id);
  void Forget(const std::string& user_id) {
    remote_.erase(user_id);
    muted_video_.erase(user_id);
    MediaEndedOnPurpose(user_id, std::nullopt);
  }
  /// A new call: nothing known.
  void Clear();

 private:
  static constexpr int64_t kFreezeUs = 500'000;
  struct RemoteState {
    Pair relayed{kQualityUnknown, kQualityUnknown};   ///< what the server said last
    Pair reported{kQualityUnknown, kQualityUnknown};  ///< what the application was told last
    bool link_lost = false;
  };
  std::optional<Pair> Report(RemoteState& r);

  LocalQuality local_;
  Pair reported_{kQualityUnknown, kQualityUnknown};
  std::map<std::string, RemoteState> remote_;
  struct VideoStream {
    int64_t last_us = 0;     ///< its last frame (0: none yet)
    int64_t max_gap_us = 0;  ///< the longest gap since the last sample
    bool flowing = false;    ///< frames arrived within 500 ms before the last sample
  };
  static constexpr size_t kTracks = 3;  ///< TrackKind's values
  using UserVideo = std::array<VideoStream, kTracks>;
  std::mutex video_mu_;                                  ///< the media threads write the streams
  std::map<std::string, UserVideo, std::less<>> video_;  ///< by remote user, then track
  long long received_before_ = 0;                        ///< packets received in the previous interval
  std::set<std::string> muted_video_;                    ///< remote users whose video is muted
};

}  // namespace parley::sdk::call
