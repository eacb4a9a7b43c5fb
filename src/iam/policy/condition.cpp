#include "iam/policy/condition.h"

#include <array>
#include <utility>

#include "common/encoding.h"
#include "iam/policy/request_context.h"
#include "iam/policy/text.h"

namespace meridian::iam::policy {

namespace {

struct OpName {
  std::string_view name;
  ConditionOp op;
};

constexpr std::array<OpName, 27> kOperators = {{
    {"StringEquals", ConditionOp::kStringEquals},
    {"StringNotEquals", ConditionOp::kStringNotEquals},
    {"StringEqualsIgnoreCase", ConditionOp::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", ConditionOp::kStringNotEqualsIgnoreCase},
    {"StringLike", ConditionOp::kStringLike},
    {"StringNotLike", ConditionOp::kStringNotLike},
    {"NumericEquals", ConditionOp::kNumericEquals},
    {"NumericNotEquals", ConditionOp::kNumericNotEquals},
    {"NumericLessThan", ConditionOp::kNumericLessThan},
    {"NumericLessThanEquals", ConditionOp::kNumericLessThanEquals},
    {"NumericGreaterThan", ConditionOp::kNumericGreaterThan},
    {"NumericGreaterThanEquals", ConditionOp::kNumericGreaterThanEquals},
    {"DateEquals", ConditionOp::kDateEquals},
    {"DateNotEquals", ConditionOp::kDateNotEquals},
    {"DateLessThan", ConditionOp::kDateLessThan},
    {"DateLessThanEquals", ConditionOp::kDateLessThanEquals},
    {"DateGreaterThan", ConditionOp::kDateGreaterThan},
    {"DateGreaterThanEquals", ConditionOp::kDateGreaterThanEquals},
    {"Bool", ConditionOp::kBool},
    {"BinaryEquals", ConditionOp::kBinaryEquals},
    {"IpAddress", ConditionOp::kIpAddress},
    {"NotIpAddress", ConditionOp::kNotIpAddress},
    {"ArnEquals", ConditionOp::kArnEquals},
    {"ArnLike", ConditionOp::kArnLike},
    {"ArnNotEquals", ConditionOp::kArnNotEquals},
    {"ArnNotLike", ConditionOp::kArnNotLike},
    {"Null", ConditionOp::kNull},
}};

enum class Family { kString, kNumeric, kDate, kBool, kBinary, kIp, kArn, kNull };

Family FamilyOf(ConditionOp op) {
  switch (op) {
    case ConditionOp::kStringEquals:
    case ConditionOp::kStringNotEquals:
    case ConditionOp::kStringEqualsIgnoreCase:
    case ConditionOp::kStringNotEqualsIgnoreCase:
    case ConditionOp::kStringLike:
    case ConditionOp::kStringNotLike:
      return Family::kString;
    case ConditionOp::kNumericEquals:
    case ConditionOp::kNumericNotEquals:
    case ConditionOp::kNumericLessThan:
    case ConditionOp::kNumericLessThanEquals:
    case ConditionOp::kNumericGreaterThan:
    case ConditionOp::kNumericGreaterThanEquals:
      return Family::kNumeric;
    case ConditionOp::kDateEquals:
    case ConditionOp::kDateNotEquals:
    case ConditionOp::kDateLessThan:
    case ConditionOp::kDateLessThanEquals:
    case ConditionOp::kDateGreaterThan:
    case ConditionOp::kDateGreaterThanEquals:
      return Family::kDate;
    case ConditionOp::kBool: return Family::kBool;
    case ConditionOp::kBinaryEquals: return Family::kBinary;
    case ConditionOp::kIpAddress:
    case ConditionOp::kNotIpAddress:
      return Family::kIp;
    case ConditionOp::kArnEquals:
    case ConditionOp::kArnLike:
    case ConditionOp::kArnNotEquals:
    case ConditionOp::kArnNotLike:
      return Family::kArn;
    case ConditionOp::kNull: return Family::kNull;
  }
  return Family::kString;
}

// Applies an equality/ordering operator to (request value, policy value).
template <typename T>
bool Ordered(ConditionOp op, T request, T policy) {
  switch (op) {
    case ConditionOp::kNumericEquals:
    case ConditionOp::kNumericNotEquals:
    case ConditionOp::kDateEquals:
    case ConditionOp::kDateNotEquals:
      return request == policy;
    case ConditionOp::kNumericLessThan:
    case ConditionOp::kDateLessThan:
      return request < policy;
    case ConditionOp::kNumericLessThanEquals:
    case ConditionOp::kDateLessThanEquals:
      return request <= policy;
    case ConditionOp::kNumericGreaterThan:
    case ConditionOp::kDateGreaterThan:
      return request > policy;
    case ConditionOp::kNumericGreaterThanEquals:
    case ConditionOp::kDateGreaterThanEquals:
      return request >= policy;
    default:
      return false;
  }
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::optional<ConditionOperator> ConditionOperator::Parse(std::string_view name) {
  ConditionOperator out;
  static constexpr std::string_view kForAll = "ForAllValues:", kForAny = "ForAnyValue:",
                                    kIfExists = "IfExists";
  if (name.starts_with(kForAll)) {
    out.set = SetQualifier::kForAllValues;
    name.remove_prefix(kForAll.size());
  } else if (name.starts_with(kForAny)) {
    out.set = SetQualifier::kForAnyValue;
    name.remove_prefix(kForAny.size());
  }
  if (name.ends_with(kIfExists)) {
    out.if_exists = true;
    name.remove_suffix(kIfExists.size());
  }
  for (const OpName& candidate : kOperators) {
    if (candidate.name == name) {
      out.op = candidate.op;
      // "You can add IfExists to the end of any condition operator name except the Null
      // condition"; a set qualifier on Null has no meaning either.
      if (out.op == ConditionOp::kNull && (out.if_exists || out.set != SetQualifier::kNone)) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

bool ConditionOperator::negated() const {
  switch (op) {
    case ConditionOp::kStringNotEquals:
    case ConditionOp::kStringNotEqualsIgnoreCase:
    case ConditionOp::kStringNotLike:
    case ConditionOp::kNumericNotEquals:
    case ConditionOp::kDateNotEquals:
    case ConditionOp::kNotIpAddress:
    case ConditionOp::kArnNotEquals:
    case ConditionOp::kArnNotLike:
      return true;
    default:
      return false;
  }
}

Result<Condition> Condition::Compile(const ConditionOperator& op, std::string_view key,
                                     const std::vector<std::string>& values, bool variables) {
  auto bad = [&](std::string_view value, std::string_view what) {
    return Status("MalformedPolicyDocumentException",
                  "value " + Quote(value) + " for key " + Quote(key) + " is not " + std::string(what), 400);
  };
  Condition c;
  c.op_ = op;
  c.key_ = ToLower(key);
  c.sources_ = values;
  for (const std::string& v : values) {
    switch (FamilyOf(op.op)) {
      case Family::kString: {
        bool like = op.op == ConditionOp::kStringLike || op.op == ConditionOp::kStringNotLike;
        c.patterns_.push_back(Pattern::Compile(v, {.wildcards = like, .variables = variables}));
        c.has_variables_ = c.has_variables_ || c.patterns_.back().has_variables();
        break;
      }
      case Family::kBool: {
        Pattern p = Pattern::Compile(v, {.wildcards = false, .variables = variables});
        if (!p.has_variables() && !EqualsIgnoreCase(v, "true") && !EqualsIgnoreCase(v, "false"))
          return bad(v, "\"true\" or \"false\"");
        c.has_variables_ = c.has_variables_ || p.has_variables();
        c.patterns_.push_back(std::move(p));
        break;
      }
      case Family::kArn: {
        ArnPattern arn;
        if (!ArnPattern::Compile(v, variables ? ArnPattern::VariableScope::kAllParts : ArnPattern::VariableScope::kNone,
                                 arn))
          return bad(v, "an ARN (arn:partition:service:region:account:resource) or \"*\"");
        c.has_variables_ = c.has_variables_ || arn.has_variables();
        c.arns_.push_back(std::move(arn));
        break;
      }
      case Family::kNumeric: {
        double d;
        if (!ParseNumber(v, d)) return bad(v, "a number");
        c.numbers_.push_back(d);
        break;
      }
      case Family::kDate: {
        int64_t ms;
        if (!ParseDate(v, ms)) return bad(v, "an ISO 8601 date or an epoch time");
        c.dates_.push_back(ms);
        break;
      }
      case Family::kIp: {
        IpNetwork net;
        if (!ParseCidr(v, net)) return bad(v, "an IPv4 or IPv6 address or CIDR range");
        c.networks_.push_back(net);
        break;
      }
      case Family::kBinary: {
        auto bytes = Base64Decode(v);
        if (!bytes) return bad(v, "base64");
        c.binaries_.emplace_back(bytes->begin(), bytes->end());
        break;
      }
      case Family::kNull: {
        if (EqualsIgnoreCase(v, "true")) {
          c.null_true_ = true;
        } else if (EqualsIgnoreCase(v, "false")) {
          c.null_false_ = true;
        } else {
          return bad(v, "\"true\" or \"false\"");
        }
        break;
      }
    }
  }
  return c;
}

Condition::Compare Condition::Positive(std::string_view value, size_t i, const RequestContext& context) const {
  auto from = [](MatchResult r) {
    return r == MatchResult::kMatch ? Compare::kMatch : r == MatchResult::kNoMatch ? Compare::kNoMatch : Compare::kInvalid;
  };
  switch (FamilyOf(op_.op)) {
    case Family::kString: {
      bool ignore_case = op_.op == ConditionOp::kStringEqualsIgnoreCase || op_.op == ConditionOp::kStringNotEqualsIgnoreCase;
      return from(patterns_[i].Match(value, ignore_case, &context));
    }
    case Family::kBool:
      return from(patterns_[i].Match(value, /*ignore_case=*/true, &context));
    case Family::kArn:
      return from(arns_[i].Match(value, &context));
    case Family::kNumeric: {
      double d;
      if (!ParseNumber(value, d)) return Compare::kNoMatch;
      return Ordered(op_.op, d, numbers_[i]) ? Compare::kMatch : Compare::kNoMatch;
    }
    case Family::kDate: {
      int64_t ms;
      if (!ParseDate(value, ms)) return Compare::kNoMatch;
      return Ordered(op_.op, ms, dates_[i]) ? Compare::kMatch : Compare::kNoMatch;
    }
    case Family::kIp: {
      IpNetwork address;
      if (!ParseIpAddress(value, address)) return Compare::kNoMatch;
      return NetworkContains(networks_[i], address) ? Compare::kMatch : Compare::kNoMatch;
    }
    case Family::kBinary:
      return value == binaries_[i] ? Compare::kMatch : Compare::kNoMatch;
    case Family::kNull:
      break;
  }
  return Compare::kNoMatch;
}

Condition::Compare Condition::MatchValue(std::string_view value, const RequestContext& context) const {
  bool any = false;
  for (size_t i = 0; i < sources_.size(); ++i) {
    Compare c = Positive(value, i, context);
    if (c == Compare::kInvalid) return c;
    if (c == Compare::kMatch) {
      any = true;
      break;
    }
  }
  return (any != op_.negated()) ? Compare::kMatch : Compare::kNoMatch;
}

Condition::Outcome Condition::Evaluate(const RequestContext& context) const {
  ContextValues values = context.FindLower(key_);
  if (op_.op == ConditionOp::kNull) {
    bool absent = values.empty();
    return ((absent && null_true_) || (!absent && null_false_)) ? Outcome::kTrue : Outcome::kFalse;
  }
  // "Variables and tags": an unresolvable variable makes the statement invalid, whether or not
  // the key itself is present.
  if (has_variables_) {
    for (const Pattern& p : patterns_)
      if (!p.Resolvable(&context)) return Outcome::kInvalid;
    for (const ArnPattern& a : arns_)
      if (!a.Resolvable(&context)) return Outcome::kInvalid;
  }
  // For the set operators an empty string is an empty data set.
  bool present = !values.empty() && !(op_.set != SetQualifier::kNone && values.size() == 1 && values[0].empty());
  if (!present) {
    if (op_.if_exists) return Outcome::kTrue;
    if (op_.set == SetQualifier::kForAllValues) return Outcome::kTrue;
    if (op_.set == SetQualifier::kForAnyValue) return Outcome::kFalse;
    return op_.negated() ? Outcome::kTrue : Outcome::kFalse;
  }
  if (op_.set == SetQualifier::kForAllValues) {
    bool all = true;
    for (std::string_view v : values) {
      Compare c = MatchValue(v, context);
      if (c == Compare::kInvalid) return Outcome::kInvalid;
      if (c == Compare::kNoMatch) {
        all = false;
        break;
      }
    }
    return all ? Outcome::kTrue : Outcome::kFalse;
  }
  // ForAnyValue, or no qualifier (treated alike for multivalued keys; identical for one value).
  bool any = false;
  for (std::string_view v : values) {
    Compare c = MatchValue(v, context);
    if (c == Compare::kInvalid) return Outcome::kInvalid;
    if (c == Compare::kMatch) {
      any = true;
      break;
    }
  }
  return any ? Outcome::kTrue : Outcome::kFalse;
}

}  // namespace meridian::iam::policy
