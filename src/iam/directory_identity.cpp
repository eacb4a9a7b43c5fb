// Directory: STS sessions and the compiled identities the authorizer evaluates.
#include <algorithm>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "iam/aws_managed_policies.h"
#include "iam/directory.h"
#include "iam/directory_impl.h"
#include "iam/directory_records.h"
#include "iam/errors.h"
#include "storage/schema.h"

namespace meridian::iam {
namespace {

std::string Str(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The policies attached to or embedded in one user, group or role, compiled.
Status AddEntityPolicies(storage::Transaction& txn, const Entity& e, std::vector<policy::PolicyPtr>& out) {
  for (const auto& [name, document] : e.inline_policies) {
    MERIDIAN_ASSIGN_OR_RETURN(auto p, CompileIamPolicy(document, policy::PolicyKind::kIdentity, name));
    out.push_back(std::move(p));
  }
  for (const auto& arn : e.attached_policy_arns) {
    if (auto shipped = FindAwsManagedPolicy(arn)) {
      MERIDIAN_ASSIGN_OR_RETURN(auto p, CompileIamPolicy(shipped->DefaultVersion()->document,
                                                         policy::PolicyKind::kIdentity, arn));
      out.push_back(std::move(p));
      continue;
    }
    auto parsed = records::ParseIamArn(arn);
    if (!parsed) continue;
    MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamPolicies, records::PolicyKey(parsed->account, parsed->name)));
    if (!value) continue;  // deleted policies grant nothing
    MERIDIAN_ASSIGN_OR_RETURN(auto managed, records::DecodePolicy(*value));
    const PolicyVersionRecord* v = managed.DefaultVersion();
    if (!v) continue;
    MERIDIAN_ASSIGN_OR_RETURN(auto p, CompileIamPolicy(v->document, policy::PolicyKind::kIdentity, arn));
    out.push_back(std::move(p));
  }
  return Status::Ok();
}

Result<policy::PolicyPtr> LoadBoundary(storage::Transaction& txn, const std::string& arn) {
  if (arn.empty()) return policy::PolicyPtr();
  if (auto shipped = FindAwsManagedPolicy(arn))
    return CompileIamPolicy(shipped->DefaultVersion()->document, policy::PolicyKind::kIdentity, arn);
  auto parsed = records::ParseIamArn(arn);
  if (!parsed) return policy::PolicyPtr();
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamPolicies, records::PolicyKey(parsed->account, parsed->name)));
  // A boundary whose policy was deleted still bounds: nothing is allowed through it.
  std::string document = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]})";
  if (value) {
    MERIDIAN_ASSIGN_OR_RETURN(auto managed, records::DecodePolicy(*value));
    if (const PolicyVersionRecord* v = managed.DefaultVersion()) document = v->document;
  }
  return CompileIamPolicy(document, policy::PolicyKind::kIdentity, arn);
}

Result<std::optional<Entity>> FindEntity(storage::Transaction& txn, EntityKind kind, const std::string& account,
                                         const std::string& name) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamPrincipals, records::EntityKey(kind, account, name)));
  if (!value) return std::optional<Entity>();
  MERIDIAN_ASSIGN_OR_RETURN(auto e, records::DecodeEntity(*value));
  return std::optional<Entity>(std::move(e));
}

// A user's identity-based policies (its own and its groups') and boundary.
Status FillUser(storage::Transaction& txn, const Entity& user, Identity& identity) {
  MERIDIAN_RETURN_IF_ERROR(AddEntityPolicies(txn, user, identity.policies));
  for (const auto& group : user.group_names) {
    MERIDIAN_ASSIGN_OR_RETURN(auto g, FindEntity(txn, EntityKind::kGroup, user.account_id, group));
    if (g) MERIDIAN_RETURN_IF_ERROR(AddEntityPolicies(txn, *g, identity.policies));
  }
  MERIDIAN_ASSIGN_OR_RETURN(identity.permissions_boundary, LoadBoundary(txn, user.permissions_boundary_arn));
  identity.user_name = user.name;
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> TagPairs(const std::vector<Tag>& tags) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(tags.size());
  for (const auto& t : tags) out.emplace_back(t.key, t.value);
  return out;
}

}  // namespace

