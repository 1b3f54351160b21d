// Creates an engine and says how it went: exit 0 created, 3 refused (the code and
// message printed). The missing-plugin test runs it with a reduced plugin registry.
#include <cstdio>

#include "parley/engine.hpp"
#include "parley/proto/errc.hpp"

int main() {
  parley::EngineConfig config;
  config.server_url = "ws://127.0.0.1:9/v1/signal";
  parley::RtcEngine* engine = parley::RtcEngine::Create(config);
  if (!engine) {
    std::string message;
    int32_t code = parley::RtcEngine::LastCreateError(&message);
    std::printf("%s %s\n", parley::FormatHex(code).c_str(), message.c_str());
    return 3;
  }
  parley::RtcEngine::Destroy(engine);
  std::printf("created\n");
  return 0;
}
