// Internal to the Directory: the stored JSON form of its records, storage keys, name / path
// validation and id generation. Not a public header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/status.h"
#include "iam/directory.h"

namespace meridian::iam::records {

std::string Lower(std::string_view s);

// Storage keys: "<account>/<kind>/<lower name>" in iam_principals, "<account>/<lower name>" in
// iam_policies and iam_mfa_devices.
std::string EntityKey(EntityKind kind, std::string_view account, std::string_view name);
std::string EntityPrefix(EntityKind kind, std::string_view account);
std::string PolicyKey(std::string_view account, std::string_view name);
std::string MfaKey(std::string_view account, std::string_view name);

std::string EncodeEntity(const Entity& e);
Result<Entity> DecodeEntity(std::string_view json);
std::string EncodePolicy(const ManagedPolicy& p);
Result<ManagedPolicy> DecodePolicy(std::string_view json);
// MFA devices carry the wrapped seed (base64) next to the public fields.
std::string EncodeMfa(const MfaDevice& d, std::string_view wrapped_seed_b64);
Result<MfaDevice> DecodeMfa(std::string_view json, std::string* wrapped_seed_b64);

void WriteTags(JsonWriter& w, const std::vector<Tag>& tags);
std::vector<Tag> ReadTags(const rapidjson::Value& v);

// "1 validation error detected: Value '<v>' at '<member>' failed to satisfy constraint: ..."
Status CheckName(std::string_view member, std::string_view value, size_t max_len);
Status CheckPath(std::string_view member, std::string_view value);
Status CheckTags(const std::vector<Tag>& tags);

// AWS-style unique ids: prefix + 17 characters of [A-Z2-7].
std::string NewId(std::string_view prefix);

// Parses arn:<partition>:iam::<account>:<type>/<path><name>. The path keeps its slashes ("/" or
// "/a/b/").
struct ParsedArn {
  std::string partition, account, type, path, name;
};
std::optional<ParsedArn> ParseIamArn(std::string_view arn);

}  // namespace meridian::iam::records
