#include "storage/backend_common.h"

#include <iterator>
#include <utility>

namespace meridian::storage::internal {
namespace {

bool IsTableName(std::string_view name) {
  if (name.empty() || name == kVersionTable || name.starts_with("sqlite_") || name.starts_with("pg_")) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

static_assert(kMigrations[std::size(kMigrations) - 1].version == kCurrentSchemaVersion,
              "kCurrentSchemaVersion must be the version of the last migration");

}  // namespace

Status StorageError(std::string message) { return Status("StorageException", std::move(message), 500); }

Result<TableSet> DeclaredTables(std::span<const Migration> migrations) {
  TableSet tables;
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i + 1)) {
      return StorageError("storage: migration steps must be numbered 1, 2, 3, ...; step " + std::to_string(i + 1) +
                          " says " + std::to_string(migrations[i].version));
    }
    for (std::string_view table : migrations[i].creates) {
      if (!IsTableName(table)) return StorageError("storage: invalid table name '" + std::string(table) + "'");
      if (!tables.emplace(table).second) {
        return StorageError("storage: table '" + std::string(table) + "' is declared twice");
      }
    }
  }
  return tables;
}

int LatestVersion(std::span<const Migration> migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

Status UnusableVersionError(const std::string& where, long long found, int latest) {
  if (found < 0) return StorageError("storage: " + where + " has an invalid schema version " + std::to_string(found));
  return StorageError("storage: " + where + " is at schema version " + std::to_string(found) +
                      ", newer than this build of Meridian supports (" + std::to_string(latest) +
                      "); run a newer Meridian or restore a backup");
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string Quoted(std::string_view table) { return "\"" + std::string(table) + "\""; }

}  // namespace meridian::storage::internal
