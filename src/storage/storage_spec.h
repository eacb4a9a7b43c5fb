// StorageSpec: where a region keeps its data, as written in the region config ("storage") and
// on the command line (--storage, meridian storage migrate --from/--to).
//
//   "sqlite" or ""                     SQLite at the caller's default path (the data directory)
//   "sqlite:PATH"                      SQLite at PATH
//   "postgres://..." "postgresql://..." PostgreSQL, a libpq URI (multi-host lists included)
//   "postgres:CONNINFO"                PostgreSQL, a libpq "key=value ..." conninfo
//
// A PostgreSQL location may carry a password: Redacted() is the form to log or print.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/storage.h"

namespace meridian::storage {

struct StorageSpec {
  enum class Backend { kSqlite, kPostgres };
  Backend backend = Backend::kSqlite;
  std::string location;  // the SQLite file path, or the libpq conninfo

  // Parses `spec`; "sqlite" and "" resolve to `default_sqlite_path`. A ValidationException
  // names what is accepted when `spec` is none of the forms above.
  static Result<StorageSpec> Parse(std::string_view spec, const std::string& default_sqlite_path);

  // The spec with any password replaced by "***", for logs and messages.
  std::string Redacted() const;
};

// Opens (and migrates) the storage `spec` names.
Result<std::unique_ptr<Storage>> OpenStorage(const StorageSpec& spec);

}  // namespace meridian::storage
