// RequestContext: everything the policy evaluator knows about one request.
//
// AWS evaluates a request against its "request context": the principal making it, the action,
// the resource, and environment/resource data exposed as condition keys (IAM User Guide, "Policy
// evaluation logic" > "Processing the request context"). This class holds that context.
//
// Condition keys map a key name to one or more string values. Key names are case-insensitive
// ("Condition element": "Context key names are not case-sensitive"), including the tag-key part of
// aws:PrincipalTag/<key>, aws:ResourceTag/<key> and kms:EncryptionContext:<key>; keys are stored
// lower-cased. Values are kept exactly as given; the evaluator converts them per operator
// (numbers, ISO 8601 / epoch dates, IP addresses, "true"/"false"). Values of binary keys
// (BinaryEquals) are the raw bytes. A key with no values counts as absent.
//
// Constructing a context from a Principal fills the principal-derived global keys
// (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username,
// aws:PrincipalTag/*, aws:PrincipalIsAWSService, aws:PrincipalServiceName) as the IAM User Guide
// "AWS global condition context keys" and "Policy variables > Principal key values" describe.
// Callers add the rest (aws:RequestedRegion, aws:SourceIp or aws:SourceVpce, aws:SecureTransport,
// aws:CurrentTime/aws:EpochTime via SetRequestTime, kms:* keys, ...).
//
// Storage is allocation-light: text lives in an append-only arena and keys in a small flat index
// (a context typically holds 10-20 keys), so building one costs a handful of allocations.
// A RequestContext is built by one thread and then only read; concurrent const use is safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meridian::iam::policy {

enum class PrincipalType {
  kAnonymous,      // unauthenticated
  kRoot,           // the account root user: arn:aws:iam::<account>:root
  kUser,           // an IAM user: arn:aws:iam::<account>:user/<path><name>
  kAssumedRole,    // a role session: arn:aws:sts::<account>:assumed-role/<role>/<session>
  kFederatedUser,  // a GetFederationToken session: arn:aws:sts::<account>:federated-user/<name>
  kService,        // an AWS service principal, e.g. "rds.amazonaws.com"
  kFederated,      // a web-identity / SAML identity presenting itself to a role trust policy
};

// Who makes the request. Only the fields that apply to `type` are used.
struct Principal {
  PrincipalType type = PrincipalType::kAnonymous;
  std::string arn;      // the caller's ARN as AWS reports it (error messages, Principal matching)
  std::string account;  // 12-digit account id (empty for anonymous, service, federated)
  std::string role_arn;         // kAssumedRole: the IAM role's ARN, path included
  std::string source_user_arn;  // kFederatedUser: the IAM user that called GetFederationToken
  std::string service;          // kService: the service principal name
  std::string provider;         // kFederated: the identity provider ("accounts.google.com", ARN)
  std::string user_id;          // aws:userid (AIDA..., "AROA...:session", account id for root)
  std::string user_name;        // aws:username (IAM users only)
  std::vector<std::pair<std::string, std::string>> tags;  // aws:PrincipalTag/<key> = value

  static Principal Anonymous();
  static Principal Root(std::string_view partition, std::string_view account);
  static Principal User(std::string_view partition, std::string_view account, std::string_view path,
                        std::string_view name, std::string_view user_id);
  // role_path is "/" or "/a/b/"; the session ARN omits it, the role ARN keeps it.
  static Principal AssumedRole(std::string_view partition, std::string_view account,
                               std::string_view role_path, std::string_view role_name,
                               std::string_view session_name, std::string_view role_id);
  static Principal Service(std::string_view service_name);
};

std::string_view PrincipalTypeName(PrincipalType type);  // aws:PrincipalType value, e.g. "User"

// The values of one condition key; empty when the key is absent.
using ContextValues = std::span<const std::string_view>;

