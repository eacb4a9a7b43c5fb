#include "iam/query_args.h"

#include <charconv>

#include "common/clock.h"
#include "common/encoding.h"
#include "iam/directory_records.h"
#include "iam/errors.h"

namespace meridian::iam {

Status MissingParameter(const char* name) {
  return errors::ValidationError("1 validation error detected: Value null at '" + CamelCase(name) +
                                 "' failed to satisfy constraint: Member must not be null");
}

Status BadParameter(const char* name, const std::string& value, const std::string& constraint) {
  return errors::ValidationError("1 validation error detected: Value '" + value + "' at '" + CamelCase(name) +
                                 "' failed to satisfy constraint: " + constraint);
}

std::optional<std::string> ScalarText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return std::string(v.GetBool() ? "true" : "false");
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) return std::to_string(v.GetDouble());
  return std::nullopt;
}

const rapidjson::Value* QueryArgs::Raw(const char* name) const {
  if (!v_.IsObject()) return nullptr;
  auto it = v_.FindMember(name);
  if (it == v_.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

bool QueryArgs::Has(const char* name) const { return Raw(name) != nullptr; }

std::optional<std::string> QueryArgs::Opt(const char* name) const {
  const rapidjson::Value* v = Raw(name);
  if (!v) return std::nullopt;
  return ScalarText(*v);
}

Result<std::string> QueryArgs::Required(const char* name) const {
  auto v = Opt(name);
  if (!v) return MissingParameter(name);
  return *v;
}

Result<std::optional<int64_t>> QueryArgs::OptInt(const char* name, int64_t min, int64_t max) const {
  auto text = Opt(name);
  if (!text) return std::optional<int64_t>();
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size())
    return BadParameter(name, *text, "Member must be an integer");
  if (value < min)
    return BadParameter(name, *text, "Member must have value greater than or equal to " + std::to_string(min));
  if (value > max)
    return BadParameter(name, *text, "Member must have value less than or equal to " + std::to_string(max));
  return std::optional<int64_t>(value);
}

Result<std::optional<bool>> QueryArgs::OptBool(const char* name) const {
  auto text = Opt(name);
  if (!text) return std::optional<bool>();
  const std::string lower = records::Lower(*text);
  if (lower == "true") return std::optional<bool>(true);
  if (lower == "false") return std::optional<bool>(false);
  return BadParameter(name, *text, "Member must be a boolean (true or false)");
}

Result<std::vector<std::string>> QueryArgs::StrList(const char* name) const {
  std::vector<std::string> out;
  const rapidjson::Value* v = Raw(name);
  if (!v) return out;
  if (v->IsString() && v->GetStringLength() == 0) return out;  // the Query protocol's empty list
  if (!v->IsArray()) {
    auto one = ScalarText(*v);
    if (!one) return BadParameter(name, "", "Member must be a list");
    out.push_back(*one);
    return out;
  }
  for (const auto& e : v->GetArray()) {
    auto text = ScalarText(e);
    if (!text) return BadParameter(name, "", "Member must be a list of strings");
    out.push_back(std::move(*text));
  }
  return out;
}

Result<std::vector<Tag>> QueryArgs::Tags(const char* name) const {
  std::vector<Tag> out;
  const rapidjson::Value* v = Raw(name);
  if (!v) return out;
  if (v->IsString() && v->GetStringLength() == 0) return out;  // the Query protocol's empty list
  if (!v->IsArray()) return BadParameter(name, "", "Member must be a list of tags");
  for (const auto& e : v->GetArray()) {
    if (!e.IsObject()) return BadParameter(name, "", "Member must be a list of tags");
    QueryArgs tag(e);
    MERIDIAN_ASSIGN_OR_RETURN(std::string key, tag.Required("Key"));
    MERIDIAN_ASSIGN_OR_RETURN(std::string value, tag.Required("Value"));
    out.push_back({std::move(key), std::move(value)});
  }
  return out;
}

void WriteTime(JsonWriter& w, const char* key, int64_t epoch_seconds) {
  w.Key(key);
  w.String(FormatIso8601(epoch_seconds));
}

void WriteTagList(JsonWriter& w, const char* key, const std::vector<Tag>& tags) {
  w.Key(key);
  records::WriteTags(w, tags);
}

namespace {

void Member(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value);
}

void WriteBoundary(JsonWriter& w, const std::string& arn) {
  if (arn.empty()) return;
  w.Key("PermissionsBoundary");
  w.StartObject();
  Member(w, "PermissionsBoundaryType", "PermissionsBoundaryPolicy");
  Member(w, "PermissionsBoundaryArn", arn);
  w.EndObject();
}

}  // namespace

