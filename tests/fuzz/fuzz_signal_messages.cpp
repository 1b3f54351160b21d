// Fuzzes the typed signalling messages of parley_proto on their own (no hub): the
// envelope, every request parser and the lenient notification reader. One input is
// one WebSocket text message. Properties, beyond "never crashes":
//  - a request body that parses writes (ToJson) a body that parses to an equal value,
//    whatever the envelope's type says (so every parser sees every input);
//  - ParseNotification never throws and what it reads writes back to the same value;
//  - serialising anything we built (DumpSafe) never throws, even with invalid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "parley/proto/envelope.hpp"
#include "parley/proto/notifications.hpp"
#include "parley/proto/requests.hpp"

namespace {

using nlohmann::json;
using namespace parley::proto;

template <typename T>
void CheckRequest(const json& body) {
  auto r = T::Parse(body);
  if (!r.ok()) return;
  json written = r->ToJson();
  auto again = T::Parse(written);
  if (!again.ok() || !(*again == *r)) __builtin_trap();
  (void)DumpSafe(written);
}

void CheckNotification(const json& body) {
  Notification n = ParseNotification(body);
  if (std::holds_alternative<std::monostate>(n)) return;
  json written = std::visit(
      [](const auto& v) -> json {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
          return nullptr;
        else
          return v.ToJson();
      },
      n);
  if (!(ParseNotification(written) == n)) __builtin_trap();
  (void)BroadcastText(written, "c", 1);
  // The same body read as a reply's snapshot: lenient too.
  ChannelSnapshot s = ChannelSnapshot::FromJson(body);
  if (!(ChannelSnapshot::FromJson(s.ToJson()) == s)) __builtin_trap();
  (void)DumpSafe(s.ToJson());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json id;
  auto env = ParseEnvelope(text, kMaxSdpBytes + 4096, &id);
  if (!env.ok()) {
    // The error response echoes the id; building it must not throw.
    (void)MakeErrorResponse(id, "x", env.error());
    return 0;
  }
  const json& body = env->body;
  CheckRequest<JoinRequest>(body);
  CheckRequest<JoinCredentials>(body);
  CheckRequest<ResumeRequest>(body);
  CheckRequest<PublishRequest>(body);
  CheckRequest<UpdatePublishRequest>(body);
  CheckRequest<UnpublishRequest>(body);
  CheckRequest<SubscribeRequest>(body);
  CheckRequest<UnsubscribeRequest>(body);
  CheckRequest<SubscribeAnswerRequest>(body);
  CheckRequest<SetRoleRequest>(body);
  CheckRequest<MuteRequest>(body);
  CheckRequest<SendMessageRequest>(body);
  CheckRequest<UpdateUserInfoRequest>(body);
  CheckRequest<ReportStatsRequest>(body);
  CheckRequest<SetVolumeIndicationRequest>(body);
  CheckRequest<SetRemoteVideoStreamTypeRequest>(body);
  CheckNotification(body);
  (void)MakeResponse(env->id, env->type, parley::Errc::kOk, env->type, body);
  return 0;
}
