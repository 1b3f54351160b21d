// A channel: its members, the profile and H5 mode its first member fixed, the sequence
// numbers of its notifications, and how members see each other (presence JSON).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "channel/session.hpp"
#include "sfu/media_plane.hpp"
#include "signal/clock.hpp"

namespace parley::server {

/// Where notifications go out. The signalling side implements it (and counts what it
/// sends); channel code only decides who gets what.
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void SendTo(Conn& c, std::string text) = 0;
};

struct Channel {
  std::string app_id, channel_id;
  Profile profile = Profile::kCommunication;
  bool h5_compatible = false;  ///< fixed by the first member
  int64_t created_at_unix = 0;
  Clock::time_point created_at;
  uint64_t seq = 0;                         ///< notification sequence number, per channel
  std::map<std::string, Session*> members;  ///< by user id
  Clock::time_point metered_at;
  size_t worker = 0;           ///< the media worker all its transports live on
  std::string active_speaker;  ///< user id last announced by activeSpeaker
  /// Its members' transports and what was negotiated on them (the SFU's control API).
  std::unique_ptr<sfu::ChannelMedia> media;

  /// Sends `note` to every connected member but `except`, stamped with the channel id
  /// and the next sequence number (clients spot a gap and ask for the member list).
  void Broadcast(Notifier& out, nlohmann::json note, const Session* except = nullptr);
  /// Sends `note` to one member, stamped with the channel id but no sequence number:
  /// the others never see it, so it must not open a gap in theirs.
  void SendDirect(Notifier& out, const Session& to, nlohmann::json note) const;
};

/// Whether the other members are told about `s` (presence, its network, its quality):
/// everyone in the communication profile, only broadcasters in interactive-live. The
/// audience of a live channel is silent, as ARTC and Agora keep it, so a listener joining
/// or leaving a room of thousands costs the room nothing; a member that becomes a
/// broadcaster comes online for the others, and goes offline (reason `becameAudience`)
/// when it turns back.
inline bool Listed(const Session& s) {
  return s.channel && (s.channel->profile == Profile::kCommunication || s.role == Role::kBroadcaster);
}

/// A member as clients see it; `with_media` adds the SFU's counters (admin API only;
/// it never takes the audio peak, which belongs to the active speaker monitor).
nlohmann::json UserJson(const Session& s, bool with_media = false);
/// The channel as `self` sees it (join, resume and listUsers answers): the others only.
nlohmann::json ChannelSnapshot(const Session& self, int heartbeat_interval_ms);
/// The remote track `track_id` ("<user>-<track>") went away: its section in the
/// subscriber's connection turns inactive, and a connected subscriber gets a new offer.
void RetireOfferedTrack(Notifier& out, Session& sub, const std::string& track_id);

}  // namespace parley::server
