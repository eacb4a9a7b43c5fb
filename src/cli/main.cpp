#include <sys/stat.h>

#include <CLI/CLI.hpp>

#include "cli/analyze_command.h"
#include "cli/audit_command.h"
#include "cli/ca_command.h"
#include "cli/commands.h"
#include "cli/dr_drill_command.h"
#include "cli/encrypt_command.h"
#include "cli/status_command.h"
#include "cli/storage_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Meridian: multi-region key management and secrets, speaking the AWS KMS protocol"};
  app.require_subcommand(1);
  // Everything Meridian writes (databases, key files, logs) is private to its user.
  ::umask(077);
  int exit_code = 0;
  meridian::cli::RegisterServerCommand(app, exit_code);
  meridian::cli::RegisterUpCommand(app, exit_code);
  meridian::cli::RegisterEncryptCommands(app, exit_code);
  meridian::cli::RegisterAuditCommands(app, exit_code);
  meridian::cli::RegisterCaCommands(app, exit_code);
  meridian::cli::RegisterPolicyCommands(app, exit_code);
  meridian::cli::RegisterStatusCommand(app, exit_code);
  meridian::cli::RegisterAnalyzeCommands(app, exit_code);
  meridian::cli::RegisterStorageCommands(app, exit_code);
  meridian::cli::RegisterDrDrillCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
