// Data messages on the native side (docs/protocol.md, "Data messages"): the data
// connection (the media seam's DataConnection, opened with openData), its state, the
// envelope, and the checks both SDKs make before sending (64 KiB, 256 messages and
// 4 MiB a second, open, a member). Reopened 2 s after a failure while on and in a call,
// as parley.js does.
//
// Threading: Enable, Joined, Ended and what the connection reports run on the engine
// thread (the connection's callbacks post there); Send on any thread (under mu_).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/media.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

/// A token bucket: `rate` a second, at most one second's worth saved up.
class SendBucket {
 public:
  explicit SendBucket(double rate) : rate_(rate), tokens_(rate) {}
  [[nodiscard]] bool Allows(double n, int64_t now_us);
  void Spend(double n) { tokens_ -= n; }

 private:
  double rate_, tokens_;
  int64_t last_us_ = -1;
};

class DataMessages {
 public:
  /// The payload limit and the sender's rates (the server enforces the same).
  static constexpr size_t kMaxPayload = 64 * 1024;
  static constexpr double kMessagesPerSecond = 256;
  static constexpr double kBytesPerSecond = 4.0 * 1024 * 1024;
  static constexpr std::chrono::milliseconds kReopenAfter{2000};
  static constexpr std::chrono::milliseconds kOpenWithin{10000};

  /// What the data connection needs from the call.
  class Host {
   public:
    virtual ~Host() = default;
    /// Sends openData with `offer`; `reply(code, message, answer)` on the engine thread.
    virtual void AskOpenData(const std::string& offer,
                             std::function<void(int32_t, const std::string&, const std::string&)> reply) = 0;
    /// Runs `fn` on the engine thread. Any thread.
    virtual void PostToEngine(std::function<void()> fn) = 0;
    virtual void DataMessage(const std::string& from, const std::vector<uint8_t>& data,
                             const DataMessageOptions& options) = 0;
    virtual void DataState(DataChannelState state) = 0;
    virtual void DataError(int32_t code, const std::string& message) = 0;
    /// Any thread: whether `user` is in the channel now.
    [[nodiscard]] virtual bool IsMember(const std::string& user) const = 0;
    [[nodiscard]] virtual bool InCall() const = 0;
    /// How the data connection gathers (CallLink::Ice).
    virtual media::IceSetup Ice(media::IceUse use) = 0;
  };

  DataMessages(Host& host, media::MediaFactory& media, boost::asio::io_context& io);
  DataMessages(const DataMessages&) = delete;
  DataMessages& operator=(const DataMessages&) = delete;

  /// On: opens the connection now when in a call (else at the next join); off: closes it.
  void Enable(bool on);
  /// The call is joined (or resumed on a new session): opens it when on.
  void Joined();
  /// The call ended: closes it (it stays on for the next join).
  void Ended();
  /// Any thread: 0, or why not (the codes RtcEngine::SendDataMessage lists).
  int32_t Send(const std::string& to, const void* data, size_t size, const DataMessageOptions& options);
  [[nodiscard]] DataChannelState state() const;

 private:
  void Open();
  void Close();  ///< Drop, and the state is closed
  void Drop();   ///< the connection goes, what it still reports is ignored
  void SetState(DataChannelState s);
  void Lost(uint64_t generation, const std::string& why);

  Host& host_;
  media::MediaFactory& media_;
  boost::asio::steady_timer reopen_;
  bool enabled_ = false;
  uint64_t generation_ = 0;  ///< of the connection; what an older one reports is ignored
  mutable std::mutex mu_;    ///< conn_, state_ and the buckets
  std::shared_ptr<media::DataConnection> conn_;
  DataChannelState state_ = DataChannelState::kClosed;
  SendBucket messages_{kMessagesPerSecond}, bytes_{kBytesPerSecond};
};

}  // namespace parley::sdk::call
