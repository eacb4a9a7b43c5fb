// Internal to src/iam: where IAM's stored rows keep secrets, and the AAD each is wrapped with.
// Not a public header.
//
// Three kinds of rows hold a secret, always wrapped under the region's root key (base64 of
// crypto::RootKey::Wrap output), bound to what it protects by its AAD:
//   access_keys     "wrapped_secret"  AAD "iam-access-key-secret:<access key id>"
//   sts_sessions    "wrapped_secret"  AAD "sts-session-secret:<access key id>"
//                   "wrapped_token"   AAD "sts-session-token:<access key id>"
//   iam_mfa_devices "wrapped_seed"    AAD "iam-mfa-seed:<serial number>"
// The writers (CredentialStore, Directory) and the replication of IAM changes (global_iam.cpp)
// take the members and contexts from here, so the three can never disagree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace meridian::iam::sealed {

std::string AccessKeySecretContext(std::string_view access_key_id);
std::string SessionSecretContext(std::string_view access_key_id);
std::string SessionTokenContext(std::string_view access_key_id);
std::string MfaSeedContext(std::string_view serial_number);

struct SealedField {
  std::string member;   // the row's JSON member holding base64(wrapped secret)
  std::string context;  // the AAD it is wrapped with
};

// The sealed members of the row stored at (`table`, `key`) whose JSON object is `row` (empty for
// tables without secrets).
std::vector<SealedField> FieldsOf(std::string_view table, std::string_view key, const rapidjson::Value& row);

}  // namespace meridian::iam::sealed
