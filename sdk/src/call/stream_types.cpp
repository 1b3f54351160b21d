#include "call/stream_types.hpp"

#include "call/call.hpp"
#include "parley/proto/requests.hpp"

namespace parley::sdk::call {

int32_t CheckStreamType(const std::string& user_id, VideoStreamType type, bool by_default) {
  bool bad_type = static_cast<int>(type) < static_cast<int>(VideoStreamType::kBig) ||
                  static_cast<int>(type) > static_cast<int>(VideoStreamType::kAuto);
  bool bad_user = by_default ? !user_id.empty() : user_id.empty() || user_id.size() > kMaxIdLength;
  return bad_type || bad_user ? Code(Errc::kSubscribeConfigInvalid) : 0;
}

void Call::SetStreamType(const std::string& user_id, VideoStreamType type) {
  if (!user_id.empty() && !stream_types_.count(user_id) &&
      stream_types_.size() - stream_types_.count("") >= kMaxStreamTypes) {
    Error(Code(Errc::kInvalidField), "at most 256 users may have a video stream type of their own");
    return;
  }
  stream_types_[user_id] = type;
  if (Live()) SendStreamType(user_id, type);  // else at the join
}

void Call::SendStreamTypes() {
  // The default first: a user's own type is not overridden by it on the server.
  if (auto d = stream_types_.find(""); d != stream_types_.end()) SendStreamType(d->first, d->second);
  for (const auto& [user, type] : stream_types_)
    if (!user.empty()) SendStreamType(user, type);
}

void Call::SendStreamType(const std::string& user_id, VideoStreamType type) {
  Request("setRemoteVideoStreamType", proto::SetRemoteVideoStreamTypeRequest{user_id, type}.ToJson(),
          [this](int32_t code, const std::string& m, const Json&) {
            if (code) Error(code, "video stream type refused: " + m);
          });
}

}  // namespace parley::sdk::call
