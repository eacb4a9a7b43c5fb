// The meridian CLI: one binary, one subcommand per tool. Each Register* adds its subcommand(s)
// to the app; the subcommand's callback runs the tool and sets the process exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

// `meridian server --config FILE`: runs one region in the foreground.
void RegisterServerCommand(CLI::App& app, int& exit_code);
// `meridian up --data-dir DIR ...`: a local deployment, one region process per region.
void RegisterUpCommand(CLI::App& app, int& exit_code);
// `meridian policy lint FILE`: dangerous patterns in a policy, by severity and rule.
void RegisterPolicyCommands(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
