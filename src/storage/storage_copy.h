// Copying a region's tables from one Storage to another (any backends): what
// `meridian storage migrate --from sqlite:PATH --to postgres://...` (and back) does.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "storage/storage.h"

namespace meridian::storage {

// Rows copied, per table.
using TableCounts = std::map<std::string, size_t>;

// Copies every row of every table schema.h declares from a snapshot of `from` into `to`, in one
// write transaction of `to` (all or nothing), then reads `to` back and checks that every table
// holds exactly the rows of the snapshot. Both must be at kCurrentSchemaVersion. `to` must hold
// no rows yet (a FailedPreconditionException names the first non-empty table): a copy never
// overwrites or merges.
Result<TableCounts> CopyStorage(Storage& from, Storage& to);

}  // namespace meridian::storage
