// `meridian ca init|issue`: the deployment CA and its region certificates (server/tls/certificates.h).
//   meridian ca init --dir DIR [--name NAME] [--days N]
//       writes DIR/ca-cert.pem (the bundle clients trust) and DIR/ca-key.pem (mode 0600);
//       refuses to overwrite an existing CA
//   meridian ca issue --dir DIR --region us-east-1 [--out-dir D] [--dns NAME]... [--ip ADDR]... [--days N]
//       writes D/<region>-cert.pem and D/<region>-key.pem (D defaults to DIR), replacing older ones
// Exit codes: 0 done; 1 failed (files, OpenSSL); 2 invalid arguments.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

// Adds the `ca` subcommand group; the callbacks set `exit_code`.
void RegisterCaCommands(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
