// Reading IAM / STS requests as the server's Query front hands them over (internal to the
// services): every scalar may arrive as a JSON string ("3600", "true") or as a real JSON number
// or bool; "X.member.N" lists are arrays; structures are objects. Validation errors use IAM's
// ValidationError code and AWS's message shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/status.h"
#include "iam/directory.h"

namespace meridian::iam {

class QueryArgs {
 public:
  explicit QueryArgs(const rapidjson::Value& request) : v_(request) {}

  bool Has(const char* name) const;
  // A scalar member as text (numbers and bools converted); nullopt when absent or null.
  std::optional<std::string> Opt(const char* name) const;
  Result<std::string> Required(const char* name) const;
  Result<std::optional<int64_t>> OptInt(const char* name, int64_t min, int64_t max) const;
  Result<std::optional<bool>> OptBool(const char* name) const;
  // A list of scalars ("X.member.N"); an absent member is an empty list.
  Result<std::vector<std::string>> StrList(const char* name) const;
  // A list of {"Key","Value"} objects.
  Result<std::vector<Tag>> Tags(const char* name = "Tags") const;
  const rapidjson::Value* Raw(const char* name) const;

 private:
  const rapidjson::Value& v_;
};

// AWS's ValidationError messages ("1 validation error detected: ...").
Status MissingParameter(const char* name);
Status BadParameter(const char* name, const std::string& value, const std::string& constraint);

// Scalar conversion of one JSON value (string, number or bool) to text.
std::optional<std::string> ScalarText(const rapidjson::Value& v);

// Writers for the output shapes shared by several operations.
void WriteTime(JsonWriter& w, const char* key, int64_t epoch_seconds);
void WriteUser(JsonWriter& w, const Entity& user);
void WriteGroup(JsonWriter& w, const Entity& group);
void WriteRole(JsonWriter& w, const Entity& role);
void WritePolicy(JsonWriter& w, const ManagedPolicy& policy);
void WriteTagList(JsonWriter& w, const char* key, const std::vector<Tag>& tags);
// Policy documents travel URL-encoded in IAM responses, as AWS sends them.
std::string EncodePolicyDocument(const std::string& document);

// MaxItems (1..1000, default 100) and Marker (an opaque position) over a list of `total` items:
// the range [begin, end) to return and the next marker ("" when the list is complete).
struct Page {
  size_t begin = 0, end = 0;
  std::string next_marker;
};
Result<Page> Paginate(const QueryArgs& args, size_t total);
void WritePageEnd(JsonWriter& w, const Page& page);  // IsTruncated and Marker

}  // namespace meridian::iam
