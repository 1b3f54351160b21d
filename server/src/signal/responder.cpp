#include "signal/responder.hpp"

#include <spdlog/spdlog.h>

#include "signal/clock.hpp"

namespace parley::server {

void Responder::SendTo(Conn& c, std::string text) {
  ++metrics_.messages_out_total;
  c.link->Send(std::move(text));
}

void Responder::Reply(Conn& c, const ClientMessage& m, Errc code, std::string_view message,
                      const nlohmann::json& data) {
  SendTo(c, MakeResponse(m.id, m.type, code, message, data));
}

void Responder::ReplyError(Conn& c, const ClientMessage& m, const Error& e) {
  LogRefusal(c, m.type, e);
  SendTo(c, MakeErrorResponse(m.id, m.type, e));
}

void Responder::LogRefusal(const Conn& c, std::string_view request, const Error& e) {
  auto skipped = refusal_log_.Admit(Clock::now());
  if (!skipped) return;
  if (*skipped > 0)
    spdlog::info("{} refused requests were not logged (at most {} lines a second)", *skipped, RefusalLog::kPerSecond);
  std::string who = "connection " + std::to_string(c.id);
  if (c.session && c.session->channel)
    who =
        c.session->user_id + " in channel " + c.session->channel->channel_id + " of app " + c.session->channel->app_id;
  spdlog::info("{} refused for {} from {}: {}{} {}", request.empty() ? "message" : std::string(request), who,
               c.remote.empty() ? "?" : c.remote, FormatHex(e.value()),
               e.detail == Errc::kOk ? "" : " / " + FormatHex(static_cast<int32_t>(e.detail)), e.What());
}

}  // namespace parley::server
