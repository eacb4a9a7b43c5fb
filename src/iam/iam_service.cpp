#include "iam/iam_service.h"

#include <functional>
#include <unordered_map>

#include "iam/directory_records.h"
#include "iam/errors.h"
#include "iam/query_args.h"
#include "iam/simulate.h"
#include "common/encoding.h"
#include "crypto/crypto.h"

namespace meridian::iam {
namespace {

struct Call {
  Directory& dir;
  const QueryArgs& args;
  const Caller& caller;
  JsonWriter& w;

  const std::string& account() const { return caller.account_id; }
};

using Handler = std::function<Status(Call&)>;

void Str(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value);
}

// The user named by UserName, or the calling user when it is absent (AWS's default for
// GetUser, the access key and MFA operations).
Result<std::string> UserNameOrCaller(Call& c) {
  if (auto name = c.args.Opt("UserName")) return *name;
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, c.dir.UserOfAccessKey(c.caller.access_key_id));
  if (user.empty())
    return MissingParameter("UserName");
  return user;
}

const char* NameParam(EntityKind kind) {
  return kind == EntityKind::kUser ? "UserName" : kind == EntityKind::kGroup ? "GroupName" : "RoleName";
}

// ---- Users, groups, roles.

Status CreateUser(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("UserName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, c.args.Tags());
  MERIDIAN_ASSIGN_OR_RETURN(auto user, c.dir.CreateUser(c.account(), name, c.args.Opt("Path").value_or("/"), tags,
                                                        c.args.Opt("PermissionsBoundary").value_or("")));
  c.w.StartObject();
  c.w.Key("User");
  WriteUser(c.w, user);
  c.w.EndObject();
  return Status::Ok();
}

// Writes {"<member>": [the page of `items` the request's Marker/MaxItems select], "IsTruncated",
// "Marker"}: the shape of every IAM List* output.
template <typename Items, typename WriteItem>
Status WritePagedArray(Call& c, const char* member, const Items& items, WriteItem write_item) {
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(c.args, items.size()));
  c.w.StartObject();
  c.w.Key(member);
  c.w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) write_item(items[i]);
  c.w.EndArray();
  WritePageEnd(c.w, page);
  c.w.EndObject();
  return Status::Ok();
}

Status GetUser(Call& c) {
  auto named = c.args.Opt("UserName");
  std::string name;
  if (named) {
    name = *named;
  } else {
    MERIDIAN_ASSIGN_OR_RETURN(name, c.dir.UserOfAccessKey(c.caller.access_key_id));
  }
  c.w.StartObject();
  c.w.Key("User");
  if (name.empty()) {
    // The account root user (GetUser without UserName, signed by root credentials).
    c.w.StartObject();
    Str(c.w, "Path", "/");
    Str(c.w, "UserName", "");
    Str(c.w, "UserId", c.account());
    Str(c.w, "Arn", "arn:" + c.dir.partition() + ":iam::" + c.account() + ":root");
    WriteTime(c.w, "CreateDate", 0);
    c.w.EndObject();
  } else {
    MERIDIAN_ASSIGN_OR_RETURN(auto user, c.dir.Get(EntityKind::kUser, c.account(), name));
    WriteUser(c.w, user);
  }
  c.w.EndObject();
  return Status::Ok();
}

Status ListEntities(Call& c, EntityKind kind, const char* member) {
  MERIDIAN_ASSIGN_OR_RETURN(auto all, c.dir.List(kind, c.account(), c.args.Opt("PathPrefix").value_or("/")));
  return WritePagedArray(c, member, all, [&](const auto& item) {
    if (kind == EntityKind::kUser) WriteUser(c.w, item);
    else if (kind == EntityKind::kGroup) WriteGroup(c.w, item);
    else WriteRole(c.w, item);
  });
}

Status DeleteEntity(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_RETURN_IF_ERROR(c.dir.Delete(kind, c.account(), name));
  c.w.StartObject();
  c.w.EndObject();
  return Status::Ok();
}

