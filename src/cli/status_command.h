// `meridian status`: the state of every region of a deployment, as each region sees it.
//
//   meridian status --data-dir DIR [--json]             (a deployment made by `meridian up`)
//   meridian status --endpoint URL --region R [--json]  (one region; credentials from the
//                                                         environment or ~/.aws/credentials)
//
// Calls MeridianAdmin.DescribeRegions (SigV4-signed, authorized and audited like any request) on
// each region and prints, per region and peer link: status, entries pending, replication lag,
// acknowledged sequence, delivery failures and the last error. Exit status 0 when every region
// answered, 1 otherwise (a region that does not answer is reported, not hidden).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

void RegisterStatusCommand(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
