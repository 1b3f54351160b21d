// Fuzzes the signalling message parser and the whole hub behind it: each input line
// is one WebSocket message from one of two clients that have already joined a
// channel, so the fuzzer reaches every handler, not only the parser.
//   line "1..." / "2..." -> message from client 1 / 2 (the digit is stripped)
//   line "!close2"       -> client 2's connection drops (resume path)
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "parley/proto/token.hpp"
#include "signal/hub.hpp"
#include "signal/protocol.hpp"

namespace {

using namespace parley;
using namespace parley::server;

class NullLink final : public SignalConnection {
 public:
  void Send(std::string text) override {
    // Everything the server sends must be JSON.
    if (nlohmann::json::parse(text, nullptr, false).is_discarded()) __builtin_trap();
  }
  void Close() override {}
};

AppStore& Store() {
  static auto store = AppStore::Open(":memory:").value();
  return *store;
}

std::string JoinText(const App& app, const std::string& user) {
  int64_t ts = 4102444800;  // 2100-01-01
  std::string token = MintAccessToken({app.app_id, "fuzz", user, "", "", ts, 0}, app.app_key);
  return nlohmann::json{{"type", "join"}, {"id", 1}, {"token", token}, {"profile", "interactive-live"}}.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  nlohmann::json id;
  (void)ParseClientMessage(input, 64 * 1024, &id);

  static const App app = *Store().Create("fuzz");
  static const ServerConfig config = [] {
    spdlog::set_level(spdlog::level::warn);  // the hub logs every join and refusal at info
    ServerConfig c;
    c.resume_grace_ms = 0;
    return c;
  }();
  boost::asio::io_context io;
  Metrics metrics;
  SignalHub hub(io, config, Store(), metrics);
  uint64_t c1 = hub.OnOpen(std::make_shared<NullLink>());
  uint64_t c2 = hub.OnOpen(std::make_shared<NullLink>());
  hub.OnMessage(c1, JoinText(app, "one"));
  hub.OnMessage(c2, JoinText(app, "two"));
  size_t pos = 0;
  while (pos <= input.size()) {
    size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(pos, end - pos);
    pos = end + 1;
    if (line == "!close2") {
      hub.OnClose(c2);
      io.poll();
      c2 = hub.OnOpen(std::make_shared<NullLink>());
      continue;
    }
    uint64_t target = c1;
    if (!line.empty() && (line[0] == '1' || line[0] == '2')) {
      target = line[0] == '1' ? c1 : c2;
      line.remove_prefix(1);
    }
    hub.OnMessage(target, line);
  }
  hub.Stop();
  io.poll();
  return 0;
}
