// The network quality a call reports (OnNetworkQualityChanged): the local user's, from
// each stats interval through core/network_quality's bands and filter, and every remote
// user's, as the server relays what their SDKs measured (networkQuality), with "down"
// (6) while the server says a user's connection is lost. It also notices video
// freezes: the longest gap between decoded remote frames, kept by the media threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/network_quality.hpp"

namespace parley::sdk::call {

class CallQuality {
 public:
  using Pair = std::pair<int, int>;  ///< up, down

  /// Media threads: a remote video frame was decoded at `now_us` (steady clock).
  void OnVideoFrame(int64_t now_us);
  /// Engine thread: media that was flowing stops on purpose (a track or user went
  /// away): its silence is neither a freeze nor a cut link.
  void MediaEndedOnPurpose(int64_t now_us);
  /// Engine thread: a remote video is muted (its sender may send black frames slowly,
  /// as browsers do) or unmuted. While any is muted, gaps are not freezes: the frames
  /// of all remote videos are counted together.
  void RemoteVideoMuted(const std::string& user_id, bool muted, int64_t now_us);

  /// What the application and the server are told after one sample.
  struct Local {
    std::optional<Pair> changed;  ///< the local pair, when it changed
    bool weak = false, recovered = false;
  };
  /// One stats interval ending at `now_us`. `down.froze` is filled in here from the
  /// frames seen: video that was flowing showed no frame for more than 500 ms. Media
  /// is expected (silence is "down") only when the caller says so and packets arrived
  /// in the interval before.
  Local Sample(UplinkSample up, DownlinkSample down, int64_t now_us);
  /// The signalling link is lost (6, 6 at once).
  Local LinkLost();
  [[nodiscard]] Pair local() const { return reported_; }

  /// A remote user's relayed quality (or the one its user object carried at join);
  /// returns the pair to report when it differs from what was reported for that user.
  std::optional<Pair> Remote(const std::string& user_id, int up, int down);
  /// The server says the user's connection dropped (6, 6) or came back (its last pair).
  std::optional<Pair> RemoteLinkLost(const std::string& user_id);
  std::optional<Pair> RemoteLinkBack(const std::string& user_id);
  void Forget(const std::string& user_id) {
    remote_.erase(user_id);
    muted_video_.erase(user_id);
  }
  /// A new call: nothing known.
  void Clear();

 private:
  static constexpr int64_t kFreezeUs = 500'000;
  struct RemoteState {
    Pair relayed{0, 0};   ///< what the server said last
    Pair reported{0, 0};  ///< what the application was told last
    bool link_lost = false;
  };
  std::optional<Pair> Report(RemoteState& r);

  LocalQuality local_;
  Pair reported_{0, 0};
  std::map<std::string, RemoteState> remote_;
  std::atomic<int64_t> last_frame_us_{0};  ///< 0: no frame yet
  std::atomic<int64_t> max_gap_us_{0};     ///< the longest gap since the last sample
  bool video_flowing_ = false;             ///< frames arrived in the previous interval
  long long received_before_ = 0;          ///< packets received in the previous interval
  std::set<std::string> muted_video_;      ///< remote users whose video is muted
};

}  // namespace parley::sdk::call
