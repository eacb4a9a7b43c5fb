// `meridian encrypt` / `meridian decrypt`: the SDK's message format on files and pipes, with
// options shaped like aws-encryption-cli's:
//   meridian encrypt -i IN -o OUT --wrapping-keys provider=raw-aes namespace=NS name=NAME key=@FILE
//                    [--wrapping-keys provider=raw-rsa namespace=NS name=NAME key=@PEM padding=oaep-sha256]
//                    [--encryption-context k=v ...] [--algorithm ID] [--frame-length N]
//                    [--commitment-policy require-encrypt-require-decrypt] [--max-encrypted-data-keys N]
//   meridian encrypt ... --wrapping-keys provider=aws-kms key=ARN [region=R] [endpoint=URL] [profile=P]
//   meridian decrypt -i IN -o OUT --wrapping-keys ... [--encryption-context k=v ...] [...]
//   meridian decrypt ... --wrapping-keys provider=aws-kms discovery=true region=R [discovery-account=ID ...]
// `-` means stdin/stdout. Several --wrapping-keys form a multi-keyring (the first generates).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

// Adds the encrypt and decrypt subcommands; their callbacks set `exit_code` (0 ok, 1 failure).
void RegisterEncryptCommands(CLI::App& app, int& exit_code);
// Variant for callers without an exit-code slot: a failure exits the process with status 1.
void RegisterEncryptCommands(CLI::App& app);

}  // namespace meridian::cli