Status Empty(Call& c, const Status& st) {
  MERIDIAN_RETURN_IF_ERROR(st);
  c.w.StartObject();
  c.w.EndObject();
  return Status::Ok();
}

Status TagEntity(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  if (!c.args.Has("Tags")) return MissingParameter("Tags");
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, c.args.Tags());
  return Empty(c, c.dir.TagEntity(kind, c.account(), name, tags));
}

Status UntagEntity(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  if (!c.args.Has("TagKeys")) return MissingParameter("TagKeys");
  MERIDIAN_ASSIGN_OR_RETURN(auto keys, c.args.StrList("TagKeys"));
  return Empty(c, c.dir.UntagEntity(kind, c.account(), name, keys));
}

Status ListEntityTags(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, c.dir.Get(kind, c.account(), name));
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(c.args, e.tags.size()));
  c.w.StartObject();
  WriteTagList(c.w, "Tags", std::vector<Tag>(e.tags.begin() + page.begin, e.tags.begin() + page.end));
  WritePageEnd(c.w, page);
  c.w.EndObject();
  return Status::Ok();
}

Status CreateGroup(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("GroupName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto group, c.dir.CreateGroup(c.account(), name, c.args.Opt("Path").value_or("/")));
  c.w.StartObject();
  c.w.Key("Group");
  WriteGroup(c.w, group);
  c.w.EndObject();
  return Status::Ok();
}

Status GetGroup(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("GroupName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto group, c.dir.Get(EntityKind::kGroup, c.account(), name));
  MERIDIAN_ASSIGN_OR_RETURN(auto users, c.dir.GroupMembers(c.account(), name));
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(c.args, users.size()));
  c.w.StartObject();
  c.w.Key("Group");
  WriteGroup(c.w, group);
  c.w.Key("Users");
  c.w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) WriteUser(c.w, users[i]);
  c.w.EndArray();
  WritePageEnd(c.w, page);
  c.w.EndObject();
  return Status::Ok();
}

Status MembershipChange(Call& c, bool add) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string group, c.args.Required("GroupName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, c.args.Required("UserName"));
  return Empty(c, add ? c.dir.AddUserToGroup(c.account(), group, user)
                      : c.dir.RemoveUserFromGroup(c.account(), group, user));
}

