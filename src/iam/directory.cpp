#include "iam/directory.h"

#include <algorithm>

#include "iam/aws_managed_policies.h"
#include "iam/directory_impl.h"
#include "iam/directory_records.h"
#include "iam/errors.h"
#include "storage/schema.h"

namespace meridian::iam {

using records::Lower;

std::string_view EntityKindName(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser: return "user";
    case EntityKind::kGroup: return "group";
    case EntityKind::kRole: return "role";
  }
  return "user";
}

const PolicyVersionRecord* ManagedPolicy::DefaultVersion() const {
  for (const auto& v : versions)
    if (v.version_id == default_version_id) return &v;
  return nullptr;
}

Result<policy::PolicyPtr> CompileIamPolicy(std::string_view document, policy::PolicyKind kind, std::string id) {
  policy::ParseOptions options;
  options.kind = kind;
  options.id = std::move(id);
  // IAM's quotas: 2,048 characters for user inline policies up to 10,240 for roles; managed
  // policies 6,144. The parser's limit guards memory; the service checks the AWS quotas.
  auto parsed = policy::Policy::Parse(document, options);
  if (!parsed.ok()) {
    if (parsed.status().type() == policy::kMalformedPolicyDocument)
      return errors::MalformedPolicyDocument(parsed.status().message());
    return parsed.status();
  }
  return *parsed;
}

namespace {

std::string Capitalized(EntityKind kind) {
  std::string s(EntityKindName(kind));
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

Status NoSuch(EntityKind kind, const std::string& name) {
  return errors::NoSuchEntity("The " + std::string(EntityKindName(kind)) + " with name " + name + " cannot be found.");
}

Status NoSuchPolicy(const std::string& arn) {
  return errors::NoSuchEntity("Policy " + arn + " does not exist or is not attachable.");
}

Result<Entity> LoadEntity(storage::Transaction& txn, EntityKind kind, const std::string& account,
                          const std::string& name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamPrincipals, records::EntityKey(kind, account, name)));
  if (!value) return NoSuch(kind, name);
  return records::DecodeEntity(*value);
}

Status SaveEntity(storage::Transaction& txn, const Entity& e) {
  return txn.Put(storage::tables::kIamPrincipals, records::EntityKey(e.kind, e.account_id, e.name),
                 records::EncodeEntity(e));
}

// Customer managed policies come from storage; AWS managed ones from the shipped table
// (aws_managed_policies.h), never stored.
Result<ManagedPolicy> LoadPolicy(storage::Transaction& txn, const std::string& arn) {
  auto parsed = records::ParseIamArn(arn);
  if (!parsed || parsed->type != "policy")
    return errors::InvalidInput("ARN " + arn + " is not valid.");
  if (parsed->account == "aws") {
    auto shipped = FindAwsManagedPolicy(arn);
    if (!shipped) return NoSuchPolicy(arn);
    return *std::move(shipped);
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamPolicies, records::PolicyKey(parsed->account, parsed->name)));
  if (!value) return NoSuchPolicy(arn);
  MERIDIAN_ASSIGN_OR_RETURN(auto p, records::DecodePolicy(*value));
  if (p.arn != arn) return NoSuchPolicy(arn);
  return p;
}

// AWS managed policies are not stored: their per-account counts are computed when read
// (AwsPolicyUsage), so saving one is a no-op.
Status SavePolicy(storage::Transaction& txn, const ManagedPolicy& p) {
  if (p.account_id == "aws") return Status::Ok();
  return txn.Put(storage::tables::kIamPolicies, records::PolicyKey(p.account_id, p.name), records::EncodePolicy(p));
}

// Adds `delta` to the boundary usage count of `arn` (no-op for an empty ARN).
Status CountBoundaryUse(storage::Transaction& txn, const std::string& arn, int delta) {
  if (arn.empty()) return Status::Ok();
  auto p = LoadPolicy(txn, arn);
  if (!p.ok()) return delta < 0 ? Status::Ok() : p.status();  // a deleted boundary leaves nothing to count
  p->boundary_usage_count = std::max<int64_t>(0, p->boundary_usage_count + delta);
  return SavePolicy(txn, *p);
}