// ---- STS sessions.

Result<TemporaryCredentials> Directory::CreateRoleSession(const Entity& role, const RoleSessionSpec& spec) {
  for (const auto& doc : spec.session_policy_documents)
    MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(doc, policy::PolicyKind::kIdentity, "session-policy").status());
  const int64_t now = clock_.NowSeconds();
  TemporaryCredentials out;
  out.principal_arn =
      "arn:" + partition_ + ":sts::" + role.account_id + ":assumed-role/" + role.name + "/" + spec.session_name;
  out.assumed_role_id = role.id + ":" + spec.session_name;
  out.expiration = now + spec.duration_seconds;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("type");
  w.String("role");
  w.Key("account");
  w.String(role.account_id);
  w.Key("name");
  w.String(role.name);
  w.Key("role_path");
  w.String(role.path);
  w.Key("role_id");
  w.String(role.id);
  w.Key("session_name");
  w.String(spec.session_name);
  w.Key("source_identity");
  w.String(spec.source_identity);
  w.Key("policies");
  w.StartArray();
  for (const auto& doc : spec.session_policy_documents) w.String(doc);
  w.EndArray();
  w.Key("tags");
  records::WriteTags(w, spec.tags);
  w.Key("transitive");
  w.StartArray();
  for (const auto& k : spec.transitive_tag_keys) w.String(k);
  w.EndArray();
  if (spec.mfa_authenticated_at) {
    w.Key("mfa_at");
    w.Int64(*spec.mfa_authenticated_at);
  }
  w.EndObject();
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("AssumeRole", ChangeScope::kRegional));
  MERIDIAN_ASSIGN_OR_RETURN(auto cred, credentials_.StageSession(*txn, role.account_id, out.principal_arn, out.expiration,
                                                                 std::string_view(sb.GetString(), sb.GetSize())));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  credentials_.Invalidate(cred.access_key_id);
  out.access_key_id = std::move(cred.access_key_id);
  out.secret_access_key = std::move(cred.secret_access_key);
  out.session_token = std::move(cred.session_token);
  return out;
}

Result<TemporaryCredentials> Directory::CreateUserSession(const Entity& user, int64_t duration_seconds,
                                                          std::optional<int64_t> mfa_authenticated_at) {
  const int64_t now = clock_.NowSeconds();
  TemporaryCredentials out;
  out.principal_arn = user.arn;
  out.expiration = now + duration_seconds;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  // The account root user has no Entity of its own; callers pass one with an empty name.
  w.Key("type");
  w.String(user.name.empty() ? "root" : "user");
  w.Key("account");
  w.String(user.account_id);
  w.Key("name");
  w.String(user.name);
  if (mfa_authenticated_at) {
    w.Key("mfa_at");
    w.Int64(*mfa_authenticated_at);
  }
  w.EndObject();
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("GetSessionToken", ChangeScope::kRegional));
  MERIDIAN_ASSIGN_OR_RETURN(auto cred, credentials_.StageSession(*txn, user.account_id, out.principal_arn, out.expiration,
                                                                 std::string_view(sb.GetString(), sb.GetSize())));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  credentials_.Invalidate(cred.access_key_id);
  out.access_key_id = std::move(cred.access_key_id);
  out.secret_access_key = std::move(cred.secret_access_key);
  out.session_token = std::move(cred.session_token);
  return out;
}

// ---- Identities.

