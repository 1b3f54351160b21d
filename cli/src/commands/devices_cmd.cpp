// parley devices: the microphones, speakers and cameras libparley can use, with the
// ids `parley join --source device:ID` / `--speaker device:ID` take.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "commands/common.hpp"
#include "parley/engine.hpp"

namespace parley::cli {
namespace {

int Run(bool json_out) {
  nlohmann::json all = nlohmann::json::object();
  for (auto [kind, name] : {std::pair{DeviceKind::kMicrophone, "microphones"},
                            std::pair{DeviceKind::kSpeaker, "speakers"}, std::pair{DeviceKind::kCamera, "cameras"}}) {
    auto devices = RtcEngine::EnumerateDevices(kind);
    nlohmann::json list = nlohmann::json::array();
    if (!json_out) fmt::print("{}:\n", name);
    for (const auto& d : devices) {
      list.push_back({{"id", d.id}, {"name", d.name}, {"default", d.is_default}});
      if (!json_out) fmt::print("  {:<40} {}{}\n", d.id, d.name, d.is_default ? " (default)" : "");
    }
    all[name] = list;
  }
  if (json_out) fmt::print("{}\n", all.dump());
  return kExitOk;
}

}  // namespace

void RegisterDevicesCommand(CLI::App& app, Runner* runner) {
  auto json_out = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("devices", "List microphones, speakers and cameras (and the synthetic sources)");
  cmd->add_flag("--json", *json_out, "One JSON object");
  cmd->callback([json_out, runner] { *runner = [json_out] { return Run(*json_out); }; });
}

}  // namespace parley::cli