// IAM refuses changes to AWS managed policies with AccessDenied (observed AWS messages).
Status RefuseAwsManagedChange(const std::string& arn, std::string_view what) {
  if (!IsAwsManagedPolicyArn(arn)) return Status::Ok();
  return errors::AccessDenied("Cannot " + std::string(what) + " policies outside your own account.");
}

// How many of `account`'s users, groups and roles attach `policy` and use it as their boundary.
Status CountAwsPolicyUsage(storage::Transaction& txn, const std::string& account, ManagedPolicy& policy) {
  policy.attachment_count = 0;
  policy.boundary_usage_count = 0;
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kGroup, EntityKind::kRole}) {
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn.Scan(storage::tables::kIamPrincipals, records::EntityPrefix(kind, account)));
    for (const auto& row : rows) {
      MERIDIAN_ASSIGN_OR_RETURN(auto e, records::DecodeEntity(row.value));
      if (std::find(e.attached_policy_arns.begin(), e.attached_policy_arns.end(), policy.arn) !=
          e.attached_policy_arns.end())
        ++policy.attachment_count;
      if (e.permissions_boundary_arn == policy.arn) ++policy.boundary_usage_count;
    }
  }
  return Status::Ok();
}

Status CheckBoundaryArn(storage::Transaction& txn, const std::string& arn) {
  auto p = LoadPolicy(txn, arn);
  if (!p.ok()) {
    if (p.status().type() == "NoSuchEntity")
      return errors::NoSuchEntity("Scope ARN: " + arn + " does not exist or is not attachable.");
    return p.status();
  }
  return Status::Ok();
}

}  // namespace

Directory::Directory(storage::Storage& storage, const crypto::RootKey& root_key, CredentialStore& credentials,
                     const Clock& clock, std::string partition)
    : impl_(std::make_unique<Impl>()),
      storage_(storage),
      root_key_(root_key),
      credentials_(credentials),
      clock_(clock),
      partition_(std::move(partition)) {}

Directory::~Directory() = default;

std::string Directory::ArnFor(EntityKind kind, const std::string& account, const std::string& path,
                              const std::string& name) const {
  return "arn:" + partition_ + ":iam::" + account + ":" + std::string(EntityKindName(kind)) + path + name;
}

std::string Directory::PolicyArn(const std::string& account, const std::string& path, const std::string& name) const {
  return "arn:" + partition_ + ":iam::" + account + ":policy" + path + name;
}

// ---- Users, groups, roles.

Result<Entity> Directory::CreateUser(const std::string& account, const std::string& name, const std::string& path,
                                     const std::vector<Tag>& tags, const std::string& boundary_arn) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("userName", name, 64));
  MERIDIAN_RETURN_IF_ERROR(records::CheckPath("path", path));
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(tags));
  Entity e;
  e.kind = EntityKind::kUser;
  e.account_id = account;
  e.name = name;
  e.path = path;
  e.id = records::NewId("AIDA");
  e.arn = ArnFor(EntityKind::kUser, account, path, name);
  e.create_date = clock_.NowSeconds();
  e.tags = tags;
  e.permissions_boundary_arn = boundary_arn;
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreateUser", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kIamPrincipals, records::EntityKey(e.kind, account, name)));
  if (existing) return errors::EntityAlreadyExists("User with name " + name + " already exists.");
  if (!boundary_arn.empty()) {
    MERIDIAN_RETURN_IF_ERROR(CheckBoundaryArn(*txn, boundary_arn));
    MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, boundary_arn, +1));
  }
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return e;
}

Result<Entity> Directory::CreateGroup(const std::string& account, const std::string& name, const std::string& path) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("groupName", name, 128));
  MERIDIAN_RETURN_IF_ERROR(records::CheckPath("path", path));
  Entity e;
  e.kind = EntityKind::kGroup;
  e.account_id = account;
  e.name = name;
  e.path = path;
  e.id = records::NewId("AGPA");
  e.arn = ArnFor(EntityKind::kGroup, account, path, name);
  e.create_date = clock_.NowSeconds();
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreateGroup", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kIamPrincipals, records::EntityKey(e.kind, account, name)));
  if (existing) return errors::EntityAlreadyExists("Group with name " + name + " already exists.");
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return e;
}