Status ListGroupsForUser(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("UserName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto user, c.dir.Get(EntityKind::kUser, c.account(), name));
  std::vector<Entity> groups;
  for (const auto& g : user.group_names) {
    auto group = c.dir.Get(EntityKind::kGroup, c.account(), g);
    if (group.ok()) groups.push_back(std::move(*group));
  }
  return WritePagedArray(c, "Groups", groups, [&](const auto& item) { WriteGroup(c.w, item); });
}

Status CreateRole(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("RoleName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string trust, c.args.Required("AssumeRolePolicyDocument"));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, c.args.Tags());
  MERIDIAN_ASSIGN_OR_RETURN(auto max, c.args.OptInt("MaxSessionDuration", 3600, 43200));
  MERIDIAN_ASSIGN_OR_RETURN(auto role, c.dir.CreateRole(c.account(), name, c.args.Opt("Path").value_or("/"), trust,
                                                        c.args.Opt("Description").value_or(""), max.value_or(3600),
                                                        tags, c.args.Opt("PermissionsBoundary").value_or("")));
  c.w.StartObject();
  c.w.Key("Role");
  WriteRole(c.w, role);
  c.w.EndObject();
  return Status::Ok();
}

Status GetRole(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("RoleName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto role, c.dir.Get(EntityKind::kRole, c.account(), name));
  c.w.StartObject();
  c.w.Key("Role");
  WriteRole(c.w, role);
  c.w.EndObject();
  return Status::Ok();
}

Status UpdateAssumeRolePolicy(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("RoleName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string doc, c.args.Required("PolicyDocument"));
  return Empty(c, c.dir.UpdateAssumeRolePolicy(c.account(), name, doc));
}

Status UpdateRole(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("RoleName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto max, c.args.OptInt("MaxSessionDuration", 3600, 43200));
  return Empty(c, c.dir.UpdateRole(c.account(), name, c.args.Opt("Description"), max));
}

// ---- Inline policies.

Status PutInline(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(std::string policy_name, c.args.Required("PolicyName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string doc, c.args.Required("PolicyDocument"));
  return Empty(c, c.dir.PutInlinePolicy(kind, c.account(), name, policy_name, doc));
}

Status GetInline(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(std::string policy_name, c.args.Required("PolicyName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, c.dir.Get(kind, c.account(), name));
  MERIDIAN_ASSIGN_OR_RETURN(std::string doc, c.dir.GetInlinePolicy(kind, c.account(), name, policy_name));
  c.w.StartObject();
  Str(c.w, NameParam(kind), e.name);
  Str(c.w, "PolicyName", policy_name);
  Str(c.w, "PolicyDocument", EncodePolicyDocument(doc));
  c.w.EndObject();
  return Status::Ok();
}

Status DeleteInline(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(std::string policy_name, c.args.Required("PolicyName"));
  return Empty(c, c.dir.DeleteInlinePolicy(kind, c.account(), name, policy_name));
}

Status ListInline(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, c.dir.Get(kind, c.account(), name));
  std::vector<std::string> names;
  for (const auto& [n, d] : e.inline_policies) names.push_back(n);
  return WritePagedArray(c, "PolicyNames", names, [&](const auto& item) { c.w.String(item); });
}

// ---- Managed policies and attachments.

Status CreatePolicy(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("PolicyName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string doc, c.args.Required("PolicyDocument"));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, c.args.Tags());
  MERIDIAN_ASSIGN_OR_RETURN(auto p, c.dir.CreatePolicy(c.account(), name, c.args.Opt("Path").value_or("/"), doc,
                                                       c.args.Opt("Description").value_or(""), tags));
  c.w.StartObject();
  c.w.Key("Policy");
  WritePolicy(c.w, p);
  c.w.EndObject();
  return Status::Ok();
}

Status GetPolicy(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, c.dir.GetPolicy(arn, c.account()));
  c.w.StartObject();
  c.w.Key("Policy");
  WritePolicy(c.w, p);
  c.w.EndObject();
  return Status::Ok();
}

Status ListPolicies(Call& c) {
  const std::string scope = c.args.Opt("Scope").value_or("All");
  if (scope != "All" && scope != "AWS" && scope != "Local")
    return BadParameter("Scope", scope, "Member must satisfy enum value set: [All, AWS, Local]");
  MERIDIAN_ASSIGN_OR_RETURN(auto only_attached, c.args.OptBool("OnlyAttached"));
  const std::string prefix = c.args.Opt("PathPrefix").value_or("/");
  std::vector<ManagedPolicy> all;
  if (scope != "Local") {  // the shipped AWS managed policies (iam/aws_managed_policies.h)
    MERIDIAN_ASSIGN_OR_RETURN(all, c.dir.ListAwsManagedPolicies(c.account(), prefix));
  }
  if (scope != "AWS") {
    MERIDIAN_ASSIGN_OR_RETURN(auto local, c.dir.ListPolicies(c.account(), prefix));
    for (auto& p : local) all.push_back(std::move(p));
  }
  std::vector<ManagedPolicy> policies;
  for (auto& p : all)
    if (!only_attached.value_or(false) || p.attachment_count > 0)
      policies.push_back(std::move(p));
  return WritePagedArray(c, "Policies", policies, [&](const auto& item) { WritePolicy(c.w, item); });
}

Status DeletePolicy(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  return Empty(c, c.dir.DeletePolicy(arn));
}

void WriteVersion(JsonWriter& w, const PolicyVersionRecord& v, bool is_default, bool with_document) {
  w.StartObject();
  if (with_document) Str(w, "Document", EncodePolicyDocument(v.document));
  Str(w, "VersionId", v.version_id);
  w.Key("IsDefaultVersion");
  w.Bool(is_default);
  WriteTime(w, "CreateDate", v.create_date);
  w.EndObject();
}

Status CreatePolicyVersion(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string doc, c.args.Required("PolicyDocument"));
  MERIDIAN_ASSIGN_OR_RETURN(auto set_default, c.args.OptBool("SetAsDefault"));
  MERIDIAN_ASSIGN_OR_RETURN(auto v, c.dir.CreatePolicyVersion(arn, doc, set_default.value_or(false)));
  c.w.StartObject();
  c.w.Key("PolicyVersion");
  WriteVersion(c.w, v, set_default.value_or(false), false);
  c.w.EndObject();
  return Status::Ok();
}

Status GetPolicyVersion(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string version, c.args.Required("VersionId"));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, c.dir.GetPolicy(arn));
  for (const auto& v : p.versions) {
    if (v.version_id != version) continue;
    c.w.StartObject();
    c.w.Key("PolicyVersion");
    WriteVersion(c.w, v, v.version_id == p.default_version_id, true);
    c.w.EndObject();
    return Status::Ok();
  }
  return errors::NoSuchEntity("Policy " + arn + " version " + version + " does not exist or is not attachable.");
}

Status ListPolicyVersions(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, c.dir.GetPolicy(arn));
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(c.args, p.versions.size()));
  c.w.StartObject();
  c.w.Key("Versions");
  c.w.StartArray();
  // Newest first, as IAM lists them.
  for (size_t i = page.begin; i < page.end; ++i) {
    const auto& v = p.versions[p.versions.size() - 1 - i];
    WriteVersion(c.w, v, v.version_id == p.default_version_id, false);
  }
  c.w.EndArray();
  WritePageEnd(c.w, page);
  c.w.EndObject();
  return Status::Ok();
}

Status DeletePolicyVersion(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string version, c.args.Required("VersionId"));
  return Empty(c, c.dir.DeletePolicyVersion(arn, version));
}

Status SetDefaultPolicyVersion(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string version, c.args.Required("VersionId"));
  return Empty(c, c.dir.SetDefaultPolicyVersion(arn, version));
}

Status Attach(Call& c, EntityKind kind, bool attach) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PolicyArn"));
  return Empty(c, attach ? c.dir.AttachPolicy(kind, c.account(), name, arn)
                         : c.dir.DetachPolicy(kind, c.account(), name, arn));
}

