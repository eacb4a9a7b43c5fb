// RegionServer: one region of Meridian in one process.
//
// Owns, in dependency order: storage (SQLite in the region's data directory), the root key
// (unsealed from its passphrase-sealed file), the credential store, the KMS service, the request
// pipeline, the HTTP listeners, and a maintenance thread (due key deletions and rotations).
// Open() prepares everything and bootstraps a new region (account, root key, admin credential
// from MERIDIAN_ADMIN_ACCESS_KEY_ID / MERIDIAN_ADMIN_SECRET_ACCESS_KEY); Start() begins serving.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/config.h"

namespace meridian::server {

class RegionServer {
 public:
  static Result<std::unique_ptr<RegionServer>> Open(RegionConfig config);
  ~RegionServer();

  Status Start();
  // Stops accepting, finishes in-flight requests, stops maintenance. Idempotent.
  void Stop();

  const std::string& region() const;
  // The first listener's URL, e.g. "http://127.0.0.1:4566" (with the bound port).
  std::string EndpointUrl() const;

 private:
  class Impl;
  explicit RegionServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::server