namespace {

Result<IdentityPtr> BuildSessionIdentity(storage::Transaction& txn, const std::string& partition,
                                         const std::string& access_key_id, const sigv4::CredentialRecord& record) {
  MERIDIAN_ASSIGN_OR_RETURN(auto data, CredentialStore::ReadSessionData(txn, access_key_id));
  if (!data) return IdentityPtr();
  rapidjson::Document doc;
  doc.Parse(data->data(), data->size());
  if (doc.HasParseError() || !doc.IsObject()) return errors::ServiceFailure("stored session is corrupt");
  auto identity = std::make_shared<Identity>();
  identity->temporary = true;
  identity->expires_at = record.expires_at;
  if (doc.HasMember("mfa_at") && doc["mfa_at"].IsInt64()) identity->mfa_authenticated_at = doc["mfa_at"].GetInt64();
  const std::string account = Str(doc, "account");
  const std::string name = Str(doc, "name");
  if (Str(doc, "type") == "root") {
    identity->kind = Identity::Kind::kRoot;
    identity->principal = std::make_shared<const policy::Principal>(policy::Principal::Root(partition, account));
    return IdentityPtr(std::move(identity));
  }
  if (Str(doc, "type") == "user") {
    identity->kind = Identity::Kind::kUserSession;
    MERIDIAN_ASSIGN_OR_RETURN(auto user, FindEntity(txn, EntityKind::kUser, account, name));
    if (!user) return IdentityPtr();  // the user was deleted: its sessions end with it
    MERIDIAN_RETURN_IF_ERROR(FillUser(txn, *user, *identity));
    auto principal = policy::Principal::User(partition, account, user->path, user->name, user->id);
    principal.tags = TagPairs(user->tags);
    identity->principal = std::make_shared<const policy::Principal>(std::move(principal));
    return IdentityPtr(std::move(identity));
  }
  identity->kind = Identity::Kind::kRoleSession;
  identity->role_name = name;
  identity->session_name = Str(doc, "session_name");
  std::string role_path = Str(doc, "role_path");
  std::string role_id = Str(doc, "role_id");
  std::vector<Tag> tags;
  MERIDIAN_ASSIGN_OR_RETURN(auto role, FindEntity(txn, EntityKind::kRole, account, name));
  if (role && role->id == role_id) {
    // A role deleted (or deleted and re-created) leaves its sessions without permissions.
    MERIDIAN_RETURN_IF_ERROR(AddEntityPolicies(txn, *role, identity->policies));
    MERIDIAN_ASSIGN_OR_RETURN(identity->permissions_boundary, LoadBoundary(txn, role->permissions_boundary_arn));
    tags = role->tags;
  }
  // Session tags override the role's tags with the same key (IAM User Guide, "Passing session
  // tags in STS": "session tags override a role tag with the same key").
  std::vector<Tag> session_tags = doc.HasMember("tags") ? records::ReadTags(doc["tags"]) : std::vector<Tag>{};
  for (const auto& st : session_tags) {
    std::erase_if(tags, [&](const Tag& t) { return records::Lower(t.key) == records::Lower(st.key); });
    tags.push_back(st);
  }
  if (doc.HasMember("policies") && doc["policies"].IsArray()) {
    size_t i = 0;
    for (const auto& p : doc["policies"].GetArray()) {
      if (!p.IsString()) continue;
      MERIDIAN_ASSIGN_OR_RETURN(auto compiled, CompileIamPolicy(std::string_view(p.GetString(), p.GetStringLength()),
                                                                policy::PolicyKind::kIdentity,
                                                                "session-policy-" + std::to_string(++i)));
      identity->session_policies.push_back(std::move(compiled));
    }
  }
  if (doc.HasMember("transitive") && doc["transitive"].IsArray())
    for (const auto& k : doc["transitive"].GetArray())
      if (k.IsString()) identity->transitive_tag_keys.emplace_back(k.GetString(), k.GetStringLength());
  auto principal = policy::Principal::AssumedRole(partition, account, role_path, name, identity->session_name, role_id);
  principal.tags = TagPairs(tags);
  identity->principal = std::make_shared<const policy::Principal>(std::move(principal));
  return IdentityPtr(std::move(identity));
}

}  // namespace

