// meridian-audit: the `meridian audit ...` subcommands as a standalone binary (the same code the
// meridian binary links from src/cli/audit_command.cpp), so they can be built and tested without
// the server.
#include <CLI/CLI.hpp>

#include "cli/audit_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Meridian audit trail tools"};
  app.require_subcommand(1);
  int exit_code = 0;
  meridian::cli::RegisterAuditCommands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
