// `meridian storage migrate --from SPEC --to SPEC`: copies every table of a region's store into
// another store (SQLite -> PostgreSQL, or back), all or nothing, and checks the copy row by row
// (storage/storage_copy.h). SPEC is a storage spec (storage/storage_spec.h): sqlite:PATH,
// postgres://... or postgres:conninfo. The destination must be empty; the region should be
// stopped (the copy reads one snapshot: later writes to the source are not copied).
// Exit status 0 on success (a line per table with its row count), 1 on failure.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

void RegisterStorageCommands(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
