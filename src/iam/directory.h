// Directory: the IAM data model of every account in the deployment — users, groups, roles,
// managed policies, inline policies and attachments, virtual MFA devices, access keys and STS
// sessions — stored through storage::Storage, one transaction per change.
//
// Invariants:
//  - Names of users, groups, roles, policies and MFA devices are unique per account without
//    regard to case (IAM: "names are not distinguished by case"); the stored form keeps the case
//    the caller gave.
//  - Every policy document is validated by iam::policy::Policy::Parse before it is stored
//    (MalformedPolicyDocument otherwise); a stored document always compiles.
//  - Secrets (access key secrets, session secrets and tokens, MFA seeds) are stored only wrapped
//    under the root key, with AAD naming what is wrapped.
//  - A failed call changes nothing. After a successful write the identity cache is dropped and
//    the CredentialStore forgets keys whose status changed, so an inactive or deleted key, a
//    detached policy or a removed group membership takes effect on the next request.
//
// Errors use the IAM Query error codes (iam/errors.h): NoSuchEntity, EntityAlreadyExists,
// DeleteConflict, LimitExceeded, MalformedPolicyDocument, InvalidInput,
// InvalidAuthenticationCode.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/root_key.h"
#include "iam/credential_store.h"
#include "iam/global_iam.h"
#include "iam/identity.h"
#include "iam/policy/policy.h"
#include "replication/peer_link.h"
#include "replication/replication.h"
#include "storage/storage.h"

namespace meridian::iam {

enum class EntityKind : uint8_t { kUser, kGroup, kRole };
std::string_view EntityKindName(EntityKind kind);  // "user", "group", "role"

struct Tag {
  std::string key;
  std::string value;
};

// An IAM user, group or role. Fields marked for one kind are empty for the others.
struct Entity {
  EntityKind kind = EntityKind::kUser;
  std::string account_id;
  std::string name;
  std::string path = "/";
  std::string id;   // AIDA... / AGPA... / AROA...
  std::string arn;  // arn:aws:iam::<account>:<kind>/<path without leading '/'><name>
  int64_t create_date = 0;  // epoch seconds
  std::vector<Tag> tags;                                // users, roles
  std::string permissions_boundary_arn;                 // users, roles
  std::map<std::string, std::string> inline_policies;   // policy name -> document
  std::vector<std::string> attached_policy_arns;
  std::vector<std::string> group_names;     // users: groups the user belongs to
  std::vector<std::string> access_key_ids;  // users
  std::vector<std::string> mfa_serials;     // users: enabled MFA devices
  std::string assume_role_policy_document;  // roles
  std::string description;                  // roles
  int64_t max_session_duration = 3600;      // roles, seconds (3600..43200)
};

struct PolicyVersionRecord {
  std::string version_id;  // "v1", "v2", ...
  std::string document;
  int64_t create_date = 0;
};

// A customer managed policy. At most kMaxPolicyVersions versions; exactly one is the default.
struct ManagedPolicy {
  std::string account_id;
  std::string name;
  std::string path = "/";
  std::string id;  // ANPA...
  std::string arn;
  std::string description;
  std::string default_version_id;
  std::vector<PolicyVersionRecord> versions;  // ascending version number
  int64_t next_version = 2;
  int64_t attachment_count = 0;
  int64_t boundary_usage_count = 0;
  int64_t create_date = 0;
  int64_t update_date = 0;
  std::vector<Tag> tags;

  const PolicyVersionRecord* DefaultVersion() const;
};

struct AccessKeyMetadata {
  std::string access_key_id;
  std::string user_name;
  std::string status;  // "Active" | "Inactive"
  int64_t create_date = 0;
};

// CreateAccessKey's answer: the secret is returned once and never stored in the clear.
struct NewAccessKey {
  AccessKeyMetadata metadata;
  std::string secret_access_key;
};

struct MfaDevice {
  std::string serial_number;  // arn:aws:iam::<account>:mfa/<path><name>
  std::string account_id;
  std::string name;
  std::string path = "/";
  std::string user_name;  // empty until enabled for a user
  int64_t enable_date = 0;
  std::vector<Tag> tags;
};

struct NewVirtualMfaDevice {
  MfaDevice device;
  std::string base32_seed;  // the seed for the authenticator app, returned once
};

// Temporary credentials issued by STS.
struct TemporaryCredentials {
  std::string access_key_id;  // "ASIA" + 16 base32 characters
  std::string secret_access_key;
  std::string session_token;
  int64_t expiration = 0;       // epoch seconds
  std::string principal_arn;    // arn:aws:sts::<acct>:assumed-role/<role>/<session>, or the user ARN
  std::string assumed_role_id;  // "<role id>:<session name>" (AssumeRole only)
};

// What AssumeRole asks for, already validated by the caller (StsService).
struct RoleSessionSpec {
  std::string session_name;
  int64_t duration_seconds = 3600;
  std::vector<std::string> session_policy_documents;  // the inline Policy, and each PolicyArns default version
  std::vector<Tag> tags;                              // session tags (incl. transitive ones inherited)
  std::vector<std::string> transitive_tag_keys;
  std::optional<int64_t> mfa_authenticated_at;
  std::string source_identity;
};

inline constexpr size_t kMaxAccessKeysPerUser = 2;
inline constexpr size_t kMaxPolicyVersions = 5;
inline constexpr size_t kMaxManagedPoliciesPerEntity = 10;
inline constexpr size_t kMaxTagsPerEntity = 50;

class Directory {
 public:
  // `storage`, `root_key`, `credentials` and `clock` must outlive the Directory.
  Directory(storage::Storage& storage, const crypto::RootKey& root_key, CredentialStore& credentials,
            const Clock& clock = SystemClock::Instance(), std::string partition = "aws");
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  const std::string& partition() const { return partition_; }
  const Clock& clock() const { return clock_; }
  CredentialStore& credentials() { return credentials_; }