Result<Entity> Directory::CreateRole(const std::string& account, const std::string& name, const std::string& path,
                                     const std::string& trust_policy, const std::string& description,
                                     int64_t max_session_duration, const std::vector<Tag>& tags,
                                     const std::string& boundary_arn) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("roleName", name, 64));
  MERIDIAN_RETURN_IF_ERROR(records::CheckPath("path", path));
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(tags));
  if (max_session_duration < 3600 || max_session_duration > 43200)
    return errors::ValidationError("1 validation error detected: Value '" + std::to_string(max_session_duration) +
                                   "' at 'maxSessionDuration' failed to satisfy constraint: Member must have value "
                                   "less than or equal to 43200 and greater than or equal to 3600");
  if (description.size() > 1000)
    return errors::ValidationError(
        "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length "
        "less than or equal to 1000");
  Entity e;
  e.kind = EntityKind::kRole;
  e.account_id = account;
  e.name = name;
  e.path = path;
  e.id = records::NewId("AROA");
  e.arn = ArnFor(EntityKind::kRole, account, path, name);
  MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(trust_policy, policy::PolicyKind::kTrust, "trust-policy").status());
  e.assume_role_policy_document = trust_policy;
  e.description = description;
  e.max_session_duration = max_session_duration;
  e.create_date = clock_.NowSeconds();
  e.tags = tags;
  e.permissions_boundary_arn = boundary_arn;
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreateRole", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kIamPrincipals, records::EntityKey(e.kind, account, name)));
  if (existing) return errors::EntityAlreadyExists("Role with name " + name + " already exists.");
  if (!boundary_arn.empty()) {
    MERIDIAN_RETURN_IF_ERROR(CheckBoundaryArn(*txn, boundary_arn));
    MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, boundary_arn, +1));
  }
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return e;
}

Result<Entity> Directory::Get(EntityKind kind, const std::string& account, const std::string& name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  return LoadEntity(*txn, kind, account, name);
}

Result<std::vector<Entity>> Directory::List(EntityKind kind, const std::string& account, const std::string& path_prefix) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kIamPrincipals, records::EntityPrefix(kind, account)));
  std::vector<Entity> out;
  for (const auto& row : rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto e, records::DecodeEntity(row.value));
    if (e.path.compare(0, path_prefix.size(), path_prefix) == 0) out.push_back(std::move(e));
  }
  return out;
}