Status ListAttached(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, c.dir.Get(kind, c.account(), name));
  const std::string prefix = c.args.Opt("PathPrefix").value_or("/");
  std::vector<std::pair<std::string, std::string>> attached;  // name, arn
  for (const auto& arn : e.attached_policy_arns) {
    auto parsed = records::ParseIamArn(arn);
    if (parsed && parsed->path.compare(0, prefix.size(), prefix) == 0) attached.emplace_back(parsed->name, arn);
  }
  return WritePagedArray(c, "AttachedPolicies", attached, [&](const auto& item) {
    c.w.StartObject();
    Str(c.w, "PolicyName", item.first);
    Str(c.w, "PolicyArn", item.second);
    c.w.EndObject();
  });
}

Status PutBoundary(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  MERIDIAN_ASSIGN_OR_RETURN(std::string arn, c.args.Required("PermissionsBoundary"));
  return Empty(c, c.dir.PutPermissionsBoundary(kind, c.account(), name, arn));
}

Status DeleteBoundary(Call& c, EntityKind kind) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required(NameParam(kind)));
  return Empty(c, c.dir.DeletePermissionsBoundary(kind, c.account(), name));
}

// ---- Access keys.

Status CreateAccessKey(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, UserNameOrCaller(c));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, c.dir.CreateAccessKey(c.account(), user));
  c.w.StartObject();
  c.w.Key("AccessKey");
  c.w.StartObject();
  Str(c.w, "UserName", key.metadata.user_name);
  Str(c.w, "AccessKeyId", key.metadata.access_key_id);
  Str(c.w, "Status", key.metadata.status);
  Str(c.w, "SecretAccessKey", key.secret_access_key);
  WriteTime(c.w, "CreateDate", key.metadata.create_date);
  c.w.EndObject();
  c.w.EndObject();
  crypto::Cleanse(key.secret_access_key);
  return Status::Ok();
}