void WriteUser(JsonWriter& w, const Entity& user) {
  w.StartObject();
  Member(w, "Path", user.path);
  Member(w, "UserName", user.name);
  Member(w, "UserId", user.id);
  Member(w, "Arn", user.arn);
  WriteTime(w, "CreateDate", user.create_date);
  WriteBoundary(w, user.permissions_boundary_arn);
  if (!user.tags.empty()) WriteTagList(w, "Tags", user.tags);
  w.EndObject();
}

void WriteGroup(JsonWriter& w, const Entity& group) {
  w.StartObject();
  Member(w, "Path", group.path);
  Member(w, "GroupName", group.name);
  Member(w, "GroupId", group.id);
  Member(w, "Arn", group.arn);
  WriteTime(w, "CreateDate", group.create_date);
  w.EndObject();
}

void WriteRole(JsonWriter& w, const Entity& role) {
  w.StartObject();
  Member(w, "Path", role.path);
  Member(w, "RoleName", role.name);
  Member(w, "RoleId", role.id);
  Member(w, "Arn", role.arn);
  WriteTime(w, "CreateDate", role.create_date);
  Member(w, "AssumeRolePolicyDocument", EncodePolicyDocument(role.assume_role_policy_document));
  if (!role.description.empty()) Member(w, "Description", role.description);
  w.Key("MaxSessionDuration");
  w.Int64(role.max_session_duration);
  WriteBoundary(w, role.permissions_boundary_arn);
  if (!role.tags.empty()) WriteTagList(w, "Tags", role.tags);
  w.EndObject();
}

void WritePolicy(JsonWriter& w, const ManagedPolicy& p) {
  w.StartObject();
  Member(w, "PolicyName", p.name);
  Member(w, "PolicyId", p.id);
  Member(w, "Arn", p.arn);
  Member(w, "Path", p.path);
  Member(w, "DefaultVersionId", p.default_version_id);
  w.Key("AttachmentCount");
  w.Int64(p.attachment_count);
  w.Key("PermissionsBoundaryUsageCount");
  w.Int64(p.boundary_usage_count);
  w.Key("IsAttachable");
  w.Bool(true);
  if (!p.description.empty()) Member(w, "Description", p.description);
  WriteTime(w, "CreateDate", p.create_date);
  WriteTime(w, "UpdateDate", p.update_date);
  if (!p.tags.empty()) WriteTagList(w, "Tags", p.tags);
  w.EndObject();
}

std::string EncodePolicyDocument(const std::string& document) { return UriEncode(document, /*encode_slash=*/true); }

Result<Page> Paginate(const QueryArgs& args, size_t total) {
  MERIDIAN_ASSIGN_OR_RETURN(auto max_items, args.OptInt("MaxItems", 1, 1000));
  Page page;
  if (auto marker = args.Opt("Marker")) {
    size_t start = 0;
    auto [ptr, ec] = std::from_chars(marker->data(), marker->data() + marker->size(), start);
    if (ec != std::errc() || ptr != marker->data() + marker->size() || start > total)
      return errors::InvalidInput("Invalid Marker: use the Marker value of the previous response.");
    page.begin = start;
  }
  const size_t limit = static_cast<size_t>(max_items.value_or(100));
  page.end = std::min(total, page.begin + limit);
  if (page.end < total) page.next_marker = std::to_string(page.end);
  return page;
}

void WritePageEnd(JsonWriter& w, const Page& page) {
  w.Key("IsTruncated");
  w.Bool(!page.next_marker.empty());
  if (!page.next_marker.empty()) Member(w, "Marker", page.next_marker);
}

}  // namespace meridian::iam