Status Directory::Delete(EntityKind kind, const std::string& account, const std::string& name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Delete" + Capitalized(kind), ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  if (kind == EntityKind::kUser) {
    if (!e.access_key_ids.empty()) return errors::DeleteConflict("Cannot delete entity, must delete access keys first.");
    if (!e.mfa_serials.empty()) return errors::DeleteConflict("Cannot delete entity, must delete MFA device first.");
    if (!e.group_names.empty()) return errors::DeleteConflict("Cannot delete entity, must remove users from group first.");
  }
  if (kind == EntityKind::kGroup) {
    MERIDIAN_ASSIGN_OR_RETURN(auto users, txn->Scan(storage::tables::kIamPrincipals,
                                                    records::EntityPrefix(EntityKind::kUser, account)));
    for (const auto& row : users) {
      MERIDIAN_ASSIGN_OR_RETURN(auto u, records::DecodeEntity(row.value));
      for (const auto& g : u.group_names)
        if (Lower(g) == Lower(e.name))
          return errors::DeleteConflict("Cannot delete entity, must remove users from group first.");
    }
  }
  if (!e.inline_policies.empty()) return errors::DeleteConflict("Cannot delete entity, must delete policies first.");
  if (!e.attached_policy_arns.empty())
    return errors::DeleteConflict("Cannot delete entity, must detach all policies first.");
  MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, e.permissions_boundary_arn, -1));
  MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kIamPrincipals, records::EntityKey(kind, account, name)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::TagEntity(EntityKind kind, const std::string& account, const std::string& name,
                      const std::vector<Tag>& tags) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Tag" + Capitalized(kind), ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(tags));
  for (const auto& t : tags) {
    auto it = std::find_if(e.tags.begin(), e.tags.end(), [&](const Tag& x) { return Lower(x.key) == Lower(t.key); });
    if (it != e.tags.end())
      it->value = t.value;
    else
      e.tags.push_back(t);
  }
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(e.tags));
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::UntagEntity(EntityKind kind, const std::string& account, const std::string& name,
                        const std::vector<std::string>& keys) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Untag" + Capitalized(kind), ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  std::erase_if(e.tags, [&](const Tag& t) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return Lower(k) == Lower(t.key); });
  });
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::UpdateAssumeRolePolicy(const std::string& account, const std::string& role,
                                         const std::string& document) {
  MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(document, policy::PolicyKind::kTrust, "trust-policy").status());
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("UpdateAssumeRolePolicy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, EntityKind::kRole, account, role));
  e.assume_role_policy_document = document;
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::UpdateRole(const std::string& account, const std::string& role, std::optional<std::string> description,
                             std::optional<int64_t> max_session_duration) {
  if (max_session_duration && (*max_session_duration < 3600 || *max_session_duration > 43200))
    return errors::ValidationError("1 validation error detected: Value '" + std::to_string(*max_session_duration) +
                                   "' at 'maxSessionDuration' failed to satisfy constraint: Member must have value "
                                   "less than or equal to 43200 and greater than or equal to 3600");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("UpdateRole", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, EntityKind::kRole, account, role));
  if (description) e.description = *description;
  if (max_session_duration) e.max_session_duration = *max_session_duration;
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::PutPermissionsBoundary(EntityKind kind, const std::string& account, const std::string& name,
                                         const std::string& policy_arn) {
  if (kind == EntityKind::kGroup) return errors::InvalidInput("Groups cannot have a permissions boundary.");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Put" + Capitalized(kind) + "PermissionsBoundary", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  MERIDIAN_RETURN_IF_ERROR(CheckBoundaryArn(*txn, policy_arn));
  if (e.permissions_boundary_arn != policy_arn) {
    MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, e.permissions_boundary_arn, -1));
    MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, policy_arn, +1));
    e.permissions_boundary_arn = policy_arn;
  }
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::DeletePermissionsBoundary(EntityKind kind, const std::string& account, const std::string& name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Delete" + Capitalized(kind) + "PermissionsBoundary", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  MERIDIAN_RETURN_IF_ERROR(CountBoundaryUse(*txn, e.permissions_boundary_arn, -1));
  e.permissions_boundary_arn.clear();
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::AddUserToGroup(const std::string& account, const std::string& group, const std::string& user) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("AddUserToGroup", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto g, LoadEntity(*txn, EntityKind::kGroup, account, group));
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  if (std::none_of(u.group_names.begin(), u.group_names.end(), [&](const std::string& n) { return Lower(n) == Lower(g.name); })) {
    if (u.group_names.size() >= 10)
      return errors::LimitExceeded("Cannot exceed quota for GroupsPerUser: 10");
    u.group_names.push_back(g.name);
  }
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, u));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::RemoveUserFromGroup(const std::string& account, const std::string& group, const std::string& user) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("RemoveUserFromGroup", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto g, LoadEntity(*txn, EntityKind::kGroup, account, group));
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  const size_t before = u.group_names.size();
  std::erase_if(u.group_names, [&](const std::string& n) { return Lower(n) == Lower(g.name); });
  if (before == u.group_names.size())
    return errors::NoSuchEntity("The user with name " + user + " is not a member of group " + group + ".");
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, u));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Result<std::vector<Entity>> Directory::GroupMembers(const std::string& account, const std::string& group) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto g, LoadEntity(*txn, EntityKind::kGroup, account, group));
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kIamPrincipals,
                                                 records::EntityPrefix(EntityKind::kUser, account)));
  std::vector<Entity> out;
  for (const auto& row : rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto u, records::DecodeEntity(row.value));
    if (std::any_of(u.group_names.begin(), u.group_names.end(), [&](const std::string& n) { return Lower(n) == Lower(g.name); }))
      out.push_back(std::move(u));
  }
  return out;
}

