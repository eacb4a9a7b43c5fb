#include "iam/directory_records.h"

#include "crypto/crypto.h"
#include "iam/errors.h"
#include "iam/totp.h"

namespace meridian::iam::records {
namespace {

std::string Str(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

int64_t Int(const rapidjson::Value& v, const char* name, int64_t fallback = 0) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return fallback;
  return it->value.GetInt64();
}

std::vector<std::string> StrList(const rapidjson::Value& v, const char* name) {
  std::vector<std::string> out;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& e : it->value.GetArray())
    if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  return out;
}

void WriteStrList(JsonWriter& w, const char* name, const std::vector<std::string>& list) {
  w.Key(name);
  w.StartArray();
  for (const auto& s : list) w.String(s);
  w.EndArray();
}

void Field(JsonWriter& w, const char* name, const std::string& value) {
  w.Key(name);
  w.String(value);
}

Result<rapidjson::Document> ParseRecord(std::string_view json, std::string_view what) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return errors::ServiceFailure("stored " + std::string(what) + " is corrupt");
  return doc;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

Status Constraint(std::string_view member, std::string_view value, std::string_view constraint) {
  return errors::ValidationError("1 validation error detected: Value '" + std::string(value) + "' at '" +
                                 std::string(member) + "' failed to satisfy constraint: " + std::string(constraint));
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string EntityPrefix(EntityKind kind, std::string_view account) {
  return std::string(account) + "/" + std::string(EntityKindName(kind)) + "/";
}
std::string EntityKey(EntityKind kind, std::string_view account, std::string_view name) {
  return EntityPrefix(kind, account) + Lower(name);
}
std::string PolicyKey(std::string_view account, std::string_view name) {
  return std::string(account) + "/" + Lower(name);
}
std::string MfaKey(std::string_view account, std::string_view name) { return std::string(account) + "/" + Lower(name); }

void WriteTags(JsonWriter& w, const std::vector<Tag>& tags) {
  w.StartArray();
  for (const auto& t : tags) {
    w.StartObject();
    Field(w, "Key", t.key);
    Field(w, "Value", t.value);
    w.EndObject();
  }
  w.EndArray();
}

std::vector<Tag> ReadTags(const rapidjson::Value& v) {
  std::vector<Tag> out;
  if (!v.IsArray()) return out;
  for (const auto& e : v.GetArray()) {
    if (!e.IsObject()) continue;
    out.push_back({Str(e, "Key"), Str(e, "Value")});
  }
  return out;
}

std::string EncodeEntity(const Entity& e) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Field(w, "kind", std::string(EntityKindName(e.kind)));
  Field(w, "account_id", e.account_id);
  Field(w, "name", e.name);
  Field(w, "path", e.path);
  Field(w, "id", e.id);
  Field(w, "arn", e.arn);
  w.Key("create_date");
  w.Int64(e.create_date);
  w.Key("tags");
  WriteTags(w, e.tags);
  Field(w, "boundary", e.permissions_boundary_arn);
  w.Key("inline_policies");
  w.StartObject();
  for (const auto& [name, doc] : e.inline_policies) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.String(doc);
  }
  w.EndObject();
  WriteStrList(w, "attached", e.attached_policy_arns);
  WriteStrList(w, "groups", e.group_names);
  WriteStrList(w, "access_keys", e.access_key_ids);
  WriteStrList(w, "mfa", e.mfa_serials);
  Field(w, "trust_policy", e.assume_role_policy_document);
  Field(w, "description", e.description);
  w.Key("max_session_duration");
  w.Int64(e.max_session_duration);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

Result<Entity> DecodeEntity(std::string_view json) {
  MERIDIAN_ASSIGN_OR_RETURN(auto doc, ParseRecord(json, "IAM entity"));
  Entity e;
  const std::string kind = Str(doc, "kind");
  e.kind = kind == "group" ? EntityKind::kGroup : kind == "role" ? EntityKind::kRole : EntityKind::kUser;
  e.account_id = Str(doc, "account_id");
  e.name = Str(doc, "name");
  e.path = Str(doc, "path");
  e.id = Str(doc, "id");
  e.arn = Str(doc, "arn");
  e.create_date = Int(doc, "create_date");
  if (doc.HasMember("tags")) e.tags = ReadTags(doc["tags"]);
  e.permissions_boundary_arn = Str(doc, "boundary");
  if (doc.HasMember("inline_policies") && doc["inline_policies"].IsObject())
    for (const auto& m : doc["inline_policies"].GetObject())
      if (m.value.IsString())
        e.inline_policies[std::string(m.name.GetString(), m.name.GetStringLength())] =
            std::string(m.value.GetString(), m.value.GetStringLength());
  e.attached_policy_arns = StrList(doc, "attached");
  e.group_names = StrList(doc, "groups");
  e.access_key_ids = StrList(doc, "access_keys");
  e.mfa_serials = StrList(doc, "mfa");
  e.assume_role_policy_document = Str(doc, "trust_policy");
  e.description = Str(doc, "description");
  e.max_session_duration = Int(doc, "max_session_duration", 3600);
  return e;
}

std::string EncodePolicy(const ManagedPolicy& p) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Field(w, "account_id", p.account_id);
  Field(w, "name", p.name);
  Field(w, "path", p.path);
  Field(w, "id", p.id);
  Field(w, "arn", p.arn);
  Field(w, "description", p.description);
  Field(w, "default_version", p.default_version_id);
  w.Key("versions");
  w.StartArray();
  for (const auto& v : p.versions) {
    w.StartObject();
    Field(w, "id", v.version_id);
    Field(w, "document", v.document);
    w.Key("create_date");
    w.Int64(v.create_date);
    w.EndObject();
  }
  w.EndArray();
  w.Key("next_version");
  w.Int64(p.next_version);
  w.Key("attachment_count");
  w.Int64(p.attachment_count);
  w.Key("boundary_usage_count");
  w.Int64(p.boundary_usage_count);
  w.Key("create_date");
  w.Int64(p.create_date);
  w.Key("update_date");
  w.Int64(p.update_date);
  w.Key("tags");
  WriteTags(w, p.tags);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

Result<ManagedPolicy> DecodePolicy(std::string_view json) {
  MERIDIAN_ASSIGN_OR_RETURN(auto doc, ParseRecord(json, "managed policy"));
  ManagedPolicy p;
  p.account_id = Str(doc, "account_id");
  p.name = Str(doc, "name");
  p.path = Str(doc, "path");
  p.id = Str(doc, "id");
  p.arn = Str(doc, "arn");
  p.description = Str(doc, "description");
  p.default_version_id = Str(doc, "default_version");
  if (doc.HasMember("versions") && doc["versions"].IsArray())
    for (const auto& v : doc["versions"].GetArray())
      if (v.IsObject()) p.versions.push_back({Str(v, "id"), Str(v, "document"), Int(v, "create_date")});
  p.next_version = Int(doc, "next_version", 2);
  p.attachment_count = Int(doc, "attachment_count");
  p.boundary_usage_count = Int(doc, "boundary_usage_count");
  p.create_date = Int(doc, "create_date");
  p.update_date = Int(doc, "update_date");
  if (doc.HasMember("tags")) p.tags = ReadTags(doc["tags"]);
  return p;
}

std::string EncodeMfa(const MfaDevice& d, std::string_view wrapped_seed_b64) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  Field(w, "serial", d.serial_number);
  Field(w, "account_id", d.account_id);
  Field(w, "name", d.name);
  Field(w, "path", d.path);
  Field(w, "user_name", d.user_name);
  w.Key("enable_date");
  w.Int64(d.enable_date);
  w.Key("tags");
  WriteTags(w, d.tags);
  Field(w, "wrapped_seed", std::string(wrapped_seed_b64));
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

Result<MfaDevice> DecodeMfa(std::string_view json, std::string* wrapped_seed_b64) {
  MERIDIAN_ASSIGN_OR_RETURN(auto doc, ParseRecord(json, "MFA device"));
  MfaDevice d;
  d.serial_number = Str(doc, "serial");
  d.account_id = Str(doc, "account_id");
  d.name = Str(doc, "name");
  d.path = Str(doc, "path");
  d.user_name = Str(doc, "user_name");
  d.enable_date = Int(doc, "enable_date");
  if (doc.HasMember("tags")) d.tags = ReadTags(doc["tags"]);
  if (wrapped_seed_b64) *wrapped_seed_b64 = Str(doc, "wrapped_seed");
  return d;
}

Status CheckName(std::string_view member, std::string_view value, size_t max_len) {
  if (value.empty() || value.size() > max_len)
    return Constraint(member, value,
                      "Member must have length less than or equal to " + std::to_string(max_len) +
                          " and greater than or equal to 1");
  for (char c : value)
    if (!IsNameChar(c)) return Constraint(member, value, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  return Status::Ok();
}

Status CheckPath(std::string_view member, std::string_view value) {
  bool ok = !value.empty() && value.size() <= 512 && value.front() == '/' && value.back() == '/';
  for (char c : value) ok = ok && c >= 0x21 && c <= 0x7e;
  if (!ok)
    return Constraint(member, value,
                      "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)");
  return Status::Ok();
}

Status CheckTags(const std::vector<Tag>& tags) {
  if (tags.size() > kMaxTagsPerEntity)
    return errors::LimitExceeded("The number of tags has reached the maximum limit of " +
                                 std::to_string(kMaxTagsPerEntity) + ".");
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].key.empty() || tags[i].key.size() > 128)
      return Constraint("tags." + std::to_string(i + 1) + ".member.key", tags[i].key,
                        "Member must have length less than or equal to 128 and greater than or equal to 1");
    if (tags[i].value.size() > 256)
      return Constraint("tags." + std::to_string(i + 1) + ".member.value", tags[i].value,
                        "Member must have length less than or equal to 256");
    for (size_t j = 0; j < i; ++j)
      if (Lower(tags[j].key) == Lower(tags[i].key))
        return errors::InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
  }
  return Status::Ok();
}

std::string NewId(std::string_view prefix) {
  return std::string(prefix) + Base32Encode(crypto::RandomBytes(11)).substr(0, 17);
}

std::optional<ParsedArn> ParseIamArn(std::string_view arn) {
  // arn:partition:iam::account:resource
  if (arn.substr(0, 4) != "arn:") return std::nullopt;
  std::string_view rest = arn.substr(4);
  auto next = [&rest]() -> std::optional<std::string_view> {
    size_t c = rest.find(':');
    if (c == std::string_view::npos) return std::nullopt;
    std::string_view part = rest.substr(0, c);
    rest = rest.substr(c + 1);
    return part;
  };
  auto partition = next();
  auto service = next();
  auto region = next();
  auto account = next();
  if (!partition || !service || !region || !account || *service != "iam" || !region->empty()) return std::nullopt;
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  ParsedArn out;
  out.partition = std::string(*partition);
  out.account = std::string(*account);
  out.type = std::string(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash);  // "/path/name" or "/name"
  const size_t last = tail.rfind('/');
  out.path = std::string(tail.substr(0, last + 1));
  out.name = std::string(tail.substr(last + 1));
  if (out.name.empty()) return std::nullopt;
  return out;
}

}  // namespace meridian::iam::records