Status UpdateAccessKey(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, UserNameOrCaller(c));
  MERIDIAN_ASSIGN_OR_RETURN(std::string id, c.args.Required("AccessKeyId"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string status, c.args.Required("Status"));
  return Empty(c, c.dir.UpdateAccessKey(c.account(), user, id, status));
}

Status DeleteAccessKey(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, UserNameOrCaller(c));
  MERIDIAN_ASSIGN_OR_RETURN(std::string id, c.args.Required("AccessKeyId"));
  return Empty(c, c.dir.DeleteAccessKey(c.account(), user, id));
}

Status ListAccessKeys(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, UserNameOrCaller(c));
  MERIDIAN_ASSIGN_OR_RETURN(auto keys, c.dir.ListAccessKeys(c.account(), user));
  return WritePagedArray(c, "AccessKeyMetadata", keys, [&](const auto& item) {
    c.w.StartObject();
    Str(c.w, "UserName", item.user_name);
    Str(c.w, "AccessKeyId", item.access_key_id);
    Str(c.w, "Status", item.status);
    WriteTime(c.w, "CreateDate", item.create_date);
    c.w.EndObject();
  });
}

// ---- MFA.

Status CreateVirtualMFADevice(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string name, c.args.Required("VirtualMFADeviceName"));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, c.args.Tags());
  MERIDIAN_ASSIGN_OR_RETURN(auto created, c.dir.CreateVirtualMfaDevice(c.account(), name,
                                                                       c.args.Opt("Path").value_or("/"), tags));
  c.w.StartObject();
  c.w.Key("VirtualMFADevice");
  c.w.StartObject();
  Str(c.w, "SerialNumber", created.device.serial_number);
  // A blob on the wire: base64 of the Base32 text, which SDKs hand back as bytes.
  Str(c.w, "Base32StringSeed", Base64Encode(AsBytes(created.base32_seed)));
  if (!created.device.tags.empty()) WriteTagList(c.w, "Tags", created.device.tags);
  c.w.EndObject();
  c.w.EndObject();
  crypto::Cleanse(created.base32_seed);
  return Status::Ok();
}

Status EnableMFADevice(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string user, c.args.Required("UserName"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string serial, c.args.Required("SerialNumber"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string code1, c.args.Required("AuthenticationCode1"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string code2, c.args.Required("AuthenticationCode2"));
  return Empty(c, c.dir.EnableMfaDevice(c.account(), user, serial, code1, code2));
}

Status DeactivateMFADevice(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string serial, c.args.Required("SerialNumber"));
  return Empty(c, c.dir.DeactivateMfaDevice(c.account(), c.args.Opt("UserName").value_or(""), serial));
}

Status DeleteVirtualMFADevice(Call& c) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string serial, c.args.Required("SerialNumber"));
  auto arn = records::ParseIamArn(serial);
  if (!arn || arn->account != c.account())
    return errors::NoSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.");
  return Empty(c, c.dir.DeleteVirtualMfaDevice(serial));
}