// ---- Inline policies.

Status Directory::PutInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                                  const std::string& policy_name, const std::string& document) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("policyName", policy_name, 128));
  MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(document, policy::PolicyKind::kIdentity, policy_name).status());
  // IAM quotas on the aggregate size of inline policies (without whitespace AWS counts; the
  // stored text here): users 2,048, groups 5,120, roles 10,240 characters.
  const size_t quota = kind == EntityKind::kUser ? 2048 : kind == EntityKind::kGroup ? 5120 : 10240;
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Put" + Capitalized(kind) + "Policy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  // Inline policy names are case-sensitive in IAM; a Put replaces the document of the same name.
  e.inline_policies[policy_name] = document;
  size_t total = 0;
  for (const auto& [n, d] : e.inline_policies)
    total += std::count_if(d.begin(), d.end(), [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
  if (total > quota)
    return errors::LimitExceeded("Maximum policy size of " + std::to_string(quota) + " bytes exceeded for " +
                                 std::string(EntityKindName(kind)) + " " + name);
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Result<std::string> Directory::GetInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                                               const std::string& policy_name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto e, Get(kind, account, name));
  auto it = e.inline_policies.find(policy_name);
  if (it == e.inline_policies.end())
    return errors::NoSuchEntity("The " + std::string(EntityKindName(kind)) + " policy with name " + policy_name +
                                " cannot be found.");
  return it->second;
}

Status Directory::DeleteInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                                     const std::string& policy_name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Delete" + Capitalized(kind) + "Policy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  if (e.inline_policies.erase(policy_name) == 0)
    return errors::NoSuchEntity("The " + std::string(EntityKindName(kind)) + " policy with name " + policy_name +
                                " cannot be found.");
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

// ---- Managed policies.

Result<ManagedPolicy> Directory::CreatePolicy(const std::string& account, const std::string& name,
                                              const std::string& path, const std::string& document,
                                              const std::string& description, const std::vector<Tag>& tags) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("policyName", name, 128));
  MERIDIAN_RETURN_IF_ERROR(records::CheckPath("path", path));
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(tags));
  if (description.size() > 1000)
    return errors::ValidationError(
        "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length "
        "less than or equal to 1000");
  ManagedPolicy p;
  p.account_id = account;
  p.name = name;
  p.path = path;
  p.id = records::NewId("ANPA");
  p.arn = PolicyArn(account, path, name);
  MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(document, policy::PolicyKind::kIdentity, p.arn).status());
  p.description = description;
  p.create_date = p.update_date = clock_.NowSeconds();
  p.versions.push_back({"v1", document, p.create_date});
  p.default_version_id = "v1";
  p.tags = tags;
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreatePolicy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kIamPolicies, records::PolicyKey(account, name)));
  if (existing) return errors::EntityAlreadyExists("A policy called " + name + " already exists. Duplicate names are not allowed.");
  MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, p));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return p;
}

Result<ManagedPolicy> Directory::GetPolicy(const std::string& policy_arn, const std::string& for_account) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  if (p.account_id == "aws" && !for_account.empty()) MERIDIAN_RETURN_IF_ERROR(CountAwsPolicyUsage(*txn, for_account, p));
  return p;
}

Result<std::vector<ManagedPolicy>> Directory::ListAwsManagedPolicies(const std::string& account,
                                                                     const std::string& path_prefix) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  std::vector<ManagedPolicy> out;
  for (auto& p : AwsManagedPolicies(partition_)) {
    if (p.path.compare(0, path_prefix.size(), path_prefix) != 0) continue;
    MERIDIAN_RETURN_IF_ERROR(CountAwsPolicyUsage(*txn, account, p));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<ManagedPolicy>> Directory::ListPolicies(const std::string& account, const std::string& path_prefix) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kIamPolicies, account + "/"));
  std::vector<ManagedPolicy> out;
  for (const auto& row : rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto p, records::DecodePolicy(row.value));
    if (p.path.compare(0, path_prefix.size(), path_prefix) == 0) out.push_back(std::move(p));
  }
  return out;
}

