// The subscribe side of a call: subscribe and unsubscribe requests, the one subscribe
// connection (made at the server's first offer, dropped when the server aborts it or
// the media does not answer), its answers, and the windows the application gave for
// remote video (kept across connections). Engine thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "call/call_link.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

class Subscribing {
 public:
  using Reply = CallLink::Reply;

  /// What the subscribe side needs from the call (the engine). Engine thread.
  class Listener : public CallLink {
   public:
    /// A new subscribe connection (its options and media callbacks are the call's).
    virtual Result<std::unique_ptr<media::SubscribeConnection>> NewSubscribeConnection() = 0;
  };

  explicit Subscribing(Listener& listener) : listener_(listener) {}

  /// All of `user_id`'s tracks when `tracks` is empty.
  void Subscribe(const std::string& user_id, const TrackSet& tracks = {});
  void Unsubscribe(const std::string& user_id, const TrackSet& tracks);
  /// The server's offer (a subscribe reply or a subscribeOffer notice).
  void ApplyOffer(const std::string& offer);
  /// The server dropped its side of the connection (subscribeAborted): subscribe
  /// `users` again, which makes a new connection.
  void Aborted(const std::vector<std::string>& users);
  void SetWindow(const std::string& user_id, TrackKind track, uint64_t window);

  /// The connection, while there is one (the call's stats read it; the call drops it
  /// when it ends).
  std::shared_ptr<media::SubscribeConnection>& connection() { return connection_; }

 private:
  void Check(int32_t code, const std::string& message) {
    if (code) listener_.Error(code, message);
  }

  Listener& listener_;
  std::shared_ptr<media::SubscribeConnection> connection_;
  std::map<std::pair<std::string, TrackKind>, uint64_t> windows_;
};

}  // namespace parley::sdk::call
