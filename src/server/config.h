// RegionConfig: everything one region process needs, read from one JSON config file.
//
//   {
//     "region": "us-east-1",
//     "account_id": "123456789012",
//     "data_dir": "/var/lib/meridian/us-east-1",        // relative paths below resolve here
//     "storage": "sqlite",                              // or "postgres://..." (storage/storage_spec.h)
//     "root_key": {"file": "root.key",                    // sealed root key file
//                  "passphrase_file": "/etc/meridian/passphrase",   // or:
//                  "passphrase_env": "MERIDIAN_ROOT_PASSPHRASE",
//                  "create_if_missing": false},
//     "listeners": [{"address": "127.0.0.1", "port": 4566, "endpoint_id": "vpce-0abc", "tls": false}],
//     "tls": {"ca_file": "ca.pem", "cert_file": "us-east-1.pem", "key_file": "us-east-1.key"},
//     "peer_listener": {"address": "127.0.0.1", "port": 5566},
//     "peers": [{"region": "us-west-2", "endpoint": "https://127.0.0.1:5567"}],
//     "audit": {"directory": "audit", "failure_policy": "fail-closed"},
//     "threads": 2,
//     "maintenance_interval_seconds": 60
//   }
//
// Plaintext HTTP listeners are accepted only on loopback addresses; "tls": true listeners serve
// TLS 1.3 with the region certificate. Peers (the deployment's other regions) are reached, and
// reach this region's peer listener, only over mutual TLS with certificates from the
// deployment CA ("tls" is then required). Bootstrap administrator
// credentials are never in the file: they come from the environment variables
// MERIDIAN_ADMIN_ACCESS_KEY_ID and MERIDIAN_ADMIN_SECRET_ACCESS_KEY.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/quota.h"

namespace meridian::server {

struct ListenerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 4566;
  std::string endpoint_id;
  bool tls = false;
  // "reuse_port": true binds with SO_REUSEPORT, so several frontends of one region (sharing its
  // PostgreSQL storage) listen on the same port and the kernel spreads connections among them.
  bool reuse_port = false;
};

struct PeerConfig {
  std::string region;
  std::string endpoint;  // "https://host:port" of the peer's peer listener
};

// The region's identity for TLS: its certificate and key, and the deployment CA.
struct TlsFiles {
  std::string ca_file, cert_file, key_file;
  bool configured() const { return !cert_file.empty(); }
};

struct RegionConfig {
  std::string region;
  std::string account_id;
  std::string data_dir;
  // Where the region's tables live (storage/storage_spec.h): "sqlite" (data_dir/meridian.db, the
  // default), "sqlite:PATH", or PostgreSQL ("postgres://..." or "postgres:key=value ...") shared
  // by the region's frontends. A PostgreSQL conninfo may hold a password: never log it as is.
  std::string storage = "sqlite";
  std::string root_key_file = "root.key";
  std::string passphrase_file;
  std::string passphrase_env = "MERIDIAN_ROOT_PASSPHRASE";
  bool create_root_key_if_missing = false;
  std::vector<ListenerConfig> listeners;
  TlsFiles tls;
  std::optional<ListenerConfig> peer_listener;
  std::vector<PeerConfig> peers;
  // The audit trail (on by default): hash-chained JSON lines under audit_directory, fail-closed
  // unless audit_best_effort ("audit": {"directory": ..., "failure_policy": "fail-closed" |
  // "best-effort", "digest_interval_seconds": 300, "enabled": true}).
  bool audit_enabled = true;
  std::string audit_directory = "audit";
  bool audit_best_effort = false;
  // "written" (default): a record is acknowledged once written, which survives kill -9, and the
  // file is fsynced every 10 ms; "synced": once fsynced (survives power loss; each request then
  // waits for a group fsync).
  bool audit_synced = false;
  int audit_digest_interval_seconds = 300;
  int threads = 0;  // 0: one per core
  int maintenance_interval_seconds = 60;
  // Request quotas (server/quota.h), off unless enabled:
  //   "quotas": {"enabled": true,
  //              "symmetric_crypto": {"requests_per_second": 10000, "burst": 10000}, ...}
  // Classes not named keep AWS's defaults; "requests_per_second": 0 leaves a class unlimited;
  // burst defaults to the rate.
  QuotaConfig quotas;
  // Global IAM (iam/global_iam.h): "iam": {"home_region": "us-east-1", "home_endpoint": "http://..."}.
  // IAM changes are made only in the home region (default: the first of AllRegions(), the same
  // in every region of a deployment; `meridian up` names the first region of --regions); the
  // endpoint is what other regions' errors point clients to.
  std::string iam_home_region;
  std::string iam_home_endpoint;
  // The home region in effect (iam_home_region, or the default above).
  std::string IamHomeRegion() const;
  // Rotation hooks (secrets/hook_rotator.h): the "rotation_functions" array, validated, as JSON
  // text ("" when absent). Maps RotationLambdaARN function names to a command or an HTTP endpoint.
  std::string rotation_functions_json;

  static Result<RegionConfig> Parse(std::string_view json);
  static Result<RegionConfig> Load(const std::string& path);
  std::string ToJson() const;

  // Absolute path of a file named relative to data_dir.
  std::string DataPath(const std::string& name) const;
  // This region and its peers, sorted.
  std::vector<std::string> AllRegions() const;
};

bool IsValidRegionName(std::string_view region);
bool IsLoopbackAddress(std::string_view address);

}  // namespace meridian::server
