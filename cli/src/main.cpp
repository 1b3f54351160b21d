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
  LoadEnvironment();
  CLI::App app{"parley: the Parley real-time communication tool (server, apps, tokens, clients, error codes)",
               "parley"};
  app.set_version_flag("--version", std::string("parley ") + PARLEY_VERSION);
  app.require_subcommand(1);
  // The shared options, here and on every command that uses them: before or after it.
  AddServerOptions(&app, true);
  AddJsonFlag(&app, "Machine-readable output (JSON) from commands that print results");
  app.footer(
      "The options above may also follow the command (parley app list --server URL).\n"
      "Environment: PARLEY_SERVER (default http://127.0.0.1:7880), PARLEY_ADMIN_KEY, PARLEY_APP_ID, PARLEY_APP_KEY.\n"
      "Run `parley <command> --help` for a command's options.");
  Runner runner;
  RegisterErrorsCommand(app, &runner);
  RegisterTokenCommand(app, &runner);
  RegisterAppCommand(app, &runner);
  RegisterJoinCommand(app, &runner);
  RegisterDemoCommand(app, &runner);
  RegisterDevicesCommand(app, &runner);
  RegisterDoctorCommand(app, &runner);
  app.add_subcommand("serve", "Run the Parley server (same options as parleyd; see `parley serve --help`)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return ReportParseError(app, e);
  }
  // The one place this entry point catches: a bug must still end with a clear message.
  try {
    return runner ? runner() : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "parley: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}
