#include "call/subscribing.hpp"

#include "parley/proto/requests.hpp"

namespace parley::sdk::call {

void Subscribing::Subscribe(const std::string& user_id, const TrackSet& tracks) {
  if (!listener_.Live()) return;
  listener_.Request("subscribe", proto::SubscribeRequest{user_id, tracks}.ToJson(),
                    [this](int32_t code, const std::string& m, const nlohmann::json& d) {
                      if (code) return listener_.Error(code, m);
                      if (d.contains("sdp")) ApplyOffer(d["sdp"]);
                    });
}

void Subscribing::Unsubscribe(const std::string& user_id, const TrackSet& tracks) {
  if (!listener_.Live()) return;
  listener_.Request("unsubscribe", proto::UnsubscribeRequest{user_id, tracks}.ToJson(),
                    [this](int32_t code, const std::string& m, const nlohmann::json&) { Check(code, m); });
}

void Subscribing::ApplyOffer(const std::string& offer) {
  if (!listener_.Live()) return;
  listener_.Phase(StartupPhase::kSubscribeOffered);
  if (!connection_) {
    auto made = listener_.NewSubscribeConnection();
    if (!made) return listener_.Error(static_cast<int32_t>(made.error().code), made.error().message);
    connection_ = std::move(*made);
    for (const auto& [key, window] : windows_)
      if (window) connection_->SetWindow(key.first, key.second, window);
  }
  std::weak_ptr<media::SubscribeConnection> asked = connection_;
  connection_->ApplyOffer(offer, [this, asked](Result<std::string> answer) {
    // Dropped meanwhile (aborted, the call ended): its answer is no one's.
    if (auto conn = asked.lock(); !conn || conn != connection_) return;
    if (!answer) {
      if (!media::TimedOut(answer.error()))
        return listener_.Error(Code(Errc::kSubscribeStreamStartError), answer.error().message);
      // The media never answered: the connection is unusable; the next offer gets a new one.
      connection_.reset();
      return listener_.Error(static_cast<int32_t>(answer.error().code), answer.error().message);
    }
    if (!listener_.Live()) return;
    listener_.Request("subscribeAnswer", proto::SubscribeAnswerRequest{*answer}.ToJson(),
                      [this](int32_t code, const std::string& m, const nlohmann::json&) { Check(code, m); });
    listener_.Phase(StartupPhase::kSubscribeAnswered);
  });
}

void Subscribing::Aborted(const std::vector<std::string>& users) {
  connection_.reset();
  for (const auto& id : users) Subscribe(id);
}

void Subscribing::SetWindow(const std::string& user_id, TrackKind track, uint64_t window) {
  windows_[{user_id, track}] = window;
  if (connection_) connection_->SetWindow(user_id, track, window);
}

}  // namespace parley::sdk::call
