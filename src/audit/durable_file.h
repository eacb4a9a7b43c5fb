// Small durable-file helpers for the audit directory (POSIX).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace meridian::audit {

// Writes `contents` to `path` so that, after return, either the old file or the complete new one
// survives a crash: temporary file, fsync, rename, fsync of the directory. `mode` as for open(2).
Status WriteFileDurably(const std::string& path, std::string_view contents, unsigned mode);

// fsync(2) on a directory, making entries created or renamed in it durable.
Status SyncDirectory(const std::string& directory);

}  // namespace meridian::audit
