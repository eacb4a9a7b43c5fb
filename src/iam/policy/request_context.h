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
// A RequestContext is built by one thread and then only read; concurrent const use is safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
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

class RequestContext {
 public:
  // `action` is "service:Action" (e.g. "kms:Decrypt"); `resource` is the resource ARN, or "*" for
  // actions that take no resource (e.g. kms:CreateKey).
  RequestContext(Principal principal, std::string action, std::string resource);

  const Principal& principal() const { return principal_; }
  const std::string& action() const { return action_; }
  const std::string& action_lower() const { return action_lower_; }  // for Action matching
  const std::string& resource() const { return resource_; }

  // Replaces the values of `key` (case-insensitive).
  void Set(std::string_view key, std::string value);
  void SetValues(std::string_view key, std::vector<std::string> values);
  // Appends one value to `key` (multivalued keys such as aws:TagKeys).
  void Add(std::string_view key, std::string value);
  void Erase(std::string_view key);
  // Sets aws:CurrentTime (ISO 8601, UTC) and aws:EpochTime (seconds) from epoch milliseconds.
  void SetRequestTime(int64_t epoch_millis);

  // The values of `key`, or nullptr when the key is absent. Case-insensitive.
  const std::vector<std::string>* Find(std::string_view key) const;
  // Same, for a key already in lower case (the compiled policy stores keys that way): no
  // allocation.
  const std::vector<std::string>* FindLower(std::string_view lower_key) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  Principal principal_;
  std::string action_;
  std::string action_lower_;
  std::string resource_;
  std::unordered_map<std::string, std::vector<std::string>, Hash, std::equal_to<>> keys_;
};

}  // namespace meridian::iam::policy
