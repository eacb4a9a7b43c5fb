// `meridian audit verify|tail|search`: investigation tools over one region's audit directory.
//   meridian audit verify --dir DIR [--from T --to T] [--public-key PEM] [--region R] [--json]
//       exit 0: intact; 1: tampering detected; 2: verification could not run
//   meridian audit tail --dir DIR [-n N] [--json]
//   meridian audit search --dir DIR [--principal P] [--key K] [--event E] [--error CODE|'*']
//                         [--since T] [--until T] [-n N] [--json]
// Times T: "2024-05-01T12:00:00Z", "2024-05-01", or an age such as 90s, 15m, 2h, 7d.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

// Adds the `audit` subcommand group; the callbacks set `exit_code`.
void RegisterAuditCommands(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
