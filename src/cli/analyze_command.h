// `meridian analyze blast-radius`: what one credential or principal could do, region by region.
//
//   meridian analyze blast-radius --data-dir DIR (--access-key-id ID | --principal ARN) [--json]
//   meridian analyze blast-radius --endpoint URL --region R (--access-key-id ID | --principal ARN) [--json]
//
// Calls MeridianAdmin.AnalyzeBlastRadius (server/blast_radius.h; SigV4-signed, authorized as
// meridian:AnalyzeBlastRadius and audited) on every region of the deployment (cluster.json of a
// `meridian up` data dir, with its admin credential) or on the one endpoint given (credentials
// from the environment or ~/.aws/credentials). Each region decides with its own authorizer; the
// command prints REGION / RESOURCE / ACTIONS ALLOWED for every resource the principal can act on,
// then a summary (keys usable for Decrypt, secrets readable, roles assumable, account-level
// actions, each with the number of regions), or everything as JSON with --json. Exit status 0
// when every region answered, 1 otherwise (a region that does not answer is reported).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

void RegisterAnalyzeCommands(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
