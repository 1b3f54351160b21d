// What the monitors read of a session's media: the state of its transports and the
// loudest audio level since the last look. An interface, so the monitors' rules are
// tested against fakes; the server's implementation reads the channel's ChannelMedia.
#pragma once

#include <cstdint>
#include <optional>

#include "channel/channel.hpp"
#include "channel/session.hpp"
#include "sfu/media_plane.hpp"

namespace parley::server {

class MediaStatus {
 public:
  virtual ~MediaStatus() = default;
  /// The session's publish transport; nullopt when it has none.
  virtual std::optional<sfu::TransportStatus> Publish(const Session& s) = 0;
  /// The session's subscribe transport; nullopt when it has none.
  virtual std::optional<sfu::TransportStatus> Subscribe(const Session& s) = 0;
  /// The loudest level since the last call (127 - dBov), and resets it; nullopt when
  /// the session does not publish. Destructive: only the active speaker monitor calls it.
  virtual std::optional<uint32_t> TakeAudioPeak(const Session& s) = 0;
  /// Closes the session's subscribe transport with its routes (its subscriptions stay).
  virtual void DropSubscribe(Session& s) = 0;
};

/// MediaStatus over each session's channel media. Sessions outside a channel have none.
class ChannelMediaStatus final : public MediaStatus {
 public:
  std::optional<sfu::TransportStatus> Publish(const Session& s) override {
    return s.channel ? s.channel->media->PublishStatus(s.id) : std::nullopt;
  }
  std::optional<sfu::TransportStatus> Subscribe(const Session& s) override {
    return s.channel ? s.channel->media->SubscribeStatus(s.id) : std::nullopt;
  }
  std::optional<uint32_t> TakeAudioPeak(const Session& s) override {
    if (!s.channel || !s.channel->media->IsPublishing(s.id)) return std::nullopt;
    return s.channel->media->TakeAudioPeak(s.id);
  }
  void DropSubscribe(Session& s) override {
    if (s.channel) s.channel->media->CloseSubscribe(s.id);
  }
};

}  // namespace parley::server