void Directory::DropCaches() { impl_->Changed(); }

IdentityPtr Directory::IdentityFor(std::string_view access_key_id) {
  const std::string id(access_key_id);
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->identities.find(id);
    if (it != impl_->identities.end()) return it->second;
  }
  const uint64_t generation = impl_->Generation();
  auto record = credentials_.Lookup(id);
  if (!record) return nullptr;
  auto txn = storage_.BeginRead();
  if (!txn.ok()) return nullptr;
  IdentityPtr built;
  if (record->session_token) {
    auto s = BuildSessionIdentity(**txn, partition_, id, *record);
    if (!s.ok()) return nullptr;
    built = *s;
  } else {
    auto meta = CredentialStore::ReadKeyMetadata(**txn, id);
    if (!meta.ok() || !*meta) return nullptr;
    const std::string root_arn = "arn:" + partition_ + ":iam::" + record->account_id + ":root";
    auto identity = std::make_shared<Identity>();
    if (record->principal_arn == root_arn) {
      identity->kind = Identity::Kind::kRoot;
      identity->principal =
          std::make_shared<const policy::Principal>(policy::Principal::Root(partition_, record->account_id));
    } else {
      std::string user_name = (*meta)->user_name;
      if (user_name.empty()) {
        auto arn = records::ParseIamArn(record->principal_arn);
        if (!arn || arn->type != "user") return nullptr;
        user_name = arn->name;
      }
      auto user = FindEntity(**txn, EntityKind::kUser, record->account_id, user_name);
      if (!user.ok() || !*user) return nullptr;
      identity->kind = Identity::Kind::kUser;
      if (!FillUser(**txn, **user, *identity).ok()) return nullptr;
      auto principal = policy::Principal::User(partition_, record->account_id, (*user)->path, (*user)->name, (*user)->id);
      principal.tags = TagPairs((*user)->tags);
      identity->principal = std::make_shared<const policy::Principal>(std::move(principal));
    }
    built = std::move(identity);
  }
  if (!built) return nullptr;
  std::unique_lock lock(impl_->mu);
  if (impl_->generation == generation && impl_->identities.size() < 100000) impl_->identities[id] = built;
  return built;
}

std::shared_ptr<const Entity> Directory::RoleByArn(const std::string& role_arn) {
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->roles.find(role_arn);
    if (it != impl_->roles.end()) return it->second;
  }
  const uint64_t generation = impl_->Generation();
  auto arn = records::ParseIamArn(role_arn);
  if (!arn || arn->type != "role" || arn->partition != partition_) return nullptr;
  auto txn = storage_.BeginRead();
  if (!txn.ok()) return nullptr;
  auto role = FindEntity(**txn, EntityKind::kRole, arn->account, arn->name);
  if (!role.ok() || !*role || (*role)->arn != role_arn) return nullptr;
  auto shared = std::make_shared<const Entity>(std::move(**role));
  std::unique_lock lock(impl_->mu);
  if (impl_->generation == generation && impl_->roles.size() < 100000) impl_->roles[role_arn] = shared;
  return shared;
}

policy::PolicyPtr Directory::TrustPolicy(const std::string& role_arn) {
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->trust_policies.find(role_arn);
    if (it != impl_->trust_policies.end()) return it->second;
  }
  const uint64_t generation = impl_->Generation();
  auto role = RoleByArn(role_arn);
  if (!role) return nullptr;
  auto compiled = CompileIamPolicy(role->assume_role_policy_document, policy::PolicyKind::kTrust,
                                   "trust-policy:" + role_arn);
  if (!compiled.ok()) return nullptr;
  std::unique_lock lock(impl_->mu);
  if (impl_->generation == generation && impl_->trust_policies.size() < 100000)
    impl_->trust_policies[role_arn] = *compiled;
  return *compiled;
}

}  // namespace meridian::iam