Status Directory::DeletePolicy(const std::string& policy_arn) {
  MERIDIAN_RETURN_IF_ERROR(RefuseAwsManagedChange(policy_arn, "delete"));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("DeletePolicy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  if (p.attachment_count > 0) return errors::DeleteConflict("Cannot delete a policy attached to entities.");
  if (p.boundary_usage_count > 0)
    return errors::DeleteConflict("Cannot delete a policy used as a permissions boundary; remove it from the users and roles first.");
  if (p.versions.size() > 1)
    return errors::DeleteConflict(
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
        "The default version is deleted with the policy.");
  MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kIamPolicies, records::PolicyKey(p.account_id, p.name)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Result<PolicyVersionRecord> Directory::CreatePolicyVersion(const std::string& policy_arn, const std::string& document,
                                                           bool set_as_default) {
  MERIDIAN_RETURN_IF_ERROR(RefuseAwsManagedChange(policy_arn, "create versions for"));
  MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(document, policy::PolicyKind::kIdentity, policy_arn).status());
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreatePolicyVersion", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  if (p.versions.size() >= kMaxPolicyVersions)
    return errors::LimitExceeded("A managed policy can have up to " + std::to_string(kMaxPolicyVersions) +
                                 " versions. Before you create a new version, you must delete an existing version.");
  PolicyVersionRecord v{"v" + std::to_string(p.next_version), document, clock_.NowSeconds()};
  ++p.next_version;
  p.versions.push_back(v);
  if (set_as_default) p.default_version_id = v.version_id;
  p.update_date = v.create_date;
  MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, p));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return v;
}

Status Directory::DeletePolicyVersion(const std::string& policy_arn, const std::string& version_id) {
  MERIDIAN_RETURN_IF_ERROR(RefuseAwsManagedChange(policy_arn, "delete policy versions for"));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("DeletePolicyVersion", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  auto it = std::find_if(p.versions.begin(), p.versions.end(),
                         [&](const PolicyVersionRecord& v) { return v.version_id == version_id; });
  if (it == p.versions.end())
    return errors::NoSuchEntity("Policy " + policy_arn + " version " + version_id + " does not exist or is not attachable.");
  if (version_id == p.default_version_id)
    return errors::DeleteConflict("Cannot delete the default version of a policy.");
  p.versions.erase(it);
  MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, p));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::SetDefaultPolicyVersion(const std::string& policy_arn, const std::string& version_id) {
  MERIDIAN_RETURN_IF_ERROR(RefuseAwsManagedChange(policy_arn, "update"));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("SetDefaultPolicyVersion", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  if (std::none_of(p.versions.begin(), p.versions.end(),
                   [&](const PolicyVersionRecord& v) { return v.version_id == version_id; }))
    return errors::NoSuchEntity("Policy " + policy_arn + " version " + version_id + " does not exist or is not attachable.");
  p.default_version_id = version_id;
  p.update_date = clock_.NowSeconds();
  MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, p));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::AttachPolicy(EntityKind kind, const std::string& account, const std::string& name,
                               const std::string& policy_arn) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Attach" + Capitalized(kind) + "Policy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  MERIDIAN_ASSIGN_OR_RETURN(auto p, LoadPolicy(*txn, policy_arn));
  if (p.account_id != account && p.account_id != "aws") return NoSuchPolicy(policy_arn);
  if (std::find(e.attached_policy_arns.begin(), e.attached_policy_arns.end(), policy_arn) != e.attached_policy_arns.end())
    return Status::Ok();  // attaching twice is a no-op, as in IAM
  if (e.attached_policy_arns.size() >= kMaxManagedPoliciesPerEntity)
    return errors::LimitExceeded("Cannot exceed quota for PoliciesPer" + Capitalized(kind) + ": " +
                                 std::to_string(kMaxManagedPoliciesPerEntity));
  e.attached_policy_arns.push_back(policy_arn);
  ++p.attachment_count;
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, p));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::DetachPolicy(EntityKind kind, const std::string& account, const std::string& name,
                               const std::string& policy_arn) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("Detach" + Capitalized(kind) + "Policy", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto e, LoadEntity(*txn, kind, account, name));
  auto it = std::find(e.attached_policy_arns.begin(), e.attached_policy_arns.end(), policy_arn);
  if (it == e.attached_policy_arns.end())
    return errors::NoSuchEntity("Policy " + policy_arn + " was not found.");
  e.attached_policy_arns.erase(it);
  auto p = LoadPolicy(*txn, policy_arn);
  if (p.ok()) {
    p->attachment_count = std::max<int64_t>(0, p->attachment_count - 1);
    MERIDIAN_RETURN_IF_ERROR(SavePolicy(*txn, *p));
  }
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, e));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

