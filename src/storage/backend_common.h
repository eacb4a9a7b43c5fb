// Machinery every storage backend shares (internal to src/storage/; not a public header).
//
// A backend checks the migration list with DeclaredTables before touching its database, and
// names a table in SQL text only through Quoted() of a name DeclaredTables accepted, so no
// caller-supplied string ever reaches SQL unescaped.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/schema.h"

namespace meridian::storage::internal {

// The table that records the schema version (one row, id 0); never a declared table.
inline constexpr std::string_view kVersionTable = "schema_version";

// How long BeginWrite waits for the running writer before it gives up with an error.
inline constexpr int kWriteWaitMs = 5000;

// A "StorageException" (HTTP 500) with `message`.
Status StorageError(std::string message);

// The set of declared table names, looked up by string_view.
using TableSet = std::set<std::string, std::less<>>;

// The tables `migrations` declare, after checking the list is well formed: steps numbered
// 1, 2, 3, ... in order, names of the form [a-z][a-z0-9_]* (not schema_version, not starting
// with "sqlite_" or "pg_"), no table declared twice.
Result<TableSet> DeclaredTables(std::span<const Migration> migrations);

// The version the last step of `migrations` reaches (0 for an empty list).
int LatestVersion(std::span<const Migration> migrations);

// The error for a database whose recorded schema version `found` this build cannot use (newer
// than `latest`, or negative); `where` names the database (never a password).
Status UnusableVersionError(const std::string& where, long long found, int latest);

// The smallest string greater than every string starting with `prefix`, or nullopt when there
// is none (the prefix is empty or all 0xff bytes). Scan(prefix) reads keys in [prefix, this).
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// `table` as a double-quoted SQL identifier. Only for names DeclaredTables accepted.
std::string Quoted(std::string_view table);

}  // namespace meridian::storage::internal
