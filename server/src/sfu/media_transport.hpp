// The seam between the control plane and the media plane. A signalling session owns
// at most one publish and one subscribe transport; the SFU (server/src/sfu) provides
// the implementation. The hub only creates, closes and queries them.
#pragma once

namespace parley::server {

class MediaTransport {
 public:
  virtual ~MediaTransport() = default;
  /// Stops media and releases the transport's resources. Called on the control thread.
  virtual void Close() = 0;
};

}  // namespace parley::server
