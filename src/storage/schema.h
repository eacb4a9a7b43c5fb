// The tables of Meridian's storage, one definition for every backend. Each table maps a text
// key to a byte value. Adding a table (or changing data layout) adds a migration step: the
// list below is append-only, and the schema version is the number of steps applied.
#pragma once

#include <span>
#include <string_view>

namespace meridian::storage {

struct Migration {
  int version;                                 // the version reached after this step
  std::span<const std::string_view> creates;   // tables this step creates
};

namespace tables {
inline constexpr std::string_view kMeta = "meta";               // deployment-level settings
inline constexpr std::string_view kAccounts = "accounts";       // account id -> account record
inline constexpr std::string_view kAccessKeys = "access_keys";  // access key id -> credential (secret wrapped)
inline constexpr std::string_view kKeys = "kms_keys";           // key id -> key metadata
inline constexpr std::string_view kKeyMaterial = "kms_key_material";  // key id/version -> wrapped material
inline constexpr std::string_view kAliases = "kms_aliases";     // alias name -> target key id
inline constexpr std::string_view kSecrets = "secrets";         // "<account>/<name>" -> secret record (JSON)
inline constexpr std::string_view kSecretVersions = "secret_versions";  // "<account>/<name>|<version id>" -> sealed value
inline constexpr std::string_view kReplicationOutbox = "replication_outbox";  // "<peer>/<seq, 20 digits>" -> message
inline constexpr std::string_view kReplicationState = "replication_state";    // "out/<peer>" next seq, "in/<source>" last applied
inline constexpr std::string_view kIamPrincipals = "iam_principals";  // users, groups, roles (see iam/directory)
inline constexpr std::string_view kIamPolicies = "iam_policies";      // managed policies and their versions
inline constexpr std::string_view kIamMfaDevices = "iam_mfa_devices"; // virtual MFA devices (seed wrapped)
inline constexpr std::string_view kStsSessions = "sts_sessions";      // temporary credentials (secret wrapped)
inline constexpr std::string_view kKmsGrants = "kms_grants";          // "<key id>/<grant id>" -> grant record
}  // namespace tables

inline constexpr std::string_view kV1Tables[] = {tables::kMeta, tables::kAccounts, tables::kAccessKeys,
                                                 tables::kKeys, tables::kKeyMaterial, tables::kAliases};

// Version 2: Secrets Manager.
inline constexpr std::string_view kV2Tables[] = {tables::kSecrets, tables::kSecretVersions};

// Version 3: replication between regions (durable outbox per peer, applied high-water marks).
inline constexpr std::string_view kV3Tables[] = {tables::kReplicationOutbox, tables::kReplicationState};

// Version 4: IAM principals, policies, MFA devices and STS sessions.
inline constexpr std::string_view kV4Tables[] = {tables::kIamPrincipals, tables::kIamPolicies, tables::kIamMfaDevices,
                                                 tables::kStsSessions};

// Version 5: KMS grants.
inline constexpr std::string_view kV5Tables[] = {tables::kKmsGrants};

inline constexpr Migration kMigrations[] = {
    {1, kV1Tables},
    {2, kV2Tables},
    {3, kV3Tables},
    {4, kV4Tables},
    {5, kV5Tables},
};

inline constexpr int kCurrentSchemaVersion = 5;

}  // namespace meridian::storage