  // ---- Users, groups, roles.
  Result<Entity> CreateUser(const std::string& account, const std::string& name, const std::string& path,
                            const std::vector<Tag>& tags, const std::string& boundary_arn);
  Result<Entity> CreateGroup(const std::string& account, const std::string& name, const std::string& path);
  Result<Entity> CreateRole(const std::string& account, const std::string& name, const std::string& path,
                            const std::string& trust_policy, const std::string& description,
                            int64_t max_session_duration, const std::vector<Tag>& tags,
                            const std::string& boundary_arn);
  Result<Entity> Get(EntityKind kind, const std::string& account, const std::string& name);
  // Sorted by name; only those whose path starts with `path_prefix`.
  Result<std::vector<Entity>> List(EntityKind kind, const std::string& account, const std::string& path_prefix = "/");
  // DeleteConflict while a user still has access keys, inline or attached policies, groups or
  // MFA devices, a group still has members or policies, a role still has policies.
  Status Delete(EntityKind kind, const std::string& account, const std::string& name);

  Status TagEntity(EntityKind kind, const std::string& account, const std::string& name, const std::vector<Tag>& tags);
  Status UntagEntity(EntityKind kind, const std::string& account, const std::string& name,
               const std::vector<std::string>& keys);
  Status UpdateAssumeRolePolicy(const std::string& account, const std::string& role, const std::string& document);
  Status UpdateRole(const std::string& account, const std::string& role, std::optional<std::string> description,
                    std::optional<int64_t> max_session_duration);
  // Users and roles. The policy must be an existing managed policy.
  Status PutPermissionsBoundary(EntityKind kind, const std::string& account, const std::string& name,
                                const std::string& policy_arn);
  Status DeletePermissionsBoundary(EntityKind kind, const std::string& account, const std::string& name);

  Status AddUserToGroup(const std::string& account, const std::string& group, const std::string& user);
  Status RemoveUserFromGroup(const std::string& account, const std::string& group, const std::string& user);
  Result<std::vector<Entity>> GroupMembers(const std::string& account, const std::string& group);

