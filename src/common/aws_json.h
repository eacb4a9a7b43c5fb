// Reading AWS JSON 1.1 request members with the validation errors AWS services return.
//
// Wire rules (AWS JSON 1.1): blobs are base64 strings, timestamps are epoch seconds, members are
// PascalCase. A member of the wrong JSON type is a SerializationException; a value outside its
// constraints is a ValidationException whose message names the member in camelCase, e.g.
// "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must
// have length less than or equal to 4096".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/bytes.h"
#include "common/status.h"

namespace meridian {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses a request body; an empty body is treated as "{}". Errors are SerializationException.
Result<rapidjson::Document> ParseJsonObject(std::string_view body);

Status SerializationError(std::string message);
// "1 validation error detected: Value at '<member>' failed to satisfy constraint: <constraint>"
Status ValidationError(std::string_view member, std::string_view constraint);
// "1 validation error detected: Value null at '<member>' failed to satisfy constraint: Member must not be null"
Status MissingMemberError(std::string_view member);

// Typed access to the members of one JSON object. `name` is the PascalCase member name.
class JsonRequest {
 public:
  explicit JsonRequest(const rapidjson::Value& object) : obj_(object) {}

  bool Has(const char* name) const;

  Result<std::optional<std::string>> OptString(const char* name, size_t min_len = 0,
                                               size_t max_len = SIZE_MAX) const;
  Result<std::string> RequiredString(const char* name, size_t min_len = 1,
                                     size_t max_len = SIZE_MAX) const;
  // Base64 blob; length limits apply to the decoded bytes.
  Result<std::optional<Bytes>> OptBlob(const char* name, size_t min_len = 0,
                                       size_t max_len = SIZE_MAX) const;
  Result<Bytes> RequiredBlob(const char* name, size_t min_len = 1, size_t max_len = SIZE_MAX) const;
  Result<std::optional<int64_t>> OptInt(const char* name, int64_t min, int64_t max) const;
  Result<std::optional<bool>> OptBool(const char* name) const;
  // A string that must be one of `allowed`.
  Result<std::optional<std::string>> OptEnum(const char* name,
                                             std::initializer_list<std::string_view> allowed) const;
  // A JSON object of string -> string (e.g. EncryptionContext), sorted by key.
  Result<std::optional<std::vector<std::pair<std::string, std::string>>>> OptStringMap(
      const char* name) const;
  // A JSON array of strings.
  Result<std::optional<std::vector<std::string>>> OptStringList(const char* name, size_t max_items,
                                                                size_t max_len) const;
  // Raw access for structured members (e.g. Tags).
  const rapidjson::Value* Get(const char* name) const;

 private:
  const rapidjson::Value& obj_;
};

// camelCase form of a PascalCase member name, as AWS validation messages use it.
std::string CamelCase(std::string_view pascal);

}  // namespace meridian
