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
}  // namespace tables

inline constexpr std::string_view kV1Tables[] = {tables::kMeta, tables::kAccounts, tables::kAccessKeys,
                                                 tables::kKeys, tables::kKeyMaterial, tables::kAliases};

inline constexpr Migration kMigrations[] = {
    {1, kV1Tables},
};

inline constexpr int kCurrentSchemaVersion = 1;

}  // namespace meridian::storage
