// cluster.json: how clients reach a local deployment made by `meridian up`.
//
//   {"account_id": "...", "regions": {"us-east-1": {"endpoint": "http://127.0.0.1:4566",
//                                                   "frontends": ["http://127.0.0.1:4570", ...]}},
//    "admin": {"access_key_id": "...", "secret_access_key": "..."}}
//
// It holds the bootstrap administrator's secret, so it is written with mode 0600, atomically
// (temporary file, fsync, rename).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace meridian::cli {

struct ClusterFile {
  std::string account_id;
  std::map<std::string, std::string> region_endpoints;  // region -> endpoint URL
  // region -> each frontend's own endpoint, when the region runs several frontends behind its
  // endpoint (`meridian up --frontends`); absent otherwise.
  std::map<std::string, std::vector<std::string>> frontend_endpoints;
  std::string admin_access_key_id;
  std::string admin_secret_access_key;

  static Result<ClusterFile> Load(const std::string& path);
  Status Save(const std::string& path) const;
};

// Writes `content` to `path` atomically with the given mode.
Status WriteFileAtomically(const std::string& path, const std::string& content, int mode);

}  // namespace meridian::cli
