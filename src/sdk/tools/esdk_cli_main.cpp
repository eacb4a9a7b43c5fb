// meridian-esdk: the `meridian encrypt` / `meridian decrypt` subcommands as a standalone binary,
// used by the interop tests so they do not depend on the server being built.
#include <CLI/CLI.hpp>

#include "cli/encrypt_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Meridian client-side encryption (AWS Encryption SDK message format)"};
  app.require_subcommand(1);
  int exit_code = 0;
  meridian::cli::RegisterEncryptCommands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
