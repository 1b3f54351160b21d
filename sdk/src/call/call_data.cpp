// The call's side of data messages (DataMessages::Host): openData on the signalling
// link, and what the data connection reports, told to the application.
#include "call/call.hpp"

namespace parley::sdk::call {

void Call::AskOpenData(const std::string& offer,
                       std::function<void(int32_t, const std::string&, const std::string&)> reply) {
  if (!Live()) return reply(Code(Errc::kNotInChannel), "not connected to the channel", "");
  Request("openData", proto::OpenDataRequest{offer}.ToJson(),
          [reply = std::move(reply)](int32_t code, const std::string& m, const Json& d) {
            std::string answer;
            if (!code && d.is_object() && d.contains("sdp") && d["sdp"].is_string()) answer = d["sdp"];
            reply(code, m, answer);
          });
}

void Call::DataMessage(const std::string& from, const std::vector<uint8_t>& data, const DataMessageOptions& options) {
  Heard(from);
  Notify([&](EngineEventListener& l) { l.OnDataMessage(from, data, options); });
}

bool Call::IsMember(const std::string& user) const {
  if (remote_.KnowsNow(user)) return true;
  std::lock_guard<std::mutex> lock(heard_mu_);
  return heard_.count(user) > 0;
}

void Call::Heard(const std::string& user) {
  std::lock_guard<std::mutex> lock(heard_mu_);
  if (heard_.size() < kMaxHeard) heard_.insert(user);
}

void Call::ForgetHeard() {
  std::lock_guard<std::mutex> lock(heard_mu_);
  heard_.clear();
}

void Call::DataState(DataChannelState state) {
  Notify([&](EngineEventListener& l) { l.OnDataChannelStateChanged(state); });
}

bool Call::InCall() const {
  std::lock_guard<std::mutex> lock(state_.mu);
  return state_.in_call;
}

}  // namespace parley::sdk::call