class RequestContext {
 public:
  // `action` is "service:Action" (e.g. "kms:Decrypt"); `resource` is the resource ARN, or "*" for
  // actions that take no resource (e.g. kms:CreateKey). The shared form lets the request pipeline
  // reuse one immutable Principal per credential.
  RequestContext(std::shared_ptr<const Principal> principal, std::string_view action, std::string_view resource);
  RequestContext(Principal principal, std::string_view action, std::string_view resource);

  RequestContext(RequestContext&&) noexcept = default;
  RequestContext& operator=(RequestContext&&) noexcept = default;
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  const Principal& principal() const { return *principal_; }
  std::string_view action() const { return action_; }
  std::string_view action_lower() const { return action_lower_; }  // for Action matching
  std::string_view resource() const { return resource_; }

  // Replaces the values of `key` (case-insensitive). Values are copied.
  void Set(std::string_view key, std::string_view value);
  void SetValues(std::string_view key, std::span<const std::string> values);
  void SetValues(std::string_view key, std::initializer_list<std::string_view> values);
  // Appends one value to `key` (multivalued keys such as aws:TagKeys).
  void Add(std::string_view key, std::string_view value);
  void Erase(std::string_view key);
  // Sets aws:CurrentTime (ISO 8601, UTC) and aws:EpochTime (seconds) from epoch milliseconds.
  void SetRequestTime(int64_t epoch_millis);

  // The values of `key`, case-insensitive; empty when absent. The span is valid until the
  // context is next modified; the string_views in it for the context's lifetime.
  ContextValues Find(std::string_view key) const;
  // Same, for a key already in lower case (compiled policies store keys that way).
  ContextValues FindLower(std::string_view lower_key) const;

  // What-if evaluation (the blast-radius analysis; never on the request path). `lower_prefixes`
  // name condition keys whose value the analysis cannot know (aws:SourceIp, kms:EncryptionContext:
  // ...). While set, a condition on such a key that the context does not supply counts as met in
  // an Allow statement and unmet in a Deny statement — the most permissive outcome — and the key
  // is appended to `*assumed` (if not already there). Both must outlive the evaluations; pass an
  // empty span to stop.
  void AssumeUnknownKeys(std::span<const std::string> lower_prefixes, std::vector<std::string>* assumed) {
    unknown_prefixes_ = lower_prefixes;
    assumed_ = assumed;
  }
  bool assumes_unknown_keys() const { return !unknown_prefixes_.empty(); }
  // True when `lower_key` is unknown (see above) and absent; records it in `*assumed`.
  bool AssumeIfUnknown(std::string_view lower_key) const;

 private:
  struct Entry {
    std::string_view key;  // lower case, in the arena
    uint32_t begin = 0;    // into values_
    uint32_t count = 0;
  };
  // Append-only text storage in fixed blocks: views into it never move.
  class Arena {
   public:
    Arena() = default;
    Arena(Arena&& other) noexcept { *this = std::move(other); }
    Arena& operator=(Arena&& other) noexcept {  // the moved-from arena is left empty, not aliased
      blocks_ = std::move(other.blocks_);
      next_ = std::exchange(other.next_, nullptr);
      left_ = std::exchange(other.left_, 0);
      other.blocks_.clear();
      return *this;
    }
    std::string_view Copy(std::string_view text, bool lower = false);

   private:
    std::vector<std::unique_ptr<char[]>> blocks_;
    char* next_ = nullptr;
    size_t left_ = 0;
  };

  Entry* FindEntry(std::string_view lower_key);
  const Entry* FindEntry(std::string_view lower_key) const;
  Entry& EntryFor(std::string_view key);  // creates it (no values) when missing
  // Values that live as long as the context (the principal's strings): no copy.
  void SetStable(std::string_view lower_key, std::string_view value);

  std::shared_ptr<const Principal> principal_;
  Arena arena_;
  std::string_view action_;
  std::string_view action_lower_;
  std::string_view resource_;
  std::vector<Entry> entries_;
  std::vector<std::string_view> values_;
  std::span<const std::string> unknown_prefixes_;
  std::vector<std::string>* assumed_ = nullptr;
};

}  // namespace meridian::iam::policy
