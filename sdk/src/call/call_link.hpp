// What a part of the call (publishing, subscribing) asks of the call's signalling
// link. Each part's own Listener adds what only that part needs. Engine thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "media/media.hpp"
#include "parley/proto/errc.hpp"
#include "parley/types.hpp"
#include "signal_channel.hpp"

namespace parley::sdk::call {

/// A catalog code as the events and the C ABI carry it.
inline int32_t Code(Errc e) {
  return static_cast<int32_t>(e);
}

class CallLink {
 public:
  using Reply = SignalChannel::ReplyFn;

  virtual ~CallLink() = default;
  /// In a call with a live link and not leaving it: otherwise nothing is sent.
  [[nodiscard]] virtual bool Live() const = 0;
  /// Sends request `type`; `reply` runs only while the call and its link are the
  /// ones it was asked on.
  virtual void Request(std::string_view type, nlohmann::json body, Reply reply) = 0;
  virtual void Error(int32_t code, const std::string& message) = 0;
  /// The call reached a startup phase (reported once per JoinChannel).
  virtual void Phase(StartupPhase /*phase*/) {}
  /// How the next media connection gathers: the configured addresses, the TURN
  /// servers of the last join or resume answer, relay only or not.
  virtual media::IceSetup Ice(media::IceUse use) = 0;
};

}  // namespace parley::sdk::call
