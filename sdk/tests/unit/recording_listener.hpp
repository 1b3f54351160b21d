// An EngineEventListener for tests that writes every event as one line of text, in
// order, so a test compares what the application saw with one vector.
#pragma once

#include <string>
#include <vector>

#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::testing {

class RecordingListener final : public EngineEventListener {
 public:
  std::vector<std::string> events;
  std::string last_error_message;  ///< what the last error said (events keep only codes)
  /// Network quality changes, "<user> <up>/<down>" ("" for the local user), kept apart
  /// from `events` so the other tests' sequences do not depend on them.
  std::vector<std::string> qualities;

  /// The events that start with `prefix`.
  [[nodiscard]] std::vector<std::string> With(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.rfind(prefix, 0) == 0) out.push_back(e);
    return out;
  }

  void OnJoinChannelResult(int32_t result, const std::string& channel, const std::string& user, int) override {
    Add("join " + FormatHex(result) + " " + channel + " " + user);
  }
  void OnJoinChannelError(int32_t result, int32_t detail, const std::string&) override {
    Add("joinError " + FormatHex(result) + " " + FormatHex(detail));
  }
  void OnLeaveChannelResult(int32_t result) override { Add("leave " + FormatHex(result)); }
  void OnRemoteUserOnline(const std::string& user) override { Add("online " + user); }
  void OnRemoteUserOffline(const std::string& user, const std::string& reason) override {
    Add("offline " + user + " " + reason);
  }
  void OnPublishStateChanged(TrackKind track, bool published) override {
    Add(std::string("published ") + std::string(Name(track)) + (published ? " on" : " off"));
  }
  void OnAudioCaptureTestLevel(int volume) override { Add("level " + std::to_string(volume)); }
  void OnAudioAccompanyStateChanged(AudioAccompanyState s, int32_t code) override {
    static const char* const kNames[] = {"started", "stopped", "paused", "resumed", "ended", "failed"};
    Add(std::string("accompany ") + kNames[static_cast<int>(s)] + (code ? " " + FormatHex(code) : ""));
  }
  void OnDeviceStateChanged(const DeviceInfo& d, DeviceState s) override {
    Add(std::string(s == DeviceState::kAdded ? "device+ " : "device- ") + d.id);
  }
  void OnOccurError(int32_t code, const std::string& message) override {
    last_error_message = message;
    Add("error " + FormatHex(code));
  }
  void OnOccurWarning(int32_t code, const std::string&) override { Add("warning " + FormatHex(code)); }
  void OnConnectionStatusChanged(ConnectionStatus s) override {
    static const char* const kNames[] = {"disconnected", "connecting", "connected", "reconnecting", "failed"};
    Add(std::string("status ") + kNames[static_cast<int>(s)]);
  }
  void OnBye(const std::string& reason) override { Add("bye " + reason); }
  void OnMessage(const std::string& from, const std::string& data, bool direct) override {
    Add("message " + from + (direct ? " direct " : " channel ") + data);
  }
  void OnRemoteUserUpdated(const std::string& user, const std::string& name) override {
    Add("updated " + user + " " + name);
  }
  void OnRemoteUserRoleChanged(const std::string& user, ClientRole role) override {
    Add("role " + user + " " + std::string(Name(role)));
  }
  void OnRemoteStreamResumed(const std::string& user) override { Add("resumed " + user); }
  void OnAuthInfoWillExpire(int64_t expires_at) override { Add("token expires " + std::to_string(expires_at)); }
  void OnAuthInfoExpired(int64_t remove_in_ms) override { Add("token expired " + std::to_string(remove_in_ms)); }
  void OnNetworkQualityChanged(const std::string& user, NetworkQuality up, NetworkQuality down) override {
    qualities.push_back(user + " " + std::to_string(static_cast<int>(up)) + "/" +
                        std::to_string(static_cast<int>(down)));
  }

 private:
  void Add(std::string e) { events.push_back(std::move(e)); }
};

}  // namespace parley::sdk::testing
