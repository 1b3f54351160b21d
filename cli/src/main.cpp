// parley: the Parley command-line tool. Each subcommand lives in src/commands/.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "commands/common.hpp"
#include "server.hpp"

int main(int argc, char** argv) {
  using namespace parley::cli;
  // `parley serve` is parleyd: same options, same behaviour.
  if (argc >= 2 && std::string_view(argv[1]) == "serve")
    return parley::server::RunServerMain(argc - 1, argv + 1, "parley serve");
  CLI::App app{"parley: the Parley real-time communication tool (server, apps, tokens, error codes)", "parley"};
  app.set_version_flag("--version", std::string("parley ") + PARLEY_VERSION);
  app.require_subcommand(1);
  app.footer("Run `parley <command> --help` for a command's options.");
  Runner runner;
  RegisterErrorsCommand(app, &runner);
  RegisterTokenCommand(app, &runner);
  RegisterAppCommand(app, &runner);
  RegisterJoinCommand(app, &runner);
  RegisterDemoCommand(app, &runner);
  RegisterDevicesCommand(app, &runner);
  app.add_subcommand("serve", "Run the Parley server (same options as parleyd; see `parley serve --help`)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  // The one place this entry point catches: a bug must still end with a clear message.
  try {
    return runner ? runner() : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "parley: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}