Status ListMFADevices(Call& c) {
  std::string user = c.args.Opt("UserName").value_or("");
  if (user.empty()) {
    MERIDIAN_ASSIGN_OR_RETURN(user, c.dir.UserOfAccessKey(c.caller.access_key_id));
  }
  if (user.empty()) {  // root: root's own devices are not modelled
    c.w.StartObject();
    c.w.Key("MFADevices");
    c.w.StartArray();
    c.w.EndArray();
    c.w.Key("IsTruncated");
    c.w.Bool(false);
    c.w.EndObject();
    return Status::Ok();
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto devices, c.dir.ListMfaDevices(c.account(), user));
  return WritePagedArray(c, "MFADevices", devices, [&](const auto& item) {
    c.w.StartObject();
    Str(c.w, "UserName", item.user_name);
    Str(c.w, "SerialNumber", item.serial_number);
    WriteTime(c.w, "EnableDate", item.enable_date);
    c.w.EndObject();
  });
}

Status ListVirtualMFADevices(Call& c) {
  const std::string status = c.args.Opt("AssignmentStatus").value_or("Any");
  if (status != "Any" && status != "Assigned" && status != "Unassigned")
    return BadParameter("AssignmentStatus", status, "Member must satisfy enum value set: [Unassigned, Any, Assigned]");
  MERIDIAN_ASSIGN_OR_RETURN(auto all, c.dir.ListMfaDevices(c.account(), "", /*include_unassigned=*/true));
  std::vector<MfaDevice> devices;
  for (auto& d : all)
    if (status == "Any" || (status == "Assigned") == !d.user_name.empty()) devices.push_back(std::move(d));
  return WritePagedArray(c, "VirtualMFADevices", devices, [&](const auto& item) {
    c.w.StartObject();
    Str(c.w, "SerialNumber", item.serial_number);
    if (!item.user_name.empty()) {
      auto user = c.dir.Get(EntityKind::kUser, c.account(), item.user_name);
      if (user.ok()) {
        c.w.Key("User");
        WriteUser(c.w, *user);
      }
      WriteTime(c.w, "EnableDate", item.enable_date);
    }
    c.w.EndObject();
  });
}

