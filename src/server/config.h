// RegionConfig: everything one region process needs, read from one JSON config file.
//
//   {
//     "region": "us-east-1",
//     "account_id": "123456789012",
//     "data_dir": "/var/lib/meridian/us-east-1",        // relative paths below resolve here
//     "root_key": {"file": "root.key",                    // sealed root key file
//                  "passphrase_file": "/etc/meridian/passphrase",   // or:
//                  "passphrase_env": "MERIDIAN_ROOT_PASSPHRASE",
//                  "create_if_missing": false},
//     "listeners": [{"address": "127.0.0.1", "port": 4566, "endpoint_id": "vpce-0abc"}],
//     "threads": 2,
//     "maintenance_interval_seconds": 60
//   }
//
// Plaintext HTTP listeners are accepted only on loopback addresses. Bootstrap administrator
// credentials are never in the file: they come from the environment variables
// MERIDIAN_ADMIN_ACCESS_KEY_ID and MERIDIAN_ADMIN_SECRET_ACCESS_KEY.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace meridian::server {

struct ListenerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 4566;
  std::string endpoint_id;
};

struct RegionConfig {
  std::string region;
  std::string account_id;
  std::string data_dir;
  std::string root_key_file = "root.key";
  std::string passphrase_file;
  std::string passphrase_env = "MERIDIAN_ROOT_PASSPHRASE";
  bool create_root_key_if_missing = false;
  std::vector<ListenerConfig> listeners;
  int threads = 0;  // 0: one per core
  int maintenance_interval_seconds = 60;

  static Result<RegionConfig> Parse(std::string_view json);
  static Result<RegionConfig> Load(const std::string& path);
  std::string ToJson() const;

  // Absolute path of a file named relative to data_dir.
  std::string DataPath(const std::string& name) const;
};

bool IsValidRegionName(std::string_view region);
bool IsLoopbackAddress(std::string_view address);

}  // namespace meridian::server