// ---- Access keys.

Result<NewAccessKey> Directory::CreateAccessKey(const std::string& account, const std::string& user) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreateAccessKey", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  if (u.access_key_ids.size() >= kMaxAccessKeysPerUser)
    return errors::LimitExceeded("Cannot exceed quota for AccessKeysPerUser: " + std::to_string(kMaxAccessKeysPerUser));
  NewAccessKey key;
  key.metadata.user_name = u.name;
  key.metadata.status = "Active";
  key.metadata.create_date = clock_.NowSeconds();
  MERIDIAN_ASSIGN_OR_RETURN(auto staged,
                            credentials_.StageUserAccessKey(*txn, account, u.arn, u.name, key.metadata.create_date));
  key.metadata.access_key_id = staged.first;
  key.secret_access_key = std::move(staged.second);
  u.access_key_ids.push_back(key.metadata.access_key_id);
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, u));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  credentials_.Invalidate(key.metadata.access_key_id);  // a lookup may have cached "unknown"
  impl_->Changed();
  return key;
}

namespace {

Status NoSuchKey(const std::string& id, const std::string& user) {
  return errors::NoSuchEntity("The Access Key with id " + id + " cannot be found" +
                              (user.empty() ? std::string(".") : " for user " + user + "."));
}

}  // namespace

Status Directory::UpdateAccessKey(const std::string& account, const std::string& user, const std::string& access_key_id,
                                  const std::string& status) {
  if (status != "Active" && status != "Inactive")
    return errors::ValidationError("1 validation error detected: Value '" + status +
                                   "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: "
                                   "[Active, Inactive]");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("UpdateAccessKey", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  if (std::find(u.access_key_ids.begin(), u.access_key_ids.end(), access_key_id) == u.access_key_ids.end())
    return NoSuchKey(access_key_id, user);
  MERIDIAN_RETURN_IF_ERROR(CredentialStore::StageKeyStatus(*txn, access_key_id, status));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  credentials_.Invalidate(access_key_id);
  impl_->Changed();
  return Status::Ok();
}

Status Directory::DeleteAccessKey(const std::string& account, const std::string& user, const std::string& access_key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("DeleteAccessKey", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  auto it = std::find(u.access_key_ids.begin(), u.access_key_ids.end(), access_key_id);
  if (it == u.access_key_ids.end()) return NoSuchKey(access_key_id, user);
  u.access_key_ids.erase(it);
  MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kAccessKeys, access_key_id));
  MERIDIAN_RETURN_IF_ERROR(SaveEntity(*txn, u));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  credentials_.Invalidate(access_key_id);
  impl_->Changed();
  return Status::Ok();
}

Result<std::vector<AccessKeyMetadata>> Directory::ListAccessKeys(const std::string& account, const std::string& user) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto u, LoadEntity(*txn, EntityKind::kUser, account, user));
  std::vector<AccessKeyMetadata> out;
  for (const auto& id : u.access_key_ids) {
    MERIDIAN_ASSIGN_OR_RETURN(auto meta, CredentialStore::ReadKeyMetadata(*txn, id));
    if (!meta) continue;
    out.push_back({id, u.name, meta->status, meta->create_date});
  }
  return out;
}

Result<std::string> Directory::UserOfAccessKey(const std::string& access_key_id) {
  IdentityPtr identity = IdentityFor(access_key_id);
  if (!identity) return std::string();
  return identity->user_name;
}

}  // namespace meridian::iam