const std::unordered_map<std::string_view, Handler>& Handlers() {
  using K = EntityKind;
  static const std::unordered_map<std::string_view, Handler> handlers = {
      {"CreateUser", CreateUser},
      {"GetUser", GetUser},
      {"ListUsers", [](Call& c) { return ListEntities(c, K::kUser, "Users"); }},
      {"DeleteUser", [](Call& c) { return DeleteEntity(c, K::kUser); }},
      {"TagUser", [](Call& c) { return TagEntity(c, K::kUser); }},
      {"UntagUser", [](Call& c) { return UntagEntity(c, K::kUser); }},
      {"ListUserTags", [](Call& c) { return ListEntityTags(c, K::kUser); }},
      {"CreateAccessKey", CreateAccessKey},
      {"DeleteAccessKey", DeleteAccessKey},
      {"UpdateAccessKey", UpdateAccessKey},
      {"ListAccessKeys", ListAccessKeys},
      {"CreateGroup", CreateGroup},
      {"GetGroup", GetGroup},
      {"DeleteGroup", [](Call& c) { return DeleteEntity(c, K::kGroup); }},
      {"ListGroups", [](Call& c) { return ListEntities(c, K::kGroup, "Groups"); }},
      {"AddUserToGroup", [](Call& c) { return MembershipChange(c, true); }},
      {"RemoveUserFromGroup", [](Call& c) { return MembershipChange(c, false); }},
      {"ListGroupsForUser", ListGroupsForUser},
      {"CreateRole", CreateRole},
      {"GetRole", GetRole},
      {"DeleteRole", [](Call& c) { return DeleteEntity(c, K::kRole); }},
      {"ListRoles", [](Call& c) { return ListEntities(c, K::kRole, "Roles"); }},
      {"UpdateRole", UpdateRole},
      {"UpdateAssumeRolePolicy", UpdateAssumeRolePolicy},
      {"TagRole", [](Call& c) { return TagEntity(c, K::kRole); }},
      {"UntagRole", [](Call& c) { return UntagEntity(c, K::kRole); }},
      {"ListRoleTags", [](Call& c) { return ListEntityTags(c, K::kRole); }},
      {"PutUserPolicy", [](Call& c) { return PutInline(c, K::kUser); }},
      {"PutRolePolicy", [](Call& c) { return PutInline(c, K::kRole); }},
      {"PutGroupPolicy", [](Call& c) { return PutInline(c, K::kGroup); }},
      {"GetUserPolicy", [](Call& c) { return GetInline(c, K::kUser); }},
      {"GetRolePolicy", [](Call& c) { return GetInline(c, K::kRole); }},
      {"GetGroupPolicy", [](Call& c) { return GetInline(c, K::kGroup); }},
      {"DeleteUserPolicy", [](Call& c) { return DeleteInline(c, K::kUser); }},
      {"DeleteRolePolicy", [](Call& c) { return DeleteInline(c, K::kRole); }},
      {"DeleteGroupPolicy", [](Call& c) { return DeleteInline(c, K::kGroup); }},
      {"ListUserPolicies", [](Call& c) { return ListInline(c, K::kUser); }},
      {"ListRolePolicies", [](Call& c) { return ListInline(c, K::kRole); }},
      {"ListGroupPolicies", [](Call& c) { return ListInline(c, K::kGroup); }},
      {"CreatePolicy", CreatePolicy},
      {"GetPolicy", GetPolicy},
      {"DeletePolicy", DeletePolicy},
      {"ListPolicies", ListPolicies},
      {"CreatePolicyVersion", CreatePolicyVersion},
      {"GetPolicyVersion", GetPolicyVersion},
      {"ListPolicyVersions", ListPolicyVersions},
      {"DeletePolicyVersion", DeletePolicyVersion},
      {"SetDefaultPolicyVersion", SetDefaultPolicyVersion},
      {"AttachUserPolicy", [](Call& c) { return Attach(c, K::kUser, true); }},
      {"AttachRolePolicy", [](Call& c) { return Attach(c, K::kRole, true); }},
      {"AttachGroupPolicy", [](Call& c) { return Attach(c, K::kGroup, true); }},
      {"DetachUserPolicy", [](Call& c) { return Attach(c, K::kUser, false); }},
      {"DetachRolePolicy", [](Call& c) { return Attach(c, K::kRole, false); }},
      {"DetachGroupPolicy", [](Call& c) { return Attach(c, K::kGroup, false); }},
      {"ListAttachedUserPolicies", [](Call& c) { return ListAttached(c, K::kUser); }},
      {"ListAttachedRolePolicies", [](Call& c) { return ListAttached(c, K::kRole); }},
      {"ListAttachedGroupPolicies", [](Call& c) { return ListAttached(c, K::kGroup); }},
      {"PutUserPermissionsBoundary", [](Call& c) { return PutBoundary(c, K::kUser); }},
      {"PutRolePermissionsBoundary", [](Call& c) { return PutBoundary(c, K::kRole); }},
      {"DeleteUserPermissionsBoundary", [](Call& c) { return DeleteBoundary(c, K::kUser); }},
      {"DeleteRolePermissionsBoundary", [](Call& c) { return DeleteBoundary(c, K::kRole); }},
      {"CreateVirtualMFADevice", CreateVirtualMFADevice},
      {"EnableMFADevice", EnableMFADevice},
      {"DeactivateMFADevice", DeactivateMFADevice},
      {"DeleteVirtualMFADevice", DeleteVirtualMFADevice},
      {"ListMFADevices", ListMFADevices},
      {"ListVirtualMFADevices", ListVirtualMFADevices},
      {"SimulateCustomPolicy", [](Call& c) { return SimulateCustomPolicy(c.dir, c.args, c.caller, c.w); }},
      {"SimulatePrincipalPolicy", [](Call& c) { return SimulatePrincipalPolicy(c.dir, c.args, c.caller, c.w); }},
  };
  return handlers;
}

}  // namespace

