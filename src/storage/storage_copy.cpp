#include "storage/storage_copy.h"

#include <vector>

namespace meridian::storage {
namespace {

constexpr size_t kPageRows = 512;

Status CopyError(std::string message) { return Status("StorageException", "storage copy: " + std::move(message), 500); }

// Calls `visit` with each page of `table`'s rows in key order.
template <typename Visit>
Status ForEachPage(Transaction& txn, std::string_view table, Visit visit) {
  std::string after;
  for (;;) {
    MERIDIAN_ASSIGN_OR_RETURN(std::vector<Row> rows, txn.Scan(table, "", after, kPageRows));
    if (rows.empty()) return Status::Ok();
    after = rows.back().key;
    MERIDIAN_RETURN_IF_ERROR(visit(rows));
    if (rows.size() < kPageRows) return Status::Ok();
  }
}

}  // namespace

Result<TableCounts> CopyStorage(Storage& from, Storage& to) {
  if (from.SchemaVersion() != kCurrentSchemaVersion || to.SchemaVersion() != kCurrentSchemaVersion) {
    return CopyError("both stores must be at schema version " + std::to_string(kCurrentSchemaVersion) +
                     " (source " + std::to_string(from.SchemaVersion()) + ", destination " +
                     std::to_string(to.SchemaVersion()) + ")");
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto source, from.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto dest, to.BeginWrite());
  TableCounts counts;
  for (const Migration& step : kMigrations) {
    for (std::string_view table : step.creates) {
      MERIDIAN_ASSIGN_OR_RETURN(std::vector<Row> existing, dest->Scan(table, "", "", 1));
      if (!existing.empty()) {
        return Status("FailedPreconditionException",
                      "storage copy: the destination already holds rows in " + std::string(table) +
                          "; copy only into an empty store",
                      400);
      }
      size_t& count = counts[std::string(table)];
      MERIDIAN_RETURN_IF_ERROR(ForEachPage(*source, table, [&](const std::vector<Row>& rows) -> Status {
        for (const Row& row : rows) MERIDIAN_RETURN_IF_ERROR(dest->Insert(table, row.key, row.value));
        count += rows.size();
        return Status::Ok();
      }));
    }
  }
  MERIDIAN_RETURN_IF_ERROR(dest->Commit());

  // Read the destination back, page by page in step with the same source snapshot.
  MERIDIAN_ASSIGN_OR_RETURN(auto check, to.BeginRead());
  for (const auto& [table, count] : counts) {
    std::string after;
    size_t compared = 0;
    for (;;) {
      MERIDIAN_ASSIGN_OR_RETURN(std::vector<Row> expected, source->Scan(table, "", after, kPageRows));
      MERIDIAN_ASSIGN_OR_RETURN(std::vector<Row> copied, check->Scan(table, "", after, kPageRows));
      if (expected.size() != copied.size()) {
        return CopyError("the copy of " + table + " has a different row count than the source");
      }
      for (size_t i = 0; i < expected.size(); ++i) {
        if (expected[i].key != copied[i].key || expected[i].value != copied[i].value) {
          return CopyError("the copy of " + table + " differs from the source at row " + std::to_string(compared + i));
        }
      }
      compared += expected.size();
      if (expected.size() < kPageRows) break;
      after = expected.back().key;
    }
    if (compared != count) return CopyError("the copy of " + table + " changed while it was checked");
  }
  return counts;
}

}  // namespace meridian::storage
