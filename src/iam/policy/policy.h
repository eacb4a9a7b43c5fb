// Policy: an IAM policy document, validated and compiled once.
//
// Parse() checks a JSON policy document against the IAM policy grammar (IAM User Guide,
// "IAM JSON policy element reference" and "Grammar of the IAM JSON policy language") and compiles
// it into an immutable form that the evaluator matches without re-parsing: lower-cased action
// patterns, per-segment ARN patterns, typed condition values (numbers, dates, CIDRs, base64).
//
// Accepted: Version ("2008-10-17", the default when absent, or "2012-10-17"; policy variables are
// recognised only with 2012-10-17), Id, Statement (one object or a non-empty array); per
// statement Sid (unique within the policy when non-empty), Effect, Principal / NotPrincipal
// ("*", {"AWS"|"Service"|"Federated": string or array}), Action / NotAction, Resource /
// NotResource, Condition (see condition.h for the operators). Rejected with
// MalformedPolicyDocumentException and a message naming the statement (1-based, with its Sid)
// and the element: unknown or duplicate elements, both X and NotX, missing Effect / Action /
// Resource (Resource may be omitted in role trust policies), a Principal in an identity-based
// policy or none in a resource-based one, partial wildcards in principals, malformed actions,
// resources, condition operators or condition values, documents over max_document_bytes.
//
// A Policy is immutable and shared (PolicyPtr): evaluate it from any number of threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace meridian::iam::policy {

struct Statement;

enum class PolicyKind : uint8_t {
  kIdentity,  // user / group / role policies, permissions boundaries, session policies
  kResource,  // key policies, secret resource policies: Principal required
  kTrust,     // role trust policies: Principal required, Resource optional
};

enum class PolicyVersion : uint8_t { k2008_10_17, k2012_10_17 };

struct ParseOptions {
  PolicyKind kind = PolicyKind::kIdentity;
  std::string id{};  // how decisions name this policy (e.g. a policy ARN, "key-policy"); defaults
                   // to the document's Id element
  size_t max_document_bytes = 128 * 1024;
};

inline constexpr std::string_view kMalformedPolicyDocument = "MalformedPolicyDocumentException";

class Policy;
using PolicyPtr = std::shared_ptr<const Policy>;

class Policy {
 public:
  static Result<PolicyPtr> Parse(std::string_view document, const ParseOptions& options = {});

  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const std::string& id() const { return id_; }
  const std::string& document_id() const { return document_id_; }  // the "Id" element
  PolicyKind kind() const { return kind_; }
  PolicyVersion version() const { return version_; }

  size_t statement_count() const;
  // The compiled statement (statement.h); valid as long as the Policy lives.
  const Statement& statement(size_t index) const;

 private:
  Policy();
  friend class PolicyParser;

  std::string id_;
  std::string document_id_;
  PolicyKind kind_ = PolicyKind::kIdentity;
  PolicyVersion version_ = PolicyVersion::k2008_10_17;
  std::vector<Statement> statements_;
};

}  // namespace meridian::iam::policy