bool IamService::Knows(std::string_view operation) { return Handlers().count(operation) > 0; }

Status IamService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out) {
  auto it = Handlers().find(operation);
  if (it == Handlers().end())
    return Status("InvalidAction", "The action " + std::string(operation) + " is not valid for this web service.", 400);
  // IAM is global (iam/global_iam.h): outside the home region only reads are served, and a
  // change is refused before any of its input is looked at.
  const bool read_only = operation.starts_with("Get") || operation.starts_with("List") ||
                         operation.starts_with("Simulate");
  if (!read_only && !directory_.IsHomeRegion()) return directory_.NotHomeRegion(operation);
  QueryArgs args(request);
  Call call{directory_, args, caller, out};
  return it->second(call);
}

std::optional<AuthorizationResource> IamService::ResourceFor(std::string_view operation,
                                                             const rapidjson::Value& request, const Caller& caller) {
  if (!Knows(operation)) return std::nullopt;
  QueryArgs args(request);
  AuthorizationResource r;
  r.account_id = caller.account_id;
  const std::string& account = caller.account_id;
  auto entity_arn = [&](EntityKind kind, const std::string& name) {
    auto e = directory_.Get(kind, account, name);
    if (e.ok()) return e->arn;
    // Not there yet (Create*) or not at all: the ARN the request names, with its Path if given.
    return directory_.ArnFor(kind, account, args.Opt("Path").value_or("/"), name);
  };
  const bool user_op = operation.find("User") != std::string_view::npos ||
                       operation.find("AccessKey") != std::string_view::npos ||
                       operation.find("MFADevice") != std::string_view::npos;
  if (auto group = args.Opt("GroupName")) {
    r.arn = entity_arn(EntityKind::kGroup, *group);
  } else if (auto user = args.Opt("UserName")) {
    r.arn = entity_arn(EntityKind::kUser, *user);
  } else if (auto role = args.Opt("RoleName")) {
    r.arn = entity_arn(EntityKind::kRole, *role);
  } else if (auto arn = args.Opt("PolicyArn")) {
    r.arn = *arn;
  } else if (auto source = args.Opt("PolicySourceArn")) {
    r.arn = *source;
  } else if (auto serial = args.Opt("SerialNumber")) {
    r.arn = *serial;
  } else if (auto device = args.Opt("VirtualMFADeviceName")) {
    r.arn = "arn:" + directory_.partition() + ":iam::" + account + ":mfa" + args.Opt("Path").value_or("/") + *device;
  } else if (operation == "CreatePolicy") {
    if (auto name = args.Opt("PolicyName")) r.arn = directory_.PolicyArn(account, args.Opt("Path").value_or("/"), *name);
  } else if (user_op && operation.substr(0, 4) != "List") {
    // GetUser, CreateAccessKey ... without UserName act on the calling user.
    auto name = directory_.UserOfAccessKey(caller.access_key_id);
    if (name.ok() && !name->empty()) r.arn = entity_arn(EntityKind::kUser, *name);
  } else if (operation == "ListAccessKeys" || operation == "ListMFADevices") {
    auto name = directory_.UserOfAccessKey(caller.access_key_id);
    if (name.ok() && !name->empty()) r.arn = entity_arn(EntityKind::kUser, *name);
  }
  if (r.arn.empty()) return std::nullopt;
  // A resource ARN names its owner; a request about another account's entity is cross-account.
  // AWS managed policies (account "aws") are readable and attachable in every account: the
  // caller's own identity policies decide, as for its own policies (changes are refused anyway).
  if (auto parsed = records::ParseIamArn(r.arn); parsed && parsed->account != "aws") r.account_id = parsed->account;
  return r;
}

}  // namespace meridian::iam
