#include "common/aws_json.h"

#include <algorithm>

#include "common/encoding.h"

namespace meridian {

Result<rapidjson::Document> ParseJsonObject(std::string_view body) {
  rapidjson::Document doc;
  if (body.empty()) {
    doc.SetObject();
    return doc;
  }
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(body.data(), body.size());
  if (doc.HasParseError()) return SerializationError("The request body is not valid JSON");
  if (!doc.IsObject()) return SerializationError("The request body must be a JSON object");
  return doc;
}

Status SerializationError(std::string message) {
  return Status("SerializationException", std::move(message), 400);
}

Status ValidationError(std::string_view member, std::string_view constraint) {
  return errors::Validation("1 validation error detected: Value at '" + std::string(member) +
                            "' failed to satisfy constraint: " + std::string(constraint));
}

Status MissingMemberError(std::string_view member) {
  return errors::Validation("1 validation error detected: Value null at '" + std::string(member) +
                            "' failed to satisfy constraint: Member must not be null");
}

std::string CamelCase(std::string_view pascal) {
  std::string s(pascal);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

namespace {

Status LengthError(const char* name, size_t min_len, size_t max_len, size_t len) {
  if (len < min_len)
    return ValidationError(CamelCase(name),
                           "Member must have length greater than or equal to " + std::to_string(min_len));
  return ValidationError(CamelCase(name),
                         "Member must have length less than or equal to " + std::to_string(max_len));
}

Status TypeError(const char* name, const char* expected) {
  return SerializationError(std::string("Member ") + name + " must be " + expected);
}

}  // namespace

bool JsonRequest::Has(const char* name) const {
  auto it = obj_.FindMember(name);
  return it != obj_.MemberEnd() && !it->value.IsNull();
}

const rapidjson::Value* JsonRequest::Get(const char* name) const {
  auto it = obj_.FindMember(name);
  if (it == obj_.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Result<std::optional<std::string>> JsonRequest::OptString(const char* name, size_t min_len,
                                                          size_t max_len) const {
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<std::string>();
  if (!v->IsString()) return TypeError(name, "a string");
  size_t len = v->GetStringLength();
  if (len < min_len || len > max_len) return LengthError(name, min_len, max_len, len);
  return std::optional<std::string>(std::string(v->GetString(), len));
}

Result<std::string> JsonRequest::RequiredString(const char* name, size_t min_len, size_t max_len) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto s, OptString(name, min_len, max_len));
  if (!s) return MissingMemberError(CamelCase(name));
  return std::move(*s);
}

Result<std::optional<Bytes>> JsonRequest::OptBlob(const char* name, size_t min_len, size_t max_len) const {
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<Bytes>();
  if (!v->IsString()) return TypeError(name, "a base64-encoded string");
  auto decoded = Base64Decode(std::string_view(v->GetString(), v->GetStringLength()));
  if (!decoded) return SerializationError(std::string("Member ") + name + " is not valid base64");
  if (decoded->size() < min_len || decoded->size() > max_len)
    return LengthError(name, min_len, max_len, decoded->size());
  return std::optional<Bytes>(std::move(*decoded));
}

Result<Bytes> JsonRequest::RequiredBlob(const char* name, size_t min_len, size_t max_len) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto b, OptBlob(name, min_len, max_len));
  if (!b) return MissingMemberError(CamelCase(name));
  return std::move(*b);
}

Result<std::optional<int64_t>> JsonRequest::OptInt(const char* name, int64_t min, int64_t max) const {
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<int64_t>();
  if (!v->IsInt64()) return TypeError(name, "an integer");
  int64_t x = v->GetInt64();
  if (x < min)
    return ValidationError(CamelCase(name), "Member must have value greater than or equal to " + std::to_string(min));
  if (x > max)
    return ValidationError(CamelCase(name), "Member must have value less than or equal to " + std::to_string(max));
  return std::optional<int64_t>(x);
}

Result<std::optional<bool>> JsonRequest::OptBool(const char* name) const {
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<bool>();
  if (!v->IsBool()) return TypeError(name, "a boolean");
  return std::optional<bool>(v->GetBool());
}

Result<std::optional<std::string>> JsonRequest::OptEnum(
    const char* name, std::initializer_list<std::string_view> allowed) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto s, OptString(name));
  if (!s) return s;
  if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
    std::string set;
    for (auto a : allowed) set += (set.empty() ? "" : ", ") + std::string(a);
    return errors::Validation("1 validation error detected: Value '" + *s + "' at '" + CamelCase(name) +
                              "' failed to satisfy constraint: Member must satisfy enum value set: [" +
                              set + "]");
  }
  return s;
}

Result<std::optional<std::vector<std::pair<std::string, std::string>>>> JsonRequest::OptStringMap(
    const char* name) const {
  using Map = std::vector<std::pair<std::string, std::string>>;
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<Map>();
  if (!v->IsObject()) return TypeError(name, "a map of strings");
  Map out;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    if (!it->value.IsString()) return TypeError(name, "a map of strings");
    out.emplace_back(std::string(it->name.GetString(), it->name.GetStringLength()),
                     std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].first == out[i - 1].first)
      return SerializationError(std::string("Member ") + name + " has a duplicate key");
  return std::optional<Map>(std::move(out));
}

Result<std::optional<std::vector<std::string>>> JsonRequest::OptStringList(const char* name, size_t max_items,
                                                                           size_t max_len) const {
  using List = std::vector<std::string>;
  const rapidjson::Value* v = Get(name);
  if (!v) return std::optional<List>();
  if (!v->IsArray()) return TypeError(name, "a list of strings");
  if (v->Size() > max_items)
    return ValidationError(CamelCase(name), "Member must have length less than or equal to " + std::to_string(max_items));
  List out;
  for (const auto& e : v->GetArray()) {
    if (!e.IsString()) return TypeError(name, "a list of strings");
    if (e.GetStringLength() < 1 || e.GetStringLength() > max_len)
      return LengthError(name, 1, max_len, e.GetStringLength());
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return std::optional<List>(std::move(out));
}

}  // namespace meridian