  // ---- Inline policies.
  Status PutInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                         const std::string& policy_name, const std::string& document);
  Result<std::string> GetInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                                      const std::string& policy_name);
  Status DeleteInlinePolicy(EntityKind kind, const std::string& account, const std::string& name,
                            const std::string& policy_name);

  // ---- Managed policies.
  Result<ManagedPolicy> CreatePolicy(const std::string& account, const std::string& name, const std::string& path,
                                     const std::string& document, const std::string& description,
                                     const std::vector<Tag>& tags);
  // Customer managed (stored) or AWS managed (shipped, iam/aws_managed_policies.h) policies. For
  // an AWS managed policy the attachment and boundary counts are those of `for_account` (zero
  // when empty).
  Result<ManagedPolicy> GetPolicy(const std::string& policy_arn, const std::string& for_account = "");
  // The account's customer managed policies.
  Result<std::vector<ManagedPolicy>> ListPolicies(const std::string& account, const std::string& path_prefix = "/");
  // The shipped AWS managed policies, with `account`'s attachment and boundary counts.
  Result<std::vector<ManagedPolicy>> ListAwsManagedPolicies(const std::string& account,
                                                            const std::string& path_prefix = "/");
  // DeleteConflict while attached, used as a boundary, or holding non-default versions. AWS
  // managed policies cannot be deleted or changed (AccessDenied, here and in the version calls).
  Status DeletePolicy(const std::string& policy_arn);
  // LimitExceeded beyond kMaxPolicyVersions versions.
  Result<PolicyVersionRecord> CreatePolicyVersion(const std::string& policy_arn, const std::string& document,
                                                  bool set_as_default);
  Status DeletePolicyVersion(const std::string& policy_arn, const std::string& version_id);
  Status SetDefaultPolicyVersion(const std::string& policy_arn, const std::string& version_id);
  Status AttachPolicy(EntityKind kind, const std::string& account, const std::string& name,
                      const std::string& policy_arn);
  Status DetachPolicy(EntityKind kind, const std::string& account, const std::string& name,
                      const std::string& policy_arn);

  // ---- Access keys (users only). At most kMaxAccessKeysPerUser per user.
  Result<NewAccessKey> CreateAccessKey(const std::string& account, const std::string& user);
  // status: "Active" | "Inactive".
  Status UpdateAccessKey(const std::string& account, const std::string& user, const std::string& access_key_id,
                         const std::string& status);
  Status DeleteAccessKey(const std::string& account, const std::string& user, const std::string& access_key_id);
  Result<std::vector<AccessKeyMetadata>> ListAccessKeys(const std::string& account, const std::string& user);
  // The user an access key belongs to ("" for root or session keys), for calls that default
  // UserName to the caller.
  Result<std::string> UserOfAccessKey(const std::string& access_key_id);

  // ---- Virtual MFA devices (TOTP, RFC 6238: HMAC-SHA-1, 6 digits, 30 s).
  Result<NewVirtualMfaDevice> CreateVirtualMfaDevice(const std::string& account, const std::string& name,
                                                     const std::string& path, const std::vector<Tag>& tags);
  // Two consecutive codes (InvalidAuthenticationCode otherwise); the device must be unassigned.
  Status EnableMfaDevice(const std::string& account, const std::string& user, const std::string& serial_number,
                         const std::string& code1, const std::string& code2);
  Status DeactivateMfaDevice(const std::string& account, const std::string& user, const std::string& serial_number);
  Status DeleteVirtualMfaDevice(const std::string& serial_number);
  // Devices enabled for `user`; all of the account's virtual devices when user is empty and
  // `include_unassigned`.
  Result<std::vector<MfaDevice>> ListMfaDevices(const std::string& account, const std::string& user,
                                                bool include_unassigned = false);
  // OK when `code` is the current TOTP code (±1 step) of the device `serial_number`, enabled for
  // `user` (any user when empty). AccessDenied "MultiFactorAuthentication failed ..." otherwise.
  Status VerifyMfaCode(const std::string& serial_number, const std::string& user, const std::string& code);

  // ---- STS sessions. The credentials are stored (secret and token wrapped) and resolvable at
  // once through CredentialStore::Lookup until they expire.
  Result<TemporaryCredentials> CreateRoleSession(const Entity& role, const RoleSessionSpec& spec);
  // GetSessionToken: the user's own permissions (for the account root, pass an Entity with an
  // empty name, account_id set and arn = the root ARN).
  Result<TemporaryCredentials> CreateUserSession(const Entity& user, int64_t duration_seconds,
                                                 std::optional<int64_t> mfa_authenticated_at);

  // Drops every identity, role and trust policy cached from storage (for changes committed by
  // another frontend sharing the storage, storage/change_feed.h).
  void DropCaches();

  // ---- Authorization support (hot path: served from memory after the first call).
  // The identity behind an access key (root, user, or session); null when the key is unknown,
  // inactive, or its user / session no longer exists.
  IdentityPtr IdentityFor(std::string_view access_key_id);
  // The role an ARN names (path included), or null when there is none.
  std::shared_ptr<const Entity> RoleByArn(const std::string& role_arn);
  // The role's compiled trust policy (id "trust-policy:<role arn>"); null when the role is unknown.
  policy::PolicyPtr TrustPolicy(const std::string& role_arn);

  // ---- Global IAM (iam/global_iam.h). MakeGlobal is called once, before requests are served;
  // without it the Directory is its own home and propagates nothing.
  void MakeGlobal(GlobalIamOptions options);
  bool IsHomeRegion() const;
  // What a non-home region answers to the IAM change `operation`: UnsupportedOperation (400)
  // naming the home region and its endpoint.
  Status NotHomeRegion(std::string_view operation) const;
  // Applies "iam." messages from the other regions (handlers registered on `inbox`).
  void RegisterReplicationHandlers(replication::Inbox& inbox);
  // Adds the secrets of the rows an "iam." message names, for the mutual-TLS peer link.
  replication::Expander ReplicationExpander();

  // Arn helpers.
  std::string ArnFor(EntityKind kind, const std::string& account, const std::string& path,
                     const std::string& name) const;
  std::string PolicyArn(const std::string& account, const std::string& path, const std::string& name) const;

 private:
  class Impl;
  // A write transaction for `operation` that enqueues the IAM rows it writes for every peer when
  // it commits. kGlobal changes are refused outside the home region; kRegional ones (STS
  // sessions) are made anywhere.
  enum class ChangeScope { kGlobal, kRegional };
  Result<std::unique_ptr<storage::Transaction>> BeginChange(std::string operation, ChangeScope scope);
  Status ApplyReplicated(storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry);
  void AfterReplicatedCommit(const replication::WireEntry& entry);
  Result<std::string> ExpandForWire(const replication::Message& message);

  std::unique_ptr<Impl> impl_;
  GlobalIamOptions global_;
  storage::Storage& storage_;
  const crypto::RootKey& root_key_;
  CredentialStore& credentials_;
  const Clock& clock_;
  std::string partition_;
};

// Compiles a policy document (kind identity / trust) and maps the parser's error to IAM's
// MalformedPolicyDocument code.
Result<policy::PolicyPtr> CompileIamPolicy(std::string_view document, policy::PolicyKind kind, std::string id);

}  // namespace meridian::iam
