// Condition: one compiled (operator, key, values) entry of a statement's Condition block.
//
// Semantics (IAM User Guide; section names in quotes):
//  - "Condition operators": String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress,
//    Arn* and Null, each with an ...IfExists variant except Null.
//  - Several values for one key are ORed ("Creating a condition with multiple keys or values" >
//    "Evaluation logic"); for a negated operator (StringNotEquals, StringNotLike, ...,
//    NotIpAddress, ArnNotEquals/ArnNotLike) a request value matches when it matches none of them.
//  - "Condition operators" (Important box): when the key is absent from the request the
//    condition is false, except that negated operators are true; ...IfExists is true when the key
//    is absent; Null "true" tests that the key is absent, "false" that it is present.
//  - "Creating a condition with multiple keys or values": ForAllValues: true when every request
//    value matches (and when the key is absent or its values are an empty set, e.g. "");
//    ForAnyValue: true when at least one request value matches (false when absent or empty).
//  - A request key with several values and no set qualifier: Meridian treats it like
//    ForAnyValue (the documentation says multivalued keys require a set operator and does not
//    define the unqualified case); with one value both readings agree.
//  - "Variables and tags": variables are allowed in the values of String, Arn and Bool
//    operators only (Version 2012-10-17); Numeric, Date, Binary, IpAddress and Null values are
//    validated and converted once at compile time.
//
// Immutable after Compile; Evaluate is const and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "iam/policy/arn.h"
#include "iam/policy/pattern.h"
#include "iam/policy/values.h"

namespace meridian::iam::policy {

enum class ConditionOp : uint8_t {
  kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
  kStringLike, kStringNotLike,
  kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
  kNumericGreaterThan, kNumericGreaterThanEquals,
  kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals, kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool,
  kBinaryEquals,
  kIpAddress, kNotIpAddress,
  kArnEquals, kArnLike, kArnNotEquals, kArnNotLike,
  kNull,
};

enum class SetQualifier : uint8_t { kNone, kForAllValues, kForAnyValue };

struct ConditionOperator {
  ConditionOp op = ConditionOp::kStringEquals;
  SetQualifier set = SetQualifier::kNone;
  bool if_exists = false;

  // "ForAnyValue:StringLikeIfExists" and the like; nullopt for an unknown name.
  static std::optional<ConditionOperator> Parse(std::string_view name);
  bool negated() const;
};

class Condition {
 public:
  enum class Outcome : uint8_t { kFalse, kTrue, kInvalid };  // kInvalid: unresolvable variable

  // `values` as written in the policy (JSON numbers and booleans already turned into text).
  // `variables`: the policy's Version is 2012-10-17.
  static Result<Condition> Compile(const ConditionOperator& op, std::string_view key,
                                   const std::vector<std::string>& values, bool variables);

  Outcome Evaluate(const RequestContext& context) const;

  const ConditionOperator& op() const { return op_; }
  const std::string& key() const { return key_; }        // lower case
  const std::vector<std::string>& values() const { return sources_; }  // as written

 private:
  enum class Compare : int8_t { kNoMatch, kMatch, kInvalid };
  // Does one request value satisfy the (un-negated) operator against policy value `i`?
  Compare Positive(std::string_view value, size_t i, const RequestContext& context) const;
  // Does one request value satisfy the operator (negation applied) against all policy values?
  Compare MatchValue(std::string_view value, const RequestContext& context) const;

  ConditionOperator op_;
  std::string key_;
  std::vector<std::string> sources_;
  bool has_variables_ = false;
  std::vector<Pattern> patterns_;     // String*, Bool
  std::vector<ArnPattern> arns_;      // Arn*
  std::vector<double> numbers_;       // Numeric*
  std::vector<int64_t> dates_;        // Date*, epoch milliseconds
  std::vector<IpNetwork> networks_;   // IpAddress / NotIpAddress
  std::vector<std::string> binaries_; // BinaryEquals, decoded bytes
  bool null_true_ = false, null_false_ = false;  // Null: which of "true"/"false" were given
};

}  // namespace meridian::iam::policy
